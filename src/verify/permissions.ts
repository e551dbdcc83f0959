import { attemptConnect, bounded, describeOutcome, type Connection } from './mqtt-client.ts';
import { judgePermissions, permissionProbes, type PermissionOutcome, type PermissionUser } from './permission-plan.ts';
import { connectTracked, type VerifyContext } from './verify-context.ts';
import type { VerifyCheck } from './verify-report.ts';

/**
 * Per configured user: what its ACL allows arrives, what it denies does not. The verifier's own
 * login (an admin, who may read and write every topic) is the observer. A denied publish is
 * detected twice where the broker allows: the user's MQTT 5 connection gets PUBACK 0x87 (Mosquitto
 * 2.0 and EMQX 5 send it), and the observer does not get the message within the quiet bound (the
 * only sign an MQTT 3.1.1 client would have). Subscriptions go over MQTT 3.1.1: a denied one gets
 * SUBACK 0x80 from EMQX; Mosquitto 2.0.11 (Debian 12) grants it and checks read access per message,
 * so a denied read is judged by what arrives: the observer publishes on every granted subscription.
 */
export async function checkPermissions(context: VerifyContext, user: PermissionUser): Promise<VerifyCheck> {
  const name = `permissions ${user.name}`;
  const probes = permissionProbes(user, context.runId, context.topicPrefix);
  const { ca, clientCert } = context.login;
  const userLogin = { url: context.login.url, connectTimeoutMs: context.login.connectTimeoutMs, ...(ca ? { ca } : {}), ...(clientCert ? { clientCert } : {}), username: user.name, password: user.password };

  const seen = new Set<string>();
  const observer = await connectTracked(context, { clientId: context.clientId(`acl-obs-${user.name}`), clean: true, onMessage: (topic, payload) => seen.add(`${topic}\n${payload.toString()}`) });
  const opened: Connection[] = [observer];
  try {
    for (const probe of probes) await observer.subscribe(probe.topic, 1);
    const received = new Set<string>();
    const publisherId = context.clientId(`acl-pub-${user.name}`);
    const subscriberId = context.clientId(`acl-sub-${user.name}`);
    const publisherOutcome = await attemptConnect(userLogin, { clientId: publisherId, clean: true, protocolVersion: 5 });
    if (publisherOutcome.kind !== 'accepted') return { name, status: 'fail', detail: `${user.name} could not connect: ${describeOutcome(publisherOutcome)}` };
    context.usedClientIds.add(publisherId);
    opened.push(publisherOutcome.connection);
    const subscriberOutcome = await attemptConnect(userLogin, { clientId: subscriberId, clean: true, onMessage: (topic, payload) => received.add(`${topic}\n${payload.toString()}`) });
    if (subscriberOutcome.kind !== 'accepted') return { name, status: 'fail', detail: `${user.name} could not connect: ${describeOutcome(subscriberOutcome)}` };
    context.usedClientIds.add(subscriberId);
    opened.push(subscriberOutcome.connection);

    const outcomes: PermissionOutcome[] = probes.map((probe) => ({ topic: probe.topic, delivered: false, subackCode: 0x80, received: false }));
    for (const [index, probe] of probes.entries()) {
      const outcome = outcomes[index]!;
      const grants = await bounded(subscriberOutcome.connection.client.subscribeAsync(probe.topic, { qos: 1 }), 10_000, `no SUBACK for ${probe.topic} within 10000 ms`);
      outcome.subackCode = grants[0]?.qos ?? 0x80;
      try {
        await bounded(publisherOutcome.connection.client.publishAsync(probe.topic, `${context.runId} ${user.name} publish`, { qos: 1 }), 10_000, `no PUBACK for ${probe.topic} within 10000 ms`);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'number' && code >= 0x80) outcome.pubackCode = code;
        else throw error;
      }
      if (outcome.subackCode < 0x80) await observer.client.publishAsync(probe.topic, `${context.runId} observer`, { qos: 1 });
    }
    // A denied publish shows only as an absence: wait the quiet bound, longer only while allowed ones are still due.
    const due = (): boolean =>
      probes.some((probe, index) => (probe.publish && !seen.has(`${probe.topic}\n${context.runId} ${user.name} publish`)) || (outcomes[index]!.subackCode < 0x80 && !received.has(`${probe.topic}\n${context.runId} observer`)));
    const started = performance.now();
    while (performance.now() - started < context.quietMs || (due() && performance.now() - started < context.quietMs * 3)) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const outcome of outcomes) {
      outcome.delivered = seen.has(`${outcome.topic}\n${context.runId} ${user.name} publish`);
      outcome.received = received.has(`${outcome.topic}\n${context.runId} observer`);
    }
    const { problems, notes } = judgePermissions(user.name, probes, outcomes);
    const figures = { topics: probes.length, 'bound ms': context.quietMs };
    if (problems.length > 0) return { name, status: 'fail', detail: problems.join('; '), figures };
    return { name, status: 'pass', detail: notes.join('; '), figures };
  } finally {
    for (const connection of opened) await connection.end();
  }
}
