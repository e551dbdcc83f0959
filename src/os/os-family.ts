import type { HostFacts } from '../facts/host-facts.ts';
import type { Command } from '../transport/command.ts';
import { debianFamily } from './debian.ts';
import { rhelFamily } from './rhel.ts';

/** Everything that differs between Debian-like and RHEL-like hosts lives behind this interface. */
export interface OsFamily {
  name: 'debian' | 'rhel';
  /** Commands that install packages, each `name` or `name=version` as the family spells a pin. */
  install(packages: Array<{ name: string; version: string }>, facts: HostFacts): Command[];
  remove(packages: string[], facts: HostFacts): Command[];
  /** Removes the packages and their config files too (apt-get purge; dnf remove already does, leaving .rpmsave only for edited files). */
  purge(packages: string[], facts: HostFacts): Command[];
  /** Commands that make the EPEL-like extra repository available, or [] when not needed/enabled. */
  enableExtraRepository(facts: HostFacts): Command[];
  /** The package format this family installs: what a vendor download or an uploaded file must be. */
  packageFormat: 'deb' | 'rpm';
  /**
   * The distribution tag vendors put in package file names (el9, debian12, ubuntu22.04), or null
   * when this release has none of its own (e.g. a derivative that only names its base in ID_LIKE).
   */
  releaseTag(facts: HostFacts): string | null;
  /** Commands that install one package file already on the host, resolving its dependencies from the repositories. */
  installLocalPackage(path: string, facts: HostFacts): Command[];
}

export class UnsupportedOsError extends Error {
  constructor(facts: HostFacts) {
    const name = facts.os.prettyName || facts.os.id || 'an unknown OS (no /etc/os-release)';
    super(`${name} is not supported: mqtt-provision knows Debian/Ubuntu and RHEL/CentOS/Rocky/Alma`);
    this.name = 'UnsupportedOsError';
  }
}

const debianIds = new Set(['debian', 'ubuntu']);
const rhelIds = new Set(['rhel', 'centos', 'rocky', 'almalinux', 'ol', 'fedora']);

/** Picks the family from /etc/os-release: ID first, then ID_LIKE (e.g. Linux Mint is ubuntu-like). */
export function osFamilyOf(facts: HostFacts): OsFamily {
  for (const id of [facts.os.id, ...facts.os.idLike]) {
    if (debianIds.has(id)) return debianFamily;
    if (rhelIds.has(id)) return rhelFamily;
  }
  throw new UnsupportedOsError(facts);
}
