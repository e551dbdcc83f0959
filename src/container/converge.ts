import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { generateCookie } from '../brokers/emqx/identity.ts';
import { seededSalt } from '../brokers/prepared.ts';
import { applyPlan } from '../engine/apply-plan.ts';
import { acquireHostLock, lockName, type HostLock } from '../engine/host-lock.ts';
import type { HostReport, StepResult } from '../engine/report.ts';
import { labImageTag } from './host-image.ts';
import type { Step } from '../operations/step.ts';
import type { Settings } from '../settings/load.ts';
import { LocalTransport } from '../transport/local.ts';
import type { Transport } from '../transport/transport.ts';
import { dataVolume, logVolume, type ContainerOptions, type DesiredContainer } from './desired.ts';
import { desiredEmqxContainer, emqxContainerFileNames, gatherEmqxContainerApi } from './emqx-container.ts';
import { gatherContainerFacts, type ContainerFacts } from './facts.ts';
import { officialImage } from './image-layouts.ts';
import { ensureMosquittoImage, mosquittoImageTag } from './image.ts';
import { desiredMosquittoContainer, HEALTH_OPTIONS_FILE, mosquittoContainerFileNames } from './mosquitto-container.ts';
import { planContainerAbsent } from './plan-absent.ts';
import { planContainer, reloadPendingMarker, restartPendingMarker } from './plan.ts';

export interface ConvergeContainerOptions {
  dryRun?: boolean;
  /** Seconds to wait for another run's lock on this container (default 120). */
  lockTimeoutSeconds?: number;
  onStep?: (result: StepResult) => void;
  /** Where docker runs and the config directory lives; this machine by default. */
  transport?: Transport;
  /** Deterministic salts and cookies for tests. */
  salt?: (name: string) => Buffer;
  generateCookie?: () => string;
  /** The Mosquitto healthcheck user's password when none is stored yet. */
  generateHealthPassword?: () => string;
}

/** `--image local`: the Mosquitto image built here from Debian packages, for machines that cannot pull. */
export const LOCAL_IMAGE = 'local';

/**
 * The image to run: the official one pinned per broker (or settings.version's tag), the one given,
 * or with `local` the Mosquitto image built on this machine (only named, not built, by a dry-run).
 */
export async function resolveImage(settings: Settings, image: string | undefined, dryRun: boolean): Promise<string> {
  if (image !== LOCAL_IMAGE) return officialImage(settings, image);
  if (settings.broker !== 'mosquitto') throw new Error(`--image ${LOCAL_IMAGE} builds a Mosquitto image only; give an EMQX image`);
  return dryRun ? mosquittoImageTag(labImageTag('base')) : ensureMosquittoImage();
}

/** Facts → desired → plan, without applying: what --dry-run and the tests look at (no desired container for `state: absent`). */
export async function planContainerTarget(
  transport: Transport,
  settings: Settings,
  options: ContainerOptions,
  seeds: Pick<ConvergeContainerOptions, 'salt' | 'generateCookie' | 'generateHealthPassword'> = {},
): Promise<{ facts: ContainerFacts; desired: DesiredContainer | null; steps: Step[] }> {
  const names = settings.broker === 'emqx' ? emqxContainerFileNames : mosquittoContainerFileNames;
  const markers = [reloadPendingMarker(options.configDir), restartPendingMarker(options.configDir)];
  // The config directory and its parent are reported as directories (absent: whether to remove them).
  const paths = [...names.map((file) => path.join(options.configDir, file)), ...markers, options.configDir, path.dirname(options.configDir)];
  const volumeNames = [dataVolume(options.name), logVolume(options.name)];
  const facts = await gatherContainerFacts(transport, options.name, volumeNames, paths, settings.state === 'present' && Number(options.cpus) > 1);
  const stored = (file: string) => facts.files[path.join(options.configDir, file)] ?? null;
  if (settings.state === 'absent') {
    return { facts, desired: null, steps: planContainerAbsent(facts, { name: options.name, configDir: options.configDir, volumeNames, purgeData: settings.purgeData }) };
  }
  const drawn = prepareContainer(seeds);
  let desired: DesiredContainer;
  if (settings.broker === 'emqx') {
    const up = facts.container?.status === 'running' && facts.container.health !== 'starting';
    const api = up ? await gatherEmqxContainerApi(transport, options.name, settings, stored('emqx.conf')) : null;
    desired = desiredEmqxContainer(settings, options, { config: stored('emqx.conf'), usersState: stored('mqtt-provision-users') }, api, drawn);
  } else {
    desired = desiredMosquittoContainer(settings, options, stored('passwd'), drawn.salt, { stored: stored(HEALTH_OPTIONS_FILE), generate: drawn.generateHealthPassword });
  }
  return { facts, desired, steps: planContainer(facts, desired) };
}

