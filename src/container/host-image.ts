// Builds the lab host image from Debian packages (debootstrap → docker import),
// because no image registry is reachable. The tag carries a hash of the recipe,
// so an unchanged recipe is a cache hit and any change forces a rebuild.
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile, chmod, open } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { ensureDebootstrap, ensureDockerEngine, pollUntil } from './docker-engine.ts';
import { LAB_VARIANTS, type LabVariant } from '../settings/lab-inventory.ts';
import { RHEL_FILES, RHEL_PACKAGES, RHEL_STEPS } from './rhel-recipe.ts';

export { LAB_VARIANTS, type LabVariant };
type Feature = 'base' | 'firewalld';
export const IMAGE_REPO = 'mqtt-provision/lab-host';

const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';
const BASE_PACKAGES = [
  'systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'sudo', 'ca-certificates',
  'iproute2', 'procps', 'python3',
  // /etc/protocols and /etc/services: every real Debian host has them, and firewalld
  // exits at start ("INVALID_PROTOCOL: esp") without them.
  'netbase',
];
const VARIANT_PACKAGES: Record<Feature, string[]> = {
  base: [],
  // debootstrap cannot pick a provider for a virtual package: firewalld → polkitd
  // needs "default-logind | logind", which only libpam-systemd provides.
  firewalld: ['firewalld', 'nftables', 'libpam-systemd'],
};

export interface FileSpec { path: string; content: string; mode: number }

const COMMON_FILES: FileSpec[] = [
  {
    // deb822 form; the release file debootstrap writes only knows the base suite.
    path: '/etc/apt/sources.list.d/debian.sources',
    mode: 0o644,
    content: [
      'Types: deb', `URIs: ${MIRROR}`, `Suites: ${SUITE} ${SUITE}-updates`, 'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg', '',
      'Types: deb', 'URIs: http://deb.debian.org/debian-security', `Suites: ${SUITE}-security`,
      'Components: main', 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg', '',
    ].join('\n'),
  },
  {
    // Included before the main config, and sshd keeps the first value it reads.
    path: '/etc/ssh/sshd_config.d/10-lab.conf',
    mode: 0o644,
    content: 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\n',
  },
  {
    // Host keys are deleted from the image so every container gets its own.
    path: '/etc/systemd/system/ssh.service.d/10-lab-hostkeys.conf',
    mode: 0o644,
    content: '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n',
  },
  { path: '/etc/sudoers.d/deploy', mode: 0o440, content: 'deploy ALL=(ALL:ALL) NOPASSWD: ALL\n' },
  // Empty means "generate at boot", so clones of the image don't share an identity.
  { path: '/etc/machine-id', mode: 0o444, content: '' },
];

const VARIANT_FILES: Record<Feature, FileSpec[]> = {
  base: [],
  firewalld: [
    {
      // Pinned rather than relying on the package default: losing ssh would lock us out.
      path: '/etc/firewalld/zones/public.xml',
      mode: 0o644,
      content: [
        '<?xml version="1.0" encoding="utf-8"?>', '<zone>', '  <short>Public</short>',
        '  <service name="ssh"/>', '  <service name="dhcpv6-client"/>', '</zone>', '',
      ].join('\n'),
    },
  ],
};

// Units that wait for a TTY or touch hardware and so hang or fail in a container.
const MASKED_UNITS = [
  'getty.target', 'console-getty.service', 'getty@.service', 'serial-getty@.service',
  'systemd-firstboot.service', 'systemd-remount-fs.service', 'dev-hugepages.mount',
  'sys-fs-fuse-connections.mount',
];

const CHROOT_STEPS: Record<Feature, string[][]> = {
  base: [
    ['useradd', '--create-home', '--shell', '/bin/bash', 'deploy'],
    ['systemctl', 'mask', ...MASKED_UNITS],
    ['systemctl', 'enable', 'ssh.service'],
  ],
  firewalld: [['systemctl', 'enable', 'firewalld.service']],
};

