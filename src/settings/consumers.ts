import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Secret } from '../secret.ts';
import { InputError } from './input-error.ts';

/**
 * `consumers:` — the subscribers that must not lose messages (the field report's Flume source).
 * Each gets a fixed client id, an MQTT user that may read exactly its topics, and a rendered
 * config for its kind. The field report's loss was a source that drew a new client id on every
 * start while asking for a persistent session: the queued messages stayed behind in the old one.
 */

/** Client ids every broker and every consumer config format takes without quoting (MQTT allows more; brokers cap at 65535 bytes). */
export const clientIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** MQTT 3.1.1 §4.7.1: "+" and "#" fill a whole level, "#" only the last one. */
function wildcardsStandAlone(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every((level, index) => !/[+#]/.test(level) || level === '+' || (level === '#' && index === levels.length - 1));
}

const topicFilter = z
  .string()
  .min(1)
  .max(512)
  .refine((value) => !/[\0\r\n]/.test(value), 'must not contain NUL or line breaks')
  .refine(wildcardsStandAlone, 'wildcards must fill a whole level ("+" in any level, "#" only as the last)');

/** A topic as a plain string (QoS 1) or `{ topic, qos }`; a string is made an object first, so errors name `topic` or `qos`. */
const consumerTopic = z.preprocess(
  (value) => (typeof value === 'string' ? { topic: value } : value),
  z
    .object({
      topic: topicFilter,
      /** 1 by default: a QoS 0 subscription downgrades every message to "at most once". */
      qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    })
    .strict(),
);

export const consumerSchema = z
  .object({
    /** Also the MQTT user name of the consumer. */
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'must start with a letter and hold only letters, digits, "_", "." or "-" (at most 64)'),
    kind: z.enum(['flume', 'telegraf', 'generic']),
    /** Fixed MQTT client id; when absent one is derived from the broker kind and the name, so every run gives the same. */
    clientId: z.string().regex(clientIdPattern, 'must be 1–128 characters of A-Z a-z 0-9 _ . : - (starting with a letter or digit)').optional(),
    topics: z.array(consumerTopic).min(1, 'needs at least one topic'),
    password: z.string().min(1).max(256).refine((value) => !/[\0\r\n]/.test(value), 'must not contain NUL or line breaks').optional(),
    passwordFile: z.string().min(1).optional(),
    /** Longest the consumer may be down; warned about when the broker's session expiry is shorter. */
    maxOfflineSeconds: z.number().int().min(0).max(4294967295).optional(),
    /** Messages that pile up while it is down; warned about when the broker queues fewer per client. */
    expectedBacklog: z.number().int().min(0).max(1_000_000_000).optional(),
    /** Rendered configs reference the password (a 0600 file or an environment variable); `true` writes it into them. */
    inlinePassword: z.boolean().default(false),
  })
  .strict();

export type ConsumerInput = z.input<typeof consumerSchema>;
type ParsedConsumer = z.output<typeof consumerSchema>;

/** A consumer after validation: client id fixed, password read. */
export interface Consumer extends Omit<ParsedConsumer, 'password' | 'passwordFile' | 'clientId'> {
  clientId: string;
  password: Secret;
}

/**
 * The client id of a consumer without one: its name plus 8 hex digits of sha256("broker/name").
 * Deterministic, so no random is drawn while planning and every run (and every host) gives the
 * same id: the session that holds the queued messages is the one the consumer comes back to.
 */
export function derivedClientId(broker: string, name: string): string {
  return `${name}-${createHash('sha256').update(`${broker}/${name}`).digest('hex').slice(0, 8)}`;
}

/** The environment variable a rendered config reads the consumer's password from. */
export function passwordVariable(consumer: Pick<Consumer, 'name'>): string {
  return `MQTT_PASSWORD_${consumer.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Resolves `consumers:` (passwords through `readPassword`, the same reader as users'); checks
 * what the schema cannot: a Flume MQTT source subscribes one topic with one client id, and client
 * ids must be unique or two consumers would take each other's session over.
 */
export function resolveConsumers(
  entries: ParsedConsumer[],
  broker: string,
  readPassword: (entry: { password?: string | undefined; passwordFile?: string | undefined }, field: string) => Secret | undefined,
  errors: InputError[],
): Consumer[] {
  const consumers: Consumer[] = [];
  const clientIds = new Map<string, string>();
  entries.forEach((entry, index) => {
    const field = `settings.consumers[${index}]`;
    const { password: _password, passwordFile: _file, clientId: given, ...rest } = entry;
    if (entry.kind === 'flume' && entry.topics.length !== 1) {
      errors.push(new InputError(`${field}.topics`, `a Flume MQTT source subscribes one topic with one client id; declare one consumer per topic (got ${entry.topics.length})`));
    }
    const seenTopics = new Set<string>();
    entry.topics.forEach(({ topic }, topicIndex) => {
      if (seenTopics.has(topic)) errors.push(new InputError(`${field}.topics[${topicIndex}]`, `"${topic}" is listed twice`));
      seenTopics.add(topic);
    });
    const clientId = given ?? derivedClientId(broker, entry.name);
    const other = clientIds.get(clientId);
    if (other !== undefined) {
      errors.push(new InputError(`${field}.clientId`, `"${clientId}" is already the client id of consumer "${other}"; two clients with one id throw each other off the broker`));
    }
    clientIds.set(clientId, entry.name);
    if (clientId.startsWith('mp-verify-')) errors.push(new InputError(`${field}.clientId`, 'must not start with "mp-verify-": the verifier ends those sessions'));
    const password = readPassword(entry, field);
    if (password) consumers.push({ ...rest, clientId, password });
  });
  return consumers;
}

/** The MQTT users the consumers get: each may read exactly its topics (rules of the same kind as `users[].acl`). */
export function consumerUsers(consumers: Consumer[]): Array<{ name: string; password: Secret; acl: Array<{ topic: string; access: 'read' }> }> {
  return consumers.map((consumer) => ({
    name: consumer.name,
    password: consumer.password,
    acl: consumer.topics.map(({ topic }) => ({ topic, access: 'read' as const })),
  }));
}
