import type { HostFacts } from '../facts/host-facts.ts';
import type { OsFamily } from './os-family.ts';
import { osMajorVersion } from './os-version.ts';

/** dnf where present (EL8+, Fedora), yum on CentOS 7. */
function packageManager(facts: HostFacts): 'dnf' | 'yum' {
  return facts.commands.includes('dnf') ? 'dnf' : 'yum';
}

export const rhelFamily: OsFamily = {
  name: 'rhel',
  install(packages, facts) {
    const specs = packages.map(({ name, version }) => (version ? `${name}-${version}` : name));
    // An admin turned EPEL off: it stays off, and is on for our transaction only.
    const enable = facts.epelConfigured && !facts.epelEnabled ? ['--enablerepo=epel'] : [];
    return [{ argv: [packageManager(facts), 'install', '-y', ...enable, ...specs] }];
  },
  remove(packages, facts) {
    return [{ argv: [packageManager(facts), 'remove', '-y', ...packages] }];
  },
  purge(packages, facts) {
    return [{ argv: [packageManager(facts), 'remove', '-y', ...packages] }];
  },
  /**
   * Mosquitto lives in EPEL. CentOS, Rocky and Alma ship `epel-release` in their own extras
   * repository; RHEL proper does not, so it installs the release package from the Fedora project.
   */
  enableExtraRepository(facts) {
    if (facts.epelEnabled || facts.epelConfigured || facts.os.id === 'fedora') return [];
    const manager = packageManager(facts);
    if (facts.os.id === 'rhel') {
      const major = osMajorVersion(facts);
      return [{ argv: [manager, 'install', '-y', `https://dl.fedoraproject.org/pub/epel/epel-release-latest-${major}.noarch.rpm`] }];
    }
    return [{ argv: [manager, 'install', '-y', 'epel-release'] }];
  },
  packageFormat: 'rpm',
  /** el7, el8, el9: RHEL and its rebuilds share one binary ABI per major version. Fedora has none. */
  releaseTag(facts) {
    const major = osMajorVersion(facts);
    if (facts.os.id === 'fedora' || major === 0) return null;
    return `el${major}`;
  },
  /** yum and dnf both install a local file and resolve its dependencies from the enabled repositories. */
  installLocalPackage(path, facts) {
    return [{ argv: [packageManager(facts), 'install', '-y', path] }];
  },
};
