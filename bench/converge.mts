// Benchmark (issue 8): this toolkit against Ansible on the same lab hosts.
//   npm run bench -- [--hosts 1,5,20] [--json bench/results/latest.json] [--noop-runs 3]
// For each K: K fresh lab hosts converged by our tool (cold, then no-op re-converges), then K other
// fresh hosts converged by ansible-playbook (cold, no-op). Each controller runs under
// `/usr/bin/time -v` for its peak RSS; the whole process tree's RSS is sampled as well.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../src/lab/hosts.ts';
import { ansibleInventory, type BenchHost } from './ansible/inventory.mts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INSTALL = path.join(ROOT, 'scripts/install-mosquitto.mts');
const SETTINGS = path.join(ROOT, 'examples/lab-mosquitto.yaml');
const PLAYBOOK = path.join(ROOT, 'bench/ansible/playbook.yml');
const ANSIBLE_CFG = path.join(ROOT, 'bench/ansible/ansible.cfg');
const RUN_TIMEOUT_MS = 15 * 60_000;

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1,5,20' },
    json: { type: 'string', default: path.join(ROOT, 'bench/results/latest.json') },
    'noop-runs': { type: 'string', default: '3' },
  },
  strict: true,
});
const counts = values.hosts.split(',').map((s) => Number(s.trim()));
if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--hosts: positive integers, got ${values.hosts}`);
const noopRuns = Number(values['noop-runs']);
if (!Number.isInteger(noopRuns) || noopRuns < 1) throw new Error(`--noop-runs: a positive integer, got ${values['noop-runs']}`);

interface Timed {
  ms: number;
  exitCode: number;
  /** GNU time's "Maximum resident set size": the largest single process of the tree. */
  maxRssKb: number;
  /** Sampled every 100 ms: the sum over the controller's whole process tree (forks, ssh). */
  treeRssKb: number;
  stdout: string;
  stderr: string;
}

interface Measure { ms: number; maxRssKb: number; treeRssKb: number }
interface Series { runsMs: number[]; medianMs: number; maxRssKb: number; treeRssKb: number }

// ---------- process helpers ----------

async function ensureTool(binary: string, aptPackage: string): Promise<void> {
  const found = await run('sh', ['-c', `command -v ${binary}`]);
  if (found.exitCode === 0) return;
  console.log(`[bench] installing ${aptPackage} (apt-get)`);
  const r = await run('apt-get', ['install', '-y', '-q', aptPackage], { ...process.env, DEBIAN_FRONTEND: 'noninteractive' });
  if (r.exitCode !== 0) throw new Error(`apt-get install ${aptPackage} failed:\n${r.stderr}`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? -1, stdout, stderr });
    });
  });
}

/** Sum of RSS (kB) of `root` and all its descendants, from /proc. */
async function treeRss(root: number): Promise<number> {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  const page = 4; // kB
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(rest[1]));
      rss.set(Number(entry), Number(rest[21]) * page);
    } catch { /* exited meanwhile */ }
  }
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parent) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Timed> {
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-v', cmd, ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let peakTree = 0;
  let sampling = false;
  const sampler = setInterval(() => {
    if (sampling || child.pid === undefined) return;
    sampling = true;
    treeRss(child.pid).then((kb) => { peakTree = Math.max(peakTree, kb); }, () => {}).finally(() => { sampling = false; });
  }, 100);
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  const ms = performance.now() - t0;
  clearInterval(sampler);
  clearTimeout(timer);
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const status = /Exit status: (\d+)/.exec(stderr);
  return { ms, exitCode: status ? Number(status[1]) : exitCode, maxRssKb: m ? Number(m[1]) : NaN, treeRssKb: peakTree, stdout, stderr };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const measure = (t: Timed): Measure => ({ ms: Math.round(t.ms), maxRssKb: t.maxRssKb, treeRssKb: t.treeRssKb });
const series = (ts: Timed[]): Series => ({
  runsMs: ts.map((t) => Math.round(t.ms)),
  medianMs: Math.round(median(ts.map((t) => t.ms))),
  maxRssKb: Math.max(...ts.map((t) => t.maxRssKb)),
  treeRssKb: Math.max(...ts.map((t) => t.treeRssKb)),
});
const tail = (s: string, n = 40) => s.split('\n').slice(-n).join('\n');

// ---------- the two tools ----------

interface Ctx { dir: string; key: string; passwordFile: string; rendered: string }

async function writeInventory(ctx: Ctx, hosts: LabHost[], name: string): Promise<string> {
  const file = path.join(ctx.dir, `${name}.json`);
  const inv: { hosts: BenchHost[] } = { hosts: hosts.map((h) => ({ address: h.address, sshPort: h.sshPort, identity: ctx.key })) };
  await writeFile(file, JSON.stringify(inv, null, 2));
  return file;
}

function oursArgs(ctx: Ctx, inventory: string, k: number, extra: string[] = []): string[] {
  return [INSTALL, '--inventory', inventory, '--settings', SETTINGS, '--admin-user', 'admin',
    '--admin-password-file', ctx.passwordFile, '--no-verify', '--json', '--concurrency', String(k),
    // Fresh hosts on reused ports each run: record their keys in the run's own file, as Ansible's
    // host_key_checking=False does not check at all.
    '--known-hosts', path.join(ctx.dir, 'known_hosts'), ...extra];
}

/** Runs our install; checks every host converged, and on a no-op run that none changed. */
async function ours(ctx: Ctx, inventory: string, k: number, expectNoop: boolean): Promise<Timed> {
  const t = await timed(process.execPath, oursArgs(ctx, inventory, k));
  if (t.exitCode !== 0) throw new Error(`our install exited ${t.exitCode}:\n${tail(t.stdout)}\n${tail(t.stderr)}`);
  const report = JSON.parse(t.stdout) as { hosts: { host: string; status: string }[] };
  if (report.hosts.length !== k) throw new Error(`our install reported ${report.hosts.length} hosts, expected ${k}`);
  const bad = report.hosts.filter((h) => h.status === 'failed' || (expectNoop && h.status !== 'ok'));
  if (bad.length) throw new Error(`our install: ${bad.map((h) => `${h.host}=${h.status}`).join(', ')} (expected ${expectNoop ? 'ok' : 'ok/changed'})`);
  return t;
}

function ansibleEnv(controlDir: string): NodeJS.ProcessEnv {
  // A fresh ControlPath directory per run: each invocation opens its own SSH connections, as
  // ours does, instead of reusing the previous run's persisted masters (ControlPersist=60s).
  return { ...process.env, ANSIBLE_CONFIG: ANSIBLE_CFG, ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir, ANSIBLE_NOCOLOR: '1' };
}

/** PLAY RECAP → totals; checks all hosts reached and, on a no-op, changed=0. */
function recap(out: string, k: number): { changed: number; failed: number; hosts: number } {
  let changed = 0, failed = 0, hosts = 0;
  for (const m of out.matchAll(/^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    hosts++;
    changed += Number(m[2]);
    failed += Number(m[3]) + Number(m[4]);
  }
  if (hosts !== k) throw new Error(`ansible recap lists ${hosts} hosts, expected ${k}:\n${tail(out)}`);
  return { changed, failed, hosts };
}

async function ansible(ctx: Ctx, inventory: string, k: number, expectNoop: boolean, extra: string[] = []): Promise<Timed> {
  const controlDir = await mkdtemp(path.join(ctx.dir, 'cp-'));
  const t = await timed('ansible-playbook', ['-i', inventory, '--forks', String(k), ...extra, PLAYBOOK], ansibleEnv(controlDir));
  if (t.exitCode !== 0) throw new Error(`ansible-playbook exited ${t.exitCode}:\n${tail(t.stdout)}\n${tail(t.stderr)}`);
  const r = recap(t.stdout, k);
  if (r.failed) throw new Error(`ansible: ${r.failed} failed/unreachable`);
  if (expectNoop && r.changed) throw new Error(`ansible no-op run changed ${r.changed} tasks:\n${tail(t.stdout)}`);
  return t;
}

/** What Ansible left on a host, checked the same way for both tools. */
async function hostState(name: string): Promise<string> {
  const r = await run('docker', ['exec', name, 'sh', '-c',
    'stat -c "%n %a %U:%G" /etc/mosquitto/mosquitto.conf /etc/mosquitto/passwd /etc/mosquitto/acl /var/lib/mosquitto; ' +
    'sha256sum /etc/mosquitto/mosquitto.conf /etc/mosquitto/acl | cut -c1-16; systemctl is-enabled mosquitto; systemctl is-active mosquitto']);
  return (r.stdout + r.stderr).trim();
}

// ---------- main ----------

interface KResult {
  hosts: number;
  ours: { cold: Measure; noop: Series };
  ansible: { cold: Measure; noop: Series };
  ratios: { cold: number; noop: number; maxRss: number; treeRss: number };
  state: { ours: string; ansible: string };
}

/** Each lab host's systemd takes ~7 inotify instances; at the default 128, ~18 hosts boot and the rest hang. */
async function checkInotify(maxHosts: number): Promise<void> {
  const limit = Number((await readFile('/proc/sys/fs/inotify/max_user_instances', 'utf8')).trim());
  const need = 64 + 10 * maxHosts;
  if (limit < need) {
    throw new Error(`fs.inotify.max_user_instances is ${limit}; ${maxHosts} lab hosts need about ${need} ` +
      `(systemd in the containers fails with "Failed to create inotify object: Too many open files"). ` +
      `Raise it: sysctl -w fs.inotify.max_user_instances=1024`);
  }
}

async function main(): Promise<void> {
  await checkInotify(Math.max(...counts));
  await ensureTool('/usr/bin/time', 'time');
  await ensureTool('ansible-playbook', 'ansible-core');
  const ansibleVersion = (await run('ansible-playbook', ['--version'])).stdout.split('\n')[0];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mqtt-bench-'));
  const key = await ensureLabKey();
  const passwordFile = path.join(dir, 'admin-password');
  await writeFile(passwordFile, 'bench-Admin-password-1\n', { mode: 0o600 });
  const rendered = path.join(dir, 'rendered');
  const ctx: Ctx = { dir, key, passwordFile, rendered };
  const r = await run(process.execPath, [INSTALL, '--render-to', rendered, '--settings', SETTINGS, '--admin-user', 'admin', '--admin-password-file', passwordFile]);
  if (r.exitCode !== 0) throw new Error(`--render-to failed:\n${r.stderr}`);

  const results: KResult[] = [];
  let startup: Record<string, Series> | undefined;
  const fidelity: Record<string, string> = {};
  try {
    for (const k of counts) {
      // ---- our tool ----
      console.log(`\n[bench] K=${k}: our tool`);
      let hosts = await startLabHosts({ count: k, variant: 'base', prefix: 'bench-ours', publish: [] });
      let oursRes: KResult['ours'];
      let oursState: string;
      try {
        const inv = await writeInventory(ctx, hosts, `ours-${k}`);
        const cold = await ours(ctx, inv, k, false);
        console.log(`[bench]   cold ${(cold.ms / 1000).toFixed(2)}s`);
        const noops: Timed[] = [];
        for (let i = 0; i < noopRuns; i++) noops.push(await ours(ctx, inv, k, true));
        console.log(`[bench]   no-op ${noops.map((t) => (t.ms / 1000).toFixed(2)).join(', ')}s`);
        oursRes = { cold: measure(cold), noop: series(noops) };
        oursState = await hostState(hosts[0].name);
        if (!startup) {
          // Front door startup: --help (no host) and --dry-run on one converged host.
          const one = await writeInventory(ctx, hosts.slice(0, 1), 'ours-one');
          const help: Timed[] = [];
          const dry: Timed[] = [];
          for (let i = 0; i < noopRuns; i++) {
            const h = await timed(process.execPath, [INSTALL, '--help']);
            if (h.exitCode !== 0) throw new Error(`--help exited ${h.exitCode}`);
            help.push(h);
            const d = await timed(process.execPath, oursArgs(ctx, one, 1, ['--dry-run']));
            if (d.exitCode !== 0) throw new Error(`--dry-run exited ${d.exitCode}: ${tail(d.stderr)}`);
            dry.push(d);
          }
          const ahelp: Timed[] = [];
          for (let i = 0; i < noopRuns; i++) ahelp.push(await timed('ansible-playbook', ['--help'], ansibleEnv(dir)));
          startup = { oursHelp: series(help), oursDryRun: series(dry), ansibleHelp: series(ahelp) };
        }
      } finally {
        await stopLabHosts(hosts.map((h) => h.name));
      }

      // ---- Ansible ----
      console.log(`[bench] K=${k}: ansible`);
      hosts = await startLabHosts({ count: k, variant: 'base', prefix: 'bench-ansible', publish: [] });
      let ansRes: KResult['ansible'];
      let ansState: string;
      try {
        const inv = path.join(dir, `ansible-${k}.ini`);
        await writeFile(inv, ansibleInventory(hosts.map((h) => ({ address: h.address, sshPort: h.sshPort, identity: key })), rendered));
        const cold = await ansible(ctx, inv, k, false);
        console.log(`[bench]   cold ${(cold.ms / 1000).toFixed(2)}s`);
        const noops: Timed[] = [];
        for (let i = 0; i < noopRuns; i++) noops.push(await ansible(ctx, inv, k, true));
        console.log(`[bench]   no-op ${noops.map((t) => (t.ms / 1000).toFixed(2)).join(', ')}s`);
        ansRes = { cold: measure(cold), noop: series(noops) };
        ansState = await hostState(hosts[0].name);
        if (!fidelity.ansibleCheckOneHost) {
          // Cross-checks on an Ansible-converged host: Ansible's --check, and our --dry-run
          // (which should find nothing to change if both tools converge to the same state).
          const oneIni = path.join(dir, 'ansible-one.ini');
          await writeFile(oneIni, ansibleInventory([{ address: hosts[0].address, sshPort: hosts[0].sshPort, identity: key }], rendered));
          const checks: Timed[] = [];
          for (let i = 0; i < noopRuns; i++) checks.push(await ansible(ctx, oneIni, 1, true, ['--check']));
          startup!.ansibleCheck = series(checks);
          const one = await writeInventory(ctx, hosts.slice(0, 1), 'ansible-one');
          const d = await run(process.execPath, oursArgs(ctx, one, 1, ['--dry-run']));
          const rep = JSON.parse(d.stdout) as { hosts: { status: string; steps: { id: string; status: string }[] }[] };
          fidelity.ansibleCheckOneHost = 'done';
          fidelity.oursDryRunOnAnsibleHost = `${rep.hosts[0].status}; would change: ${rep.hosts[0].steps.filter((s) => s.status !== 'ok').map((s) => s.id).join(', ') || 'nothing'}`;
        }
      } finally {
        await stopLabHosts(hosts.map((h) => h.name));
      }

      const res: KResult = {
        hosts: k,
        ours: oursRes,
        ansible: ansRes,
        ratios: {
          cold: round2(ansRes.cold.ms / oursRes.cold.ms),
          noop: round2(ansRes.noop.medianMs / oursRes.noop.medianMs),
          maxRss: round2(Math.max(ansRes.cold.maxRssKb, ansRes.noop.maxRssKb) / Math.max(oursRes.cold.maxRssKb, oursRes.noop.maxRssKb)),
          treeRss: round2(Math.max(ansRes.cold.treeRssKb, ansRes.noop.treeRssKb) / Math.max(oursRes.cold.treeRssKb, oursRes.noop.treeRssKb)),
        },
        state: { ours: oursState, ansible: ansState },
      };
      results.push(res);
      await save(values.json, { ansibleVersion, results, startup, fidelity, complete: false });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await save(values.json, { ansibleVersion, results, startup, fidelity, complete: true });
  console.log('\n' + table(results, startup));
  console.log(`\nfidelity: ours --dry-run on an Ansible-converged host: ${fidelity.oursDryRunOnAnsibleHost}`);
  console.log(`results: ${values.json}`);
}

const round2 = (x: number) => Math.round(x * 100) / 100;

async function save(file: string, body: object): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGb: round2(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.type()} ${os.release()}` };
  await writeFile(file, JSON.stringify({ date: new Date().toISOString(), machine, noopRuns, ...body }, null, 2) + '\n');
}

