import { readFileSync } from 'node:fs';
import type { ExecResult, Transport } from '../transport/transport.ts';
import type { FactQuery, HostFacts } from './host-facts.ts';
import { parseProbeOutput } from './parse-probe.ts';

const probeScript = readFileSync(new URL('./probe.sh', import.meta.url), 'utf8');

/** The probe for a query: the script (for `sh -s`'s stdin) and its arguments, grouped by kind. */
export function probeRequest(query: FactQuery): { script: string; args: string[] } {
  const args = [
    ...query.packages.map((name) => `pkg:${name}`),
    ...query.files.map((path) => `file:${path}`),
    ...query.directories.map((path) => `dir:${path}`),
    ...query.services.map((name) => `svc:${name}`),
    ...(query.sysctl ?? []).map((key) => `sysctl:${key}`),
    ...(query.openFiles ?? []).map((name) => `nofile:${name}`),
  ];
  return { script: `${probeScript}${query.probe ?? ''}exit 0\n`, args };
}

/** The probe's result as facts, or the error that says why there are none. */
export function factsFromProbe(result: ExecResult, query: FactQuery): HostFacts {
  if (result.code !== 0) throw new Error(`the fact probe failed (exit ${result.code}): ${result.stderr.trim()}`);
  return parseProbeOutput(result.stdout, query);
}

/**
 * Gathers all facts in one exec: the probe script travels on stdin, the query as arguments. A
 * converge runs the same probe inside the host lock's session instead (engine/host-lock.ts).
 */
export async function gatherFacts(transport: Transport, query: FactQuery): Promise<HostFacts> {
  const { script, args } = probeRequest(query);
  return factsFromProbe(await transport.exec(['sh', '-s', '--', ...args], { stdin: script }), query);
}
