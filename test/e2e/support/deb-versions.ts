import type { LabHost } from '../../../src/lab/hosts.ts';
import { onHost } from './lab-fixture.ts';

/**
 * Debian's archive holds one Mosquitto version per release, so upgrade tests get more from a
 * local apt repository on the lab host: the archive's package as it is, the same package under
 * a higher version, and a higher one still whose broker binary fails to start. Test support only.
 */
export const repackScript = `set -eu
repo=/srv/mqtt-provision-test-repo
rm -rf "$repo"; mkdir -p "$repo"; cd "$repo"
apt-get update -q >/dev/null
apt-get download mosquitto >/dev/null 2>&1
orig=$(ls mosquitto_*.deb)
base=$(dpkg-deb -f "$orig" Version)
repack() { # $1 version suffix, $2 "broken" or ""
  work=$(mktemp -d)
  dpkg-deb -R "$orig" "$work/pkg"
  sed -i "s/^Version: .*/Version: $base$1/" "$work/pkg/DEBIAN/control"
  if [ "$2" = broken ]; then
    printf '#!/bin/sh\\necho "mosquitto: simulated broken build $base$1" >&2\\nexit 1\\n' > "$work/pkg/usr/sbin/mosquitto"
    chmod 755 "$work/pkg/usr/sbin/mosquitto"
    # The md5sums no longer match the replaced binary; dpkg does not check them on install.
  fi
  dpkg-deb -b "$work/pkg" "mosquitto_$base$1.deb" >/dev/null
  rm -rf "$work"
}
repack +mp1 ""
repack +mp2 broken
: > Packages
for deb in *.deb; do
  dpkg-deb -f "$deb" >> Packages
  printf 'Filename: ./%s\\nSize: %s\\nSHA256: %s\\n\\n' "$deb" "$(stat -c %s "$deb")" "$(sha256sum "$deb" | cut -d' ' -f1)" >> Packages
done
echo "deb [trusted=yes] file:$repo ./" > /etc/apt/sources.list.d/mqtt-provision-test.list
printf '%s\\n' "$base"`;

export interface DebVersions {
  /** The archive's own version. */
  archive: string;
  /** The same package, a higher version: a real upgrade. */
  upgrade: string;
  /** Higher still, and its broker exits 1 at start. */
  broken: string;
}

export async function localDebVersions(host: LabHost): Promise<DebVersions> {
  const base = (await onHost(host, ['sh', '-c', repackScript])).trim();
  return { archive: base, upgrade: `${base}+mp1`, broken: `${base}+mp2` };
}
