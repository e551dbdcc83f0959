import type { OsFamily } from './os-family.ts';

/** apt hosts: refresh lists only when installing, never prompt, never pull in recommends. */
export const debianFamily: OsFamily = {
  name: 'debian',
  install(packages) {
    const specs = packages.map(({ name, version }) => (version ? `${name}=${version}` : name));
    return [
      // Finishes an install that a dropped connection interrupted; a no-op otherwise.
      { argv: ['env', 'DEBIAN_FRONTEND=noninteractive', 'dpkg', '--configure', '-a'] },
      { argv: ['apt-get', 'update', '-q'] },
      { argv: ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', ...specs] },
    ];
  },
  remove(packages) {
    return [{ argv: ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'remove', '-y', '-q', ...packages] }];
  },
  enableExtraRepository() {
    return [];
  },
};
