import { getProperties } from 'properties-file';
import { parse as parseToml } from 'smol-toml';

/**
 * Reads an existing consumer's configuration and names each way it loses messages: the field
 * report's Flume source drew a new client id on every start while asking for a persistent session,
 * so every restart left the queued messages behind in a session nobody would resume. Pure: text in,
 * findings out; scripts/lint-consumer.mts does the file and the exit code.
 */

export type LintFormat = 'flume' | 'telegraf' | 'mosquitto_sub';
export type RiskKind = 'random-client-id' | 'clean-session' | 'qos0' | 'no-credentials';

export interface LossRisk {
  /** Which consumer in the file: `agent.sources.mqtt`, `inputs.mqtt_consumer[0]`, `mosquitto_sub`. */
  where: string;
  kind: RiskKind;
  detail: string;
}

export interface LintResult {
  format: LintFormat;
  /** How many MQTT consumers the file holds. */
  consumers: number;
  risks: LossRisk[];
}

/** The file is not one of the three formats, or does not parse: exit 2, not "no risk". */
export class LintInputError extends Error {}

/** A client id a shell or template fills with something new on every start. */
const randomLooking = /\$RANDOM|\$\(|`|\$\$|uuid|random|%r|\{\{/i;

export function lintConsumerText(text: string): LintResult {
  if (/^\s*\[\[\s*inputs\.mqtt_consumer\s*\]\]/m.test(text)) return lintTelegraf(text);
  if (/^\s*(?:\$\s+)?(?:sudo\s+)?(?:\S*\/)?mosquitto_sub(?:\s|$)/m.test(text)) return lintMosquittoSub(text);
  const properties = getProperties(text);
  if (Object.keys(properties).some((key) => /\.sources\.[^.]+\.type$/.test(key))) return lintFlume(properties);
  throw new LintInputError('not a Flume properties file (no <agent>.sources.<name>.type), a Telegraf config with [[inputs.mqtt_consumer]], or a mosquitto_sub command line');
}

/** A key of a Flume source, matched without regard to case (clientId, clientID, client.id, client_id). */
function sourceValue(properties: Record<string, string>, prefix: string, names: string[]): string | undefined {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  for (const [key, value] of Object.entries(properties)) {
    if (key.startsWith(`${prefix}.`) && wanted.has(key.slice(prefix.length + 1).toLowerCase())) return value.trim();
  }
  return undefined;
}

/** Flume: each source whose type names MQTT, or that has the MQTT source's host and topic keys. */
export function lintFlume(properties: Record<string, string>): LintResult {
  const prefixes = Object.keys(properties)
    .map((key) => /^(.+\.sources\.[^.]+)\.type$/.exec(key)?.[1])
    .filter((prefix): prefix is string => prefix !== undefined)
    .filter((prefix) => /mqtt/i.test(properties[`${prefix}.type`] ?? '') || (sourceValue(properties, prefix, ['host']) !== undefined && sourceValue(properties, prefix, ['topic']) !== undefined));
  const risks: LossRisk[] = [];
  for (const where of prefixes) {
    const clean = sourceValue(properties, where, ['cleanSession', 'clean.session', 'clean_session']);
    const clientId = sourceValue(properties, where, ['clientId', 'client.id', 'client_id']);
    const qos = sourceValue(properties, where, ['qos']);
    const user = sourceValue(properties, where, ['username', 'user', 'userName']);
    if (clean === undefined) {
      risks.push({ where, kind: 'clean-session', detail: 'cleanSession is not set: Paho\'s MqttConnectOptions default is true, which discards the session at every disconnect; set cleanSession = false' });
    } else if (clean.toLowerCase() !== 'false') {
      risks.push({ where, kind: 'clean-session', detail: `cleanSession = ${clean}: the broker discards the session and queues nothing while the source is down; set cleanSession = false` });
    }
    const persistent = clean !== undefined && clean.toLowerCase() === 'false';
    if (persistent && (clientId === undefined || clientId === '')) {
      risks.push({ where, kind: 'random-client-id', detail: 'no clientId with cleanSession = false: the source draws a client id of its own (the field report\'s MqttSource uses MqttSourceConstants.getUuid(), a new random id on every start), so each restart abandons the session holding the queued messages; set a fixed clientId' });
    } else if (persistent && clientId !== undefined && randomLooking.test(clientId)) {
      risks.push({ where, kind: 'random-client-id', detail: `clientId "${clientId}" looks generated per start; a persistent session needs the same id every time` });
    }
    if (qos !== undefined && qos === '0') risks.push({ where, kind: 'qos0', detail: 'qos = 0: messages are delivered at most once and not queued as QoS 1; set qos = 1' });
    if (user === undefined || user === '') risks.push({ where, kind: 'no-credentials', detail: 'no username: the source connects anonymously (refused by a broker with auth on, or readable by anyone when it is off); give username and password' });
  }
  if (prefixes.length === 0) throw new LintInputError('a Flume properties file without an MQTT source (no source type naming MQTT, none with host and topic)');
  return { format: 'flume', consumers: prefixes.length, risks };
}

/** Telegraf: every [[inputs.mqtt_consumer]]; its defaults are qos 0, persistent_session false, a random client_id. */
export function lintTelegraf(text: string): LintResult {
  let document: Record<string, unknown>;
  try {
    document = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw new LintInputError(`not valid TOML: ${(error as Error).message.split('\n')[0]}`);
  }
  const inputs = (document.inputs as Record<string, unknown> | undefined)?.mqtt_consumer;
  const blocks = (Array.isArray(inputs) ? inputs : []) as Array<Record<string, unknown>>;
  const risks: LossRisk[] = [];
  blocks.forEach((block, index) => {
    const where = `inputs.mqtt_consumer[${index}]`;
    const persistent = block.persistent_session === true;
    const clientId = typeof block.client_id === 'string' ? block.client_id : '';
    if (!persistent) risks.push({ where, kind: 'clean-session', detail: 'persistent_session is off (Telegraf\'s default): it connects with a clean session, so nothing is queued while Telegraf is down; set persistent_session = true' });
    if (persistent && clientId === '') risks.push({ where, kind: 'random-client-id', detail: 'persistent_session = true without client_id: Telegraf draws a random client id on every start, so each restart abandons the queued messages; set a fixed client_id' });
    else if (persistent && randomLooking.test(clientId)) risks.push({ where, kind: 'random-client-id', detail: `client_id "${clientId}" looks generated per start; a persistent session needs the same id every time` });
    if (block.qos === undefined || block.qos === 0) risks.push({ where, kind: 'qos0', detail: `qos ${block.qos === undefined ? 'is not set (Telegraf\'s default is 0)' : '= 0'}: messages are delivered at most once; set qos = 1` });
    if (typeof block.username !== 'string' || block.username === '') risks.push({ where, kind: 'no-credentials', detail: 'no username: Telegraf connects anonymously; give username and password' });
  });
  return { format: 'telegraf', consumers: blocks.length, risks };
}

/** Splits a command line as a POSIX shell would (quotes, backslashes, line continuations); no expansion. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let current: string | undefined;
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!;
    if (char === '\\' && line[index + 1] === '\n') index++;
    else if (/\s/.test(char)) {
      if (current !== undefined) words.push(current);
      current = undefined;
    } else if (char === "'") {
      const end = line.indexOf("'", index + 1);
      if (end === -1) throw new LintInputError('unterminated single quote in the command line');
      current = (current ?? '') + line.slice(index + 1, end);
      index = end;
    } else if (char === '"') {
      let value = '';
      index++;
      while (index < line.length && line[index] !== '"') {
        if (line[index] === '\\' && index + 1 < line.length && '"\\$`'.includes(line[index + 1]!)) index++;
        value += line[index];
        index++;
      }
      if (index >= line.length) throw new LintInputError('unterminated double quote in the command line');
      current = (current ?? '') + value;
    } else if (char === '\\') {
      current = (current ?? '') + (line[index + 1] ?? '');
      index++;
    } else if (char === '#' && current === undefined) {
      while (index < line.length && line[index] !== '\n') index++;
    } else current = (current ?? '') + char;
  }
  if (current !== undefined) words.push(current);
  return words;
}

