import type { HostFacts } from '../facts/host-facts.ts';
import { change, noChange, type Step } from './step.ts';

/** Uninstall steps shared by every broker: removal is symmetric with install. */

export function serviceStoppedStep(facts: HostFacts, service: string): Step {
  const state = facts.services[service];
  const id = `stop:${service}`;
  const title = `stop ${service}`;
  if (state?.active !== 'active' && state?.enabled !== 'enabled') return noChange('removal', id, title, 'not running');
  return change('removal', id, title, `${state.active}, ${state.enabled}`, [{ argv: ['systemctl', 'disable', '--now', service] }]);
}

export function filesAbsentStep(facts: HostFacts, paths: string[], title: string): Step {
  const present = paths.filter((path) => facts.files[path]);
  if (present.length === 0) return noChange('removal', 'files-absent', title, 'absent');
  return change('removal', 'files-absent', title, `${present.join(', ')} present`, [{ argv: ['rm', '-f', ...present] }]);
}

/**
 * Removes a directory we created once nothing but the files this run removes is left in it; one
 * that holds anything else is kept and says so (never a recursive delete of what we do not manage).
 */
export function directoryAbsentStep(facts: HostFacts, dir: string, removedFiles: string[]): Step {
  const id = `dir-absent:${dir}`;
  const title = `remove directory ${dir}`;
  const current = facts.directories[dir];
  if (!current) return noChange('removal', id, title, 'absent');
  const ours = removedFiles.filter((path) => path.startsWith(`${dir}/`) && !path.slice(dir.length + 1).includes('/') && facts.files[path]).length;
  const others = current.entries === undefined ? undefined : current.entries - ours;
  if (others !== undefined && others > 0) return noChange('removal', id, title, `kept: holds ${others} entr${others === 1 ? 'y' : 'ies'} mqtt-provision does not manage`);
  // rmdir, never rm -r: should something appear in between, the directory stays and the step says so.
  return change('removal', id, title, 'present, nothing else in it', [{ argv: ['rmdir', dir] }]);
}

/** Deletes the broker's data (queued messages, sessions): only when the settings ask for it. */
export function dataPurgedStep(facts: HostFacts, dataDir: string): Step {
  const id = `purge:${dataDir}`;
  const title = `remove data ${dataDir}`;
  if (!facts.directories[dataDir]) return noChange('removal', id, title, 'absent');
  return change('removal', id, title, 'purgeData is set', [{ argv: ['rm', '-rf', dataDir] }]);
}
