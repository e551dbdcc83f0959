import { createHmac, randomBytes } from 'node:crypto';
import type { Secret } from '../secret.ts';
import type { TlsFiles } from '../tls/server-files.ts';

/**
 * What a broker's prepare phase hands its planner: everything that needs a key, a random draw or
 * a controller file, produced after the facts and before planning. The planner only reads it, so
 * planning twice with the same inputs gives the same steps, and a dry run (whose prepare draws no
 * key and creates no CA) is side-effect free by construction.
 */
export interface PreparedInputs {
  /** The TLS files: the CA read, the host's certificate kept or a new one issued (placeholders on a dry run). */
  tls: TlsFiles;
  /** A password hash's salt per user name; a pure function of a seed prepare drew (or a test's fixed one). */
  salt: (name: string) => Buffer;
  /** EMQX: the cookie this host keeps or gets (a new one drawn by prepare only where the host has none). */
  cookie?: Secret;
  /** EMQX: the bytes of the --package file when this run uploads it (read by prepare, not while planning). */
  packageContent?: Buffer;
  /** Mosquitto with metrics on: the exporter's broker password, kept from the host or drawn by prepare. */
  metricsPassword?: Secret;
}

/** Salts derived from one drawn seed: a deterministic function, so the planner that calls it stays pure. */
export function seededSalt(seed: Buffer = randomBytes(32)): (name: string) => Buffer {
  return (name) => createHmac('sha256', seed).update(`salt\0${name}`).digest().subarray(0, 12);
}

/** What `state: absent` needs prepared: nothing (no TLS, no hash). */
export const nothingPrepared: PreparedInputs = { tls: { files: [] }, salt: seededSalt(Buffer.alloc(32)) };
