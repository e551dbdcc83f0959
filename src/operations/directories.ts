import type { HostFacts } from '../facts/host-facts.ts';
import { change, noChange, type Step } from './step.ts';

export interface ManagedDirectory {
  path: string;
  mode: string;
  owner: string;
  group: string;
}

/** A directory the broker writes to (e.g. its persistence store), owned by the broker's user. */
export function directoryStep(facts: HostFacts, directory: ManagedDirectory): Step {
  const id = `dir:${directory.path}`;
  const title = `directory ${directory.path}`;
  const current = facts.directories[directory.path] ?? null;
  const wanted = `${directory.owner}:${directory.group} ${directory.mode}`;
  if (current && `${current.owner}:${current.group} ${current.mode}` === wanted) return noChange(id, title, 'up to date');
  const reason = current ? `${current.owner}:${current.group} ${current.mode} → ${wanted}` : 'absent';
  return change(id, title, reason, [
    { argv: ['install', '-d', '-o', directory.owner, '-g', directory.group, '-m', directory.mode, directory.path] },
  ]);
}
