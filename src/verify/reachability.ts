import { MessageCollector } from './message-collector.ts';
import { attemptConnect, bounded } from './mqtt-client.ts';
import type { VerifyContext } from './verify-context.ts';
import type { VerifyCheck } from './verify-report.ts';

/**
 * Check 1: the broker answers at `url` with the given login and routes a QoS 1 message from a
 * client back to its own subscription, so the listener is not merely an open port.
 */
export async function checkReachability(context: VerifyContext, listener: 'mqtt' | 'ws' | 'mqtts' | 'wss', url: string): Promise<VerifyCheck> {
  const name = `reachability ${listener}`;
  const who = context.login.username === undefined ? 'an anonymous client' : context.login.username;
  const topic = context.topic(`reach-${listener}`);
  const collector = new MessageCollector(topic, 1);
  const clientId = context.clientId(`reach-${listener}`);
  const outcome = await attemptConnect({ ...context.login, url }, { clientId, clean: true, onMessage: collector.handle });
  if (outcome.kind === 'refused') {
    const hint = context.login.username === undefined ? '; it refuses anonymous clients, so give a username and password' : '';
    return { name, status: 'fail', detail: `${url} answers MQTT but refused ${who}: CONNACK code ${outcome.code} (${outcome.reason})${hint}` };
  }
  if (outcome.kind === 'error') return { name, status: 'fail', detail: `${url} is not reachable: ${outcome.message}` };
  const connection = outcome.connection;
  context.usedClientIds.add(clientId);
  try {
    const grants = await bounded(connection.client.subscribeAsync(topic, { qos: 1 }), 10_000, `no SUBACK for ${topic} within 10000 ms`);
    if ((grants[0]?.qos ?? 0x80) >= 0x80) {
      return { name, status: 'fail', detail: `${url} accepted ${who} but refused its subscription to ${topic} (SUBACK 0x80): ${who}'s ACL does not cover the verify topic; give a prefix it may read and write with --topic-prefix` };
    }
    const sentAt = performance.now();
    await connection.client.publishAsync(topic, '0', { qos: 1 });
    const drain = await collector.wait(connection, { quietMs: context.quietMs, timeoutMs: context.quietMs });
    const figures = { connectMs: Math.round(connection.connectMs) };
    if (!collector.tally.complete) {
      return { name, status: 'fail', detail: `${url} accepted ${who} and its subscription to ${topic}, but its QoS 1 publish there never came back (${drain.end}): ${who}'s ACL may not allow publishing under ${context.topicPrefix} (a broker drops a refused publish silently for MQTT 3.1.1); give a prefix it may read and write with --topic-prefix`, figures };
    }
    return {
      name,
      status: 'pass',
      detail: `${url} accepted ${who} and routed a QoS 1 message back`,
      figures: { ...figures, roundTripMs: Math.round((collector.lastMessageAt ?? sentAt) - sentAt) },
    };
  } catch (error) {
    return { name, status: 'fail', detail: `${url}: ${(error as Error).message}` };
  } finally {
    await connection.end();
  }
}
