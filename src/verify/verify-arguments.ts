import { parseArgs } from 'node:util';
import { InputError } from '../settings/input-error.ts';
import { parseHostSpec, type HostSpec } from '../transport/host-spec.ts';
import { defaultMessages, maxMessages } from './verify-context.ts';
import { serviceNamePattern } from './restart-service.ts';

export interface VerifyArguments {
  mqttUrl: string;
  wsUrl?: string;
  /** PEM CA file for mqtts:// and wss:// URLs (e.g. the generated CA's ca.crt). */
  caFile?: string;
  user?: string;
  passwordFile?: string;
  messages: number;
  restartHost?: HostSpec;
  identity?: string;
  /** known_hosts for --restart-host (default ~/.ssh/known_hosts, unknown hosts recorded). */
  knownHosts?: string;
  service: string;
  /** A settings file whose `consumers:` get the offline-retention check with their own client id, user and topics. */
  consumers?: string;
  /** Prefix of every verify topic (default mqtt-provision/verify): one the --user may read and write. */
  topicPrefix?: string;
  json: boolean;
  help: boolean;
}

export const verifyUsage = `Usage: npx zx scripts/verify-broker.mts --url mqtt://host:port [options]

Proves the broker keeps QoS 1 messages for an offline subscriber (clean session off), refuses
strangers, and (with --restart-host) keeps them across a restart. Leaves no session behind.

  --url URL                mqtt://host:port of the broker (required)
  --ws-url URL             ws://host:port/mqtt, checked for reachability too
  --ca FILE                PEM CA certificate that mqtts:// and wss:// URLs must chain to (default: the system's CAs)
  --user NAME              connect as NAME; also checks that anonymous and wrong passwords are refused
  --password-file FILE     NAME's password (first line); required with --user
  --messages N             QoS 1 messages queued for the offline subscriber (default ${defaultMessages})
  --restart-host [user@]host[:port]   restart the broker over SSH and check the queue survives
  --identity FILE          SSH private key for --restart-host (required with it)
  --known-hosts FILE       host keys for --restart-host (default ~/.ssh/known_hosts; new hosts are recorded)
  --service NAME           systemd unit to restart (default mosquitto)
  --consumers FILE.yaml    also check each consumer in this settings file as itself (its client id,
                           user and topics; --user publishes). It takes each client id over while it
                           runs: only for consumers that are stopped or not yet started
  --topic-prefix P         put every test topic under P (default mqtt-provision/verify); --user must
                           be allowed to read and write P/#
  --json                   print the report as JSON
  -h, --help               this text

Without --user the verifier connects anonymously (for stock brokers).
SIGINT or SIGTERM ends the sessions opened so far, then exits 130 or 143.
Exit codes: 0 every check passed, 1 a check failed, 2 invalid input.`;

/** Strict flag parsing: an unknown flag or a bad value is an InputError naming the flag (exit 2). */
export function parseVerifyArguments(args: readonly string[]): VerifyArguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        'ws-url': { type: 'string' },
        ca: { type: 'string' },
        user: { type: 'string' },
        'password-file': { type: 'string' },
        messages: { type: 'string' },
        'restart-host': { type: 'string' },
        identity: { type: 'string' },
        'known-hosts': { type: 'string' },
        service: { type: 'string' },
        consumers: { type: 'string' },
        'topic-prefix': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    const message = (error as Error).message;
    const flag = /'(--?[A-Za-z][\w-]*)/.exec(message)?.[1] ?? 'arguments';
    throw new InputError(flag, message);
  }
  const parsed: VerifyArguments = {
    mqttUrl: '',
    messages: defaultMessages,
    service: 'mosquitto',
    json: values.json,
    help: values.help,
  };
  if (parsed.help) return parsed;

  if (values.url === undefined) throw new InputError('--url', 'is required, e.g. --url mqtt://127.0.0.1:1883');
  parsed.mqttUrl = checkUrl(values.url, '--url', ['mqtt:', 'mqtts:', 'tcp:']);
  if (values['ws-url'] !== undefined) parsed.wsUrl = checkUrl(values['ws-url'], '--ws-url', ['ws:', 'wss:']);
  if (values.ca !== undefined) parsed.caFile = values.ca;

  if (values.user !== undefined) {
    if (!/^[^\0\r\n]{1,256}$/.test(values.user)) throw new InputError('--user', 'must be 1-256 characters without NUL or line breaks');
    if (values['password-file'] === undefined) throw new InputError('--password-file', 'is required with --user');
    parsed.user = values.user;
    parsed.passwordFile = values['password-file'];
  } else if (values['password-file'] !== undefined) {
    throw new InputError('--password-file', 'needs --user: the password belongs to a user name');
  }

  if (values.messages !== undefined) {
    const messages = Number(values.messages);
    if (!/^\d+$/.test(values.messages) || messages < 1 || messages > maxMessages) {
      throw new InputError('--messages', `must be a whole number from 1 to ${maxMessages}, got "${values.messages}"`);
    }
    parsed.messages = messages;
  }

  if (values.service !== undefined) {
    if (!serviceNamePattern.test(values.service)) throw new InputError('--service', `"${values.service}" is not a systemd unit name`);
    if (values['restart-host'] === undefined) throw new InputError('--service', 'only means something with --restart-host');
    parsed.service = values.service;
  }
  if (values['restart-host'] !== undefined) {
    parsed.restartHost = parseHostSpec(values['restart-host'], '--restart-host');
    if (values.identity === undefined) throw new InputError('--identity', 'is required with --restart-host (an SSH private key)');
    parsed.identity = values.identity;
    if (values['known-hosts'] !== undefined) parsed.knownHosts = values['known-hosts'];
  } else if (values.identity !== undefined) {
    throw new InputError('--identity', 'only means something with --restart-host');
  }
  if (values['topic-prefix'] !== undefined) parsed.topicPrefix = checkTopicPrefix(values['topic-prefix']);
  if (values.consumers !== undefined) {
    if (parsed.user === undefined) throw new InputError('--consumers', 'needs --user and --password-file: a user that may publish to the consumers\' topics');
    parsed.consumers = values.consumers;
  }
  return parsed;
}

/** A topic name (no wildcards), not a $-topic, so every check's topic under it is one a client may publish to. */
export function checkTopicPrefix(text: string): string {
  const prefix = text.replace(/\/+$/, '');
  if (prefix === '') throw new InputError('--topic-prefix', 'must not be empty');
  if (/[+#\0]/.test(prefix)) throw new InputError('--topic-prefix', `"${text}" holds a wildcard (+ or #) or NUL; give a topic like site-a/verify`);
  if (prefix.startsWith('$')) throw new InputError('--topic-prefix', `"${text}" starts with $, which brokers reserve ($SYS)`);
  if (Buffer.byteLength(prefix) > 200) throw new InputError('--topic-prefix', 'must be at most 200 bytes');
  return prefix;
}

function checkUrl(text: string, flag: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(flag, `"${text}" is not a URL like ${protocols[0]}//host:port`);
  }
  if (!protocols.includes(url.protocol)) throw new InputError(flag, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${url.protocol}//"`);
  if (url.hostname === '') throw new InputError(flag, `"${text}" has no host`);
  if (url.username !== '' || url.password !== '') throw new InputError(flag, 'must not hold credentials; use --user and --password-file');
  // MQTT over TCP has no path or query: one given would be silently ignored, so it is refused.
  if (protocols.includes('mqtt:') && ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '')) {
    throw new InputError(flag, `"${text}" has a path or query, which MQTT over TCP does not use; give ${url.protocol}//${url.host}`);
  }
  return text;
}
