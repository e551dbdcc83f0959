import type { Settings } from '../../settings/load.ts';
import { clientUsers } from '../../settings/load.ts';
import { renderAclRules } from './acl.ts';
import { isStaticCluster } from './cluster.ts';
import { wantedEmqxVersion } from './package-source.ts';
import { emqxFeatures } from './version.ts';

/**
 * What an EMQX render cannot show in emqx.conf, and what persistence means on EMQX. Pure: used by
 * --render-to (a review file and warnings), the install front door (warnings) and emqx.conf.
 */

/** Not a file on the host: --render-to writes it beside emqx.conf for review. */
export const reviewFileName = 'emqx-api-objects.review.txt';

/**
 * `persistence.enabled` promises on both brokers that a restart loses no session and no queued
 * message. On EMQX that is durable sessions (5.7+), which the Community Edition keeps on one node
 * only (builtin_local), so a static cluster cannot have them. `emqx.durableSessions` asks for the
 * same thing explicitly (and is an input error where it cannot be had).
 */
export function emqxDurableSessions(settings: Settings, version: string): boolean {
  const wanted = settings.persistence.enabled || settings.emqx.durableSessions;
  return wanted && emqxFeatures(version).durableSessions && !isStaticCluster(settings);
}

/** Said at render and before an install: where persistence.enabled cannot keep its promise on EMQX. */
export function emqxPersistenceWarnings(settings: Settings): string[] {
  if (settings.broker !== 'emqx' || !settings.persistence.enabled) return [];
  const { version } = wantedEmqxVersion(settings, null);
  if (!emqxFeatures(version).durableSessions) {
    return [`settings.persistence.enabled: EMQX ${version} has no durable sessions (5.7+), so a restart of the broker drops every session and queued message; use EMQX 5.7 or later to keep them`];
  }
  if (isStaticCluster(settings)) {
    return ['settings.persistence.enabled: durable sessions of the EMQX Community Edition keep to one node (builtin_local) and EMQX refuses them in a cluster, so a restart of a node drops the sessions and queued messages it holds'];
  }
  return [];
}

/**
 * Users and ACL rules go through EMQX's REST API, not emqx.conf: this lists them for review, with
 * no password and no hash. The rules are exactly the text the ACL step puts in the file source.
 */
export function emqxReviewText(settings: Settings): string {
  const users = clientUsers(settings);
  const lines = [
    '# Review only: not a file on the host. mqtt-provision sets these through the EMQX REST API',
    '# (built-in database authenticator and the file authorization source). No passwords here.',
    '',
    '# Dashboard admins and MQTT superusers (skip the ACL rules):',
    ...settings.admins.map((admin) => `admin ${admin.name}`),
    '',
    '# MQTT users and what their rules allow (a user with no rules may use every topic):',
    ...(users.length === 0 ? ['(none)'] : users.map((user) => `user ${user.name}: ${user.acl.length === 0 ? 'all topics' : user.acl.map((rule) => `${rule.access} ${rule.topic}`).join(', ')}`)),
    '',
    '# ACL rules (file authorization source, first match wins; refused publishes are dropped silently):',
    renderAclRules(settings).trimEnd(),
  ];
  return `${lines.join('\n')}\n`;
}