/**
 * The container's prepare phase: the random draws (salt seed, a cookie and a health password for a
 * target that has none) made once, up front, and handed to the pure desired-state and plan
 * functions as constant functions. A test's seeds take their place.
 */
export function prepareContainer(seeds: Pick<ConvergeContainerOptions, 'salt' | 'generateCookie' | 'generateHealthPassword'>): { salt: (name: string) => Buffer; generateCookie: () => string; generateHealthPassword: () => string } {
  const cookie = (seeds.generateCookie ?? generateCookie)();
  const healthPassword = (seeds.generateHealthPassword ?? (() => randomBytes(16).toString('hex')))();
  return { salt: seeds.salt ?? seededSalt(), generateCookie: () => cookie, generateHealthPassword: () => healthPassword };
}

/**
 * Converges one broker container on a Docker host: the same settings, templates and apply engine
 * as an SSH host. Commands are argv lists, run by the transport without a local shell.
 */
export async function convergeContainer(settings: Settings, options: ContainerOptions, convergeOptions: ConvergeContainerOptions = {}): Promise<HostReport> {
  const started = performance.now();
  const dryRun = convergeOptions.dryRun ?? false;
  const transport = convergeOptions.transport ?? new LocalTransport();
  const host = containerLabel(transport, options.name);
  let lock: HostLock | undefined;
  try {
    // Per container, on the Docker host, for the whole converge: two runs never interleave their writes and restarts.
    lock = await acquireHostLock(transport, lockName(options.name), convergeOptions.lockTimeoutSeconds);
    const { steps } = await planContainerTarget(transport, settings, options, convergeOptions);
    const results = await applyPlan(transport, steps, { dryRun, ...(convergeOptions.onStep ? { onStep: convergeOptions.onStep } : {}) });
    const failed = results.find((result) => result.status === 'failed');
    return {
      host,
      status: failed ? 'failed' : results.some((result) => result.status === 'changed') ? 'changed' : 'ok',
      dryRun,
      steps: results,
      ...(failed?.error ? { error: failed.error } : {}),
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    // A refused or unreadable plan is a failed step, so the recap counts it (failed=1, not 0).
    const message = error instanceof Error ? error.message : String(error);
    const step: StepResult = { id: 'plan', title: `plan for ${options.name}`, status: 'failed', reason: 'refused', error: message, durationMs: Math.round(performance.now() - started) };
    convergeOptions.onStep?.(step);
    return { host, status: 'failed', dryRun, steps: [step], error: message, durationMs: Math.round(performance.now() - started) };
  } finally {
    await lock?.release().catch(() => {});
  }
}

/** How reports name a container: docker:NAME locally, docker:NAME@HOST on a remote Docker host. */
export function containerLabel(transport: Transport, name: string): string {
  return transport.label === 'local' ? `docker:${name}` : `docker:${name}@${transport.label}`;
}

/** Removes the container (stopped first, so the broker saves its data) and, when asked, its volumes. */
export async function removeContainerTarget(name: string, options: { volumes?: boolean; configDir?: string; transport?: Transport } = {}): Promise<void> {
  const transport = options.transport ?? new LocalTransport();
  await transport.exec(['docker', 'stop', '--time', '30', name]);
  await transport.exec(['docker', 'rm', '--force', name]);
  if (options.volumes) await transport.exec(['docker', 'volume', 'rm', '--force', dataVolume(name), logVolume(name)]);
  if (options.configDir) await transport.exec(['rm', '-rf', '--', options.configDir]);
}
