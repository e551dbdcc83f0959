import { readFileSync } from 'node:fs';
import type { HostFacts } from '../../facts/host-facts.ts';
import { osFamilyOf } from '../../os/os-family.ts';
import type { Settings } from '../../settings/load.ts';
import { defaultIssuer, tlsFiles, type TlsIssuer } from '../../tls/server-files.ts';
import { nothingPrepared, seededSalt, type PreparedInputs } from '../prepared.ts';
import { emqxTlsLayout } from './files.ts';
import { chooseCookie, generateCookie } from './identity.ts';
import { emqxLayout } from './layout.ts';
import { chooseEmqxPackage } from './package-source.ts';
import { isInstalledVersion } from './version.ts';

/** What a test swaps for determinism; a real run leaves all of it at the defaults. */
export interface EmqxPrepareOptions {
  /** Reads the file given with --package (the upload travels base64-encoded on stdin). */
  readPackage?: ((path: string) => Buffer) | undefined;
  /** A cookie for a host that has none yet. */
  generateCookie?: (() => string) | undefined;
  /** Salts of the users state file hashes. */
  salt?: ((name: string) => Buffer) | undefined;
  /** The CA and certificate issuer for generated TLS certificates (a dry run's draws no key). */
  issuer?: TlsIssuer | undefined;
}

/**
 * EMQX's prepare phase: the TLS files, the cookie (a new one drawn only where the host has none),
 * the salts of the users state, and the --package file's bytes when this run uploads it.
 */
export function prepareEmqx(facts: HostFacts, settings: Settings, options: EmqxPrepareOptions = {}): PreparedInputs {
  if (settings.state === 'absent') return nothingPrepared;
  const packageContent = uploadedPackage(facts, settings, options.readPackage ?? ((path) => readFileSync(path)));
  return {
    tls: tlsFiles(settings, facts, emqxTlsLayout, options.issuer ?? defaultIssuer),
    salt: options.salt ?? seededSalt(),
    cookie: chooseCookie(settings, facts.files[emqxLayout.configFile]?.content, options.generateCookie ?? generateCookie),
    ...(packageContent ? { packageContent } : {}),
  };
}

/** The --package file, read only when the planner will upload it; a package the planner refuses is left to say so. */
function uploadedPackage(facts: HostFacts, settings: Settings, readPackage: (path: string) => Buffer): Buffer | undefined {
  if (settings.emqx.package === undefined) return undefined;
  let chosen;
  try {
    chosen = chooseEmqxPackage(osFamilyOf(facts), facts, settings);
  } catch {
    return undefined;
  }
  if (chosen.source.kind !== 'upload' || isInstalledVersion(facts.packages[emqxLayout.packageName] ?? null, chosen.version)) return undefined;
  return readPackage(chosen.source.localPath);
}
