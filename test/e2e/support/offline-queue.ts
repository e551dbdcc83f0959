import mqtt from 'mqtt';

export interface Login {
  username: string;
  password: string;
}

/** A persistent QoS 1 subscriber that leaves, then `count` messages ("0".."count-1") published while it is away. */
export async function queueForOfflineSubscriber(url: string, login: Login, clientId: string, topic: string, count: number): Promise<void> {
  const subscriber = await mqtt.connectAsync(url, { ...login, clientId, clean: false, reconnectPeriod: 0 });
  await subscriber.subscribeAsync(topic, { qos: 1 });
  await subscriber.endAsync();
  const publisher = await mqtt.connectAsync(url, { ...login, reconnectPeriod: 0 });
  await Promise.all(Array.from({ length: count }, (_, i) => publisher.publishAsync(topic, String(i), { qos: 1 })));
  await publisher.endAsync();
}

/**
 * Comes back with the same client id, counts distinct messages until `count` arrived or the
 * bound, then ends the session (a clean connect with that id) so nothing is left queued.
 */
export async function drainDistinct(url: string, login: Login, clientId: string, count: number, timeoutMs = 20_000): Promise<number> {
  const seen = new Set<string>();
  const client = mqtt.connect(url, { ...login, clientId, clean: false, reconnectPeriod: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, timeoutMs);
      client.on('message', (_topic, payload) => {
        seen.add(payload.toString());
        if (seen.size === count) {
          clearTimeout(timer);
          resolve();
        }
      });
      client.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  } finally {
    await client.endAsync();
    const cleanup = await mqtt.connectAsync(url, { ...login, clientId, clean: true, reconnectPeriod: 0 });
    await cleanup.endAsync();
  }
  return seen.size;
}
