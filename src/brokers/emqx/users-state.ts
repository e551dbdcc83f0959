import type { Secret } from '../../secret.ts';
import { hashPassword, verifyPassword } from '../password-hash.ts';

/** An MQTT user for EMQX's built-in authentication database; admins are superusers. */
export interface MqttUser {
  name: string;
  password: Secret;
  superuser: boolean;
}

interface StateEntry {
  superuser: boolean;
  hash: string;
}

/**
 * The REST API never returns a password or its hash, so a re-run could not tell whether a user's
 * password still matches. This host file remembers a salted PBKDF2 hash (Mosquitto's $7$ format)
 * of what was last sent, one `name admin|user hash` line per user; 0600 root, never diffed.
 */
export function parseUsersState(content: string | null | undefined): Map<string, StateEntry> {
  const entries = new Map<string, StateEntry>();
  for (const line of (content ?? '').split('\n')) {
    const [name, role, hash] = line.split(' ');
    if (name && (role === 'admin' || role === 'user') && hash) entries.set(name, { superuser: role === 'admin', hash });
  }
  return entries;
}

/** True when the state file says this user was last set with exactly this password and role. */
export function stateMatches(entries: Map<string, StateEntry>, user: MqttUser): boolean {
  const entry = entries.get(user.name);
  return entry !== undefined && entry.superuser === user.superuser && verifyPassword(user.password.reveal(), entry.hash);
}

/** Renders the state file, keeping each hash that still matches so an unchanged user keeps its line. */
export function renderUsersState(users: MqttUser[], current: string | null | undefined, salt?: () => Buffer): string {
  const entries = parseUsersState(current);
  return users
    .map((user) => {
      const hash = stateMatches(entries, user) ? entries.get(user.name)!.hash : hashPassword(user.password.reveal(), salt?.());
      return `${user.name} ${user.superuser ? 'admin' : 'user'} ${hash}\n`;
    })
    .join('');
}
