import type { FactQuery, HostFacts } from '../facts/host-facts.ts';
import { directoryStep } from '../operations/directories.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import { change, noChange, type Command, type Step } from '../operations/step.ts';
import { fileStep } from '../operations/files.ts';
import { planSysctl, SYSCTL_FILE } from '../operations/sysctl.ts';
import { daemonReload, dropInFile, dropInPath, type DropIn } from '../operations/systemd-drop-in.ts';
import { kernelFloorReasons, kernelFloors, type LimitsSettings } from '../settings/limits.ts';
import type { Settings } from '../settings/load.ts';

/**
 * The `limits` block on a host, for both brokers: LimitNOFILE through a systemd drop-in, the
 * kernel floors in /etc/sysctl.d, and a note saying which open-file limit the running broker
 * really has (read from /proc/<pid>/limits by the probe). Pure: facts + settings → steps.
 */

export const limitsDropInName = 'mqtt-provision-limits';

export function limitsDropIn(service: string, openFiles: number): DropIn {
  return { unit: service, name: limitsDropInName, sections: { Service: { LimitNOFILE: String(openFiles) } } };
}

function dropInDirectory(service: string): string {
  const path = dropInPath({ unit: service, name: limitsDropInName });
  return path.slice(0, path.lastIndexOf('/'));
}

/** What the probe must read for planCapacity: the drop-in, the sysctl file, the kernel keys, the running limit. */
export function capacityFactQuery(limits: LimitsSettings, service: string): Required<Pick<FactQuery, 'files' | 'directories' | 'sysctl' | 'openFiles'>> {
  return {
    files: [dropInPath({ unit: service, name: limitsDropInName }), SYSCTL_FILE],
    directories: [dropInDirectory(service)],
    sysctl: limits.applyKernel ? Object.keys(limits.kernel) : [],
    openFiles: [service],
  };
}

export interface CapacityPlan {
  /** Kernel floors: the sysctl file and `sysctl -p`, before the broker's files (a listen() backlog is read at bind). */
  kernel: Step[];
  /** Before the restart-pending marker: the drop-in's directory. */
  directories: Step[];
  /** The drop-in as one of the broker's restart files (its rollback restores it), or none. */
  files: Array<{ file: ManagedFile; step: Step }>;
  /** After the files, before the restart: systemd reads a drop-in only on daemon-reload. */
  beforeRestart: Step[];
  /** In the restart's rollback, after the files are restored: daemon-reload again, so the old limit comes back. */
  afterRestore: Command[];
  /** Last: what the host refused or capped, as notes (warnings, never failures). */
  notes: Step[];
}

/**
 * `unitLimit`: the LimitNOFILE the broker's own unit already sets (EMQX's: 1048576 at v5.7.2 and
 * v5.8.6, deploy/packages/emqx.service); a drop-in is written only when the setting asks for more.
 */
export function planCapacity(facts: HostFacts, settings: Settings, service: string, unitLimit?: number): CapacityPlan {
  const { openFiles } = settings.limits;
  const plan: CapacityPlan = { kernel: [], directories: [], files: [], beforeRestart: [], afterRestore: [], notes: [] };

  if (settings.limits.applyKernel) {
    const sysctl = planSysctl(kernelFloors(settings.limits), facts.sysctl ?? {}, facts.files[SYSCTL_FILE]?.content ?? null, kernelFloorReasons);
    plan.kernel.push(...sysctl.steps);
    plan.notes.push(...sysctl.warnings.map((warning, index) => noChange('note', `limits:kernel:${index}`, 'kernel setting not applied', warning)));
  }

  const needsDropIn = unitLimit === undefined || openFiles > unitLimit;
  let dropInChanges = false;
  if (needsDropIn) {
    const file = dropInFile(limitsDropIn(service, openFiles));
    const step = fileStep(facts, file);
    dropInChanges = step.change && step.kind === 'file';
    plan.directories.push(directoryStep(facts, { path: dropInDirectory(service), owner: 'root', group: 'root', mode: '0755' }));
    plan.files.push({ file, step });
    plan.beforeRestart.push(
      dropInChanges
        ? change('service', `daemon-reload:${service}`, 'systemctl daemon-reload', `${file.path} changed: systemd reads drop-ins only on daemon-reload`, [daemonReload])
        : noChange('service', `daemon-reload:${service}`, 'systemctl daemon-reload', 'drop-in unchanged'),
    );
    if (dropInChanges) plan.afterRestore.push(daemonReload);
  }
  plan.notes.push(openFilesNote(facts, service, openFiles, dropInChanges));
  return plan;
}

/**
 * The open-file limit the broker runs with, as the probe read it from /proc/<MainPID>/limits. A
 * container caps it at its own hard limit (systemd clamps silently; `systemctl show` still says
 * the asked value): reported, not failed, because the value in force may still be enough.
 */
export function openFilesNote(facts: HostFacts, service: string, wanted: number, changingNow: boolean): Step {
  const id = `limits:open-files:${service}`;
  const title = `open files of ${service}`;
  if (changingNow) return noChange('note', id, title, `LimitNOFILE=${wanted} takes effect at this run's restart; the next run reads back the limit in force`);
  const running = facts.openFiles?.[service];
  if (!running) return noChange('note', id, title, 'not running: the limit in force is read on the next run');
  if (running.soft >= wanted) return noChange('note', id, title, `${running.soft} in force (wanted at least ${wanted})`);
  return noChange('note', id, title, `warning: LimitNOFILE=${wanted} asked, ${service} runs with ${running.soft} (soft) / ${running.hard} (hard): the host caps it (a container's own limit, or fs.nr_open); each client holds one`);
}
