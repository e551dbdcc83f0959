import { InputError } from '../settings/input-error.ts';
import type { Settings } from '../settings/load.ts';
import { bracketHost } from '../transport/host-spec.ts';

/** Where a consumer connects: the scheme every consumer kind understands (Paho Java and Go, MQTT.js). */
export interface ConsumerEndpoint {
  /** `ssl` for the mqtts listener, `tcp` for mqtt, `ws` for MQTT over WebSocket. */
  scheme: 'ssl' | 'tcp' | 'ws';
  host: string;
  port: number;
  /** True when the consumer must trust the deployment's CA (the mqtts listener). */
  tls: boolean;
}

/**
 * The listener a consumer should use: mqtts when TLS is served (so the password never crosses the
 * network in the clear), else mqtt, else MQTT over WebSocket. `address` is `host` or `host:port`
 * (`[v6]:port`); a port given there wins over the listener's, for NAT or a published container port.
 */
export function consumerEndpoint(settings: Pick<Settings, 'listeners'>, address: string, field = '--consumer-broker'): ConsumerEndpoint {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+|[0-9a-fA-F:]+))(?::([0-9]{1,5}))?$/.exec(address);
  const host = match?.[1] ?? match?.[2];
  if (!match || host === undefined) throw new InputError(field, `must be HOST or HOST:PORT, got "${address}"`);
  const { mqtts, mqtt, websocket } = settings.listeners;
  const chosen: Omit<ConsumerEndpoint, 'host'> | undefined =
    mqtts !== undefined ? { scheme: 'ssl', port: mqtts, tls: true }
    : mqtt !== undefined ? { scheme: 'tcp', port: mqtt, tls: false }
    : websocket !== undefined ? { scheme: 'ws', port: websocket, tls: false }
    : undefined;
  if (!chosen) throw new InputError('settings.listeners', 'consumers need an mqtts, mqtt or websocket listener');
  const port = match[3] === undefined ? chosen.port : Number(match[3]);
  if (!(port >= 1 && port <= 65535)) throw new InputError(field, `port must be 1–65535, got ${match[3]}`);
  return { ...chosen, host, port };
}

/** The URL as Paho (Flume, Telegraf) and MQTT.js take it; EMQX serves WebSocket on /mqtt only. */
export function endpointUrl(endpoint: ConsumerEndpoint): string {
  return `${endpoint.scheme}://${bracketHost(endpoint.host)}:${endpoint.port}${endpoint.scheme === 'ws' ? '/mqtt' : ''}`;
}
