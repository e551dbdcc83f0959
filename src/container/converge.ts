import { mosquittoLayout } from '../brokers/mosquitto/layout.ts';
import path from 'node:path';
import { applyPlan } from '../engine/apply-plan.ts';
import type { HostReport, StepResult } from '../engine/report.ts';
import { labImageTag } from '../lab/image.ts';
import type { Step } from '../operations/step.ts';
import type { Settings } from '../settings/load.ts';
import { LocalTransport } from '../transport/local.ts';
import { dataVolume, desiredContainer, logVolume, type ContainerOptions, type DesiredContainer } from './desired.ts';
import { gatherContainerFacts, type ContainerFacts } from './facts.ts';
import { ensureMosquittoImage, mosquittoImageTag } from './image.ts';
import { planContainer } from './plan.ts';

export interface ConvergeContainerOptions {
  dryRun?: boolean;
  onStep?: (result: StepResult) => void;
  /** Deterministic salts for tests. */
  salt?: () => Buffer;
}

/**
 * The image to run: the one given, or the locally built Mosquitto image (built now unless this is
 * a dry-run, which only names the tag it would build).
 */
export async function resolveImage(image: string | undefined, dryRun: boolean): Promise<string> {
  if (image !== undefined) return image;
  return dryRun ? mosquittoImageTag(labImageTag('base')) : ensureMosquittoImage();
}

/** Facts → desired → plan, without applying: what --dry-run and the tests look at. */
export async function planContainerTarget(settings: Settings, options: ContainerOptions, salt?: () => Buffer): Promise<{ facts: ContainerFacts; desired: DesiredContainer; steps: Step[] }> {
  const passwdPath = path.join(options.configDir, path.basename(mosquittoLayout.passwordFile));
  const names = ['mosquitto.conf', 'passwd', 'acl'].map((file) => path.join(options.configDir, file));
  const facts = await gatherContainerFacts(options.name, [dataVolume(options.name), logVolume(options.name)], names);
  const desired = desiredContainer(settings, options, facts.files[passwdPath] ?? null, salt);
  return { facts, desired, steps: planContainer(facts, desired) };
}

/**
 * Converges one broker container on the local Docker engine: the same settings, rendered files and
 * apply engine as an SSH host; the commands (docker CLI argv) run on this machine without a shell.
 */
export async function convergeContainer(settings: Settings, options: ContainerOptions, convergeOptions: ConvergeContainerOptions = {}): Promise<HostReport> {
  const started = performance.now();
  const dryRun = convergeOptions.dryRun ?? false;
  const host = `docker:${options.name}`;
  try {
    const { steps } = await planContainerTarget(settings, options, convergeOptions.salt);
    const results = await applyPlan(new LocalTransport(), steps, { dryRun, ...(convergeOptions.onStep ? { onStep: convergeOptions.onStep } : {}) });
    const failed = results.find((result) => result.status === 'failed');
    return {
      host,
      status: failed ? 'failed' : results.some((result) => result.status === 'changed') ? 'changed' : 'ok',
      dryRun,
      steps: results,
      ...(failed?.error ? { error: failed.error } : {}),
      durationMs: performance.now() - started,
    };
  } catch (error) {
    return { host, status: 'failed', dryRun, steps: [], error: error instanceof Error ? error.message : String(error), durationMs: performance.now() - started };
  }
}

/** Removes the container (stopped first, so the broker saves its db) and, when asked, its volumes. */
export async function removeContainerTarget(name: string, options: { volumes?: boolean; configDir?: string } = {}): Promise<void> {
  const transport = new LocalTransport();
  await transport.exec(['docker', 'stop', '--time', '30', name]);
  await transport.exec(['docker', 'rm', '--force', name]);
  if (options.volumes) await transport.exec(['docker', 'volume', 'rm', '--force', dataVolume(name), logVolume(name)]);
  if (options.configDir) await transport.exec(['rm', '-rf', '--', options.configDir]);
}
