import type { Credential } from '../../settings/load.ts';
import { hashPassword, verifyPassword } from '../password-hash.ts';

/**
 * Renders the password file, keeping each existing line whose hash still matches the wanted
 * password. Salts are random, so re-hashing every run would change the file every run; reuse is
 * what makes a second converge report no change. `salt` is asked per user name (a Pulumi
 * container derives it from the name; the CLI draws it at random).
 */
export function renderPasswordFile(credentials: Credential[], current: string | null, salt?: (name: string) => Buffer): string {
  const existing = new Map<string, string>();
  for (const line of (current ?? '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) existing.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return credentials
    .map(({ name, password }) => {
      const old = existing.get(name);
      const hash = old !== undefined && verifyPassword(password.reveal(), old) ? old : hashPassword(password.reveal(), salt?.(name));
      return `${name}:${hash}\n`;
    })
    .join('');
}
