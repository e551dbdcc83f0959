import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Secret } from '../secret.ts';

/** Where and as whom the verifier connects; the password stays a Secret until MQTT.js needs it. */
export interface BrokerLogin {
  url: string;
  username?: string;
  password?: Secret;
  connectTimeoutMs: number;
  /** For mqtts:// and wss://: PEM CA certificates to trust instead of the system's (MQTT.js `ca`). */
  ca?: string;
  /** Client certificate and key (PEM) for a broker that requires one. */
  clientCert?: { certPem: string; keyPem: Secret };
}

export interface ConnectRequest {
  clientId: string;
  /** MQTT 3.1.1 clean session: false keeps the session (and queued QoS 1 messages) across disconnects. */
  clean: boolean;
  /** Attached before the CONNECT is sent: a kept session's queued messages arrive right after CONNACK. */
  onMessage?: (topic: string, payload: Buffer) => void;
  /** 4 (MQTT 3.1.1, the default) or 5: MQTT 5 brokers may name a refusal with a reason code (PUBACK 0x87). */
  protocolVersion?: 4 | 5;
}

export type ConnectOutcome =
  | { kind: 'accepted'; connection: Connection }
  | { kind: 'refused'; code: number; reason: string }
  | { kind: 'error'; message: string };

/** MQTT 3.1.1 CONNACK return codes that mean "who you are was not accepted". */
export const authRefusalCodes: ReadonlySet<number> = new Set([4, 5]);

/** One connected MQTT.js client with reconnects off; errors after CONNACK are kept, never thrown. */
export class Connection {
  readonly client: MqttClient;
  readonly clientId: string;
  readonly sessionPresent: boolean;
  /** performance.now() when the CONNACK arrived. */
  readonly connectedAt: number;
  readonly connectMs: number;
  #closed = false;
  #lastError: Error | undefined;
  readonly #closeWaiters = new Set<() => void>();

  constructor(client: MqttClient, clientId: string, sessionPresent: boolean, startedAt: number) {
    this.client = client;
    this.clientId = clientId;
    this.sessionPresent = sessionPresent;
    this.connectedAt = performance.now();
    this.connectMs = this.connectedAt - startedAt;
    client.on('error', (error) => {
      this.#lastError = error;
    });
    client.on('close', () => {
      this.#closed = true;
      for (const waiter of this.#closeWaiters) waiter();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the broker or the network ended the connection, when known. */
  get closeReason(): string {
    return this.#lastError ? this.#lastError.message : 'the connection was closed';
  }

  /** Calls `listener` once when the connection closes; returns a function that removes it. */
  onClose(listener: () => void): () => void {
    if (this.#closed) {
      queueMicrotask(listener);
      return () => {};
    }
    this.#closeWaiters.add(listener);
    return () => this.#closeWaiters.delete(listener);
  }

  /** Subscribes and returns the granted QoS; a refusal (0x80) or a closed connection throws. */
  async subscribe(topic: string, qos: 0 | 1 | 2 = 1, timeoutMs = 10_000): Promise<number> {
    const grants = await bounded(this.client.subscribeAsync(topic, { qos }), timeoutMs, `no SUBACK for ${topic} within ${timeoutMs} ms`);
    const granted = grants[0]?.qos;
    if (granted === undefined || granted === 128) throw new Error(`the broker refused the subscription to ${topic}`);
    return granted;
  }

  /** Sends DISCONNECT after outstanding acknowledgements are written; forces the socket shut if that stalls. */
  async end(timeoutMs = 5_000): Promise<void> {
    if (this.#closed) {
      this.client.end(true);
      return;
    }
    try {
      await bounded(this.client.endAsync(false), timeoutMs, 'disconnect stalled');
    } catch {
      await this.client.endAsync(true).catch(() => {});
    }
  }
}

/**
 * Connects once (MQTT 3.1.1, no reconnects, bounded by connectTimeoutMs) and says what the broker
 * answered: accepted, refused with a CONNACK return code, or no answer at all.
 */
export function attemptConnect(login: BrokerLogin, request: ConnectRequest): Promise<ConnectOutcome> {
  const options: IClientOptions = {
    clientId: request.clientId,
    clean: request.clean,
    protocolVersion: request.protocolVersion ?? 4,
    reconnectPeriod: 0,
    connectTimeout: login.connectTimeoutMs,
    keepalive: 30,
    resubscribe: false,
  };
  if (login.username !== undefined) options.username = login.username;
  if (login.password !== undefined) options.password = login.password.reveal();
  if (login.ca !== undefined) options.ca = login.ca;
  if (login.clientCert !== undefined) {
    options.cert = login.clientCert.certPem;
    options.key = login.clientCert.keyPem.reveal();
  }
  // A TLS server must prove who it is: never fall back to an unverified connection.
  options.rejectUnauthorized = true;
  const startedAt = performance.now();
  const client = connect(login.url, options);
  if (request.onMessage) client.on('message', request.onMessage);

  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: ConnectOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      client.removeListener('connect', onConnect);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      if (outcome.kind !== 'accepted') {
        // Keep a listener so a late socket error cannot crash the process.
        client.on('error', () => {});
        client.end(true);
      }
      resolve(outcome);
    };
    const onConnect = (connack: { sessionPresent: boolean }): void => {
      settle({ kind: 'accepted', connection: new Connection(client, request.clientId, connack.sessionPresent, startedAt) });
    };
    const onError = (error: Error & { code?: unknown }): void => {
      if (typeof error.code === 'number' && error.code > 0) {
        settle({ kind: 'refused', code: error.code, reason: error.message.replace(/^Connection refused: /, '') });
      } else {
        settle({ kind: 'error', message: describeError(error) });
      }
    };
    const onClose = (): void => settle({ kind: 'error', message: 'the connection closed before a CONNACK arrived' });
    // MQTT.js bounds the CONNACK wait; this also bounds a TCP or WebSocket handshake that hangs.
    const guard = setTimeout(
      () => settle({ kind: 'error', message: `no CONNACK within ${login.connectTimeoutMs} ms` }),
      login.connectTimeoutMs + 1_000,
    );
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
}

/** Like attemptConnect, but anything other than an accepted connection throws with the reason. */
export async function connectOrThrow(login: BrokerLogin, request: ConnectRequest): Promise<Connection> {
  const outcome = await attemptConnect(login, request);
  if (outcome.kind === 'accepted') return outcome.connection;
  throw new Error(`${request.clientId} could not connect to ${login.url}: ${describeOutcome(outcome)}`);
}

export function describeOutcome(outcome: ConnectOutcome): string {
  if (outcome.kind === 'accepted') return 'accepted';
  if (outcome.kind === 'refused') return `refused with CONNACK code ${outcome.code} (${outcome.reason})`;
  return outcome.message;
}

function describeError(error: Error & { code?: unknown }): string {
  const code = typeof error.code === 'string' ? error.code : undefined;
  const message = error.message || code || String(error);
  // AggregateError (IPv4 and IPv6 both refused) has an empty message.
  if (!error.message && error instanceof AggregateError) {
    return error.errors.map((inner: Error) => inner.message).join('; ') || 'connection failed';
  }
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** Resolves like `promise`, or rejects with `message` after timeoutMs. */
export function bounded<T>(promise: Promise<T>, timeoutMs: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
