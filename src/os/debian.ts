import type { OsFamily } from './os-family.ts';

/**
 * No prompt can be answered (stdin is closed): keep a changed conffile rather than stop on the
 * question (we rewrite it anyway), and let a version pin go down as well as up.
 */
const noninteractiveInstall = [
  'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', '--allow-downgrades',
  '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold',
];

/** apt hosts: refresh lists only when installing, never prompt, never pull in recommends. */
export const debianFamily: OsFamily = {
  name: 'debian',
  install(packages) {
    const specs = packages.map(({ name, version }) => (version ? `${name}=${version}` : name));
    return [
      // Finishes an install that a dropped connection interrupted; a no-op otherwise.
      { argv: ['env', 'DEBIAN_FRONTEND=noninteractive', 'dpkg', '--configure', '-a'] },
      { argv: ['apt-get', 'update', '-q'] },
      { argv: [...noninteractiveInstall, ...specs] },
    ];
  },
  remove(packages) {
    return [{ argv: ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'remove', '-y', '-q', ...packages] }];
  },
  enableExtraRepository() {
    return [];
  },
  packageFormat: 'deb',
  /** debian12, ubuntu22.04: the ID and VERSION_ID of the release itself (derivatives have their own). */
  releaseTag(facts) {
    if ((facts.os.id !== 'debian' && facts.os.id !== 'ubuntu') || !facts.os.versionId) return null;
    return `${facts.os.id}${facts.os.versionId}`;
  },
  /** apt installs a file when the argument is a path (it must hold a slash), pulling dependencies from the lists. */
  installLocalPackage(path) {
    return [{ argv: ['apt-get', 'update', '-q'] }, { argv: [...noninteractiveInstall, path] }];
  },
};
