import { basename } from 'node:path';
import type { HostFacts } from '../../facts/host-facts.ts';
import type { OsFamily } from '../../os/os-family.ts';
import type { Settings } from '../../settings/load.ts';
import { emqxLayout as layout } from './layout.ts';
import { defaultEmqxVersion, noEl7EmqxVersion } from './version.ts';

/** Distribution tags EMQX builds packages for (build_packages.yaml of v5.7.2–v5.8.9; el7 skips 5.8.0 only). */
export const emqxPlatforms = ['el7', 'el8', 'el9', 'debian11', 'debian12', 'ubuntu20.04', 'ubuntu22.04', 'ubuntu24.04'] as const;

const archByMachine: Record<string, 'amd64' | 'arm64'> = { x86_64: 'amd64', amd64: 'amd64', aarch64: 'arm64', arm64: 'arm64' };

/** The package for one host: downloaded from EMQX or uploaded from the controller. */
export interface EmqxPackage {
  version: string;
  /** Where the file is put on the host before `dnf`/`apt-get` installs it. */
  hostPath: string;
  source: { kind: 'download'; url: string } | { kind: 'upload'; localPath: string };
  /** Why this version, when it is not simply the setting. */
  note?: string;
}

/** The official file name pattern, e.g. emqx-5.8.6-el9-amd64.rpm or emqx-5.8.6-ubuntu22.04-arm64.deb. */
const officialName = /^emqx-(\d+\.\d+\.\d+)-(el\d+|debian\d+|ubuntu\d+\.\d+)-(amd64|arm64)\.(rpm|deb)$/;
/** packagecloud's names (emqx_5.8.6_amd64.deb, emqx-5.3.0-1.el8.x86_64.rpm) still start with the version. */
const anyName = /^emqx[-_](\d+\.\d+\.\d+)[-_.]/;

/** Reads the version from a package file name; null when the name does not say. */
export function versionFromPackageName(path: string): string | null {
  const name = basename(path);
  return officialName.exec(name)?.[1] ?? anyName.exec(name)?.[1] ?? null;
}

export function emqxArch(facts: HostFacts): 'amd64' | 'arm64' {
  const arch = archByMachine[facts.arch ?? ''];
  if (!arch) throw new Error(`EMQX publishes packages for x86_64 and aarch64 only; this host reports "${facts.arch ?? 'no architecture'}"`);
  return arch;
}

/** The EMQX version a host gets: the setting, the uploaded file's, or the pinned default (el7 too). */
export function wantedEmqxVersion(settings: Settings, _releaseTag: string | null): { version: string; note?: string } {
  if (settings.version) return { version: settings.version };
  if (settings.emqx.package) {
    const version = versionFromPackageName(settings.emqx.package);
    if (version) return { version };
  }
  return { version: defaultEmqxVersion };
}

/**
 * Picks the package for a host from its facts. Throws with the reason when EMQX has no build for it
 * (an error the run reports for this host alone, before anything is changed).
 */
export function chooseEmqxPackage(os: OsFamily, facts: HostFacts, settings: Settings): EmqxPackage {
  const tag = os.releaseTag(facts);
  const { version, note } = wantedEmqxVersion(settings, tag);
  const upload = settings.emqx.package;
  if (upload) {
    const name = basename(upload);
    if (!name.endsWith(`.${os.packageFormat}`)) {
      throw new Error(`--package ${name} is not a .${os.packageFormat}, which ${facts.os.prettyName || facts.os.id} installs`);
    }
    const official = officialName.exec(name);
    if (official && tag && official[2] !== tag) throw new Error(`--package ${name} is built for ${official[2]}, but this host is ${tag}`);
    if (official && facts.arch && official[3] !== emqxArch(facts)) throw new Error(`--package ${name} is built for ${official[3]}, but this host is ${facts.arch}`);
    return { version, hostPath: `${layout.packageCacheDir}/${name}`, source: { kind: 'upload', localPath: upload }, ...(note ? { note } : {}) };
  }
  if (!tag || !(emqxPlatforms as readonly string[]).includes(tag)) {
    throw new Error(
      `EMQX publishes no package for ${facts.os.prettyName || facts.os.id || 'this OS'} (${tag ?? 'no release tag'}); ` +
        `builds exist for ${emqxPlatforms.join(', ')}. Upload a package that runs here with --package FILE`,
    );
  }
  if (tag === 'el7' && version === noEl7EmqxVersion) {
    throw new Error(`EMQX ${version} has no el7 build (the only release without one); pin 5.8.1 or later, or 5.7.2, or upload a package with --package`);
  }
  const arch = emqxArch(facts);
  const file = `emqx-${version}-${tag}-${arch}.${os.packageFormat}`;
  return {
    version,
    hostPath: `${layout.packageCacheDir}/${file}`,
    source: { kind: 'download', url: `https://www.emqx.com/en/downloads/broker/${version}/${file}` },
    ...(note ? { note } : {}),
  };
}
