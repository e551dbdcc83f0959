/**
 * EMQX versions and what each one's config accepts. Every switch cites the research notes
 * (docs/emqx.md, "Versions"): key renames, features, and which builds exist.
 */

/** The last Apache-2.0 line: 5.9.0 and later ship under the BSL, whose default license forbids clustering. */
export const defaultEmqxVersion = '5.8.6';
/** 5.8.0 dropped CentOS 7 (#13190); 5.7.2 (2024-08-07) is the last release with an el7 build. */
export const lastEl7EmqxVersion = '5.7.2';
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
  /** 5.9+ is BSL-licensed: its default license allows a single node only. */
  businessSource: boolean;
}

export function emqxFeatures(version: string): EmqxFeatures {
  return {
    version,
    mailboxKey: atLeast(version, '5.0.25') ? 'max_mailbox_size' : 'max_message_queue_len',
    listenerEnableKey: atLeast(version, '5.1.2') ? 'enable' : 'enabled',
    durableSessions: atLeast(version, '5.7.0'),
    singletonDiscovery: atLeast(version, '5.8.0'),
    businessSource: atLeast(version, '5.9.0'),
  };
}

/** True when an installed package version (5.8.6, 5.8.6-1.el9) is the wanted release. */
export function isInstalledVersion(installed: string | null | undefined, wanted: string): boolean {
  if (!installed) return false;
  return installed === wanted || installed.startsWith(`${wanted}-`);
}
