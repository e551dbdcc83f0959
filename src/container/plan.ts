import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { summarizeCertificates } from '../operations/certificate-summary.ts';
import { atomicWrite, backupFile, heldSecret, restoreFile } from '../operations/files.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import { change, noChange, type Command, type Step } from '../operations/step.ts';
import { createArgv, dataVolume, LABEL_CONFIG_HASH, LABEL_MANAGED, LABEL_SPEC, type ContainerSpec, type DesiredContainer } from './desired.ts';
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
function foreignVolumes(facts: ContainerFacts, names: string[]): string[] {
  return names.filter((volume) => facts.volumes[volume] != null && !facts.volumes[volume]!.managed);
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
  // Someone else's container of that name is never stopped or replaced.
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
  const steps: Step[] = [];
  for (const volume of desired.volumeNames) {
    const id = `volume:${volume}`;
    steps.push(
      facts.volumes[volume]
        ? noChange('container', id, `volume ${volume}`, 'exists')
        : change('container', id, `volume ${volume}`, 'absent', [{ argv: ['docker', 'volume', 'create', '--label', 'mqtt-provision.managed=true', volume] }]),
    );
  }

  steps.push(
    facts.directories[desired.configDir] !== true
      ? change('directory', `directory:${desired.configDir}`, `directory ${desired.configDir}`, 'absent', [{ argv: ['mkdir', '-p', '-m', '0755', desired.configDir] }])
      : noChange('directory', `directory:${desired.configDir}`, `directory ${desired.configDir}`, 'exists'),
  );

  const container = facts.container;
  const reasons = container === null ? [] : recreateReasons(facts, desired);
  const running = container !== null && container.status === 'running';
  const stays = running && reasons.length === 0;
  const marker = reloadPendingMarker(desired.configDir);
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
      ? [...changedReloadFiles.map((file) => `${path.basename(file.path)} changed`), ...(facts.files[marker] != null ? ['an earlier run changed users or ACL but stopped before signalling'] : [])]
      : [];
  if (stays && changedRestartFiles.length > 0) {
    steps.push(change('marker', 'restart-pending', 'restart pending marker', 'set before the config changes', [{ argv: ['touch', restartMarker] }]));
  }
  if (reloadReasons.length > 0 && changedReloadFiles.length > 0) {
    steps.push(change('marker', 'reload-pending', 'reload pending marker', 'set before users or ACL change', [{ argv: ['touch', marker] }]));
  }

  for (const file of desired.files) {
    const id = `file:${file.path}`;
    const current = facts.files[file.path] ?? null;
    if (current === file.content) steps.push(noChange('file', id, `file ${file.path}`, 'up to date'));
    else if (file.apply === 'restart' && desired.validate !== null) {
      // The broker's own check runs on the written file; a rejected file is put back before anything restarts.
      steps.push(
        change('file', id, `file ${file.path}`, current === null ? 'absent' : 'content differs', [backupFile(file.path), atomicWrite(file), desired.validate], {
          diff: fileDiff(file, current ?? '', storedPrivately(facts, file)),
          rollback: [restoreFile(file.path)],
        }),
      );
    } else steps.push(change('file', id, `file ${file.path}`, current === null ? 'absent' : 'content differs', [atomicWrite(file)], { diff: fileDiff(file, current ?? '', storedPrivately(facts, file)) }));
  }

  const id = `container:${desired.name}`;
  const title = `container ${desired.name}`;
  const run: Command = { argv: desired.runArgv };
  const wait = waitHealthy(desired.name, desired.healthTimeoutSeconds);
  const clearMarker: Command = { argv: ['rm', '-f', marker, restartMarker] };
  const diagnostics: Command[] = [{ argv: ['docker', 'logs', '--tail', '40', desired.name] }];
  if (container === null) {
    steps.push(change('container', id, title, 'absent', [run, wait, clearMarker], { diff: createTwoFilesPatch(title, title, '', specText(desired.spec), 'docker', 'desired'), diagnostics }));
  } else if (reasons.length > 0) {
    steps.push(
      change('container', id, title, `recreate: ${reasons.join(', ')} (volumes kept)`, [
        checkReplacement(desired),
        ...stopAndRemove(desired.name, desired.spec.stopTimeoutSeconds),
        run,
        wait,
        clearMarker,
      ], { diff: createTwoFilesPatch(title, title, specText(currentSpec(container.labels)), specText(desired.spec), 'docker', 'desired'), diagnostics }),
    );
  } else if (restartReasons.length > 0) {
    steps.push(
      change('container', id, title, `restart: ${restartReasons.join(', ')}`, [
        { argv: ['docker', 'restart', '--time', String(desired.spec.stopTimeoutSeconds), desired.name] },
        wait,
        clearMarker,
      ], { diagnostics }),
    );
  } else if (!running) {
    steps.push(change('container', id, title, `${container.status}, starting it`, [{ argv: ['docker', 'start', desired.name] }, wait, clearMarker], { diagnostics }));
  } else {
    steps.push(noChange('container', id, title, container.health === null ? 'running, up to date' : `running (${container.health}), up to date`));
  }
  if (reloadReasons.length > 0 && desired.reload !== null) {
    const check = healthNow(desired);
    steps.push(change('reload', 'reload', `reload ${desired.name}`, `${reloadReasons.join(', ')}: re-read without dropping clients`, [desired.reload, ...(check ? [check] : []), clearMarker], { diagnostics }));
  }
  steps.push(...desired.afterSteps);
  return steps;
}

