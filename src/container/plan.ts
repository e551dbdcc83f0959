import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { atomicWrite, backupFile, heldSecret, restoreFile } from '../operations/files.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import { change, noChange, type Command, type Step } from '../operations/step.ts';
import { LABEL_CONFIG_HASH, LABEL_MANAGED, LABEL_SPEC, type ContainerSpec, type DesiredContainer } from './desired.ts';
import type { ContainerFacts } from './facts.ts';

/** Waits until the container reports healthy (or running, without a healthcheck); fails on unhealthy/exited. */
const waitHealthyScript =
  'i=0; while [ "$i" -lt "$2" ]; do ' +
  's=$(docker inspect -f "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}" "$1") || exit 1; ' +
  'case "$s" in healthy|running) exit 0;; unhealthy|exited|dead) echo "container $1 is $s" >&2; exit 1;; esac; ' +
  'sleep 1; i=$((i+1)); done; echo "container $1 is not healthy after $2 s" >&2; exit 1';

export function waitHealthy(name: string, timeoutSeconds = 60): Command {
  return { argv: ['sh', '-c', waitHealthyScript, 'mqtt-provision-wait', name, String(timeoutSeconds)] };
}

/**
 * Written before a reload-only file changes and removed once the broker was signalled: a run cut
 * off in between still signals it next time (the host engine's restart-pending marker, for SIGHUP).
 */
export function reloadPendingMarker(configDir: string): string {
  return path.join(configDir, '.mqtt-provision-reload-pending');
}

/** `docker stop` (SIGTERM: the broker saves sessions and queues), then `docker rm`; never `rm -f`, which would SIGKILL it. */
function stopAndRemove(name: string, stopTimeoutSeconds: number): Command[] {
  return [{ argv: ['docker', 'stop', '--time', String(stopTimeoutSeconds), name] }, { argv: ['docker', 'rm', name] }];
}

function specText(spec: ContainerSpec | null): string {
  return spec === null ? '' : `${JSON.stringify(spec, null, 2)}\n`;
}

function currentSpec(labels: Record<string, string>): ContainerSpec | null {
  try {
    return JSON.parse(labels[LABEL_SPEC] ?? 'null') as ContainerSpec | null;
  } catch {
    return null;
  }
}

/** Stored privately though wanted readable now: an earlier run wrote it while it held a secret. */
function storedPrivately(facts: ContainerFacts, file: ManagedFile): boolean {
  return (facts.privateFiles?.includes(file.path) ?? false) && heldSecret('0600', file.mode);
}

/** Secret now, or stored privately by an earlier run (it held a secret then): never diffed. */
function fileDiff(file: ManagedFile, before: string, wasPrivate: boolean): string {
  if (file.secret || wasPrivate) return `--- ${file.path}\n+++ ${file.path}\n(content not shown: it holds secrets)\n`;
  return createTwoFilesPatch(file.path, file.path, before, file.content, 'stored', 'rendered');
}

/** Why the running container no longer matches, or [] when it does. */
function recreateReasons(facts: ContainerFacts, desired: DesiredContainer): string[] {
  const container = facts.container!;
  const reasons: string[] = [];
  if (container.image !== desired.spec.image) reasons.push(`image ${container.image} → ${desired.spec.image}`);
  if (container.labels[LABEL_CONFIG_HASH] !== desired.configHash) reasons.push('config changed');
  const withoutImage = (spec: ContainerSpec | null) => (spec === null ? '' : specText({ ...spec, image: '' }));
  if (withoutImage(currentSpec(container.labels)) !== withoutImage(desired.spec)) reasons.push('run options changed');
  return reasons;
}

/**
 * Pure: facts + desired container → steps, in the order they must run. Volumes are only ever
 * created, never removed, so a recreated container finds its sessions and queued messages.
 */
