import { chmodSync, existsSync, mkdirSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { inputCaps, readInputText } from '../settings/input-file.ts';
import { basename, join } from 'node:path';
import { createCa, type KeyPairPem } from './certificates.ts';

/**
 * The per-environment CA, kept on the controller in `tls.generate.caDir`: created by the first
 * run that applies (ca.key 0600, ca.crt 0644, the directory 0700), never by a plan, a dry run or
 * --render-to, and only ever read afterwards, so every host of the environment and every run
 * trust the same CA. The key never leaves the controller.
 */

export const caCertName = 'ca.crt';
export const caKeyName = 'ca.key';

const cache = new Map<string, KeyPairPem>();

export function caPaths(caDir: string): { cert: string; key: string } {
  return { cert: join(caDir, caCertName), key: join(caDir, caKeyName) };
}

/** Reads the CA in caDir, or null when there is none yet; writes nothing. Cached per process. */
export function readCa(caDir: string): KeyPairPem | null {
  const cached = cache.get(caDir);
  if (cached) return cached;
  const paths = caPaths(caDir);
  const hasCert = existsSync(paths.cert);
  const hasKey = existsSync(paths.key);
  if (hasCert !== hasKey) {
    throw new Error(`${caDir} holds ${hasCert ? caCertName : caKeyName} but not ${hasCert ? caKeyName : caCertName}; restore the missing file or empty the directory to start a new CA`);
  }
  if (!hasCert) return null;
  const mode = statSync(paths.key).mode & 0o077;
  if (mode !== 0) throw new Error(`${paths.key} is readable by group or others (mode ${(statSync(paths.key).mode & 0o777).toString(8)}); chmod 600 it`);
  // The shared reader: a device or FIFO put in caDir is refused, not read without end.
  const ca = { certPem: readInputText(paths.cert, 'settings.tls.generate.caDir', inputCaps.pem), keyPem: readInputText(paths.key, 'settings.tls.generate.caDir', inputCaps.pem) };
  cache.set(caDir, ca);
  return ca;
}

/**
 * The apply half: creates the CA when caDir holds none and says whether it did. Two runs starting
 * at once on one controller take turns through an exclusive mkdir, so both end up with one CA.
 */
export function ensureCa(caDir: string): { ca: KeyPairPem; created: boolean } {
  const existing = readCa(caDir);
  if (existing) return { ca: existing, created: false };
  mkdirSync(caDir, { recursive: true, mode: 0o700 });
  const guard = join(caDir, '.creating');
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      mkdirSync(guard, { mode: 0o700 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const made = readCa(caDir);
      if (made) return { ca: made, created: false };
      if (Date.now() > deadline) throw new Error(`${guard} exists and no CA appeared in 30 s: another run may have died while creating it; remove ${guard}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    const raced = readCa(caDir);
    if (raced) return { ca: raced, created: false };
    const paths = caPaths(caDir);
    const ca = createCa(`mqtt-provision CA ${basename(caDir)}`);
    // Written to temp names first and renamed, key before certificate: a crash never leaves a certificate without its key.
    writeFileSync(`${paths.key}.${process.pid}.tmp`, ca.keyPem, { mode: 0o600 });
    chmodSync(`${paths.key}.${process.pid}.tmp`, 0o600);
    renameSync(`${paths.key}.${process.pid}.tmp`, paths.key);
    writeFileSync(`${paths.cert}.${process.pid}.tmp`, ca.certPem, { mode: 0o644 });
    renameSync(`${paths.cert}.${process.pid}.tmp`, paths.cert);
    cache.set(caDir, ca);
    return { ca, created: true };
  } finally {
    rmdirSync(guard);
  }
}