// Variable state that must not be baked into the image.
const REMOVE = [
  '/etc/apt/sources.list', '/var/lib/dbus/machine-id', '/etc/ssh/ssh_host_*',
  '/var/lib/apt/lists/*', '/var/cache/apt/*.bin', '/var/cache/apt/archives/*.deb', '/var/log/*.log',
];

const IMPORT_CHANGES = [
  'CMD ["/sbin/init"]',
  // systemd halts cleanly on SIGRTMIN+3; on SIGTERM it would re-execute itself.
  'STOPSIGNAL SIGRTMIN+3',
  // systemd skips udev, gettys and other hardware units when it knows it is containerised.
  'ENV container=docker',
];

export const hasFirewalld = (variant: LabVariant) => variant.endsWith('firewalld');
export const isRhel = (variant: LabVariant) => variant.startsWith('rhel');

/**
 * `rhel` and `rhel-firewalld` share one image, firewalld installed but not enabled (as on a Rocky
 * host whose admin turned it off): hosts.ts starts it for `rhel-firewalld`. One build fewer in CI.
 */
type ImageVariant = Exclude<LabVariant, 'rhel-firewalld'>;
const imageVariant = (variant: LabVariant): ImageVariant => (variant === 'rhel-firewalld' ? 'rhel' : variant);

// The Debian variants' recipes must stay byte-identical: their hash names the cached image.
function recipe(variant: ImageVariant) {
  const rhel = isRhel(variant);
  const feature: Feature = hasFirewalld(variant) || rhel ? 'firewalld' : 'base';
  return {
    version: 1, suite: SUITE, mirror: MIRROR, debootstrapVariant: 'minbase', variant,
    packages: [...BASE_PACKAGES, ...VARIANT_PACKAGES[feature], ...(rhel ? RHEL_PACKAGES : [])],
    files: [...COMMON_FILES, ...VARIANT_FILES[feature], ...(rhel ? RHEL_FILES : [])],
    // The RHEL steps run last: they remove apt and dpkg.
    steps: [...CHROOT_STEPS.base, ...(variant === 'firewalld' ? CHROOT_STEPS.firewalld : []), ...(rhel ? RHEL_STEPS : [])],
    remove: REMOVE,
    importChanges: IMPORT_CHANGES,
  };
}

export function labImageTag(hostVariant: LabVariant): string {
  const variant = imageVariant(hostVariant);
  const hash = createHash('sha256').update(JSON.stringify(recipe(variant))).digest('hex').slice(0, 12);
  return `${IMAGE_REPO}:${variant}-${hash}`;
}

async function imageExists(tag: string): Promise<boolean> {
  return (await $({ nothrow: true, quiet: true })`docker image inspect ${tag}`).exitCode === 0;
}

const log = (msg: string) => console.log(`[lab] ${msg}`);

export async function ensureLabImage(variant: LabVariant): Promise<string> {
  await ensureDockerEngine();
  const tag = labImageTag(variant);
  if (await imageExists(tag)) return tag;
  // Parallel test files may ask for the same image; only one of them builds it.
  const release = await acquireLock(tag);
  try {
    if (await imageExists(tag)) return tag;
    await buildImage(imageVariant(variant), tag);
    return tag;
  } finally {
    await release();
  }
}

