import { randomBytes } from 'node:crypto';
import { connectOrThrow, type BrokerLogin } from '../verify/mqtt-client.ts';
import type { BrokerFigures } from './evaluate.ts';

/**
 * Mosquitto's $SYS topics status.mts reads. The broker publishes them retained (every
 * sys_interval, 10 s by default), so a new subscriber gets the last values at once.
 */
const sysTopics = {
  '$SYS/broker/version': 'version',
  '$SYS/broker/clients/connected': 'connectedClients',
  // Sessions kept for clients that are not connected: total (connected and not) minus connected.
  // `clients/disconnected` itself is not always retained (Mosquitto 2.0 publishes it on change).
  '$SYS/broker/clients/total': 'totalClients',
  '$SYS/broker/store/messages/count': 'storedMessages',
  '$SYS/broker/retained messages/count': 'retainedMessages',
} as const;

/** Reads the broker's own figures as the admin; missing topics after `waitMs` are left out. */
export async function mosquittoFigures(login: BrokerLogin, waitMs = 3_000): Promise<BrokerFigures> {
  const figures: BrokerFigures & { totalClients?: number } = {};
  const seen = new Set<string>();
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  const connection = await connectOrThrow(login, {
    clientId: `mqtt-provision-status-${randomBytes(4).toString('hex')}`,
    clean: true,
    onMessage: (topic, payload) => {
      const key = sysTopics[topic as keyof typeof sysTopics];
      if (!key) return;
      const text = payload.toString('utf8').trim();
      if (key === 'version') figures.version = text.replace(/^mosquitto version /, '');
      else if (/^\d+$/.test(text)) figures[key] = Number(text);
      seen.add(topic);
      if (seen.size === Object.keys(sysTopics).length) done();
    },
  });
  try {
    await connection.subscribe('$SYS/broker/#', 0);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  } finally {
    await connection.end();
  }
  if (figures.totalClients !== undefined && figures.connectedClients !== undefined) {
    figures.disconnectedSessions = Math.max(0, figures.totalClients - figures.connectedClients);
  }
  delete figures.totalClients;
  // The store holds retained messages ($SYS's own among them) beside the queued ones.
  if (figures.storedMessages !== undefined && figures.retainedMessages !== undefined) {
    figures.queuedMessages = Math.max(0, figures.storedMessages - figures.retainedMessages);
  }
  // The figures are the retained values of the broker's last $SYS update, taken before this
  // client connected: it is not counted in them.
  if (seen.size === 0) throw new Error('no $SYS figures arrived (is sys_interval 0, or does the ACL deny $SYS/#?)');
  return figures;
}
