import type { Secret } from '../secret.ts';
import type { Settings } from '../settings/load.ts';
import { attemptConnect, describeOutcome, type BrokerLogin } from './mqtt-client.ts';
import { describeShortfall, runRetentionRound } from './retention-round.ts';
import type { VerifyContext } from './verify-context.ts';
import type { VerifyCheck } from './verify-report.ts';

/** A consumer as the verifier sees it: who it logs in as, its fixed client id, what it subscribes. */
export interface ConsumerProbe {
  name: string;
  clientId: string;
  username: string;
  password: Secret;
  topics: Array<{ topic: string; qos: 0 | 1 | 2 }>;
}

/** The settings' consumers as verify probes: own client id, own user, own topics. */
export function consumerProbes(settings: Pick<Settings, 'consumers'>): ConsumerProbe[] {
  return settings.consumers.map((consumer) => ({ name: consumer.name, clientId: consumer.clientId, username: consumer.name, password: consumer.password, topics: consumer.topics }));
}

/**
 * A topic the consumer's first filter matches: each wildcard level becomes this run's own level,
 * so only an exact-topic consumer receives the test messages on the topic it really uses.
 */
export function probeTopic(filter: string, runId: string): string {
  return filter
    .split('/')
    .map((level) => (level === '+' || level === '#' ? `mp-verify-${runId}` : level))
    .join('/');
}

/**
 * The offline-retention check with a consumer's own client id, user and subscriptions: it proves
 * the broker lets that user subscribe (its ACL), keeps that client id's session while it is
 * offline, and hands back all N QoS 1 messages (published by the verifier's admin). Afterwards
 * the session is ended with the consumer's own login (clean session), so nothing stays queued.
 */
export async function checkConsumerRetention(context: VerifyContext, consumer: ConsumerProbe): Promise<VerifyCheck> {
  const name = `consumer ${consumer.name} retention`;
  const login: BrokerLogin = { ...context.login, username: consumer.username, password: consumer.password };
  const topic = probeTopic(consumer.topics[0]!.topic, context.runId);
  let result;
  try {
    result = await runRetentionRound(context, { clientId: consumer.clientId, topic, messages: context.messages, login, subscriptions: consumer.topics });
  } finally {
    const cleanup = await attemptConnect(login, { clientId: consumer.clientId, clean: true });
    if (cleanup.kind === 'accepted') {
      await cleanup.connection.end();
      // Ended here with the consumer's own login; the run's cleanup need not touch it again.
      context.usedClientIds.delete(consumer.clientId);
    } else {
      context.log(`could not end the session of ${consumer.clientId}: ${describeOutcome(cleanup)}`);
    }
  }
  const { figures } = result;
  const who = `client id ${consumer.clientId}, user ${consumer.username}, subscribed to ${consumer.topics.map((entry) => entry.topic).join(', ')}`;
  if (result.missing === 0) {
    return { name, status: 'pass', detail: `all ${result.published} QoS 1 messages published on ${topic} while the consumer was offline arrived (${who})`, figures };
  }
  return { name, status: 'fail', detail: `${describeShortfall(result)} (${who})${result.sessionPresent ? '' : ' — the broker did not keep the session (session present = 0)'}`, figures };
}
