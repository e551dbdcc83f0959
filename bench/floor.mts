// The 1-host no-op next to its floor (issue 20): what a no-op converge costs through each front
// door, split into phases, beside what the machine, npx, zx and one SSH login cost with none of our
// work. Prints a table (and --json); a benchmark script, not a timed test.
//   npm run bench:floor -- [--runs 9] [--json FILE]
// One fresh Debian lab host, converged once by our install as the sudo user `deploy`; then every
// command below runs --runs times, interleaved, and the medians are printed with the load average.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureLabKey, startLabHosts, stopLabHosts } from '../src/lab/hosts.ts';
import { SshTransport } from '../src/transport/ssh.ts';
import { readMarks } from '../src/timings.ts';
import { run, timed } from './lib/process.mts';
import { median, round2 } from './lib/results.mts';
import { INSTALL, oursArgs, oursInventory, ROOT, type Ctx } from './lib/tools.mts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' }, json: { type: 'string' } }, strict: true });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a positive integer, got ${values.runs}`);

/** The phases of a no-op, from the MQTT_PROVISION_TIMINGS marks: each is the time since the mark before. */
const PHASES: [string, string][] = [
  ['entry', 'node start and the script entry'],
  ['modules', 'modules loaded'],
  ['settings', 'options and settings'],
  ['connected', 'SSH connect and login'],
  ['locked-and-probed', 'host lock + fact probe (one sudo)'],
  ['planned', 'plan (prepare, render, compare)'],
  ['applied', 'apply (nothing to do)'],
  ['closed', 'lock release, disconnect'],
  ['done', 'report'],
];

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-floor-'));
  const key = await ensureLabKey();
  const [host] = await startLabHosts({ count: 1, variant: 'base', prefix: 'bench-floor', publish: [] });
  try {
    const passwordFile = path.join(dir, 'admin-password');
    await writeFile(passwordFile, 'bench-Admin-password-1\n', { mode: 0o600 });
    // The bench's own command line (bench/lib/tools.mts), so the two measure the same no-op.
    const ctx: Ctx = { dir, key, passwordFile, rendered: path.join(dir, 'rendered') };
    const [, ...args] = oursArgs(ctx, await oursInventory(ctx, [host!], 'floor'), 1);
    const cold = await run(process.execPath, [INSTALL, ...args], { cwd: ROOT });
    if (cold.exitCode !== 0) throw new Error(`the cold converge failed:\n${cold.stderr}`);

    const env = { ...process.env, MQTT_PROVISION_TIMINGS: '1' };
    const commands: [string, string, string[], NodeJS.ProcessEnv?][] = [
      ['node -e 0', process.execPath, ['-e', '0']],
      ['npx zx --version (npx + zx, nothing of ours)', 'npx', ['zx', '--version']],
      ['node install-mosquitto.mts --help', process.execPath, [INSTALL, '--help']],
      ['node install-mosquitto.mts (no-op)', process.execPath, [INSTALL, ...args], env],
      ['npx zx install-mosquitto.mts (no-op)', 'npx', ['zx', INSTALL, ...args], env],
    ];
    const walls = new Map<string, number[]>(commands.map(([name]) => [name, []]));
    const phases = new Map<string, number[]>(PHASES.map(([phase]) => [phase, []]));
    const login: number[] = [];
    const sudo: number[] = [];
    const loads: number[] = [];
    for (let i = 0; i < runs; i++) {
      loads.push(os.loadavg()[0]!);
      for (const [name, command, argv, environment] of commands) {
        const t = await timed(command, argv, { cwd: ROOT, ...(environment ? { env: environment } : {}) });
        if (t.exitCode !== 0) throw new Error(`${name} exited ${t.exitCode}: ${t.stderr.slice(-500)}`);
        walls.get(name)!.push(t.ms);
        if (name.startsWith('node install') && environment) {
          let last = 0;
          for (const m of readMarks(t.stderr)) {
            phases.get(m.phase)?.push(m.ms - last);
            last = m.ms;
          }
        }
      }
      // The floor of any no-op over SSH: one login and one command, then one command through sudo, in-process.
      const t0 = performance.now();
      const transport = await SshTransport.connect({ host: host!.address, port: host!.sshPort, user: 'deploy', identityFile: key });
      await transport.exec(['true']);
      login.push(performance.now() - t0);
      const t1 = performance.now();
      await transport.exec(['true']);
      sudo.push(performance.now() - t1);
      await transport.close();
    }
    const row = (name: string, xs: number[]) => (xs.length ? `| ${name} | ${Math.round(median(xs))} ms | ${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))} ms |` : `| ${name} | not marked | |`);
    const lines = [
      `1-host no-op and its floor: ${runs} runs each, interleaved, load ${round2(Math.min(...loads))}–${round2(Math.max(...loads))}, ${os.cpus().length} CPUs, Node ${process.version}`,
      '',
      '| command | median | range |',
      '|---|---:|---:|',
      ...[...walls].map(([name, xs]) => row(name, xs)),
      row('SSH connect + login + `sudo -n true` (in-process, our transport)', login),
      row('one more `sudo -n true` on that connection', sudo),
      '',
      '| phase of `node install-mosquitto.mts` (no-op) | median | range |',
      '|---|---:|---:|',
      ...PHASES.map(([phase, what]) => row(`${phase}: ${what}`, phases.get(phase)!)),
    ];
    console.log(`\n${lines.join('\n')}`);
    if (values.json) await writeFile(values.json, `${JSON.stringify({ date: new Date().toISOString(), runs, loads, walls: Object.fromEntries(walls), login, sudo, phases: Object.fromEntries(phases) }, null, 2)}\n`);
  } finally {
    await stopLabHosts([host!.name]);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
