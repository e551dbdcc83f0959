import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Host key checking against an OpenSSH known_hosts file, as `StrictHostKeyChecking` does:
 * `strict` accepts only known keys, `accept-new` also records a host seen for the first time
 * (trust on first use), `off` checks nothing. A host with any recorded key must present one of
 * them: a different key, of the same type or another, is what a man in the middle looks like,
 * and secrets go to the host next. `@revoked` keys are refused for every host they match;
 * `@cert-authority` lines are refused with a reason (host certificates cannot be checked here).
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

/** OpenSSH's match_pattern: `*` any run of characters, `?` exactly one; host names compare case-insensitively. */
export function matchesPattern(name: string, pattern: string): boolean {
  // Most lines name one host plainly: a string compare. A run against 100 hosts checks each
  // against every line of a file that holds them all, so wildcard patterns are compiled once.
  if (!/[*?]/.test(pattern)) return name.toLowerCase() === pattern.toLowerCase();
  let compiled = compiledPatterns.get(pattern);
  if (!compiled) {
    const source = [...pattern.toLowerCase()].map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
    compiled = new RegExp(`^${source}$`, 's');
    compiledPatterns.set(pattern, compiled);
  }
  return compiled.test(name.toLowerCase());
}
const compiledPatterns = new Map<string, RegExp>();

/**
 * Whether a line's host field names the host, as OpenSSH's match_hostname: a hashed name, or a
 * comma list where any `!pattern` that matches rules the line out and otherwise one plain match is needed.
 */
export function matchesHostField(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let positive = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (matchesPattern(name, pattern.slice(1))) return false;
    } else if (matchesPattern(name, pattern)) {
      positive = true;
    }
  }
  return positive;
}

export interface KnownHostsLine {
  /** 1-based, for messages. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  hosts: string;
  type: string;
  key: string;
}

/** The entries of a known_hosts text; comments, blank and malformed lines are left out, as OpenSSH skips them. */
export function parseKnownHosts(text: string): KnownHostsLine[] {
  const entries: KnownHostsLine[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: KnownHostsLine['marker'];
    if (fields[0].startsWith('@')) {
      if (fields[0] !== '@revoked' && fields[0] !== '@cert-authority') continue;
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    }
    if (fields.length < 3) continue;
    entries.push({ line: index + 1, ...(marker ? { marker } : {}), hosts: fields[0]!, type: fields[1]!, key: fields[2]! });
  }
  return entries;
}

/** The key type written inside an SSH public key blob (string length + name). */
export function keyTypeOf(blob: Buffer): string {
  return blob.length >= 4 ? blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1') : 'unknown';
}

export type HostKeyVerdict = { ok: true; recorded: boolean } | { ok: false; reason: string };

function readEntries(file: string): KnownHostsLine[] {
  return existsSync(file) ? parseKnownHosts(readFileSync(file, 'utf8')) : [];
}

/** ssh2's host key algorithms, in its own order (node_modules/ssh2/lib/protocol/constants.js). */
const defaultHostKeyAlgorithms = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/**
 * The host key algorithms to offer, the host's recorded key types first, as OpenSSH orders them:
 * a host that has both an ed25519 and an ECDSA key then shows the one we know, instead of a
 * second key that would (rightly) be refused.
 */
export function hostKeyAlgorithms(policy: HostKeyPolicy, host: string, port: number): string[] {
  if (policy.check === 'off') return defaultHostKeyAlgorithms;
  const name = knownHostsName(host, port);
  const recorded = readEntries(policy.file)
    .filter((entry) => entry.marker === undefined && matchesHostField(entry.hosts, name))
    .flatMap((entry) => (entry.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [entry.type]));
  return [...new Set([...recorded.filter((type) => defaultHostKeyAlgorithms.includes(type)), ...defaultHostKeyAlgorithms])];
}

/** Decides about the key a host presented; appends it to the file when the policy says so. */
export function checkHostKey(policy: HostKeyPolicy, host: string, port: number, blob: Buffer): HostKeyVerdict {
  if (policy.check === 'off') return { ok: true, recorded: false };
  const name = knownHostsName(host, port);
  const type = keyTypeOf(blob);
  const key = blob.toString('base64');
  const entries = readEntries(policy.file).filter((entry) => matchesHostField(entry.hosts, name));
  const revoked = entries.find((entry) => entry.marker === 'revoked' && entry.type === type && entry.key === key);
  if (revoked) return { ok: false, reason: `the ${type} host key of ${name} is marked @revoked on line ${revoked.line} of ${policy.file}: refusing it` };
  const authority = entries.find((entry) => entry.marker === 'cert-authority');
  const plain = entries.filter((entry) => entry.marker === undefined);
  if (plain.some((entry) => entry.type === type && entry.key === key)) return { ok: true, recorded: false };
  if (authority) {
    return {
      ok: false,
      reason:
        `line ${authority.line} of ${policy.file} trusts a @cert-authority for ${name}, but mqtt-provision cannot check host certificates ` +
        '(its SSH library does not negotiate them); refusing rather than trusting the key on first use. Add the host\'s own key (ssh-keyscan) to the file',
    };
  }
  if (plain.length > 0) {
    const lines = plain.map((entry) => entry.line).join(', ');
    const recordedTypes = [...new Set(plain.map((entry) => entry.type))].join(', ');
    return {
      ok: false,
      reason:
        `the ${type} host key of ${name} differs from line ${lines} of ${policy.file} (recorded: ${recordedTypes}): REMOTE HOST IDENTIFICATION HAS CHANGED, ` +
        'someone may be intercepting the connection; if the host was reinstalled, remove those lines',
    };
  }
  if (policy.check === 'strict') return { ok: false, reason: `${name} is not in ${policy.file} (host key checking is strict); add its key first` };
  mkdirSync(dirname(policy.file), { recursive: true, mode: 0o700 });
  appendFileSync(policy.file, `${name} ${type} ${key}\n`, { mode: 0o600 });
  return { ok: true, recorded: true };
}
