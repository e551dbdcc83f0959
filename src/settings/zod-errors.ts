import type { z } from 'zod';
import { InputError } from './input-error.ts';

type Issue = z.core.$ZodIssue;
type UnknownKeysIssue = Extract<Issue, { code: 'unrecognized_keys' }>;

/**
 * The one mapping of zod's issues to InputErrors, for settings files, Pulumi stack config and
 * inventories alike: the field as the user would look for it, and zod's message without its
 * generic "Invalid input: " lead-in. Unknown keys are described by the caller when it can do
 * better (settings suggest the closest known key), else listed.
 */
export function zodInputErrors(
  issues: readonly Issue[],
  field: (path: readonly PropertyKey[]) => string,
  describeUnknownKeys: (issue: UnknownKeysIssue) => string = (issue) => `unknown key ${issue.keys.map((name) => `"${name}"`).join(', ')}`,
): InputError[] {
  return issues.map((issue) => new InputError(field(issue.path), describe(issue, describeUnknownKeys)));
}

/** `root` then the path: `.key` for a key, `[n]` for an array index (`settings.admins[0].name`). */
export function fieldPath(root: string, path: readonly PropertyKey[]): string {
  return root + path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
}

function describe(issue: Issue, describeUnknownKeys: (issue: UnknownKeysIssue) => string): string {
  if (issue.code === 'unrecognized_keys') return describeUnknownKeys(issue);
  if (issue.code === 'invalid_value') return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
  return issue.message.replace(/^Invalid input: /, '');
}
