import { describeShortfall, runRetentionRound } from './retention-round.ts';
import type { VerifyContext } from './verify-context.ts';
import type { VerifyCheck } from './verify-report.ts';

/**
 * Check 3, the field report's failure: QoS 1 messages published while a clean-session-off
 * subscriber is offline must all wait for it. Stock brokers keep 1000 and drop the rest silently.
 */
export async function checkOfflineRetention(context: VerifyContext): Promise<VerifyCheck> {
  const name = 'offline retention';
  const result = await runRetentionRound(context, {
    clientId: context.clientId('sub'),
    topic: context.topic('retention'),
    messages: context.messages,
  });
  const { figures } = result;
  if (result.missing === 0) {
    const duplicates = result.duplicates > 0 ? ` (${result.duplicates} redelivered twice, which QoS 1 allows)` : '';
    return {
      name,
      status: 'pass',
      detail: `all ${result.published} QoS 1 messages published while the subscriber was offline arrived when it came back${duplicates}`,
      figures,
    };
  }
  if (!result.sessionPresent) {
    return {
      name,
      status: 'fail',
      detail: `${describeShortfall(result)} — the broker did not keep the offline subscriber's session (session present = 0); enable persistent sessions (Mosquitto persistent_client_expiration, EMQX session_expiry_interval)`,
      figures,
    };
  }
  return {
    name,
    status: 'fail',
    detail: `${describeShortfall(result)} — the broker dropped messages for the offline subscriber; raise max_queued_messages / mqtt.max_mqueue_len`,
    figures,
  };
}
