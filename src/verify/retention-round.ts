import { MessageCollector, type DrainEnd } from './message-collector.ts';
import { publishSequence } from './publish-window.ts';
import { describeRanges } from './sequence-tally.ts';
import type { BrokerLogin } from './mqtt-client.ts';
import { connectTracked, type VerifyContext } from './verify-context.ts';

export interface RetentionRoundOptions {
  /** Fixed client id of the offline subscriber. */
  clientId: string;
  topic: string;
  messages: number;
  /** Who the subscriber logs in as (default: the verifier's login); a consumer's own user walks its real ACL path. */
  login?: BrokerLogin;
  /** What the subscriber subscribes to (default: `topic` at QoS 1); `topic` must match one of them. */
  subscriptions?: Array<{ topic: string; qos: 0 | 1 | 2 }>;
  /** Runs after every publish was acknowledged and before the subscriber comes back (a broker restart). */
  whileOffline?: () => Promise<Record<string, number>>;
  /**
   * A second offline subscriber to the same messages that comes back before whileOffline: what
   * it receives is what the broker kept before the restart, so a queue cap is not blamed on it.
   */
  countBeforeClientId?: string;
}

export interface RetentionRoundResult {
  published: number;
  distinct: number;
  duplicates: number;
  missing: number;
  /** Missing sequence numbers as text, e.g. "1000-4999". */
  missingText: string;
  /** The broker's CONNACK "session present" flag when the subscriber came back. */
  sessionPresent: boolean;
  drainEnd: DrainEnd;
  /** What the countBefore subscriber received (the broker's queue before whileOffline), when one was asked for. */
  keptBefore?: number;
  figures: Record<string, number>;
}

/**
 * Subscribe with clean session off → disconnect → publish N QoS 1 messages → (whileOffline) →
 * reconnect with the same client id and count what the broker kept. Shared by the offline
 * retention and restart survival checks.
 */
export async function runRetentionRound(context: VerifyContext, options: RetentionRoundOptions): Promise<RetentionRoundResult> {
  const startedAt = performance.now();
  const { clientId, topic, messages } = options;

  const login = options.login ?? context.login;
  const subscriptions = options.subscriptions ?? [{ topic, qos: 1 as const }];
  for (const id of [clientId, ...(options.countBeforeClientId ? [options.countBeforeClientId] : [])]) {
    const subscriber = await connectTracked(context, { clientId: id, clean: false }, login);
    try {
      for (const subscription of subscriptions) {
        const granted = await subscriber.subscribe(subscription.topic, subscription.qos);
        if (granted < 1) throw new Error(`the broker granted QoS ${granted} instead of ${subscription.qos} on ${subscription.topic}, so it will not queue for an offline subscriber`);
      }
    } finally {
      await subscriber.end();
    }
  }
  context.log(`${clientId} subscribed to ${subscriptions.map((entry) => entry.topic).join(', ')} (clean session off) and went offline; publishing ${messages} QoS 1 messages`);

  const publisher = await connectTracked(context, { clientId: context.clientId('pub'), clean: true });
  let publishMs: number;
  try {
    ({ durationMs: publishMs } = await publishSequence(publisher, topic, messages, { window: context.publishWindow, timeoutMs: context.timeoutMs }));
  } finally {
    await publisher.end();
  }
  context.log(`the broker acknowledged ${messages} publishes in ${Math.round(publishMs)} ms`);

  let keptBefore: number | undefined;
  if (options.countBeforeClientId) {
    const before = await drainSession(context, options.countBeforeClientId, topic, messages, login);
    keptBefore = before.collector.tally.distinct;
    context.log(`${options.countBeforeClientId} came back before the restart and received ${keptBefore} of ${messages}`);
  }

  const extraFigures = options.whileOffline ? await options.whileOffline() : {};

  const { collector, comeback, drain } = await drainSession(context, clientId, topic, messages, login);
  const { tally } = collector;
  context.log(`${clientId} came back (session present: ${comeback.sessionPresent ? 1 : 0}) and received ${tally.distinct} of ${messages} (${drain.end})`);

  return {
    published: messages,
    distinct: tally.distinct,
    duplicates: tally.duplicates,
    missing: tally.missing,
    missingText: describeRanges(tally.missingRanges()),
    sessionPresent: comeback.sessionPresent,
    drainEnd: drain.end,
    ...(keptBefore === undefined ? {} : { keptBefore }),
    figures: {
      ...(keptBefore === undefined ? {} : { keptBeforeRestart: keptBefore }),
      published: messages,
      receivedDistinct: tally.distinct,
      duplicates: tally.duplicates,
      missing: tally.missing,
      publishPerSecond: rate(messages, publishMs),
      drainPerSecond: rate(tally.distinct, drain.drainMs),
      wallMs: Math.round(performance.now() - startedAt),
      ...extraFigures,
    },
  };
}

/** Reconnects a persistent session and counts what the broker kept for it. */
async function drainSession(context: VerifyContext, clientId: string, topic: string, messages: number, login: BrokerLogin) {
  const collector = new MessageCollector(topic, messages);
  const comeback = await connectTracked(context, { clientId, clean: false, onMessage: collector.handle }, login);
  let drain;
  try {
    drain = await collector.wait(comeback, { quietMs: context.quietMs, timeoutMs: context.timeoutMs });
  } finally {
    await comeback.end();
  }
  return { collector, comeback, drain };
}

function rate(count: number, milliseconds: number): number {
  if (count === 0) return 0;
  return Math.round((count * 1000) / Math.max(milliseconds, 1));
}

/** "received 1000 of 5000 …" or "all 5000 …", plus duplicates and how the wait ended. */
export function describeShortfall(result: RetentionRoundResult): string {
  const parts = [`received ${result.distinct} of ${result.published}`];
  if (result.missing > 0) parts.push(`missing ${result.missingText}`);
  if (result.duplicates > 0) parts.push(`${result.duplicates} duplicate${result.duplicates === 1 ? '' : 's'}`);
  if (result.drainEnd === 'closed') parts.push('the broker closed the subscriber\'s connection while it drained');
  if (result.drainEnd === 'timeout') parts.push('the drain timed out');
  return parts.join(', ');
}
