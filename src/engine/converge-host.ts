import { brokerRole } from '../brokers/registry.ts';
import { gatherFacts } from '../facts/gather.ts';
import type { HostFacts } from '../facts/host-facts.ts';
import type { Step } from '../operations/step.ts';
import type { Settings } from '../settings/load.ts';
import type { Transport } from '../transport/transport.ts';
import { applyPlan } from './apply-plan.ts';
import { controllerStep, prepareHost } from './prepare.ts';
import { acquireHostLock, lockName, withHostLock, type HostLock } from './host-lock.ts';
import type { HostReport, StepResult } from './report.ts';

export interface ConvergeOptions {
  dryRun?: boolean;
  /** Seconds to wait for another run's host lock (default 120). */
  lockTimeoutSeconds?: number;
  onStep?: (host: string, result: StepResult) => void;
}

export interface HostTarget {
  label: string;
  connect(): Promise<Transport>;
}

/** Facts, then prepare, then plan, then apply: the whole engine for one host, shared by every front door. */
export async function convergeHost(target: HostTarget, settings: Settings, options: ConvergeOptions = {}): Promise<HostReport> {
  const started = performance.now();
  const finish = (partial: Omit<HostReport, 'durationMs' | 'host' | 'dryRun'>): HostReport => ({
    host: target.label,
    dryRun: options.dryRun ?? false,
    ...partial,
    durationMs: Math.round(performance.now() - started),
  });
  let transport: Transport | undefined;
  let lock: HostLock | undefined;
  try {
    transport = await target.connect();
    // Held from before the facts are read until the last step: a plan is only true while no other run changes the host.
    lock = await acquireHostLock(transport, lockName(), options.lockTimeoutSeconds);
    const prepared = controllerStep(settings, options.dryRun ?? false);
    if (prepared) options.onStep?.(target.label, prepared);
    const { steps } = await planHost(transport, settings, options.dryRun ?? false);
    const applied = await applyPlan(transport, steps, {
      dryRun: options.dryRun ?? false,
      onStep: (result) => options.onStep?.(target.label, result),
    });
    const results = prepared ? [prepared, ...applied] : applied;
    const failure = results.find((result) => result.status === 'failed');
    if (failure) return finish({ status: 'failed', steps: results, error: `${failure.title}: ${failure.error ?? 'failed'}` });
    return finish({ status: results.some((result) => result.status === 'changed') ? 'changed' : 'ok', steps: results });
  } catch (error) {
    return finish({ status: 'failed', steps: [], error: error instanceof Error ? error.message : String(error) });
  } finally {
    await lock?.release().catch(() => {});
    await transport?.close();
  }
}

/** planHost under the host lock, for front doors that only look (Pulumi's refresh). */
export function inspectHost(transport: Transport, settings: Settings, lockTimeoutSeconds?: number): Promise<{ facts: HostFacts; steps: Step[] }> {
  return withHostLock(transport, lockName(), lockTimeoutSeconds, () => planHost(transport, settings, true));
}

/**
 * Gathers facts, prepares and plans: with `dryRun` (the default) touching nothing, what --dry-run
 * and Pulumi's refresh are built on (the prepare phase's key-free variant).
 */
export async function planHost(transport: Transport, settings: Settings, dryRun = true): Promise<{ facts: HostFacts; steps: Step[] }> {
  const role = brokerRole(settings.broker);
  const gathered = await gatherFacts(transport, role.factQuery(settings));
  const probed = transport.address === undefined ? gathered : { ...gathered, sshAddress: transport.address };
  const facts = role.extraFacts ? await role.extraFacts(transport, probed, settings) : probed;
  return { facts, steps: role.plan(facts, settings, prepareHost(role, facts, settings, dryRun)) };
}
