import { checkAuth } from './auth-check.ts';
import { cleanUpSessions } from './cleanup.ts';
import { checkClientIdTrap } from './client-id-trap.ts';
import { checkConsumerRetention } from './consumer-retention.ts';
import { checkOfflineRetention } from './offline-retention.ts';
import { checkPermissions } from './permissions.ts';
import { checkReachability } from './reachability.ts';
import { checkRestartSurvival } from './restart-survival.ts';
import { createContext, type VerifyContext, type VerifyOptions } from './verify-context.ts';
import { buildReport, type VerifyCheck, type VerifyReport } from './verify-report.ts';

export type { VerifyOptions } from './verify-context.ts';
export type { CheckStatus, VerifyCheck, VerifyReport } from './verify-report.ts';
export { formatVerifyReport } from './verify-report.ts';

/**
 * Proves against a live broker what the field report needed: it is reachable, refuses strangers,
 * keeps every QoS 1 message for an offline clean-session-off subscriber (and across a restart),
 * and shows the new-client-id trap. Never throws for a broker problem: every finding is a check.
 */
export async function verifyBroker(options: VerifyOptions): Promise<VerifyReport> {
  const context = createContext(options);
  const checks: VerifyCheck[] = [];
  const run = async (name: string, check: (context: VerifyContext) => Promise<VerifyCheck>): Promise<VerifyCheck> => {
    let result: VerifyCheck;
    try {
      result = await check(context);
    } catch (error) {
      result = { name, status: 'fail', detail: error instanceof Error ? error.message : String(error) };
    }
    checks.push(result);
    context.log(`${result.status.toUpperCase()} ${result.name}`);
    return result;
  };

  const others = [context.wsUrl, context.mqttsUrl, context.wssUrl].filter((url) => url !== undefined && url !== context.login.url);
  context.log(`checking ${context.login.url}${others.length > 0 ? ` and ${others.join(', ')}` : ''} with ${context.messages} messages`);
  const allChecks = async (): Promise<void> => {
    // Labelled by the URL's scheme: the main URL may be mqtts:// or ws:// when no plain listener is served.
    const mainLabel = `reachability ${urlScheme(context.login.url)}`;
    const reachable = await run(mainLabel, (ctx) => checkReachability(ctx, urlScheme(ctx.login.url), ctx.login.url));
    const wsUrl = context.wsUrl;
    if (wsUrl !== undefined) await run(`reachability ${urlScheme(wsUrl)}`, (ctx) => checkReachability(ctx, urlScheme(wsUrl), wsUrl));
    const { mqttsUrl, wssUrl } = context;
    if (mqttsUrl !== undefined && mqttsUrl !== context.login.url) await run('reachability mqtts', (ctx) => checkReachability(ctx, 'mqtts', mqttsUrl));
    if (wssUrl !== undefined && wssUrl !== context.login.url) await run('reachability wss', (ctx) => checkReachability(ctx, 'wss', wssUrl));
    // Over SSH, not MQTT: runs whatever the listeners said.
    const clusterMembership = options.clusterMembership;
    if (clusterMembership) await run('cluster membership', () => clusterMembership());
    const later: Array<[string, (context: VerifyContext) => Promise<VerifyCheck>]> = [
      ['auth', checkAuth],
      ['offline retention', checkOfflineRetention],
      ['restart survival', checkRestartSurvival],
      ['client-id trap', checkClientIdTrap],
      ...context.users.map((user): [string, (context: VerifyContext) => Promise<VerifyCheck>] => [`permissions ${user.name}`, (ctx) => checkPermissions(ctx, user)]),
      ...context.consumers.map((consumer): [string, (context: VerifyContext) => Promise<VerifyCheck>] => [`consumer ${consumer.name} retention`, (ctx) => checkConsumerRetention(ctx, consumer)]),
    ];
    for (const [name, check] of later) {
      // A login whose ACL misses the verify topics did get through: say that, not "no client got through".
      const blocked = reachable.detail.includes('--topic-prefix');
      if (reachable.status === 'fail') checks.push({ name, status: 'skip', detail: blocked ? `the verify topics under ${context.topicPrefix} are not open to ${context.login.username ?? 'this client'} (see ${mainLabel})` : `no client got through to ${context.login.url} (see ${mainLabel})` });
      else await run(name, check);
    }
    if (context.consumerSkipReason !== undefined) checks.push({ name: 'consumer retention', status: 'skip', detail: context.consumerSkipReason });
  };
  // An interrupt abandons the running check (it may be publishing 200000 messages) and goes
  // straight to the cleanup, so no session is left holding messages for a week.
  const signal = options.signal;
  const interrupted = new Promise<string>((resolve) => {
    if (signal?.aborted) resolve(String(signal.reason));
    else signal?.addEventListener('abort', () => resolve(String(signal.reason)), { once: true });
  });
  try {
    const checksDone = allChecks().then(() => null);
    checksDone.catch(() => {});
    const stoppedBy = await Promise.race([checksDone, interrupted]);
    if (stoppedBy !== null) {
      context.log(`interrupted by ${stoppedBy}: ending the sessions this run opened`);
      checks.push({ name: 'interrupted', status: 'fail', detail: `stopped by ${stoppedBy} before the checks finished` });
    }
  } finally {
    if (context.usedClientIds.size > 0) await run('cleanup', cleanUpSessions);
    else checks.push({ name: 'cleanup', status: 'skip', detail: 'no session was opened' });
  }
  return buildReport(context.runId, checks);
}

/** mqtt, mqtts, ws or wss, from the URL (tcp:// is MQTT over TCP). */
export function urlScheme(url: string): 'mqtt' | 'mqtts' | 'ws' | 'wss' {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (scheme === 'mqtts' || scheme === 'ws' || scheme === 'wss') return scheme;
  return 'mqtt';
}
