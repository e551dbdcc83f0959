import { randomBytes } from 'node:crypto';
import type { Secret } from '../secret.ts';
import type { ConsumerProbe } from './consumer-retention.ts';
import type { PermissionUser } from './permission-plan.ts';
import type { VerifyCheck } from './verify-report.ts';
import { connectOrThrow, type BrokerLogin, type Connection, type ConnectRequest } from './mqtt-client.ts';

export interface VerifyOptions {
  /** mqtt://host:port (also mqtts:// or tcp://). */
  mqttUrl: string;
  /** ws://host:port/mqtt, checked for reachability when given. */
  wsUrl?: string;
  /** mqtts://host:8883 and wss://host:port/mqtt, checked for reachability when given (the main URL may be one of them too). */
  mqttsUrl?: string;
  wssUrl?: string;
  /** PEM CA certificates the TLS URLs are checked against (instead of the system's CAs). */
  ca?: string;
  /** Client certificate and key for TLS listeners that require one. */
  clientCert?: { certPem: string; keyPem: Secret };
  /** Without a username the verifier connects anonymously and skips the auth check. */
  username?: string;
  password?: Secret;
  /** QoS 1 messages published while the subscriber is offline (default 5000). */
  messages?: number;
  /** Restarts the broker; given, the verifier also proves queued messages survive a restart. */
  restartBroker?: () => Promise<void>;
  /** Why there is no restartBroker, for the report's skip line. */
  restartSkipReason?: string;
  /** EMQX static cluster: every seed up and in one cluster (cluster-check.ts); a failure fails the broker. */
  clusterMembership?: () => Promise<VerifyCheck>;
  /** Per connection attempt, TCP to CONNACK (default 10 s). */
  connectTimeoutMs?: number;
  /** Bound for each publish or drain phase (default 60 s + 2 ms per message). */
  timeoutMs?: number;
  /** A drain ends when no new message came for this long (default 3 s). */
  quietMs?: number;
  /** Bound for the broker to accept connections again after restartBroker (default 90 s). */
  restartTimeoutMs?: number;
  /** Unacknowledged publishes kept in flight (default 1000). */
  publishWindow?: number;
  /** Messages used to show the client-id trap (default 10). */
  trapMessages?: number;
  /** Progress lines for people; never receives a password. */
  log?: (line: string) => void;
  /**
   * Consumers whose own client id, user and topics get the offline-retention check too. It takes
   * the client id over while it runs and ends its session afterwards: only for consumers not yet
   * running (or stopped), which is why a no-change install leaves them out (consumerSkipReason).
   */
  consumers?: ConsumerProbe[];
  consumerSkipReason?: string;
  /** Aborted on SIGINT/SIGTERM: the running check is abandoned and every session opened so far is ended. */
  signal?: AbortSignal;
  /** Topics of every check start with this (default mqtt-provision/verify): the login must be allowed to read and write under it. */
  topicPrefix?: string;
  /** Configured users whose ACL gets a permissions check each (settings.users[].acl). */
  users?: PermissionUser[];
}

/** Everything one run shares: resolved options, its random id, and every client id it used. */
export interface VerifyContext {
  runId: string;
  login: BrokerLogin;
  wsUrl: string | undefined;
  mqttsUrl: string | undefined;
  wssUrl: string | undefined;
  messages: number;
  restartBroker: (() => Promise<void>) | undefined;
  restartSkipReason: string;
  timeoutMs: number;
  quietMs: number;
  restartTimeoutMs: number;
  publishWindow: number;
  trapMessages: number;
  consumers: ConsumerProbe[];
  consumerSkipReason: string | undefined;
  log: (line: string) => void;
  signal: AbortSignal | undefined;
  /** Client ids sent to the broker (recorded before the CONNECT leaves); the cleanup check ends each one's session. */
  usedClientIds: Set<string>;
  clientId(role: string): string;
  topic(check: string): string;
  topicPrefix: string;
  users: PermissionUser[];
}

export const defaultTopicPrefix = 'mqtt-provision/verify';

export const defaultMessages = 5000;
export const maxMessages = 1_000_000;

/** 8 random hex digits: two verifies (or two runs against one broker) never share a topic or client id. */
export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

export function createContext(options: VerifyOptions, runId = newRunId()): VerifyContext {
  const messages = options.messages ?? defaultMessages;
  if (!Number.isInteger(messages) || messages < 1 || messages > maxMessages) {
    throw new RangeError(`messages must be a whole number from 1 to ${maxMessages}, got ${messages}`);
  }
  const login: BrokerLogin = { url: options.mqttUrl, connectTimeoutMs: options.connectTimeoutMs ?? 10_000 };
  if (options.username !== undefined) login.username = options.username;
  if (options.password !== undefined) login.password = options.password;
  if (options.ca !== undefined) login.ca = options.ca;
  if (options.clientCert !== undefined) login.clientCert = options.clientCert;
  const log = options.log ?? (() => {});
  const topicPrefix = (options.topicPrefix ?? defaultTopicPrefix).replace(/\/+$/, '');
  return {
    runId,
    login,
    wsUrl: options.wsUrl,
    mqttsUrl: options.mqttsUrl,
    wssUrl: options.wssUrl,
    messages,
    restartBroker: options.restartBroker,
    restartSkipReason: options.restartSkipReason ?? 'no way to restart the broker was given',
    timeoutMs: options.timeoutMs ?? 60_000 + 2 * messages,
    quietMs: options.quietMs ?? 3_000,
    restartTimeoutMs: options.restartTimeoutMs ?? 90_000,
    publishWindow: options.publishWindow ?? 1000,
    trapMessages: options.trapMessages ?? 10,
    consumers: options.consumers ?? [],
    consumerSkipReason: options.consumerSkipReason,
    log: (line) => log(`verify ${runId}: ${line}`),
    signal: options.signal,
    usedClientIds: new Set(),
    clientId: (role) => `mp-verify-${runId}-${role}`,
    topic: (check) => `${topicPrefix}/${runId}/${check}`,
    topicPrefix,
    users: options.users ?? [],
  };
}

/** Connects (or throws with the broker's answer) and records the client id for the cleanup check. */
export async function connectTracked(context: VerifyContext, request: ConnectRequest, login: BrokerLogin = context.login): Promise<Connection> {
  // After an interrupt no new session may open behind the cleanup's back.
  if (context.signal?.aborted) throw new Error(`interrupted (${String(context.signal.reason)})`);
  // Recorded first: the broker creates the session before its CONNACK reaches us.
  context.usedClientIds.add(request.clientId);
  return connectOrThrow(login, request);
}
