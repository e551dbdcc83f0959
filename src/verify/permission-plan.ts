import type { Secret } from '../secret.ts';

/**
 * The pure half of the permissions check: from a user's configured ACL (settings.users[].acl), which
 * concrete topics to try and what the broker must answer on each, and how to judge what happened.
 * No broker here; permissions.ts does the MQTT.
 */

export interface PermissionRule {
  topic: string;
  access: 'read' | 'write' | 'readwrite';
}

/** A configured user as the check needs it. */
export interface PermissionUser {
  name: string;
  password: Secret;
  /** Empty: the user may read and write every topic (both brokers' rule for a user without rules). */
  acl: PermissionRule[];
}

export interface PermissionProbe {
  topic: string;
  /** What the settings allow this user on the topic. */
  publish: boolean;
  subscribe: boolean;
  /** Where the expectation comes from, for the report: the rule, or "no rule matches". */
  because: string;
}

/** What happened on one topic: the publish (seen by a subscriber that may read it) and the subscription. */
export interface PermissionOutcome {
  topic: string;
  /** The user's QoS 1 publish reached the observer within the bound. */
  delivered: boolean;
  /** MQTT 5 PUBACK reason code, when the broker gave one of 0x80 or above (e.g. 0x87 Not authorized). */
  pubackCode?: number;
  /** SUBACK return code of the user's subscription (0x80: refused; Mosquitto 2.0 grants it and filters per message). */
  subackCode: number;
  /** After a granted subscription: the observer's message reached the user. */
  received: boolean;
}

/** MQTT topic-filter matching ([MQTT-4.7]): `+` one level, `#` the rest (also the parent); `$` topics only by explicit filters. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && !filter.startsWith('$')) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i += 1) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A topic the filter matches, unique to this run: `#` → `mp-verify-<run>`, `+` → `mp-verify`. Null for `$` topics. */
export function concreteTopic(filter: string, runId: string): string | null {
  if (filter.startsWith('$')) return null;
  const levels = filter.split('/').map((level) => (level === '#' ? `mp-verify-${runId}` : level === '+' ? 'mp-verify' : level));
  // A filter without `#` names one topic (or one per `+`): still unique enough, the payload carries the run id.
  return levels.join('/');
}

/** What the rules allow on a topic: the union of every matching rule (Mosquitto and EMQX's allow-lists agree). */
export function expectedAccess(acl: readonly PermissionRule[], topic: string): Omit<PermissionProbe, 'topic'> {
  if (acl.length === 0) return { publish: true, subscribe: true, because: 'no rules: every topic' };
  const matching = acl.filter((rule) => topicMatches(rule.topic, topic));
  if (matching.length === 0) return { publish: false, subscribe: false, because: 'no rule matches' };
  return {
    publish: matching.some((rule) => rule.access !== 'read'),
    subscribe: matching.some((rule) => rule.access !== 'write'),
    because: matching.map((rule) => `${rule.access} ${rule.topic}`).join(', '),
  };
}

/**
 * One topic per rule (inside it) and one outside every rule, under the verify prefix: so each rule's
 * allowance and what no rule gives are both tried. Expectations come from all rules together.
 */
export function permissionProbes(user: PermissionUser, runId: string, topicPrefix: string): PermissionProbe[] {
  const topics = new Set<string>();
  for (const rule of user.acl) {
    const topic = concreteTopic(rule.topic, runId);
    if (topic !== null) topics.add(topic);
  }
  topics.add(`${topicPrefix}/${runId}/acl-${user.name.replace(/[+#/\0]/g, '_')}`);
  return [...topics].map((topic) => ({ topic, ...expectedAccess(user.acl, topic) }));
}

const hex = (code: number): string => `0x${code.toString(16).padStart(2, '0')}`;

/** Problems (each naming the user and the topic) and notes, from what the broker did on each probe. */
export function judgePermissions(user: string, probes: readonly PermissionProbe[], outcomes: readonly PermissionOutcome[]): { problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  for (const probe of probes) {
    const outcome = outcomes.find((entry) => entry.topic === probe.topic);
    if (!outcome) {
      problems.push(`${user} on ${probe.topic}: not tried`);
      continue;
    }
    const settingsSay = `settings: ${probe.because}`;
    if (probe.publish && !outcome.delivered) {
      const why = outcome.pubackCode !== undefined ? `PUBACK ${hex(outcome.pubackCode)}` : 'nothing arrived';
      problems.push(`${user} may not publish to ${probe.topic} (${why}), though the settings allow it (${settingsSay})`);
    } else if (!probe.publish && outcome.delivered) {
      problems.push(`${user} published to ${probe.topic} and it was delivered, though the settings deny it (${settingsSay}): the broker's ACL grants more than configured`);
    } else if (probe.publish) {
      notes.push(`${user} publishes to ${probe.topic}`);
    } else {
      notes.push(`${user}'s publish to ${probe.topic} refused (${outcome.pubackCode !== undefined ? `PUBACK ${hex(outcome.pubackCode)}` : 'not delivered; MQTT 3.1.1 says nothing'})`);
    }
    const refused = outcome.subackCode >= 0x80;
    if (probe.subscribe && (refused || !outcome.received)) {
      const why = refused ? `SUBACK ${hex(outcome.subackCode)}` : 'subscribed, but a message published there did not arrive';
      problems.push(`${user} may not read ${probe.topic} (${why}), though the settings allow it (${settingsSay})`);
    } else if (!probe.subscribe && outcome.received) {
      problems.push(`${user} subscribed to ${probe.topic} (SUBACK ${hex(outcome.subackCode)}) and received a message published there, though the settings deny it (${settingsSay}): the broker's ACL grants more than configured`);
    } else if (probe.subscribe) {
      notes.push(`${user} reads ${probe.topic}`);
    } else if (refused) {
      notes.push(`${user}'s subscription to ${probe.topic} refused (SUBACK ${hex(outcome.subackCode)})`);
    } else {
      // Mosquitto 2.0 grants the subscription and checks read access per message instead.
      notes.push(`${user} may subscribe to ${probe.topic} (SUBACK ${hex(outcome.subackCode)}) but receives nothing published there`);
    }
  }
  return { problems, notes };
}
