import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Host key checking against an OpenSSH known_hosts file, as `StrictHostKeyChecking` does:
 * `strict` accepts only known keys, `accept-new` also records a host seen for the first time
 * (trust on first use), `off` checks nothing. A key that differs from the recorded one is always
 * refused: that is what a man in the middle looks like, and secrets go to the host next.
 */
export type HostKeyCheck = 'strict' | 'accept-new' | 'off';

export interface HostKeyPolicy {
  check: HostKeyCheck;
  /** The known_hosts file: plain or hashed (`|1|salt|hash`) host names, as OpenSSH writes them. */
  file: string;
}

/** The name a known_hosts line uses for a host: `host`, or `[host]:port` off port 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matchesName(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  return pattern.split(',').includes(name);
}

/** The key type written inside an SSH public key blob (string length + name). */
export function keyTypeOf(blob: Buffer): string {
  return blob.length >= 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1') : 'unknown';
}

export type HostKeyVerdict = { ok: true; recorded: boolean } | { ok: false; reason: string };

/** Decides about the key a host presented; appends it to the file when the policy says so. */
export function checkHostKey(policy: HostKeyPolicy, host: string, port: number, blob: Buffer): HostKeyVerdict {
  if (policy.check === 'off') return { ok: true, recorded: false };
  const name = knownHostsName(host, port);
  const type = keyTypeOf(blob);
  const key = blob.toString('base64');
  const lines = existsSync(policy.file) ? readFileSync(policy.file, 'utf8').split('\n') : [];
  let sameTypeKnown: number | undefined;
  for (const [index, line] of lines.entries()) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]!.startsWith('#') || fields[0]!.startsWith('@')) continue;
    const [names, lineType, lineKey] = fields as [string, string, string];
    if (!matchesName(names, name) || lineType !== type) continue;
    if (lineKey === key) return { ok: true, recorded: false };
    sameTypeKnown ??= index + 1;
  }
  if (sameTypeKnown !== undefined) {
    return {
      ok: false,
      reason: `the ${type} host key of ${name} differs from line ${sameTypeKnown} of ${policy.file}: someone may be intercepting the connection; if the host was reinstalled, remove that line`,
    };
  }
  if (policy.check === 'strict') return { ok: false, reason: `${name} is not in ${policy.file} (host key checking is strict); add its key first` };
  mkdirSync(dirname(policy.file), { recursive: true, mode: 0o700 });
  appendFileSync(policy.file, `${name} ${type} ${key}\n`, { mode: 0o600 });
  return { ok: true, recorded: true };
}
