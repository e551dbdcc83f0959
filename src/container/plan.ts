import { createTwoFilesPatch } from 'diff';
import { atomicWrite } from '../operations/files.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import { change, noChange, type Command, type Step } from '../operations/step.ts';
import { LABEL_CONFIG_HASH, LABEL_MANAGED, LABEL_SPEC, type ContainerSpec, type DesiredContainer } from './desired.ts';
import type { ContainerFacts } from './facts.ts';

/** Waits until the new container reports healthy (or running, without a healthcheck); fails on unhealthy/exited. */
const waitHealthyScript =
  'i=0; while [ "$i" -lt 60 ]; do ' +
  's=$(docker inspect -f "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}" "$1") || exit 1; ' +
  'case "$s" in healthy|running) exit 0;; unhealthy|exited|dead) echo "container $1 is $s" >&2; exit 1;; esac; ' +
  'sleep 1; i=$((i+1)); done; echo "container $1 is not healthy after 60 s" >&2; exit 1';

export function waitHealthy(name: string): Command {
  return { argv: ['sh', '-c', waitHealthyScript, 'mqtt-provision-wait', name] };
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

function fileDiff(file: ManagedFile, before: string): string {
  if (file.secret) return `--- ${file.path}\n+++ ${file.path}\n(content not shown: it holds secrets)\n`;
  return createTwoFilesPatch(file.path, file.path, before, file.content, 'stored', 'rendered');
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
  for (const file of desired.files) {
    const id = `file:${file.path}`;
    const current = facts.files[file.path] ?? null;
    if (current === file.content) steps.push(noChange(id, `file ${file.path}`, 'up to date'));
    else steps.push(change(id, `file ${file.path}`, current === null ? 'absent' : 'content differs', [atomicWrite(file)], { diff: fileDiff(file, current ?? '') }));
  }

  const id = `container:${desired.name}`;
  const title = `container ${desired.name}`;
  const run: Command = { argv: desired.runArgv };
  const diagnostics: Command[] = [{ argv: ['docker', 'logs', '--tail', '40', desired.name] }];
  const container = facts.container;
  if (container === null) {
    steps.push(change(id, title, 'absent', [run, waitHealthy(desired.name)], { diff: createTwoFilesPatch(title, title, '', specText(desired.spec), 'docker', 'desired'), diagnostics }));
    return steps;
  }
  const reasons: string[] = [];
  if (container.image !== desired.spec.image) reasons.push(`image ${container.image} → ${desired.spec.image}`);
  if (container.labels[LABEL_CONFIG_HASH] !== desired.configHash) reasons.push('config changed');
  const stored = currentSpec(container.labels);
  const withoutImage = (spec: ContainerSpec | null) => (spec === null ? '' : specText({ ...spec, image: '' }));
  if (withoutImage(stored) !== withoutImage(desired.spec)) reasons.push('run options changed');
  if (reasons.length > 0) {
    // `docker stop` (SIGTERM) lets Mosquitto write its persistence db; `rm -f` would SIGKILL it.
    steps.push(
      change(id, title, `recreate: ${reasons.join(', ')} (volumes kept)`, [
        { argv: ['docker', 'stop', '--time', '30', desired.name] },
        { argv: ['docker', 'rm', desired.name] },
        run,
        waitHealthy(desired.name),
      ], { diff: createTwoFilesPatch(title, title, specText(stored), specText(desired.spec), 'docker', 'desired'), diagnostics }),
    );
  } else if (container.status !== 'running') {
    steps.push(change(id, title, `${container.status}, starting it`, [{ argv: ['docker', 'start', desired.name] }, waitHealthy(desired.name)], { diagnostics }));
  } else {
    steps.push(noChange(id, title, container.health === null ? 'running, up to date' : `running (${container.health}), up to date`));
  }
  return steps;
}
