import { chmodSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { inputCaps, readInputText } from '../settings/input-file.ts';
import { basename, join } from 'node:path';
import { createCa, type KeyPairPem } from './certificates.ts';

/**
 * The per-environment CA, kept on the controller in `tls.generate.caDir`: created on the first run
 * (ca.key 0600, ca.crt 0644, the directory 0700) and only ever read afterwards, so every host of
 * the environment and every run trust the same CA. The key never leaves the controller.
 */

export const caCertName = 'ca.crt';
export const caKeyName = 'ca.key';

const cache = new Map<string, KeyPairPem>();

export function caPaths(caDir: string): { cert: string; key: string } {
  return { cert: join(caDir, caCertName), key: join(caDir, caKeyName) };
}

/** Reads the CA in caDir, creating it once when the directory holds none. Cached per process. */
export function loadOrCreateCa(caDir: string): KeyPairPem {
  const cached = cache.get(caDir);
  if (cached) return cached;
  const paths = caPaths(caDir);
  const hasCert = existsSync(paths.cert);
  const hasKey = existsSync(paths.key);
  if (hasCert !== hasKey) {
    throw new Error(`${caDir} holds ${hasCert ? caCertName : caKeyName} but not ${hasCert ? caKeyName : caCertName}; restore the missing file or empty the directory to start a new CA`);
  }
  let ca: KeyPairPem;
  if (hasCert) {
    const mode = statSync(paths.key).mode & 0o077;
    if (mode !== 0) throw new Error(`${paths.key} is readable by group or others (mode ${(statSync(paths.key).mode & 0o777).toString(8)}); chmod 600 it`);
    // The shared reader: a device or FIFO put in caDir is refused, not read without end.
    ca = { certPem: readInputText(paths.cert, 'settings.tls.generate.caDir', inputCaps.pem), keyPem: readInputText(paths.key, 'settings.tls.generate.caDir', inputCaps.pem) };
  } else {
    mkdirSync(caDir, { recursive: true, mode: 0o700 });
    ca = createCa(`mqtt-provision CA ${basename(caDir)}`);
    // Written to temp names first and renamed, key before certificate: a crash never leaves a certificate without its key.
    writeFileSync(`${paths.key}.tmp`, ca.keyPem, { mode: 0o600 });
    chmodSync(`${paths.key}.tmp`, 0o600);
    renameSync(`${paths.key}.tmp`, paths.key);
    writeFileSync(`${paths.cert}.tmp`, ca.certPem, { mode: 0o644 });
    renameSync(`${paths.cert}.tmp`, paths.cert);
  }
  cache.set(caDir, ca);
  return ca;
}
