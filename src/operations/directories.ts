import type { HostFacts } from '../facts/host-facts.ts';
import { change, noChange, type Step } from './step.ts';

export interface ManagedDirectory {
  path: string;
  mode: string;
  owner: string;
  group: string;
}

/**
 * A directory the broker writes to (e.g. its persistence store), owned by the broker's user.
 * `resetBy` names a change earlier in the same run that may put the directory back to someone
 * else's owner and mode (an RPM that owns it resets both on every install, upgrade or downgrade),
 * so the facts gathered before it cannot say the directory is up to date.
 */
export function directoryStep(facts: HostFacts, directory: ManagedDirectory, resetBy?: string): Step {
  const id = `dir:${directory.path}`;
  const title = `directory ${directory.path}`;
  const current = facts.directories[directory.path] ?? null;
  const wanted = `${directory.owner}:${directory.group} ${directory.mode}`;
  const upToDate = current !== null && `${current.owner}:${current.group} ${current.mode}` === wanted;
  if (upToDate && resetBy === undefined) return noChange('directory', id, title, 'up to date');
  const reason = upToDate ? `${resetBy} may reset it to the package's owner and mode` : current ? `${current.owner}:${current.group} ${current.mode} → ${wanted}` : 'absent';
  return change('directory', id, title, reason, [
    { argv: ['install', '-d', '-o', directory.owner, '-g', directory.group, '-m', directory.mode, directory.path] },
  ]);
}