export function planContainer(facts: ContainerFacts, desired: DesiredContainer): Step[] {
  // Someone else's container of that name is never stopped or replaced.
  if (facts.container !== null && facts.container.labels[LABEL_MANAGED] !== 'true') {
    throw new Error(`a container named ${desired.name} exists and mqtt-provision did not create it; choose another --container-name`);
  }
  const steps: Step[] = [];
  for (const volume of desired.volumeNames) {
    const id = `volume:${volume}`;
    steps.push(
      facts.volumes[volume]
        ? noChange(id, `volume ${volume}`, 'exists')
        : change(id, `volume ${volume}`, 'absent', [{ argv: ['docker', 'volume', 'create', '--label', 'mqtt-provision.managed=true', volume] }]),
    );
  }

  const missingDir = desired.files.every((file) => (facts.files[file.path] ?? null) === null);
  steps.push(
    missingDir
      ? change(`directory:${desired.configDir}`, `directory ${desired.configDir}`, 'absent', [{ argv: ['mkdir', '-p', '-m', '0755', desired.configDir] }])
      : noChange(`directory:${desired.configDir}`, `directory ${desired.configDir}`, 'exists'),
  );

  const container = facts.container;
  const reasons = container === null ? [] : recreateReasons(facts, desired);
  const running = container !== null && container.status === 'running';
  const marker = reloadPendingMarker(desired.configDir);
  const changedReloadFiles = desired.files.filter((file) => file.apply === 'reload' && (facts.files[file.path] ?? null) !== file.content);
  // SIGHUP only reaches a running container that stays; a new or started one reads every file anyway.
  const reloadReasons =
    desired.reload !== null && running && reasons.length === 0
      ? [...changedReloadFiles.map((file) => `${path.basename(file.path)} changed`), ...(facts.files[marker] != null ? ['an earlier run changed users or ACL but stopped before signalling'] : [])]
      : [];
  if (reloadReasons.length > 0 && changedReloadFiles.length > 0) {
    steps.push(change('reload-pending', 'reload pending marker', 'set before users or ACL change', [{ argv: ['touch', marker] }]));
  }

  for (const file of desired.files) {
    const id = `file:${file.path}`;
    const current = facts.files[file.path] ?? null;
    if (current === file.content) steps.push(noChange(id, `file ${file.path}`, 'up to date'));
    else if (file.apply === 'restart' && desired.validate !== null) {
      // The broker's own check runs on the written file; a rejected file is put back before anything restarts.
      steps.push(
        change(id, `file ${file.path}`, current === null ? 'absent' : 'content differs', [backupFile(file.path), atomicWrite(file), desired.validate], {
          diff: fileDiff(file, current ?? '', storedPrivately(facts, file)),
          rollback: [restoreFile(file.path)],
        }),
      );
    } else steps.push(change(id, `file ${file.path}`, current === null ? 'absent' : 'content differs', [atomicWrite(file)], { diff: fileDiff(file, current ?? '', storedPrivately(facts, file)) }));
  }

  const id = `container:${desired.name}`;
  const title = `container ${desired.name}`;
  const run: Command = { argv: desired.runArgv };
  const wait = waitHealthy(desired.name, desired.healthTimeoutSeconds);
  const clearMarker: Command = { argv: ['rm', '-f', marker] };
  const diagnostics: Command[] = [{ argv: ['docker', 'logs', '--tail', '40', desired.name] }];
  if (container === null) {
    steps.push(change(id, title, 'absent', [run, wait, clearMarker], { diff: createTwoFilesPatch(title, title, '', specText(desired.spec), 'docker', 'desired'), diagnostics }));
  } else if (reasons.length > 0) {
    steps.push(
      change(id, title, `recreate: ${reasons.join(', ')} (volumes kept)`, [
        ...stopAndRemove(desired.name, desired.spec.stopTimeoutSeconds),
        run,
        wait,
        clearMarker,
      ], { diff: createTwoFilesPatch(title, title, specText(currentSpec(container.labels)), specText(desired.spec), 'docker', 'desired'), diagnostics }),
    );
  } else if (!running) {
    steps.push(change(id, title, `${container.status}, starting it`, [{ argv: ['docker', 'start', desired.name] }, wait, clearMarker], { diagnostics }));
  } else {
    steps.push(noChange(id, title, container.health === null ? 'running, up to date' : `running (${container.health}), up to date`));
  }
  if (reloadReasons.length > 0 && desired.reload !== null) {
    steps.push(change('reload', `reload ${desired.name}`, `${reloadReasons.join(', ')}: re-read without dropping clients`, [desired.reload, clearMarker], { diagnostics }));
  }
  steps.push(...desired.afterSteps);
  return steps;
}

/**
 * Pure: `state: absent` for a container target. The container is stopped (SIGTERM, so the broker
 * saves its data) and removed with its config directory; the volumes go only with purgeData.
 */
export function planContainerAbsent(facts: ContainerFacts, target: { name: string; configDir: string; volumeNames: string[]; purgeData: boolean }): Step[] {
  if (facts.container !== null && facts.container.labels[LABEL_MANAGED] !== 'true') {
    throw new Error(`a container named ${target.name} exists and mqtt-provision did not create it; it is left alone`);
  }
  const id = `container:${target.name}`;
  const title = `container ${target.name}`;
  const steps: Step[] = [
    facts.container === null
      ? noChange(id, title, 'absent')
      : change(id, title, `${facts.container.status}, removing it`, stopAndRemove(target.name, currentSpec(facts.container.labels)?.stopTimeoutSeconds ?? 30)),
  ];
  const stored = Object.entries(facts.files).some(([file, content]) => file.startsWith(`${target.configDir}/`) && content !== null);
  steps.push(
    stored
      ? change(`directory:${target.configDir}`, `directory ${target.configDir}`, 'remove the rendered config (it holds password hashes)', [{ argv: ['rm', '-rf', '--', target.configDir] }])
      : noChange(`directory:${target.configDir}`, `directory ${target.configDir}`, 'absent'),
  );
  for (const volume of target.volumeNames) {
    const volumeId = `volume:${volume}`;
    if (!facts.volumes[volume]) steps.push(noChange(volumeId, `volume ${volume}`, 'absent'));
    else if (!target.purgeData) steps.push(noChange(volumeId, `volume ${volume}`, 'kept (sessions and queued messages; purgeData removes it)'));
    else steps.push(change(volumeId, `volume ${volume}`, 'purgeData', [{ argv: ['docker', 'volume', 'rm', volume] }]));
  }
  return steps;
}
