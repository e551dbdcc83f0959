import mqtt from 'mqtt';

export interface Credentials {
  username?: string;
  password?: string;
  /** CA certificate (PEM) to trust for mqtts:// and wss:// URLs. */
  ca?: string;
}

/** Connects, subscribes, publishes one QoS 1 message to itself and waits for it (bounded). */
export async function roundTrip(url: string, credentials: Credentials, timeoutMs = 10_000): Promise<string> {
  const client = await mqtt.connectAsync(url, { ...credentials, reconnectPeriod: 0, connectTimeout: timeoutMs, clientId: `mp-e2e-${process.pid}-${Date.now()}` });
  try {
    const topic = `mqtt-provision/e2e/${process.pid}/${Date.now()}`;
    const received = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic} within ${timeoutMs} ms`)), timeoutMs);
      client.on('message', (_topic, payload) => {
        clearTimeout(timer);
        resolve(payload.toString());
      });
    });
    await client.subscribeAsync(topic, { qos: 1 });
    await client.publishAsync(topic, 'hello from mqtt-provision', { qos: 1 });
    return await received;
  } finally {
    await client.endAsync();
  }
}

/**
 * What a new client gets, bounded: 'accepted', 'refused N' (the CONNACK's code), 'error: …', 'closed'
 * (a socket closed without an error, as docker-proxy does when the host rejects it: mqtt.js's
 * connectAsync would never settle then), or no answer within 15 s (a firewall that drops).
 */
export async function connectOutcome(url: string, credentials: Credentials): Promise<string> {
  const client = mqtt.connect(url, { ...credentials, reconnectPeriod: 0, connectTimeout: 10_000 });
  try {
    return await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('no answer within 15 s'), 15_000);
      const done = (outcome: string) => { clearTimeout(timer); resolve(outcome); };
      client.once('connect', () => done('accepted'));
      client.once('error', (error) => {
        const code = (error as { code?: number | string }).code;
        done(typeof code === 'number' ? `refused ${code}` : `error: ${code ?? error.message}`);
      });
      client.once('close', () => done('closed'));
    });
  } finally {
    await client.endAsync(true);
  }
}
