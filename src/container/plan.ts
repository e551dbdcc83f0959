import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { summarizeCertificates } from '../operations/certificate-summary.ts';
import { atomicWrite, backupFile, heldSecret, restoreFile } from '../operations/files.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import { change, noChange, type Command, type Step } from '../operations/step.ts';
import { createArgv, LABEL_CONFIG_HASH, LABEL_MANAGED, LABEL_SPEC, type ContainerSpec, type DesiredContainer } from './desired.ts';
import type { ContainerFacts } from './facts.ts';
import { waitHealthy } from './wait-healthy.ts';

/**
 * Written before a reload-only file changes and removed once the broker was signalled: a run cut
 * off in between still signals it next time (the host engine's restart-pending marker, for SIGHUP).
 */
export function reloadPendingMarker(configDir: string): string {
  return path.join(configDir, '.mqtt-provision-reload-pending');
}

/** Written before a restart-only file changes under a container that stays, removed once it was restarted. */
export function restartPendingMarker(configDir: string): string {
  return path.join(configDir, '.mqtt-provision-restart-pending');
}

/**
 * Creates the replacement container under a name Docker picks and removes it again: the engine
 * checks the image (pulling it when absent) and the limits (--memory, --cpus) before the running
 * container is stopped, so a replacement that cannot exist never costs the working broker.
 */
const checkReplacementScript =
  'id=$(docker create "$@") || { echo "the replacement container cannot be created; the running one is left as it is" >&2; exit 1; }; docker rm "$id" >/dev/null';

export function checkReplacement(desired: DesiredContainer): Command {
  return { argv: ['sh', '-c', checkReplacementScript, 'mqtt-provision-check', ...createArgv(desired.spec, desired.configHash).slice(2)] };
}

/**
 * Runs the container's healthcheck once now (polling up to 10 s), after a SIGHUP: a password file
 * the broker could not re-read fails the step instead of waiting for Docker's next health round.
 */
const healthNowScript =
  'i=0; while :; do "$@" >/dev/null 2>&1 && exit 0; i=$((i+1)); [ "$i" -ge 10 ] && break; sleep 1; done; ' +
  'echo "the broker fails its healthcheck (a login as the health user) after re-reading its files" >&2; exit 1';

function healthNow(desired: DesiredContainer): Command | null {
  const [kind, ...test] = desired.spec.healthcheck ?? [];
  if (kind === undefined) return null;
  const inContainer = kind === 'CMD-SHELL' ? ['sh', '-c', test.join(' ')] : test;
  return { argv: ['sh', '-c', healthNowScript, 'mqtt-provision-health', 'docker', 'exec', desired.name, ...inContainer] };
}

/** Volumes of these names that mqtt-provision did not create are never adopted, nor removed. */
export function foreignVolumes(facts: ContainerFacts, names: string[]): string[] {
  return names.filter((volume) => facts.volumes[volume] != null && !facts.volumes[volume]!.managed);
}

/** `docker stop` (SIGTERM: the broker saves sessions and queues), then `docker rm`; never `rm -f`, which would SIGKILL it. */
export function stopAndRemove(name: string, stopTimeoutSeconds: number): Command[] {
  return [{ argv: ['docker', 'stop', '--time', String(stopTimeoutSeconds), name] }, { argv: ['docker', 'rm', name] }];
}

function specText(spec: ContainerSpec | null): string {
  return spec === null ? '' : `${JSON.stringify(spec, null, 2)}\n`;
}

export function currentSpec(labels: Record<string, string>): ContainerSpec | null {
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
  return createTwoFilesPatch(file.path, file.path, summarizeCertificates(before), summarizeCertificates(file.content), 'stored', 'rendered');
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
  refuseForeign(facts, desired);
  const changes = containerChanges(facts, desired);
  return [
    ...storageSteps(facts, desired),
    ...markerSteps(desired, changes),
    ...desired.files.map((file) => configFileStep(facts, desired, file)),
    containerStep(facts, desired, changes),
    ...reloadSteps(desired, changes),
    ...desired.afterSteps,
  ];
}

