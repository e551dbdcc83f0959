// The two controllers the bench compares, run the same way: our install front door and ansible-playbook,
// each checked for success (and, on a no-op, for zero changes) before its time counts.
import { mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabHost } from '../../src/lab/hosts.ts';
import { ansibleInventory, type BenchHost } from '../ansible/inventory.mts';
import { run, tail, timed, type Timed } from './process.mts';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const INSTALL = path.join(ROOT, 'scripts/install-mosquitto.mts');
export const SETTINGS = path.join(ROOT, 'examples/lab-mosquitto.yaml');
const PLAYBOOK = path.join(ROOT, 'bench/ansible/playbook.yml');
const ANSIBLE_CFG = path.join(ROOT, 'bench/ansible/ansible.cfg');
/** Both tools log in as the lab hosts' non-root user and use sudo, as on real hosts. */
export const BENCH_USER = 'deploy';

export interface Ctx { dir: string; key: string; passwordFile: string; rendered: string }

const benchHosts = (ctx: Ctx, hosts: LabHost[]): BenchHost[] =>
  hosts.map((h) => ({ address: h.address, sshPort: h.sshPort, identity: ctx.key, user: BENCH_USER }));

export async function oursInventory(ctx: Ctx, hosts: LabHost[], name: string): Promise<string> {
  const file = path.join(ctx.dir, `${name}.json`);
  await writeFile(file, JSON.stringify({ hosts: benchHosts(ctx, hosts) }, null, 2));
  return file;
}

export async function ansibleInventoryFile(ctx: Ctx, hosts: LabHost[], name: string): Promise<string> {
  const file = path.join(ctx.dir, `${name}.ini`);
  await writeFile(file, ansibleInventory(benchHosts(ctx, hosts), ctx.rendered));
  return file;
}

export function oursArgs(ctx: Ctx, inventory: string, k: number, extra: string[] = []): string[] {
  return [INSTALL, '--inventory', inventory, '--settings', SETTINGS, '--admin-user', 'admin',
    '--admin-password-file', ctx.passwordFile, '--no-verify', '--json', '--concurrency', String(k),
    // Fresh hosts on reused ports each run: record their keys in the run's own file, as Ansible's
    // host_key_checking=False does not check at all.
    '--known-hosts', path.join(ctx.dir, 'known_hosts'), ...extra];
}

export interface OursRun { timed: Timed; report: { hosts: { host: string; status: string; durationMs?: number; steps: { id: string; status: string; durationMs?: number }[] }[] } }

/** Runs our install; checks every host converged, and on a no-op run that none changed. */
export async function ours(ctx: Ctx, inventory: string, k: number, expectNoop: boolean): Promise<OursRun> {
  const t = await timed(process.execPath, oursArgs(ctx, inventory, k), { cwd: ROOT });
  if (t.exitCode !== 0) throw new Error(`our install exited ${t.exitCode}:\n${tail(t.stdout)}\n${tail(t.stderr)}`);
  const report = JSON.parse(t.stdout) as OursRun['report'];
  if (report.hosts.length !== k) throw new Error(`our install reported ${report.hosts.length} hosts, expected ${k}`);
  const bad = report.hosts.filter((h) => h.status === 'failed' || (expectNoop && h.status !== 'ok'));
  if (bad.length) throw new Error(`our install: ${bad.map((h) => `${h.host}=${h.status}`).join(', ')} (expected ${expectNoop ? 'ok' : 'ok/changed'})`);
  return { timed: t, report };
}

export function ansibleEnv(controlDir: string): NodeJS.ProcessEnv {
  // A fresh ControlPath directory per run: each invocation opens its own SSH connections, as
  // ours does, instead of reusing the previous run's persisted masters (ControlPersist=60s).
  return { ...process.env, ANSIBLE_CONFIG: ANSIBLE_CFG, ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir, ANSIBLE_NOCOLOR: '1' };
}

/** PLAY RECAP → totals; checks all hosts reached and, on a no-op, changed=0. */
export function recap(out: string, k: number): { changed: number; failed: number; hosts: number } {
  let changed = 0, failed = 0, hosts = 0;
  for (const m of out.matchAll(/^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    hosts++;
    changed += Number(m[2]);
    failed += Number(m[3]) + Number(m[4]);
  }
  if (hosts !== k) throw new Error(`ansible recap lists ${hosts} hosts, expected ${k}:\n${tail(out)}`);
  return { changed, failed, hosts };
}

export async function ansible(ctx: Ctx, inventory: string, k: number, expectNoop: boolean, extra: string[] = []): Promise<Timed> {
  const controlDir = await mkdtemp(path.join(ctx.dir, 'cp-'));
  const t = await timed('ansible-playbook', ['-i', inventory, '--forks', String(k), ...extra, PLAYBOOK], { cwd: ROOT, env: ansibleEnv(controlDir) });
  if (t.exitCode !== 0) throw new Error(`ansible-playbook exited ${t.exitCode}:\n${tail(t.stdout)}\n${tail(t.stderr)}`);
  const r = recap(t.stdout, k);
  if (r.failed) throw new Error(`ansible: ${r.failed} failed/unreachable`);
  if (expectNoop && r.changed) throw new Error(`ansible no-op run changed ${r.changed} tasks:\n${tail(t.stdout)}`);
  return t;
}

/** What a tool left on a host, checked the same way for both tools. */
/**
 * The files of the `limits` block (an open-files drop-in, kernel floors in sysctl.d), as our run
 * wrote them on one of its hosts, for the playbook to install the same bytes: their content follows
 * the host's own kernel values (a floor already met is left out), which --render-to cannot know.
 */
export const LIMITS_FILES = {
  'mqtt-provision-limits.conf': '/etc/systemd/system/mosquitto.service.d/mqtt-provision-limits.conf',
  '60-mqtt-provision.conf': '/etc/sysctl.d/60-mqtt-provision.conf',
} as const;

export async function copyLimitsFiles(ctx: Ctx, host: string): Promise<void> {
  for (const [name, remote] of Object.entries(LIMITS_FILES)) {
    const r = await run('docker', ['exec', host, 'cat', remote], { cwd: ROOT });
    if (r.exitCode !== 0) throw new Error(`cannot read ${remote} on ${host}: ${r.stderr.trim()}`);
    await writeFile(path.join(ctx.rendered, name), r.stdout);
  }
}

export async function hostState(name: string): Promise<string> {
  const r = await run('docker', ['exec', name, 'sh', '-c',
    'stat -c "%n %a %U:%G" /etc/mosquitto/mosquitto.conf /etc/mosquitto/passwd /etc/mosquitto/acl /var/lib/mosquitto; ' +
    'sha256sum /etc/mosquitto/mosquitto.conf /etc/mosquitto/acl | cut -c1-16; systemctl is-enabled mosquitto; systemctl is-active mosquitto'], { cwd: ROOT });
  return (r.stdout + r.stderr).trim();
}
