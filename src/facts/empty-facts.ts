import type { HostFacts } from './host-facts.ts';

/** Facts of a host about which nothing is known: what rendering without a host starts from. */
export function emptyFacts(): HostFacts {
  return {
    os: { id: '', idLike: [], versionId: '', prettyName: '' },
    commands: [],
    packages: {},
    files: {},
    directories: {},
    services: {},
    firewalld: null,
    ufw: null,
    epelEnabled: false,
  };
}
