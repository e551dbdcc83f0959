import { InputError } from '../settings/input-error.ts';

/** A target as --limit sees it: what output calls it and the address it is reached at. */
export interface LimitCandidate {
  label: string;
  host: string;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/**
 * Ansible-like host limits: comma-separated names or addresses, `*` and `?` as wildcards, and `!`
 * in front of a pattern to leave hosts out. Only exclusions: every host but those. A limit that
 * leaves no host, or names a host that is not there, is bad input: a typo must not silently run
 * on nothing (or on the wrong subset).
 */
export function limitTargets<T extends LimitCandidate>(targets: T[], limit: string): T[] {
  const patterns = limit.split(',').map((part) => part.trim()).filter((part) => part.length > 0);
  if (patterns.length === 0) throw new InputError('--limit', 'give at least one host name or pattern');
  const include = patterns.filter((pattern) => !pattern.startsWith('!')).map((pattern) => ({ pattern, regexp: globToRegExp(pattern) }));
  const exclude = patterns.filter((pattern) => pattern.startsWith('!')).map((pattern) => globToRegExp(pattern.slice(1)));
  const matches = (target: T, regexp: RegExp): boolean => regexp.test(target.label) || regexp.test(target.host);
  for (const { pattern, regexp } of include) {
    if (!targets.some((target) => matches(target, regexp))) {
      throw new InputError('--limit', `"${pattern}" matches none of the hosts (${targets.map((target) => target.label).join(', ') || 'none'})`);
    }
  }
  const kept = targets.filter(
    (target) => (include.length === 0 || include.some(({ regexp }) => matches(target, regexp))) && !exclude.some((regexp) => matches(target, regexp)),
  );
  if (kept.length === 0) throw new InputError('--limit', `"${limit}" leaves no host to run on`);
  return kept;
}
