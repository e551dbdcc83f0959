// Starts and stops lab hosts: containers that boot systemd and sshd like a small VM,
// so provisioning code is tested against real hosts reached over SSH on 127.0.0.1.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { access, link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { $, which } from 'zx';
import { ensureDockerEngine, GiveUp, pollUntil } from '../container/docker-engine.ts';
import { ensureLabImage, hasFirewalld, isRhel, LAB_VARIANTS, type LabVariant } from '../container/host-image.ts';
import { LAB_DIR, type LabHost } from '../settings/lab-inventory.ts';

export type { LabVariant } from '../container/host-image.ts';

export type { LabHost };

export interface StartLabHostsOptions {
  count: number;
  variant: LabVariant;
  /** Hosts are named `<prefix>-1..N`; give each test suite its own prefix. */
  prefix?: string;
  /** Container ports published besides 22. */
  publish?: number[];
  /** Where the SSH key lives; defaults to the repo's `.lab/`. */
  keyDir?: string;
  /** More `docker run` flags, e.g. a small tmpfs to make a disk fill up in a fault test. */
  extraRunArgs?: string[];
}

export const LAB_LABEL = 'mqtt-provision.lab';
export const DEFAULT_PREFIX = 'mqtt-lab';
export const DEFAULT_PUBLISH = [1883, 8083, 8883, 18083];

const READY_TIMEOUT_MS = 120_000;
const OFFLINE_GRACE_MS = 30_000;
const BOOT_CONCURRENCY = Math.max(2, Number(process.env.MQTT_LAB_BOOT_CONCURRENCY) || 6);