/** Someone else's container or volumes of these names are never stopped, replaced or adopted. */
function refuseForeign(facts: ContainerFacts, desired: DesiredContainer): void {
  if (facts.container !== null && facts.container.labels[LABEL_MANAGED] !== 'true') {
    throw new Error(`a container named ${desired.name} exists and mqtt-provision did not create it; choose another --container-name`);
  }
  const foreign = foreignVolumes(facts, desired.volumeNames);
  if (foreign.length > 0) {
    throw new Error(`volume ${foreign.join(', ')} exists without the ${LABEL_MANAGED} label: mqtt-provision did not create it and will not adopt it; choose another --container-name`);
  }
  if (facts.hostCpus > 0 && Number(desired.spec.cpus) > facts.hostCpus) {
    throw new Error(`--cpus ${desired.spec.cpus} is more than the ${facts.hostCpus} CPUs of the Docker host`);
  }
}

/** The volumes (created, never removed here) and the config directory. */
function storageSteps(facts: ContainerFacts, desired: DesiredContainer): Step[] {
  const volumes = desired.volumeNames.map((volume) =>
    facts.volumes[volume]
      ? noChange('container', `volume:${volume}`, `volume ${volume}`, 'exists')
      : change('container', `volume:${volume}`, `volume ${volume}`, 'absent', [{ argv: ['docker', 'volume', 'create', '--label', 'mqtt-provision.managed=true', volume] }]),
  );
  const id = `directory:${desired.configDir}`;
  const title = `directory ${desired.configDir}`;
  const directory =
    facts.directories[desired.configDir] !== true ? change('directory', id, title, 'absent', [{ argv: ['mkdir', '-p', '-m', '0755', desired.configDir] }]) : noChange('directory', id, title, 'exists');
  return [...volumes, directory];
}

/** What differs, and so what the container needs: recreate, restart, reload, or nothing. */
interface ContainerChanges {
  recreateReasons: string[];
  running: boolean;
  /** Restart-only files changed under a container that stays (it is neither created nor recreated). */
  restartFilesChanged: boolean;
  restartReasons: string[];
  reloadFilesChanged: boolean;
  reloadReasons: string[];
  reloadMarker: string;
  restartMarker: string;
}

function containerChanges(facts: ContainerFacts, desired: DesiredContainer): ContainerChanges {
  const container = facts.container;
  const reasons = container === null ? [] : recreateReasons(facts, desired);
  const running = container !== null && container.status === 'running';
  const stays = running && reasons.length === 0;
  const reloadMarker = reloadPendingMarker(desired.configDir);
  const restartMarker = restartPendingMarker(desired.configDir);
  const differs = (file: DesiredContainer['files'][number]) => (facts.files[file.path] ?? null) !== file.content;
  // The label says what the container was created with, not what the broker read at its last
  // start: a file edited by hand and picked up by a `docker restart` only shows on disk.
  const changedRestartFiles = desired.files.filter((file) => file.apply === 'restart' && differs(file));
  const restartReasons = stays
    ? [
        ...changedRestartFiles.map((file) => `${path.basename(file.path)} differs from what it was rendered as`),
        // A deleted or replaced config directory stays mounted, detached, until the container restarts.
        ...facts.replacedMounts.map((mount) => `the directory mounted at ${mount} was replaced on the Docker host`),
        ...(facts.files[restartMarker] != null ? ['an earlier run changed the config but stopped before restarting'] : []),
      ]
    : [];
  const changedReloadFiles = desired.files.filter((file) => file.apply === 'reload' && differs(file));
  // SIGHUP only reaches a running container that stays; a new, started or restarted one reads every file anyway.
  const reloadReasons =
    desired.reload !== null && stays && restartReasons.length === 0
      ? [...changedReloadFiles.map((file) => `${path.basename(file.path)} changed`), ...(facts.files[reloadMarker] != null ? ['an earlier run changed users or ACL but stopped before signalling'] : [])]
      : [];
  return {
    recreateReasons: reasons,
    running,
    restartFilesChanged: stays && changedRestartFiles.length > 0,
    restartReasons,
    reloadFilesChanged: changedReloadFiles.length > 0,
    reloadReasons,
    reloadMarker,
    restartMarker,
  };
}

