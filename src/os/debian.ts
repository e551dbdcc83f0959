import type { OsFamily } from './os-family.ts';

/**
 * No prompt can be answered (stdin is closed): keep a changed conffile rather than stop on the
 * question (we rewrite it anyway), and let a version pin go down as well as up.
 */
const noninteractiveInstall = [
  'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', '--allow-downgrades',
  '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold',
];

/**
 * Runs an apt or dpkg command, waiting (up to 2 minutes) while another one holds its lock: an
 * apt-daily job at boot, or an apt-get orphaned by a dropped SSH connection. `apt-get update` has
 * no lock timeout option of its own on Debian 12, and dpkg has none at all.
 */
export const whileLockedScript =
  'i=0; while :; do out=$("$@" 2>&1) && { printf "%s\\n" "$out"; exit 0; }; ' +
  'case "$out" in *"Could not get lock"*|*"locked by another process"*) ;; *) printf "%s\\n" "$out" >&2; exit 100 ;; esac; ' +
  'i=$((i + 1)); [ "$i" -ge 120 ] && { printf "%s\\n" "$out" >&2; exit 100; }; sleep 1; done';

function whileLocked(argv: string[]): string[] {
  return ['sh', '-c', whileLockedScript, 'mqtt-provision-apt', ...argv];
}

/** apt hosts: refresh lists only when installing, never prompt, never pull in recommends. */
export const debianFamily: OsFamily = {
  name: 'debian',
  install(packages) {
    const specs = packages.map(({ name, version }) => (version ? `${name}=${version}` : name));
    return [
      // Finishes an install that a dropped connection interrupted; a no-op otherwise.
      { argv: whileLocked(['env', 'DEBIAN_FRONTEND=noninteractive', 'dpkg', '--configure', '-a']) },
      { argv: whileLocked(['apt-get', 'update', '-q']) },
      { argv: whileLocked([...noninteractiveInstall, ...specs]) },
    ];
  },
  remove(packages) {
    return [{ argv: whileLocked(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'remove', '-y', '-q', ...packages]) }];
  },
  purge(packages) {
    return [{ argv: whileLocked(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'purge', '-y', '-q', ...packages]) }];
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
    return [{ argv: whileLocked(['apt-get', 'update', '-q']) }, { argv: whileLocked([...noninteractiveInstall, path]) }];
  },
};
