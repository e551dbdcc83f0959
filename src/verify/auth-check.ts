import { randomBytes } from 'node:crypto';
import { Secret } from '../secret.ts';
import { attemptConnect, authRefusalCodes, describeOutcome, type ConnectOutcome } from './mqtt-client.ts';
import type { VerifyContext } from './verify-context.ts';
import type { VerifyCheck } from './verify-report.ts';

/**
 * Check 2 (only with a username): the credentials connect, while an anonymous client and a wrong
 * password are refused with a CONNACK return code; a dropped socket does not count as a refusal.
 */
export async function checkAuth(context: VerifyContext): Promise<VerifyCheck> {
  const name = 'auth';
  const { username, password } = context.login;
  if (username === undefined) {
    return { name, status: 'skip', detail: 'no username given: connected anonymously, so there is no login to check' };
  }
  const problems: string[] = [];
  const notes: string[] = [];

  const own = await attemptTracked(context, 'auth', { username, ...(password ? { password } : {}) });
  if (own.kind === 'accepted') notes.push(`${username} connects`);
  else problems.push(`${username} could not connect: ${describeOutcome(own)}`);

  const anonymous = await attemptTracked(context, 'auth-anon', {});
  judgeRefusal('anonymous', anonymous, notes, problems);

  const wrong = await attemptTracked(context, 'auth-wrong', { username, password: wrongPassword(password) });
  judgeRefusal(`${username} with a wrong password`, wrong, notes, problems);

  if (problems.length > 0) return { name, status: 'fail', detail: problems.join('; ') };
  return { name, status: 'pass', detail: notes.join('; ') };
}

function judgeRefusal(who: string, outcome: ConnectOutcome, notes: string[], problems: string[]): void {
  if (outcome.kind === 'refused' && authRefusalCodes.has(outcome.code)) {
    notes.push(`${who} refused (CONNACK ${outcome.code}, ${outcome.reason})`);
  } else if (outcome.kind === 'accepted') {
    problems.push(`${who} was ACCEPTED: anyone can connect; turn anonymous access off and check the password file`);
  } else {
    problems.push(`${who} was not refused with a CONNACK (expected code 4 or 5): ${describeOutcome(outcome)}`);
  }
}

async function attemptTracked(context: VerifyContext, role: string, credentials: { username?: string; password?: Secret }): Promise<ConnectOutcome> {
  const clientId = context.clientId(role);
  // Same server trust (and client certificate) as every other check; only who logs in differs.
  const { ca, clientCert } = context.login;
  const login = { url: context.login.url, connectTimeoutMs: context.login.connectTimeoutMs, ...(ca ? { ca } : {}), ...(clientCert ? { clientCert } : {}), ...credentials };
  const outcome = await attemptConnect(login, { clientId, clean: true });
  if (outcome.kind === 'accepted') {
    context.usedClientIds.add(clientId);
    await outcome.connection.end();
  }
  return outcome;
}

/** A random password that is certainly not the real one. */
function wrongPassword(real: Secret | undefined): Secret {
  let candidate = `wrong-${randomBytes(12).toString('base64url')}`;
  if (real !== undefined && candidate === real.reveal()) candidate += 'x';
  return new Secret(candidate);
}