/** Set before the files change, removed once the broker read them: a cut-off run still restarts or signals next time. */
function markerSteps(desired: DesiredContainer, changes: ContainerChanges): Step[] {
  const steps: Step[] = [];
  if (changes.restartFilesChanged) {
    steps.push(change('marker', 'restart-pending', 'restart pending marker', 'set before the config changes', [{ argv: ['touch', changes.restartMarker] }]));
  }
  if (changes.reloadReasons.length > 0 && changes.reloadFilesChanged) {
    steps.push(change('marker', 'reload-pending', 'reload pending marker', 'set before users or ACL change', [{ argv: ['touch', changes.reloadMarker] }]));
  }
  return steps;
}

/** One config file in the config directory on the Docker host. */
function configFileStep(facts: ContainerFacts, desired: DesiredContainer, file: ManagedFile): Step {
  const id = `file:${file.path}`;
  const title = `file ${file.path}`;
  const current = facts.files[file.path] ?? null;
  if (current === file.content) return noChange('file', id, title, 'up to date');
  const reason = current === null ? 'absent' : 'content differs';
  const diff = fileDiff(file, current ?? '', storedPrivately(facts, file));
  if (file.apply === 'restart' && desired.validate !== null) {
    // The broker's own check runs on the written file; a rejected file is put back before anything restarts.
    return change('file', id, title, reason, [backupFile(file.path), atomicWrite(file), desired.validate], { diff, rollback: [restoreFile(file.path)] });
  }
  return change('file', id, title, reason, [atomicWrite(file)], { diff });
}

/** The container itself: created, recreated (after checking the replacement), restarted, started, or left running. */
function containerStep(facts: ContainerFacts, desired: DesiredContainer, changes: ContainerChanges): Step {
  const container = facts.container;
  const id = `container:${desired.name}`;
  const title = `container ${desired.name}`;
  const run: Command = { argv: desired.runArgv };
  const wait = waitHealthy(desired.name, desired.healthTimeoutSeconds);
  const clearMarker = clearMarkers(changes);
  const diagnostics = containerDiagnostics(desired);
  if (container === null) {
    return change('container', id, title, 'absent', [run, wait, clearMarker], { diff: createTwoFilesPatch(title, title, '', specText(desired.spec), 'docker', 'desired'), diagnostics });
  }
  if (changes.recreateReasons.length > 0) {
    const commands = [checkReplacement(desired), ...stopAndRemove(desired.name, desired.spec.stopTimeoutSeconds), run, wait, clearMarker];
    const diff = createTwoFilesPatch(title, title, specText(currentSpec(container.labels)), specText(desired.spec), 'docker', 'desired');
    return change('container', id, title, `recreate: ${changes.recreateReasons.join(', ')} (volumes kept)`, commands, { diff, diagnostics });
  }
  if (changes.restartReasons.length > 0) {
    const restart: Command = { argv: ['docker', 'restart', '--time', String(desired.spec.stopTimeoutSeconds), desired.name] };
    return change('container', id, title, `restart: ${changes.restartReasons.join(', ')}`, [restart, wait, clearMarker], { diagnostics });
  }
  if (!changes.running) return change('container', id, title, `${container.status}, starting it`, [{ argv: ['docker', 'start', desired.name] }, wait, clearMarker], { diagnostics });
  return noChange('container', id, title, container.health === null ? 'running, up to date' : `running (${container.health}), up to date`);
}

/** SIGHUP for users and ACL under a container that stays, checked by its healthcheck run once now. */
function reloadSteps(desired: DesiredContainer, changes: ContainerChanges): Step[] {
  if (changes.reloadReasons.length === 0 || desired.reload === null) return [];
  const check = healthNow(desired);
  const commands = [desired.reload, ...(check ? [check] : []), clearMarkers(changes)];
  return [change('reload', 'reload', `reload ${desired.name}`, `${changes.reloadReasons.join(', ')}: re-read without dropping clients`, commands, { diagnostics: containerDiagnostics(desired) })];
}

function clearMarkers(changes: ContainerChanges): Command {
  return { argv: ['rm', '-f', changes.reloadMarker, changes.restartMarker] };
}

function containerDiagnostics(desired: DesiredContainer): Command[] {
  return [{ argv: ['docker', 'logs', '--tail', '40', desired.name] }];
}
