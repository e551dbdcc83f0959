import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

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

/** True when `encoded` is a $7$ hash of `password`; other formats are treated as not matching. */
export function verifyPassword(password: string, encoded: string): boolean {
  const match = /^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(encoded);
  if (!match) return false;
  const expected = Buffer.from(match[3]!, 'base64');
  const actual = pbkdf2Sync(password, Buffer.from(match[2]!, 'base64'), Number(match[1]), expected.length, 'sha512');
  return expected.length > 0 && timingSafeEqual(actual, expected);
}
