import { brokerRole } from '../brokers/registry.ts';
import { factsFromProbe, gatherFacts, probeRequest } from '../facts/gather.ts';
import type { HostFacts } from '../facts/host-facts.ts';
import type { Step } from '../operations/step.ts';
import type { Settings } from '../settings/load.ts';
import { mark } from '../timings.ts';
import type { Transport } from '../transport/transport.ts';
import { applyPlan } from './apply-plan.ts';
import { controllerStep, prepareHost } from './prepare.ts';
import { acquireHostLock, lockName, type HostLock } from './host-lock.ts';
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
    mark('connected', transport.label);
    const prepared = controllerStep(settings, options.dryRun ?? false);
    if (prepared) options.onStep?.(target.label, prepared);
    // The CA (a controller step) exists before the lock is asked for: the host prepare reads it.
    const planned = await lockAndPlan(transport, settings, options.dryRun ?? false, options.lockTimeoutSeconds);
    lock = planned.lock;
    mark('planned', transport.label);
    const { steps } = planned;
    const applied = await applyPlan(transport, steps, {
      dryRun: options.dryRun ?? false,
      onStep: (result) => options.onStep?.(target.label, result),
    });
    mark('applied', transport.label);
    const results = prepared ? [prepared, ...applied] : applied;
    const failure = results.find((result) => result.status === 'failed');
    if (failure) return finish({ status: 'failed', steps: results, error: `${failure.title}: ${failure.error ?? 'failed'}` });
    return finish({ status: results.some((result) => result.status === 'changed') ? 'changed' : 'ok', steps: results });
  } catch (error) {
    return finish({ status: 'failed', steps: [], error: error instanceof Error ? error.message : String(error) });
  } finally {
    await lock?.release().catch(() => {});
    await transport?.close();
    mark('closed', transport?.label ?? target.label);
  }
}

/** lockAndPlan for front doors that only look (Pulumi's refresh): the lock is released before it returns. */
export async function inspectHost(transport: Transport, settings: Settings, lockTimeoutSeconds?: number): Promise<{ facts: HostFacts; steps: Step[] }> {
  const { lock, facts, steps } = await lockAndPlan(transport, settings, true, lockTimeoutSeconds);
  await lock.release();
  return { facts, steps };
}

/**
 * Takes the host lock, held from before the facts are read until the last step (a plan is only
 * true while no other run changes the host), and plans. The probe runs in the lock's own session
 * as soon as the lock is held: one channel and one sudo per host for a no-op (issue 20).
 */
export async function lockAndPlan(
  transport: Transport,
  settings: Settings,
  dryRun: boolean,
  lockTimeoutSeconds?: number,
): Promise<{ lock: HostLock; facts: HostFacts; steps: Step[] }> {
  const role = brokerRole(settings.broker);
  const query = role.factQuery(settings);
  const lock = await acquireHostLock(transport, lockName(), lockTimeoutSeconds, undefined, probeRequest(query));
  mark('locked-and-probed', transport.label);
  try {
    return { lock, ...(await planFrom(transport, settings, factsFromProbe(lock.output!, query), dryRun)) };
  } catch (error) {
    await lock.release().catch(() => {});
    throw error;
  }
}

/**
 * Gathers facts, prepares and plans: with `dryRun` (the default) touching nothing, what status is
 * built on (the prepare phase's key-free variant). Takes no lock.
 */
export async function planHost(transport: Transport, settings: Settings, dryRun = true): Promise<{ facts: HostFacts; steps: Step[] }> {
  const role = brokerRole(settings.broker);
  return planFrom(transport, settings, await gatherFacts(transport, role.factQuery(settings)), dryRun);
}

async function planFrom(transport: Transport, settings: Settings, gathered: HostFacts, dryRun: boolean): Promise<{ facts: HostFacts; steps: Step[] }> {
  const role = brokerRole(settings.broker);
  const probed = transport.address === undefined ? gathered : { ...gathered, sshAddress: transport.address };
  const facts = role.extraFacts ? await role.extraFacts(transport, probed, settings) : probed;
  return { facts, steps: role.plan(facts, settings, prepareHost(role, facts, settings, dryRun)) };
}
