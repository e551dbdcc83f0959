import { createHash, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Mosquitto 2.0's password file format `$7$<iterations>$<salt b64>$<hash b64>`: PBKDF2-SHA512,
 * 101 iterations, 12 bytes of salt, 64 bytes of hash, as mosquitto_passwd writes it. Hashing here
 * instead of on the host keeps the password off the host's process list entirely.
 */
const iterations = 101;
const saltBytes = 12;
const hashBytes = 64;

export function hashPassword(password: string, salt: Buffer = randomBytes(saltBytes)): string {
  const hash = pbkdf2Sync(password, salt, iterations, hashBytes, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * True when `encoded` is a $7$ hash of `password` with exactly the parameters this tool writes.
 * The line comes from the host, so it is not trusted: any other iteration count, salt or hash
 * length is "does not match" (the line is rewritten) without running PBKDF2 at all. A hostile
 * `$7$999999999$…` would otherwise pin the controller's CPU, and a count beyond 2^31 would throw.
 */
export function verifyPassword(password: string, encoded: string): boolean {
  const match = /^\$7\$(\d{1,10})\$([A-Za-z0-9+/]{16})\$([A-Za-z0-9+/]{86}==)$/.exec(encoded);
  if (!match || Number(match[1]) !== iterations) return false;
  const salt = Buffer.from(match[2]!, 'base64');
  const expected = Buffer.from(match[3]!, 'base64');
  if (salt.length !== saltBytes || expected.length !== hashBytes) return false;
  const key = createHash('sha256').update(encoded).update('\0').update(password).digest('base64');
  const known = verified.get(key);
  if (known !== undefined) return known;
  const matches = timingSafeEqual(pbkdf2Sync(password, salt, iterations, hashBytes, 'sha512'), expected);
  if (verified.size >= verifiedLimit) verified.delete(verified.keys().next().value!);
  verified.set(key, matches);
  return matches;
}

/**
 * Answers already worked out in this process: a run over 100 hosts converged from the same
 * settings finds the same stored lines on each, and checks each (password, line) pair once (issue
 * 20). Keyed by a digest of the pair, so the map holds no password; bounded for long-lived processes.
 */
const verified = new Map<string, boolean>();
const verifiedLimit = 4096;
