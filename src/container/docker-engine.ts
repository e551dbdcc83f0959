// Makes sure the tools the lab needs on the machine running the tests exist:
// a reachable Docker engine and debootstrap (no registry is reachable, so
// images are built from Debian packages instead of pulled).
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { $, which } from 'zx';

export const DOCKERD_LOG = '/var/log/mqtt-provision-dockerd.log';

export interface PollOptions {
  what: string;
  timeoutMs: number;
  intervalMs?: number;
}

/** Thrown by a probe to stop polling at once: waiting longer cannot help. */
export class GiveUp extends Error {}

/** Retries `probe` until it returns a value other than undefined, or throws after the bound. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, opts: PollOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 250;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

const isRoot = (): boolean => process.getuid?.() === 0;

// sbin dirs are often missing from non-login PATHs, yet dockerd/debootstrap live there.
const SEARCH_PATH = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(':');

async function find(bin: string): Promise<string | null> {
  return which(bin, { nothrow: true, path: SEARCH_PATH });
}

/** Installs Debian packages when root; otherwise tells the user exactly what to run. */
async function aptInstall(packages: string[]): Promise<void> {
  if (!isRoot()) {
    throw new Error(`sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  console.log(`[lab] installing ${packages.join(', ')} with apt-get`);
  await $({ env, quiet: true })`apt-get update`;
  await $({ env, quiet: true })`apt-get install -y --no-install-recommends ${packages}`;
}

async function dockerInfoWorks(): Promise<boolean> {
  const r = await $({ nothrow: true, quiet: true, timeout: '15s' })`docker info --format {{.ServerVersion}}`;
  return r.exitCode === 0;
}

export async function ensureDockerEngine(): Promise<void> {
  if (await dockerInfoWorks()) return;
  if (!(await find('dockerd')) || !(await find('docker'))) await aptInstall(['docker.io']);
  const dockerd = await find('dockerd');
  if (!dockerd) throw new Error('dockerd is still missing after installing docker.io');
  if (!isRoot()) {
    throw new Error(`sudo sh -c 'dockerd >>${DOCKERD_LOG} 2>&1 &'`);
  }
  console.log(`[lab] starting dockerd (log: ${DOCKERD_LOG})`);
  // Detached with its own session so it outlives this process, like a service would.
  const log = openSync(DOCKERD_LOG, 'a');
  const child = spawn(dockerd, [], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  child.unref();
  await pollUntil(
    async () => {
      if (exited !== null) throw new GiveUp(`dockerd exited with ${exited}, see ${DOCKERD_LOG}`);
      return (await dockerInfoWorks()) ? true : undefined;
    },
    { what: `dockerd to answer (see ${DOCKERD_LOG})`, timeoutMs: 60_000, intervalMs: 500 },
  );
}

export async function ensureDebootstrap(): Promise<void> {
  if (!(await find('debootstrap'))) await aptInstall(['debootstrap']);
}
