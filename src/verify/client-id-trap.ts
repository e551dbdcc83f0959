import { randomBytes } from 'node:crypto';
import { MessageCollector } from './message-collector.ts';
import { publishSequence } from './publish-window.ts';
import { connectTracked, type VerifyContext } from './verify-context.ts';
import type { VerifyCheck } from './verify-report.ts';

/**
 * Check 5, the field report's other trap: its Flume source made up a new client id at every start,
 * so the broker's queue for the old id was never read. Shown, not failed: it is the consumer's bug,
 * not the broker's. The fixed id's session is drained afterwards so nothing is left queued.
 */
export async function checkClientIdTrap(context: VerifyContext): Promise<VerifyCheck> {
  const name = 'client-id trap';
  const topic = context.topic('trap');
  const count = context.trapMessages;
  const fixedId = context.clientId('sub-trap');
  const newId = context.clientId(randomBytes(4).toString('hex'));

  const subscriber = await connectTracked(context, { clientId: fixedId, clean: false });
  try {
    await subscriber.subscribe(topic, 1);
  } finally {
    await subscriber.end();
  }
  const publisher = await connectTracked(context, { clientId: context.clientId('pub'), clean: true });
  try {
    await publishSequence(publisher, topic, count, { window: count, timeoutMs: context.timeoutMs });
  } finally {
    await publisher.end();
  }

  // A consumer with a new id (clean session off, like the Flume source) subscribes after the fact.
  const stranger = new MessageCollector(topic, count);
  const newcomer = await connectTracked(context, { clientId: newId, clean: false, onMessage: stranger.handle });
  try {
    await newcomer.subscribe(topic, 1);
    await stranger.wait(newcomer, { quietMs: context.quietMs, timeoutMs: context.quietMs });
  } finally {
    await newcomer.end();
  }

  // The fixed id drains what was kept for it.
  const owner = new MessageCollector(topic, count);
  const returning = await connectTracked(context, { clientId: fixedId, clean: false, onMessage: owner.handle });
  try {
    await owner.wait(returning, { quietMs: context.quietMs, timeoutMs: context.timeoutMs });
  } finally {
    await returning.end();
  }

  const received = stranger.tally.distinct;
  const kept = owner.tally.distinct;
  context.log(`a new client id received ${received} of ${count}; the fixed id received ${kept} of ${count}`);
  return {
    name,
    status: 'warn',
    detail:
      `a consumer that connects with a new client id (as the field report's Flume source did) received ${received} of ${count} ` +
      `messages published while it was away, while the fixed id with clean session off received ${kept} of ${count}: ` +
      'consumers must use a fixed client id and clean session off, or the broker keeps their messages for a session nobody reads',
    figures: { published: count, newIdReceived: received, fixedIdReceived: kept },
  };
}
