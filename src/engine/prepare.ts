import type { BrokerRole } from '../brokers/broker-role.ts';
import type { PreparedInputs } from '../brokers/prepared.ts';
import type { HostFacts } from '../facts/host-facts.ts';
import type { Settings } from '../settings/load.ts';
import { defaultIssuer, dryRunIssuer, prepareControllerCa } from '../tls/server-files.ts';
import type { StepResult } from './report.ts';

/**
 * The prepare phase, between the facts and the plan: everything a run does on the controller or
 * draws at random (the CA, server certificates and keys, salts, cookies, the --package file) is
 * done here, so the planner after it is a pure function of facts, settings and these inputs.
 * `dryRun` (a dry run, Pulumi's refresh, status) is the key-free variant: it reads the CA and
 * draws no key, and the controller step only says it would create the CA.
 */

/**
 * What the run does on the controller before any host is planned: creating the generated CA (never
 * in a dry run, which only reports that it would). Reported as a step of the first host that needed it.
 */
export function controllerStep(settings: Settings, dryRun: boolean): StepResult | undefined {
  const started = performance.now();
  const prepared = prepareControllerCa(settings, dryRun);
  if (!prepared) return undefined;
  const base = { kind: 'controller' as const, id: `controller:ca:${prepared.caDir}`, title: `CA ${prepared.caDir} (on this controller)`, status: 'changed' as const };
  if (dryRun) return { ...base, reason: 'would create the CA', durationMs: 0 };
  return { ...base, reason: prepared.created ? 'created the CA' : 'created by another run just now', durationMs: Math.round(performance.now() - started) };
}

/** One host's prepared inputs, after its facts: only a run that applies may draw a new TLS key. */
export function prepareHost(role: BrokerRole, facts: HostFacts, settings: Settings, dryRun: boolean): PreparedInputs {
  return role.prepare(facts, settings, { issuer: dryRun ? dryRunIssuer : defaultIssuer });
}