/** mosquitto_sub's options that take a value (mosquitto_sub --help, 2.0). */
const takesValue = new Set(['-A', '-h', '-p', '-i', '-I', '-k', '-L', '-q', '-t', '-T', '-u', '-P', '-V', '-F', '-W', '-C', '-x', '-U', '-M', '-e', '-E',
  '--host', '--port', '--id', '--id-prefix', '--keepalive', '--url', '--qos', '--topic', '--filter-out', '--username', '--pw', '--protocol-version',
  '--cafile', '--capath', '--cert', '--key', '--ciphers', '--tls-version', '--psk', '--psk-identity', '--proxy', '--will-topic', '--will-payload',
  '--will-qos', '--unix', '--tls-alpn', '--tls-engine', '--keyform', '--tls-engine-kpass-sha1', '--unsubscribe', '--random-filter', '--session-expiry-interval']);

/** mosquitto_sub: -c keeps the session, -i fixes the id (-I adds a random suffix), -q is the subscription QoS (default 0). */
export function lintMosquittoSub(text: string): LintResult {
  const words = shellWords(text.replace(/^\s*\$\s+/gm, ''));
  const start = words.findIndex((word) => /(^|\/)mosquitto_sub$/.test(word));
  const options = new Map<string, string>();
  const flags = new Set<string>();
  for (let index = start + 1; index < words.length; index++) {
    const word = words[index]!;
    if (['|', '&&', ';', '||'].includes(word)) break;
    if (takesValue.has(word)) {
      options.set(word, words[index + 1] ?? '');
      index++;
    } else flags.add(word);
  }
  const value = (...names: string[]): string | undefined => names.map((name) => options.get(name)).find((found) => found !== undefined);
  const where = 'mosquitto_sub';
  const risks: LossRisk[] = [];
  const persistent = flags.has('-c') || flags.has('--disable-clean-session');
  const id = value('-i', '--id');
  const url = value('-L', '--url');
  if (!persistent) risks.push({ where, kind: 'clean-session', detail: 'no -c: mosquitto_sub connects with clean session on, so nothing is queued while it is away; add -c and a fixed -i' });
  if (persistent && value('-I', '--id-prefix') !== undefined) risks.push({ where, kind: 'random-client-id', detail: '-I adds a new suffix to the client id on every start, so -c keeps a session nobody resumes; use a fixed -i' });
  else if (persistent && id === undefined) risks.push({ where, kind: 'random-client-id', detail: '-c without -i: there is no fixed client id for the broker to keep the session under; give -i' });
  else if (persistent && id !== undefined && randomLooking.test(id)) risks.push({ where, kind: 'random-client-id', detail: `-i "${id}" is generated per start; a persistent session needs the same id every time` });
  const qos = value('-q', '--qos');
  if (qos === undefined || qos === '0') risks.push({ where, kind: 'qos0', detail: `${qos === undefined ? 'no -q (the default subscription QoS is 0)' : '-q 0'}: messages are delivered at most once; use -q 1` });
  const urlHasUser = url !== undefined && /^[a-z]+:\/\/[^/@]+@/.test(url);
  if (value('-u', '--username') === undefined && !urlHasUser) risks.push({ where, kind: 'no-credentials', detail: 'no -u: it connects anonymously; give -u and -P (or a password in a config file)' });
  return { format: 'mosquitto_sub', consumers: 1, risks };
}

/** One line per risk, then a summary line. */
export function formatLint(file: string, result: LintResult): string {
  const lines = result.risks.map((risk) => `${file}: ${risk.where}: ${risk.kind}: ${risk.detail}`);
  lines.push(
    result.risks.length === 0
      ? `${file}: ${result.format}, ${result.consumers} consumer${result.consumers === 1 ? '' : 's'}: no loss risk found`
      : `${file}: ${result.format}, ${result.consumers} consumer${result.consumers === 1 ? '' : 's'}: ${result.risks.length} loss risk${result.risks.length === 1 ? '' : 's'}`,
  );
  return lines.join('\n');
}