function table(results: KResult[], startup?: Record<string, Series>): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const mb = (kb: number) => `${Math.round(kb / 1024)} MB`;
  const rows = [
    '| hosts | ours cold | Ansible cold | Ansible ÷ ours | ours no-op (median) | Ansible no-op (median) | Ansible ÷ ours | ours peak RSS (max proc / tree) | Ansible peak RSS (max proc / tree) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.hosts} | ${s(r.ours.cold.ms)} | ${s(r.ansible.cold.ms)} | ${r.ratios.cold} | ${s(r.ours.noop.medianMs)} | ${s(r.ansible.noop.medianMs)} | ${r.ratios.noop} | `
      + `${mb(Math.max(r.ours.cold.maxRssKb, r.ours.noop.maxRssKb))} / ${mb(Math.max(r.ours.cold.treeRssKb, r.ours.noop.treeRssKb))} | `
      + `${mb(Math.max(r.ansible.cold.maxRssKb, r.ansible.noop.maxRssKb))} / ${mb(Math.max(r.ansible.cold.treeRssKb, r.ansible.noop.treeRssKb))} |`),
  ];
  if (startup) {
    rows.push('', '| startup (median) | wall | peak RSS |', '|---|---:|---:|');
    const label: Record<string, string> = {
      oursHelp: 'ours `--help`', oursDryRun: 'ours `--dry-run`, 1 converged host', ansibleHelp: '`ansible-playbook --help`', ansibleCheck: '`ansible-playbook --check`, 1 converged host',
    };
    for (const [k, v] of Object.entries(startup)) rows.push(`| ${label[k] ?? k} | ${s(v.medianMs)} | ${mb(v.maxRssKb)} |`);
  }
  return rows.join('\n');
}

await main();
