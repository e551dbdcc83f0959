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

/** The CONNACK refusal code for these credentials, or "accepted" when the broker lets them in. */
export async function connectOutcome(url: string, credentials: Credentials): Promise<string> {
  try {
    const client = await mqtt.connectAsync(url, { ...credentials, reconnectPeriod: 0, connectTimeout: 10_000 });
    await client.endAsync();
    return 'accepted';
  } catch (error) {
    const code = (error as { code?: number }).code;
    return code === undefined ? `error: ${(error as Error).message}` : `refused ${code}`;
  }
}
