// Benchmark (issues 8, 20): this toolkit against Ansible on the same lab hosts, side by side.
//   npm run bench -- [--hosts 1,5,20,100] [--noop-runs 3] [--ansible-max-hosts N] [--no-docs]
//   npm run bench -- --docs-only          (regenerate the docs table and chart from --json)
// For each K: K fresh lab hosts converged by our tool (cold, then no-op re-converges), then K other
// fresh hosts converged by ansible-playbook (cold, no-op). Both log in as a sudo user. Each
// controller runs under `/usr/bin/time -v` for its peak RSS; its process tree's RSS is sampled too.
// Then docs/performance.md's generated block and docs/performance.svg are rewritten from the figures.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../src/lab/hosts.ts';
import { benchChart } from './lib/chart.mts';
import { replaceGenerated } from './lib/docs.mts';
import { ensureTool, run, tail, timed, type Timed } from './lib/process.mts';
import { coldPhases, measure, ratios, resultsMarkdown, round2, series, type BenchRun, type KResult, type Series } from './lib/results.mts';
import { ansible, ansibleEnv, ansibleInventoryFile, copyLimitsFiles, hostState, INSTALL, ours, oursArgs, oursInventory, ROOT, SETTINGS, type Ctx } from './lib/tools.mts';

const DOC = path.join(ROOT, 'docs/performance.md');
const SVG = path.join(ROOT, 'docs/performance.svg');

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1,5,20,100' },
    json: { type: 'string', default: path.join(ROOT, 'bench/results/latest.json') },
    'noop-runs': { type: 'string', default: '3' },
    // Ansible at 100 hosts forks 100 workers on 2 cores: it runs, but takes many minutes.
    'ansible-max-hosts': { type: 'string', default: '100' },
    'no-docs': { type: 'boolean', default: false },
    'docs-only': { type: 'boolean', default: false },
  },
  strict: true,
});
const counts = values.hosts.split(',').map((s) => Number(s.trim()));
if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--hosts: positive integers, got ${values.hosts}`);
const noopRuns = Number(values['noop-runs']);
if (!Number.isInteger(noopRuns) || noopRuns < 1) throw new Error(`--noop-runs: a positive integer, got ${values['noop-runs']}`);
const ansibleMax = Number(values['ansible-max-hosts']);
if (!Number.isInteger(ansibleMax) || ansibleMax < 0) throw new Error(`--ansible-max-hosts: a non-negative integer, got ${values['ansible-max-hosts']}`);

const secs = (ms: number): string => `${(ms / 1000).toFixed(2)}s`;
const load1 = (): number => round2(os.loadavg()[0]!);

async function withHosts<T>(k: number, prefix: string, fn: (hosts: LabHost[]) => Promise<T>): Promise<{ value: T; startMs: number }> {
  const t0 = performance.now();
  const hosts = await startLabHosts({ count: k, variant: 'base', prefix, publish: [] });
  const startMs = Math.round(performance.now() - t0);
  try {
    return { value: await fn(hosts), startMs };
  } finally {
    await stopLabHosts(hosts.map((h) => h.name));
  }
}

async function benchOurs(ctx: Ctx, k: number, startup: Record<string, Series>) {
  return withHosts(k, 'bench-ours', async (hosts) => {
    const inv = await oursInventory(ctx, hosts, `ours-${k}`);
    const cold = await ours(ctx, inv, k, false);
    console.log(`[bench]   cold ${secs(cold.timed.ms)}`);
    await copyLimitsFiles(ctx, hosts[0]!.name);
    const noops: Timed[] = [];
    for (let i = 0; i < noopRuns; i++) noops.push((await ours(ctx, inv, k, true)).timed);
    console.log(`[bench]   no-op ${noops.map((t) => secs(t.ms)).join(', ')}`);
    if (!startup.oursHelp) Object.assign(startup, await oursStartup(ctx, hosts));
    return {
      result: { cold: measure(cold.timed), noop: series(noops) },
      phases: coldPhases(cold.report, cold.timed.ms),
      state: await hostState(hosts[0]!.name),
    };
  });
}

/** Front-door startup: --help (no host) and --dry-run on one converged host; Ansible's --help. */
async function oursStartup(ctx: Ctx, hosts: LabHost[]): Promise<Record<string, Series>> {
  const one = await oursInventory(ctx, hosts.slice(0, 1), 'ours-one');
  const help: Timed[] = [], dry: Timed[] = [], ahelp: Timed[] = [];
  for (let i = 0; i < noopRuns; i++) {
    const h = await timed(process.execPath, [INSTALL, '--help'], { cwd: ROOT });
    if (h.exitCode !== 0) throw new Error(`--help exited ${h.exitCode}`);
    help.push(h);
    const d = await timed(process.execPath, oursArgs(ctx, one, 1, ['--dry-run']), { cwd: ROOT });
    if (d.exitCode !== 0) throw new Error(`--dry-run exited ${d.exitCode}: ${tail(d.stderr)}`);
    dry.push(d);
    ahelp.push(await timed('ansible-playbook', ['--help'], { cwd: ROOT, env: ansibleEnv(ctx.dir) }));
  }
  return { oursHelp: series(help), oursDryRun: series(dry), ansibleHelp: series(ahelp) };
}

async function benchAnsible(ctx: Ctx, k: number, startup: Record<string, Series>, fidelity: Record<string, string>) {
  return withHosts(k, 'bench-ansible', async (hosts) => {
    const inv = await ansibleInventoryFile(ctx, hosts, `ansible-${k}`);
    const cold = await ansible(ctx, inv, k, false);
    console.log(`[bench]   cold ${secs(cold.ms)}`);
    const noops: Timed[] = [];
    for (let i = 0; i < noopRuns; i++) noops.push(await ansible(ctx, inv, k, true));
    console.log(`[bench]   no-op ${noops.map((t) => secs(t.ms)).join(', ')}`);
    if (!fidelity.oursDryRunOnAnsibleHost) {
      // Cross-checks on an Ansible-converged host: Ansible's --check, and our --dry-run
      // (which should find nothing to change if both tools converge to the same state).
      const oneIni = await ansibleInventoryFile(ctx, hosts.slice(0, 1), 'ansible-one');
      const checks: Timed[] = [];
      for (let i = 0; i < noopRuns; i++) checks.push(await ansible(ctx, oneIni, 1, true, ['--check']));
      startup.ansibleCheck = series(checks);
      const d = await run(process.execPath, oursArgs(ctx, await oursInventory(ctx, hosts.slice(0, 1), 'ansible-one'), 1, ['--dry-run']), { cwd: ROOT });
      const rep = JSON.parse(d.stdout) as { hosts: { status: string; steps: { id: string; status: string }[] }[] };
      fidelity.oursDryRunOnAnsibleHost = `${rep.hosts[0]!.status}; would change: ${rep.hosts[0]!.steps.filter((s) => s.status !== 'ok').map((s) => s.id).join(', ') || 'nothing'}`;
    }
    return { result: { cold: measure(cold), noop: series(noops) }, state: await hostState(hosts[0]!.name) };
  });
}

function machine(): BenchRun['machine'] {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGb: round2(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}` };
}