/** Creates `<dir>/id_ed25519` (+ `.pub`) once and returns the private key's path. */
export async function ensureLabKey(dir: string = LAB_DIR): Promise<string> {
  const keyPath = path.join(dir, 'id_ed25519');
  const exists = (p: string) => access(p).then(() => true, () => false);
  if (!(await exists(keyPath))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = await mkdtemp(path.join(dir, '.keygen-'));
    try {
      const t = path.join(tmp, 'id_ed25519');
      if (await which('ssh-keygen', { nothrow: true })) {
        await $({ quiet: true })`ssh-keygen -q -t ed25519 -N ${''} -C mqtt-provision-lab -f ${t}`;
      } else {
        const key = openSshEd25519Key('mqtt-provision-lab');
        await writeFile(t, key.privateKey, { mode: 0o600 });
        await writeFile(`${t}.pub`, key.publicKey, { mode: 0o644 });
      }
      // link() refuses to replace, so when parallel test processes race, exactly one key wins.
      const won = await link(t, keyPath).then(() => true, (e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST') return false;
        throw e;
      });
      if (won) await rename(`${t}.pub`, `${keyPath}.pub`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  // The winner of a race writes .pub just after the private key.
  await pollUntil(async () => ((await exists(`${keyPath}.pub`)) ? true : undefined), {
    what: `${keyPath}.pub (delete ${keyPath} to regenerate the pair)`, timeoutMs: 10_000, intervalMs: 100,
  });
  return keyPath;
}

/** An unencrypted key in OpenSSH's own format, which ssh2 (node-ssh) and OpenSSH both read. */
export function openSshEd25519Key(comment: string): { privateKey: string; publicKey: string } {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const str = (b: Buffer | string) => { const buf = Buffer.from(b); return Buffer.concat([u32(buf.length), buf]); };
  const pubBlob = Buffer.concat([str('ssh-ed25519'), str(pub)]);
  const check = randomBytes(4);
  let secret = Buffer.concat([check, check, str('ssh-ed25519'), str(pub), str(Buffer.concat([seed, pub])), str(comment)]);
  const pad = (8 - (secret.length % 8)) % 8;
  secret = Buffer.concat([secret, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'), str('none'), str('none'), str(''), u32(1), str(pubBlob), str(secret),
  ]).toString('base64');
  const lines = body.match(/.{1,70}/g)!.join('\n');
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${pubBlob.toString('base64')} ${comment}\n`,
  };
}

// Runs inside the container; the key arrives on stdin so nothing is interpolated.
const INSTALL_KEY_SCRIPT = `set -eu
key=$(cat)
for home in /root /home/deploy; do
  install -d -m 700 "$home/.ssh"
  printf '%s\\n' "$key" > "$home/.ssh/authorized_keys"
  chmod 600 "$home/.ssh/authorized_keys"
done
chown -R deploy:deploy /home/deploy/.ssh`;

export async function startLabHosts(opts: StartLabHostsOptions): Promise<LabHost[]> {
  // MQTT_LAB_SUFFIX keeps the hosts of two checkouts' test runs on one machine apart.
  const suffix = process.env.MQTT_LAB_SUFFIX;
  const prefix = (opts.prefix ?? DEFAULT_PREFIX) + (suffix ? `-${suffix}` : '');
  const publish = [...new Set([22, ...(opts.publish ?? DEFAULT_PUBLISH)])];
  if (!Number.isInteger(opts.count) || opts.count < 1) throw new Error(`count must be a positive integer, got ${opts.count}`);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9-]*$/.test(prefix)) throw new Error(`prefix must be a valid hostname part, got ${prefix}`);
  await ensureDockerEngine();
  const image = await ensureLabImage(opts.variant);
  const keyPath = await ensureLabKey(opts.keyDir);
  const publicKey = await readFile(`${keyPath}.pub`, 'utf8');
  const names = Array.from({ length: opts.count }, (_, i) => `${prefix}-${i + 1}`);
  await removeStale(names);

  await ensureInotifyFor(opts.count);

  const started: string[] = [];
  try {
    const t0 = Date.now();
    // Each host is started and then checked for readiness, at most BOOT_CONCURRENCY at a time:
    // booting systemd (and sshd's host keys) is CPU-bound, so 100 boots at once on 2 cores only
    // stretch every boot towards its readiness timeout, while a bounded pipeline keeps both
    // cores busy and each boot short.
    const hosts = await mapLimit(names, BOOT_CONCURRENCY, async (name) => {
      started.push(name);
      await $({ quiet: true })`docker run ${[
        '--detach', '--name', name, '--hostname', name,
        '--label', `${LAB_LABEL}=1`, '--label', `${LAB_LABEL}.variant=${opts.variant}`, '--label', `${LAB_LABEL}.prefix=${prefix}`,
        // systemd needs writable /run and to see its cgroup hierarchy; the engine may
        // not have applied the image's STOPSIGNAL (see image.ts).
        '--tmpfs', '/run', '--tmpfs', '/run/lock', '--volume', '/sys/fs/cgroup:/sys/fs/cgroup:ro',
        '--stop-signal', 'SIGRTMIN+3',
        // firewalld programs nftables in the container's own network namespace.
        '--cap-add', 'NET_ADMIN',
        ...publish.flatMap((p) => ['--publish', `127.0.0.1::${p}`]),
        ...(opts.extraRunArgs ?? []),
        image,
      ]}`;
      return readyHost(name, opts.variant, publicKey);
    });
    const what = names.length <= 5 ? names.join(', ') : `${names.length} hosts (${names[0]} … ${names.at(-1)})`;
    console.log(`[lab] ${what} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return hosts;
  } catch (err) {
    const diag = await mapLimit(started.slice(0, 5), BOOT_CONCURRENCY, diagnose);
    await stopLabHosts(started);
    throw new Error(`lab hosts failed to start: ${(err as Error).message}\n${diag.join('\n')}`, { cause: err });
  }
}

/**
 * Runs `fn` over `items` with at most `limit` in flight; results keep the input order. After the
 * first failure no new item starts, and it rejects only once the ones in flight have settled, so a
 * caller's cleanup sees every host that was started.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return results;
}

const INOTIFY = '/proc/sys/fs/inotify/';

/**
 * What `count` more lab hosts need of the per-user inotify limits (all containers' root shares
 * one): systemd in a booted lab host holds about 7 instances and a few hundred watches; 10 and
 * 1000 per host leave room for the hosts already running and the controller's own.
 */
export function inotifyNeeds(count: number): { max_user_instances: number; max_user_watches: number } {
  // Never below 1024 instances: other checkouts' lab hosts on this machine count against it too.
  return { max_user_instances: Math.max(1024, 256 + 10 * count), max_user_watches: 65_536 + 1000 * count };
}

/** Raises the inotify limits for `count` hosts when we may (root); otherwise says what to run. */
async function ensureInotifyFor(count: number): Promise<void> {
  for (const [key, need] of Object.entries(inotifyNeeds(count))) {
    const current = Number((await readFile(INOTIFY + key, 'utf8').catch(() => '')).trim());
    if (!current || current >= need) continue;
    const raised = await writeFile(INOTIFY + key, String(need)).then(() => true, () => false);
    if (raised) console.log(`[lab] raised fs.inotify.${key} from ${current} to ${need} for ${count} hosts`);
    else console.log(`[lab] fs.inotify.${key} is ${current}; ${count} hosts may need ${need} (sysctl -w fs.inotify.${key}=${need}): systemd fails with "Too many open files" without it`);
  }
}

async function readyHost(name: string, variant: LabVariant, publicKey: string): Promise<LabHost> {
  await $({ quiet: true, input: publicKey })`docker exec -i ${name} sh -c ${INSTALL_KEY_SCRIPT}`;
  await waitForSystemd(name);
  // The rhel image has firewalld installed but not enabled (see image.ts).
  if (variant === 'rhel-firewalld') await $({ quiet: true })`docker exec ${name} systemctl enable --now firewalld.service`;
  if (hasFirewalld(variant)) await checkFirewalld(name);
  const host = await describeHost(name, variant);
  await pollUntil(() => sshBanner(host.sshPort), { what: `an SSH banner from ${name} on 127.0.0.1:${host.sshPort}`, timeoutMs: 30_000 });
  // rhel hosts install only from their local repositories.
  if (!isRhel(variant)) await checkMirrorReachable(name);
  return host;
}

async function waitForSystemd(name: string): Promise<void> {
  const started = Date.now();
  await pollUntil(
    async () => {
      // --wait blocks until boot settles; the inner timeout keeps one attempt bounded.
      const r = await $({ nothrow: true, quiet: true })`docker exec ${name} timeout 20 systemctl is-system-running --wait`;
      const state = r.stdout.trim();
      if (state === 'running' || state === 'degraded') return state;
      // "offline" also means "PID 1 has not opened its socket yet": checked right after
      // `docker run` (the bounded start pipeline does that), so only a lasting offline is final.
      const finalOffline = state === 'offline' && Date.now() - started > OFFLINE_GRACE_MS;
      if (state === 'maintenance' || state === 'stopping' || finalOffline) throw new GiveUp(`systemd in ${name} is ${state}`);
      throw new Error(`systemd state: ${state || r.stderr.trim()}`);
    },
    { what: `systemd in ${name} to finish booting`, timeoutMs: READY_TIMEOUT_MS, intervalMs: 200 },
  );
}

// firewalld exits 0 on fatal errors, so a dead firewall leaves systemd "running".
async function checkFirewalld(name: string): Promise<void> {
  const r = await $({ nothrow: true, quiet: true })`docker exec ${name} firewall-cmd --state`;
  if (r.stdout.trim() !== 'running') {
    const log = await $({ nothrow: true, quiet: true })`docker exec ${name} journalctl -u firewalld -n 5 --no-pager`;
    throw new Error(`firewalld is not running in ${name}: ${(r.stdout + r.stderr).trim()}\n${log.stdout.trim()}`);
  }
}

/** Resolves with true once the port greets like an SSH server; docker-proxy accepts before sshd listens. */
function sshBanner(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (v: true | undefined) => { sock.destroy(); resolve(v); };
    sock.setTimeout(3000, () => done(undefined));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\n')) done(buf.startsWith('SSH-') ? true : undefined);
    });
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
  });
}