async function buildImage(variant: ImageVariant, tag: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    // debootstrap and chroot need root; once built, the cached image serves everyone.
    throw new Error(`image ${tag} is not built yet and building it needs root: sudo npx zx scripts/lab.mts up --variant ${variant}`);
  }
  await ensureDebootstrap();
  const r = recipe(variant);
  const started = Date.now();
  const secs = () => `${Math.round((Date.now() - started) / 1000)}s`;
  const work = await mkdtemp('/var/tmp/mqtt-provision-lab-');
  const rootfs = path.join(work, 'rootfs');
  try {
    log(`building ${tag}: debootstrap ${r.suite} (a few minutes the first time)`);
    const boot = await $({ nothrow: true, quiet: true })`debootstrap --variant=${r.debootstrapVariant} --include=${r.packages.join(',')} ${r.suite} ${rootfs} ${r.mirror}`;
    if (boot.exitCode !== 0) {
      const detail = await readFile(path.join(rootfs, 'debootstrap/debootstrap.log'), 'utf8').catch(() => boot.stderr);
      throw new Error(`debootstrap failed (exit ${boot.exitCode}):\n${detail.split('\n').slice(-30).join('\n')}`);
    }
    log(`${tag}: rootfs ready after ${secs()}, configuring`);
    for (const f of r.files) {
      const target = path.join(rootfs, f.path);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, f.content);
      await chmod(target, f.mode);
    }
    for (const step of r.steps) await $({ quiet: true })`chroot ${rootfs} ${step}`;
    if (hasFirewalld(variant) || isRhel(variant)) await checkFirewalldDefaultZone(rootfs);
    // Globs are expanded inside the rootfs by its own shell, never on this machine.
    await $({ quiet: true })`chroot ${rootfs} sh -c ${`rm -rf ${r.remove.join(' ')}`}`;
    log(`${tag}: importing into docker`);
    await dockerImport(rootfs, tag, r.importChanges);
    const size = (await $({ quiet: true })`docker image inspect --format {{.Size}} ${tag}`).stdout.trim();
    log(`${tag}: built in ${secs()} (${Math.round(Number(size) / 1e6)} MB)`);
  } finally {
    await unmountUnder(work);
    await rm(work, { recursive: true, force: true });
  }
}

async function dockerImport(rootfs: string, tag: string, changes: string[]): Promise<void> {
  // A shell pipe (zx quotes every interpolated arg; pipefail is its default) rather
  // than Node streams: if docker import dies, tar just gets SIGPIPE, no stray EPIPE.
  const run = (c: string[]) =>
    $({ nothrow: true, quiet: true })`tar -C ${rootfs} --numeric-owner -c . | docker import ${c.flatMap((x) => ['-c', x])} - ${tag}`;
  let out = await run(changes);
  if (out.exitCode !== 0 && /stopsignal is not a valid change command/i.test(out.stderr)) {
    // Engines before ~v25 reject STOPSIGNAL on import; hosts.ts passes --stop-signal anyway.
    log(`${tag}: this engine cannot set STOPSIGNAL on import, relying on docker run --stop-signal`);
    out = await run(changes.filter((c) => !c.startsWith('STOPSIGNAL')));
  }
  if (out.exitCode !== 0) throw new Error(`docker import failed (exit ${out.exitCode}): ${out.stderr.trim()}`);
}

async function checkFirewalldDefaultZone(rootfs: string): Promise<void> {
  const conf = await readFile(path.join(rootfs, 'etc/firewalld/firewalld.conf'), 'utf8');
  const zone = /^DefaultZone=(\S+)/m.exec(conf)?.[1];
  if (zone !== 'public') throw new Error(`firewalld default zone is ${zone}, the recipe only pins ssh in "public"`);
}

// A failed debootstrap can leave /proc, /sys or device binds mounted in the target;
// deleting through them would reach the real machine.
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(dir + '/'));
  for (const m of mounts.sort((a, b) => b.length - a.length)) {
    await $({ nothrow: true, quiet: true })`umount -l ${m}`;
  }
}

async function acquireLock(tag: string): Promise<() => Promise<void>> {
  const lock = `/var/tmp/mqtt-provision-lab-${tag.replace(/[^\w.-]/g, '_')}.lock`;
  const tryTake = async (): Promise<true | undefined> => {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return true;
    } catch {
      const owner = Number(await readFile(lock, 'utf8').catch(() => ''));
      if (owner && !isAlive(owner)) await rm(lock, { force: true });
      return undefined;
    }
  };
  if (!(await tryTake())) {
    log(`${tag}: another process is building it, waiting`);
    await pollUntil(tryTake, { what: `the build lock ${lock}`, timeoutMs: 30 * 60_000, intervalMs: 2000 });
  }
  return () => rm(lock, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