async function save(file: string, body: BenchRun): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(body, null, 2) + '\n');
}

/** docs/performance.md's generated block and docs/performance.svg, from one run's figures. */
async function writeDocs(result: BenchRun): Promise<void> {
  await writeFile(DOC, replaceGenerated(await readFile(DOC, 'utf8'), resultsMarkdown(result)));
  await writeFile(SVG, benchChart(result));
  console.log(`[bench] rewrote ${path.relative(ROOT, DOC)} (generated block) and ${path.relative(ROOT, SVG)}`);
}

async function main(): Promise<void> {
  if (values['docs-only']) return writeDocs(JSON.parse(await readFile(values.json, 'utf8')) as BenchRun);
  await ensureTool('/usr/bin/time', 'time', ROOT);
  await ensureTool('ansible-playbook', 'ansible-core', ROOT);
  const ansibleVersion = (await run('ansible-playbook', ['--version'], { cwd: ROOT })).stdout.split('\n')[0]!;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-bench-'));
  const key = await ensureLabKey();
  const passwordFile = path.join(dir, 'admin-password');
  await writeFile(passwordFile, 'bench-Admin-password-1\n', { mode: 0o600 });
  const ctx: Ctx = { dir, key, passwordFile, rendered: path.join(dir, 'rendered') };
  const r = await run(process.execPath, [INSTALL, '--render-to', ctx.rendered, '--settings', SETTINGS, '--admin-user', 'admin', '--admin-password-file', passwordFile], { cwd: ROOT });
  if (r.exitCode !== 0) throw new Error(`--render-to failed:\n${r.stderr}`);

  const body: BenchRun = { date: new Date().toISOString(), machine: machine(), noopRuns, ansibleVersion, results: [], startup: {}, fidelity: {}, complete: false };
  try {
    for (const k of counts) {
      const load = load1();
      console.log(`\n[bench] K=${k}: our tool (load ${load})`);
      const o = await benchOurs(ctx, k, body.startup!);
      const res: KResult = { hosts: k, load, ours: o.value.result, coldPhases: o.value.phases, labStartMs: o.startMs, state: { ours: o.value.state } };
      if (k > ansibleMax) {
        res.ansibleSkipped = `not run above ${ansibleMax} hosts (--ansible-max-hosts)`;
        console.log(`[bench] K=${k}: ansible skipped: ${res.ansibleSkipped}`);
      } else {
        console.log(`[bench] K=${k}: ansible (load ${load1()})${k >= 100 ? ': 100 forks on this machine take many minutes' : ''}`);
        const a = await benchAnsible(ctx, k, body.startup!, body.fidelity!);
        res.ansible = a.value.result;
        res.ratios = ratios(res.ours, res.ansible);
        res.state!.ansible = a.value.state;
      }
      body.results.push(res);
      await save(values.json, body);
    }
    body.complete = true;
    await save(values.json, body);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log('\n' + resultsMarkdown(body));
  console.log(`\nfidelity: ours --dry-run on an Ansible-converged host: ${body.fidelity!.oursDryRunOnAnsibleHost ?? 'not run'}`);
  console.log(`results: ${values.json}`);
  if (!values['no-docs']) await writeDocs(body);
}

await main();
