import { readFileSync } from 'node:fs';
import type { Transport } from '../transport/transport.ts';
import type { FactQuery, HostFacts } from './host-facts.ts';
import { parseProbeOutput } from './parse-probe.ts';

const probeScript = readFileSync(new URL('./probe.sh', import.meta.url), 'utf8');

/** Gathers all facts in one exec: the probe script travels on stdin, the query as arguments. */
export async function gatherFacts(transport: Transport, query: FactQuery): Promise<HostFacts> {
  const args = [
    ...query.packages.map((name) => `pkg:${name}`),
    ...query.files.map((path) => `file:${path}`),
    ...query.directories.map((path) => `dir:${path}`),
    ...query.services.map((name) => `svc:${name}`),
    ...(query.sysctl ?? []).map((key) => `sysctl:${key}`),
    ...(query.openFiles ?? []).map((name) => `nofile:${name}`),
  ];
  const result = await transport.exec(['sh', '-s', '--', ...args], { stdin: `${probeScript}${query.probe ?? ''}exit 0\n` });
  if (result.code !== 0) throw new Error(`the fact probe failed (exit ${result.code}): ${result.stderr.trim()}`);
  return parseProbeOutput(result.stdout, query);
}
