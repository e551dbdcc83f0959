import { atomicWrite, backupFile, removeBackups, restoreFile, sha256 } from './files.ts';
import type { ManagedFile } from './managed-file.ts';
import { change, noChange, type Command, type Step } from './step.ts';

/**
 * A systemd drop-in we own: /etc/systemd/system/<unit>.d/<name>.conf. A drop-in, not an edited unit
 * file, because the package owns the unit (an upgrade would overwrite our edit) and a drop-in is
 * removed cleanly. Used for LimitNOFILE: Debian's mosquitto.service sets none, so the broker runs
 * with systemd's default soft limit of 1024 open files and refuses the ~1014th client.
 */
export interface DropIn {
  /** `mosquitto` or `mosquitto.service`; `.service` is added when no unit type is given. */
  unit: string;
  /** File name without `.conf`, e.g. `mqtt-provision-limits`. */
  name: string;
  /** Section → directive → value, e.g. { Service: { LimitNOFILE: '1048576' } }. Rendered in order. */
  sections: Record<string, Record<string, string>>;
}

const UNIT = /^[A-Za-z0-9@._:-]+$/;
const NAME = /^[A-Za-z0-9._-]+$/;

function unitName(unit: string): string {
  if (!UNIT.test(unit)) throw new Error(`systemd unit name: letters, digits, @._:- only, got ${JSON.stringify(unit)}`);
  return /\.(service|socket|timer|mount|target|path|slice|scope)$/.test(unit) ? unit : `${unit}.service`;
}

export function dropInPath(dropIn: Pick<DropIn, 'unit' | 'name'>): string {
  if (!NAME.test(dropIn.name)) throw new Error(`drop-in name: letters, digits and ._- only, got ${JSON.stringify(dropIn.name)}`);
  return `/etc/systemd/system/${unitName(dropIn.unit)}.d/${dropIn.name}.conf`;
}

export function renderDropIn(dropIn: DropIn): string {
  const lines = ['# Managed by mqtt-provision: changes here are overwritten on the next run.'];
  for (const [section, directives] of Object.entries(dropIn.sections)) {
    lines.push('', `[${section}]`);
    for (const [key, value] of Object.entries(directives)) {
      // A newline in a value would start a new directive: refuse it rather than render something else.
      if (/[\r\n]/.test(key + value)) throw new Error(`drop-in ${section}.${key}: no line breaks allowed`);
      lines.push(`${key}=${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function dropInFile(dropIn: DropIn): ManagedFile {
  return { path: dropInPath(dropIn), content: renderDropIn(dropIn), mode: '0644', owner: 'root', group: 'root', apply: 'restart' };
}

export const daemonReload: Command = { argv: ['systemctl', 'daemon-reload'] };

export interface DropInPlan {
  steps: Step[];
  /** The unit must be restarted for the new directives to take effect (systemd applies limits at exec). */
  restartNeeded: boolean;
  /** Run after a failed restart that follows: puts the old drop-in back and reloads systemd. */
  rollback: Command[];
  /** Run once the restarted unit is known to work. */
  cleanup: Command[];
}

/**
 * Plans one drop-in from what the host has now (`current`: the file's text, or null when absent):
 * write it (directory first: /etc/systemd/system/<unit>.d does not exist on a fresh host), then
 * `systemctl daemon-reload`, or explicit no-ops when it already matches.
 */
export function planDropIn(dropIn: DropIn, current: string | null): DropInPlan {
  const file = dropInFile(dropIn);
  const id = `dropin:${file.path}`;
  if (current !== null && sha256(current) === sha256(file.content)) {
    return {
      steps: [noChange('file', id, `systemd drop-in ${file.path}`, 'up to date'), noChange('service', `${id}:reload`, 'systemctl daemon-reload', 'drop-in unchanged')],
      restartNeeded: false, rollback: [], cleanup: [],
    };
  }
  const dir = file.path.slice(0, file.path.lastIndexOf('/'));
  return {
    steps: [
      change('file', id, `systemd drop-in ${file.path}`, current === null ? 'absent' : 'content differs', [
        { argv: ['mkdir', '-p', dir] }, backupFile(file.path), atomicWrite(file),
      ], { rollback: [restoreFile(file.path), daemonReload] }),
      change('service', `${id}:reload`, 'systemctl daemon-reload', 'systemd reads drop-ins only on daemon-reload', [daemonReload]),
    ],
    restartNeeded: true,
    rollback: [restoreFile(file.path), daemonReload],
    cleanup: [removeBackups([file.path])],
  };
}

/** Soft and hard "Max open files" from /proc/<pid>/limits; `unlimited` reads as Infinity. */
export function parseNofileLimits(limits: string): { soft: number; hard: number } | undefined {
  const m = /^Max open files\s+(\S+)\s+(\S+)\s+files/m.exec(limits);
  if (!m) return undefined;
  const n = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m[1]!), hard: n(m[2]!) };
}

export type NofileVerdict =
  | { state: 'in-force'; soft: number }
  /** systemd clamps LimitNOFILE to what it may set (setrlimit_closest): a container's own hard limit wins. */
  | { state: 'capped'; soft: number; wanted: number; message: string }
  | { state: 'missing'; message: string };

/**
 * Whether the running process got the limit asked for. Measured on a Docker lab host (systemd 252,
 * no CAP_SYS_RESOURCE): LimitNOFILE=1048576 starts the unit with 20000/20000, the container's own
 * limit, and `systemctl show -p LimitNOFILE` still says 1048576, so only /proc/<pid>/limits tells.
 */
export function judgeNofile(wanted: number, limitsText: string): NofileVerdict {
  const got = parseNofileLimits(limitsText);
  if (!got) return { state: 'missing', message: 'no "Max open files" line in /proc/<pid>/limits (process not running?)' };
  if (got.soft >= wanted) return { state: 'in-force', soft: got.soft };
  return {
    state: 'capped', soft: got.soft, wanted,
    message: `LimitNOFILE=${wanted} asked, the broker runs with ${got.soft} (soft) / ${got.hard} (hard): the host caps it (a container's ulimit, or fs.nr_open)`,
  };
}
