import { attemptConnect, describeOutcome } from './mqtt-client.ts';
import type { VerifyContext } from './verify-context.ts';
import type { VerifyCheck } from './verify-report.ts';

/**
 * Check 6: every client id the run used connects once with clean session on and disconnects,
 * which discards its session and anything still queued, so a verify leaves nothing behind.
 */
export async function cleanUpSessions(context: VerifyContext): Promise<VerifyCheck> {
  const name = 'cleanup';
  const ids = [...context.usedClientIds].sort();
  const failures: string[] = [];
  for (const clientId of ids) {
    const outcome = await attemptConnect(context.login, { clientId, clean: true });
    if (outcome.kind === 'accepted') await outcome.connection.end();
    else failures.push(`${clientId}: ${describeOutcome(outcome)}`);
  }
  const figures = { sessionsCleaned: ids.length - failures.length };
  if (failures.length > 0) {
    return { name, status: 'fail', detail: `could not end ${failures.length} of ${ids.length} sessions, which stay on the broker: ${failures.join('; ')}`, figures };
  }
  return { name, status: 'pass', detail: `ended the sessions of all ${ids.length} client ids mp-verify-${context.runId}-*`, figures };
}