// Provisioning installs brokers with apt inside the hosts, so a broken NAT/DNS path
// is reported here instead of as a confusing apt failure later.
async function checkMirrorReachable(name: string): Promise<void> {
  const r = await $({ nothrow: true, quiet: true })`docker exec ${name} timeout 15 bash -c ${'exec 3<>/dev/tcp/deb.debian.org/80'}`;
  if (r.exitCode !== 0) {
    throw new Error(`${name} cannot reach deb.debian.org:80 (check docker's bridge NAT and DNS): ${r.stderr.trim()}`);
  }
}

async function describeHost(name: string, variant: LabVariant): Promise<LabHost> {
  const container = (await $({ quiet: true })`docker inspect --format {{.Id}} ${name}`).stdout.trim();
  const ports: Record<number, number> = {};
  // Lines look like "22/tcp -> 127.0.0.1:49153".
  for (const line of (await $({ quiet: true })`docker port ${name}`).stdout.split('\n')) {
    const m = /^(\d+)\/tcp -> 127\.0\.0\.1:(\d+)$/.exec(line.trim());
    if (m) ports[Number(m[1])] = Number(m[2]);
  }
  const sshPort = ports[22];
  if (!sshPort) throw new Error(`${name} has no 127.0.0.1 mapping for port 22`);
  return { name, container, address: '127.0.0.1', sshPort, ports, variant };
}

