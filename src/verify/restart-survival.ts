import { attemptConnect, describeOutcome } from './mqtt-client.ts';
import { describeShortfall, runRetentionRound } from './retention-round.ts';
import type { VerifyContext } from './verify-context.ts';
import type { VerifyCheck } from './verify-report.ts';

/**
 * Check 4 (only with restartBroker): the same round as offline retention, with a broker restart
 * between the last PUBACK and the subscriber's return, so queued messages must be on disk.
 */
export async function checkRestartSurvival(context: VerifyContext): Promise<VerifyCheck> {
  const name = 'restart survival';
  const restartBroker = context.restartBroker;
  if (!restartBroker) return { name, status: 'skip', detail: context.restartSkipReason };
  const result = await runRetentionRound(context, {
    clientId: context.clientId('sub-restart'),
    countBeforeClientId: context.clientId('sub-before'),
    topic: context.topic('restart'),
    messages: context.messages,
    whileOffline: async () => {
      const startedAt = performance.now();
      context.log('restarting the broker');
      await restartBroker();
      await waitUntilAccepting(context);
      const restartMs = Math.round(performance.now() - startedAt);
      context.log(`the broker accepts connections again after ${restartMs} ms`);
      return { restartMs: restartMs };
    },
  });
  const { figures } = result;
  if (result.missing === 0) {
    return { name, status: 'pass', detail: `all ${result.published} queued QoS 1 messages survived a broker restart`, figures };
  }
  const keptBefore = result.keptBefore ?? result.published;
  if (result.sessionPresent && keptBefore < result.published && result.distinct >= keptBefore) {
    // Counted before the restart: the broker had already dropped these, so the restart lost none.
    return {
      name,
      status: 'fail',
      detail: `${describeShortfall(result)} after a broker restart — the broker kept only ${keptBefore} of ${result.published} before the restart (its queue limit), and all of those survived it; raise max_queued_messages / mqtt.max_mqueue_len`,
      figures,
    };
  }
  const lostInRestart = keptBefore - Math.min(result.distinct, keptBefore);
  const capped = keptBefore < result.published ? `; the broker had kept only ${keptBefore} of ${result.published} before the restart (its queue limit)` : '';
  const why = result.sessionPresent
    ? `${lostInRestart} queued messages were lost in the restart${capped}`
    : 'the offline subscriber\'s session did not survive the restart (session present = 0)';
  return {
    name,
    status: 'fail',
    detail: `${describeShortfall(result)} after a broker restart — ${why}; enable persistence (Mosquitto persistence true, EMQX durable sessions)`,
    figures,
  };
}

/** Polls with short connection attempts until the broker accepts one, bounded by restartTimeoutMs. */
export async function waitUntilAccepting(context: VerifyContext): Promise<void> {
  const deadline = performance.now() + context.restartTimeoutMs;
  const clientId = context.clientId('probe');
  let last = 'no attempt';
  let pause = 100;
  while (performance.now() < deadline) {
    const remaining = deadline - performance.now();
    const outcome = await attemptConnect(
      { ...context.login, connectTimeoutMs: Math.max(500, Math.min(3_000, remaining)) },
      { clientId, clean: true },
    );
    if (outcome.kind === 'accepted') {
      context.usedClientIds.add(clientId);
      await outcome.connection.end();
      return;
    }
    last = describeOutcome(outcome);
    // A refused TCP connection answers at once; back off a little so the poll does not spin.
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - performance.now()))));
    pause = Math.min(pause * 2, 1_000);
  }
  throw new Error(`the broker did not accept connections within ${context.restartTimeoutMs} ms after the restart (last attempt: ${last})`);
}
