/**
 * EMQX versions and what each one's config accepts. Every switch cites the research notes
 * (docs/emqx.md, "Versions"): key renames, features, and which builds exist.
 */

/** The pinned release of the open-source `emqx` package (Apache-2.0; the 5.8 line is its last). */
export const defaultEmqxVersion = '5.8.6';
/**
 * 5.8.0 is the one release without an el7 build (#13190 dropped it; "fix: release el7 packages
 * again" brought it back in 5.8.1: release.yaml of v5.8.1–v5.8.9 pushes el7 amd64 and arm64).
 */
export const noEl7EmqxVersion = '5.8.0';
/**
 * From 5.9.0 EMQX ships one edition only: tags e5.9.x, packages, files and services named
 * `emqx-enterprise` (emqx-enterprise-5.9.0-el9-amd64.rpm) under the BSL, whose default license
 * forbids clustering. This role installs the open-source `emqx` package, so it refuses 5.9+.
 */
export const enterpriseOnlyFrom = '5.9.0';

/** Why a version cannot be installed by this role, or null. */
export function enterpriseOnlyProblem(version: string): string | null {
  if (!atLeast(version, enterpriseOnlyFrom)) return null;
  return (
    `EMQX ${version} exists only as emqx-enterprise (package, file and service "emqx-enterprise", BSL license): ` +
    'mqtt-provision installs the open-source emqx package, whose last line is 5.8.x; pin 5.8.6 (the default)'
  );
}
/**
 * Before 5.0.23 (#10156) the dashboard's cluster-override.conf overrode emqx.conf, so a managed
 * emqx.conf could be silently undone by a dashboard edit; 5.0.23+ puts emqx.conf on top.
 */
export const minimumEmqxVersion = '5.0.23';

export type Version = readonly [number, number, number];

export function parseEmqxVersion(text: string): Version | null {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:[-.+~][0-9A-Za-z.+~-]*)?$/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export function atLeast(version: string, minimum: string): boolean {
  const a = parseEmqxVersion(version);
  const b = parseEmqxVersion(minimum);
  if (!a || !b) throw new Error(`not an EMQX version: ${a ? minimum : version}`);
  return compareVersions(a, b) >= 0;
}

/** What the config template must say differently per version. */
export interface EmqxFeatures {
  version: string;
  /** force_shutdown.max_mailbox_size since 5.0.25 (#10623); max_message_queue_len before (still an alias). */
  mailboxKey: 'max_mailbox_size' | 'max_message_queue_len';
  /** Listener switch `enable` since 5.1.2 (#11226, "unify the listener switch to enable"); `enabled` before. */
  listenerEnableKey: 'enable' | 'enabled';
  /** durable_sessions exists from 5.7.0. */
  durableSessions: boolean;
  /** cluster.discovery_strategy = singleton exists from 5.8.0, and 5.8 requires it for durable sessions on builtin_local. */
  singletonDiscovery: boolean;
}

export function emqxFeatures(version: string): EmqxFeatures {
  return {
    version,
    mailboxKey: atLeast(version, '5.0.25') ? 'max_mailbox_size' : 'max_message_queue_len',
    listenerEnableKey: atLeast(version, '5.1.2') ? 'enable' : 'enabled',
    durableSessions: atLeast(version, '5.7.0'),
    singletonDiscovery: atLeast(version, '5.8.0'),
  };
}

/** True when an installed package version (5.8.6, 5.8.6-1.el9) is the wanted release. */
export function isInstalledVersion(installed: string | null | undefined, wanted: string): boolean {
  if (!installed) return false;
  return installed === wanted || installed.startsWith(`${wanted}-`);
}
