import type { HostFacts } from '../facts/host-facts.ts';
import type { OsFamily } from '../os/os-family.ts';
import { change, noChange, type Step } from './step.ts';

export interface WantedPackage {
  name: string;
  /** Exact version to pin; empty accepts whatever is installed or the repository's newest. */
  version: string;
}

/** Installs missing packages and re-pins packages whose installed version differs from a pin. */
export function packagesPresentStep(os: OsFamily, facts: HostFacts, packages: WantedPackage[]): Step {
  const id = `packages:${packages.map((wanted) => wanted.name).join(',')}`;
  const title = `packages ${packages.map((wanted) => wanted.name).join(', ')}`;
  const needed = packages.filter((wanted) => {
    const installed = facts.packages[wanted.name] ?? null;
    return installed === null || (wanted.version !== '' && installed !== wanted.version);
  });
  if (needed.length === 0) {
    return noChange('package', id, title, `installed (${packages.map((wanted) => `${wanted.name} ${facts.packages[wanted.name]}`).join(', ')})`);
  }
  const reason = needed
    .map((wanted) => {
      const installed = facts.packages[wanted.name] ?? null;
      return installed === null ? `${wanted.name} not installed` : `${wanted.name} ${installed} → ${wanted.version}`;
    })
    .join(', ');
  return change('package', id, title, reason, os.install(needed, facts));
}

/**
 * Removes the packages; with `purge` their config files too, including a package an earlier
 * remove left in dpkg's `rc` state (config files only), so purgeData leaves nothing behind.
 */
export function packagesAbsentStep(os: OsFamily, facts: HostFacts, names: string[], purge = false): Step {
  const id = `packages-absent:${names.join(',')}`;
  const title = `${purge ? 'purge' : 'remove'} packages ${names.join(', ')}`;
  const installed = names.filter((name) => (facts.packages[name] ?? null) !== null);
  const configOnly = purge ? names.filter((name) => !installed.includes(name) && (facts.packagesConfigOnly ?? []).includes(name)) : [];
  if (installed.length === 0 && configOnly.length === 0) return noChange('package', id, title, purge ? 'not installed, no config left' : 'not installed');
  const reasons = [...(installed.length > 0 ? [`${installed.join(', ')} installed`] : []), ...(configOnly.length > 0 ? [`${configOnly.join(', ')} config files left`] : [])];
  return change('package', id, title, reasons.join('; '), purge ? os.purge([...installed, ...configOnly], facts) : os.remove(installed, facts));
}

export function extraRepositoryStep(os: OsFamily, facts: HostFacts, name: string): Step {
  const commands = os.enableExtraRepository(facts);
  if (commands.length === 0) return noChange('repository', `repository:${name}`, `repository ${name}`, 'enabled or not needed');
  return change('repository', `repository:${name}`, `repository ${name}`, 'not configured', commands);
}
