// Benchmark (issue 14): cold and no-op converge of Mosquitto on a Debian lab host (apt) next to a
// Rocky-9-like one (real dnf/rpm, EPEL enabled in the same run), through the install front door.
//   node bench/os-families.mts [--noop-runs 3]
// Prints figures; asserts nothing. Each converge is the whole command: node start, SSH, probe, apply.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost, type LabVariant } from '../src/lab/hosts.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INSTALL = path.join(ROOT, 'scripts/install-mosquitto.mts');
const SETTINGS = path.join(ROOT, 'examples/lab-mosquitto.yaml');
const { values } = parseArgs({ options: { 'noop-runs': { type: 'string', default: '3' } }, strict: true });
const noopRuns = Number(values['noop-runs']);
if (!Number.isInteger(noopRuns) || noopRuns < 1) throw new Error(`--noop-runs: a positive integer, got ${values['noop-runs']}`);

const work = mkdtempSync(path.join(os.tmpdir(), 'mp-bench-os-'));
const passwordFile = path.join(work, 'admin-password');
writeFileSync(passwordFile, 'bench-password\n', { mode: 0o600 });

function converge(host: LabHost, keyPath: string): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, [
    INSTALL, '--host', `root@127.0.0.1:${host.sshPort}`, '--identity', keyPath, '--known-hosts', path.join(work, 'known_hosts'),
    '--settings', SETTINGS, '--admin-user', 'admin', '--admin-password-file', passwordFile, '--no-verify',
  ], { cwd: ROOT, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`converge of ${host.name} exited ${r.status}:\n${r.stdout}${r.stderr}`);
  return ms;
}

const keyPath = await ensureLabKey();
const rows: string[][] = [['variant', 'package manager', 'cold (s)', `no-op, median of ${noopRuns} (s)`]];
for (const [variant, manager] of [['base', 'apt (Debian 12)'], ['rhel', 'dnf + EPEL (Rocky 9 lab)']] as Array<[LabVariant, string]>) {
  const [host] = (await startLabHosts({ count: 1, variant, prefix: `bench-os-${variant}`, publish: [] })) as [LabHost];
  try {
    const cold = converge(host, keyPath);
    const noops = Array.from({ length: noopRuns }, () => converge(host, keyPath)).sort((a, b) => a - b);
    rows.push([variant, manager, (cold / 1000).toFixed(2), (noops[Math.floor(noops.length / 2)]! / 1000).toFixed(2)]);
  } finally {
    await stopLabHosts([host.name]);
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n'));
console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