/**
 * Pure: `state: absent` for a container target. The container is stopped (SIGTERM, so the broker
 * saves its data) and removed with its config directory (and the parent named after the
 * container, when that is left empty); the volumes go only with purgeData, and only ours.
 */
export function planContainerAbsent(facts: ContainerFacts, target: { name: string; configDir: string; volumeNames: string[]; purgeData: boolean }): Step[] {
  if (facts.container !== null && facts.container.labels[LABEL_MANAGED] !== 'true') {
    throw new Error(`a container named ${target.name} exists and mqtt-provision did not create it; it is left alone`);
  }
  const foreign = foreignVolumes(facts, target.volumeNames);
  if (target.purgeData && foreign.length > 0) {
    throw new Error(`volume ${foreign.join(', ')} exists without the ${LABEL_MANAGED} label: mqtt-provision did not create it, and purgeData will not remove it`);
  }
  const id = `container:${target.name}`;
  const title = `container ${target.name}`;
  const steps: Step[] = [
    facts.container === null
      ? noChange('container', id, title, 'absent')
      : change('container', id, title, `${facts.container.status}, removing it`, stopAndRemove(target.name, currentSpec(facts.container.labels)?.stopTimeoutSeconds ?? 30)),
  ];
  const stored = Object.entries(facts.files).some(([file, content]) => file.startsWith(`${target.configDir}/`) && content !== null);
  const parent = path.dirname(target.configDir);
  // The default layout is containers/NAME/config: NAME/ is ours too, removed when nothing else is in it.
  const removeParent: Command[] = path.basename(parent) === target.name ? [{ argv: ['sh', '-c', 'rmdir -- "$1" 2>/dev/null || true', 'mqtt-provision-rmdir', parent] }] : [];
  steps.push(
    stored || facts.directories[target.configDir] === true
      ? change('directory', `directory:${target.configDir}`, `directory ${target.configDir}`, 'remove the rendered config (it holds password hashes)', [{ argv: ['rm', '-rf', '--', target.configDir] }, ...removeParent])
      : noChange('directory', `directory:${target.configDir}`, `directory ${target.configDir}`, 'absent'),
  );
  for (const volume of target.volumeNames) {
    const volumeId = `volume:${volume}`;
    const holds = volume === dataVolume(target.name) ? 'sessions and queued messages' : "the broker's log directory";
    if (!facts.volumes[volume]) steps.push(noChange('container', volumeId, `volume ${volume}`, 'absent'));
    else if (!facts.volumes[volume]!.managed) steps.push(noChange('container', volumeId, `volume ${volume}`, 'not created by mqtt-provision; left alone'));
    else if (!target.purgeData) steps.push(noChange('container', volumeId, `volume ${volume}`, `kept (${holds}; purgeData removes it)`));
    else steps.push(change('container', volumeId, `volume ${volume}`, 'purgeData', [{ argv: ['docker', 'volume', 'rm', volume] }]));
  }
  return steps;
}