async function removeStale(names: string[]): Promise<void> {
  // One inspect for all names: at 100 hosts, 100 docker clients cost seconds.
  const fmt = `{{.Name}}\t{{index .Config.Labels "${LAB_LABEL}"}}`;
  const r = await $({ nothrow: true, quiet: true })`docker inspect --format ${fmt} ${names}`;
  const found = r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);
  const foreign = found.filter(([, label]) => label !== '1').map(([n]) => n.replace(/^\//, ''));
  if (foreign.length) throw new Error(`containers named ${foreign.join(', ')} exist and are not lab hosts; not touching them`);
  await stopLabHosts(found.map(([n]) => n.replace(/^\//, '')));
}

async function diagnose(name: string): Promise<string> {
  const r = await $({ nothrow: true, quiet: true })`docker exec ${name} sh -c ${'systemctl --failed --no-legend; journalctl -b -p warning --no-pager | tail -n 20'}`;
  return `--- ${name} ---\n${(r.stdout + r.stderr).trim()}`;
}

/** Removes the containers; they are disposable, so no graceful stop is waited for. */
export async function stopLabHosts(names: string[]): Promise<void> {
  if (names.length === 0) return;
  const r = await $({ nothrow: true, quiet: true })`docker rm --force --volumes ${names}`;
  const errors = r.stderr.split('\n').filter((l) => l.trim() && !/No such container/i.test(l));
  if (r.exitCode !== 0 && errors.length > 0) throw new Error(`docker rm failed: ${errors.join('\n')}`);
}

/** Running lab containers, optionally only those started with one prefix. */
export async function listLabHosts(prefix?: string): Promise<LabHost[]> {
  const filters = ['--filter', `label=${LAB_LABEL}=1`, ...(prefix ? ['--filter', `label=${LAB_LABEL}.prefix=${prefix}`] : [])];
  const fmt = `{{.Names}}\t{{.Label "${LAB_LABEL}.variant"}}`;
  const out = (await $({ quiet: true })`docker ps ${filters} --format ${fmt}`).stdout;
  const rows = out.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]);
  const hosts = await Promise.all(rows.map(([name, variant]) => describeHost(name, (LAB_VARIANTS as readonly string[]).includes(variant) ? (variant as LabVariant) : 'base')));
  return hosts.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
}
