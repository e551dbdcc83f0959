import { stringify as stringifyToml } from 'smol-toml';
import { passwordVariable, type Consumer } from '../settings/consumers.ts';
import { endpointUrl, type ConsumerEndpoint } from './endpoint.ts';

/** One rendered file of a consumer, relative to its directory; `secret` files are written 0600. */
export interface ConsumerFile {
  name: string;
  content: string;
  secret: boolean;
}

/** Where the rendered files say the CA and password file are, as the consumer's host will see them. */
export interface ConsumerPaths {
  /** Absolute path of the CA certificate, when the endpoint is TLS. */
  caFile?: string;
  /** Absolute path of the consumer's password file. */
  passwordFile: string;
}

/** A Java properties value: backslashes doubled, a leading space kept (java.util.Properties trims it otherwise). */
function propertiesValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/^ /, '\\ ');
}

/** The subscription QoS of formats that take one for all topics: the highest asked for. */
function sharedQos(consumer: Consumer): number {
  return Math.max(...consumer.topics.map((topic) => topic.qos));
}

/**
 * The MQTT source properties in the field report's format (its mqtt.conf: agent `agent`, source
 * `mqtt`, the MqttSource keys host/topic/qos/cleanSession/username/password), plus `clientId`,
 * which that source must read instead of drawing MqttSourceConstants.getUuid() on every start.
 */
export function renderFlume(consumer: Consumer, endpoint: ConsumerEndpoint, paths: ConsumerPaths): string {
  const variable = passwordVariable(consumer);
  const source = 'agent.sources.mqtt';
  const lines = [
    `# Managed by mqtt-provision: the MQTT source of consumer "${consumer.name}".`,
    '# clientId is fixed and cleanSession false: the broker keeps this session and its queued QoS 1',
    '# messages while Flume is down. The source must read clientId (context.getString("clientId"));',
    '# a new random id on every start (the field report\'s getUuid()) abandons the queued messages.',
    ...(consumer.inlinePassword
      ? ['# The password is inline (inlinePassword: true): keep this file 0600.']
      : [
          `# The password comes from the environment variable ${variable} (set it from ${paths.passwordFile});`,
          '# Flume resolves ${...} when started with -DpropertiesImplementation=org.apache.flume.node.EnvVarResolverProperties',
        ]),
    ...(endpoint.tls ? [`# TLS: the source's socket factory must trust ${paths.caFile ?? 'the deployment CA'}.`] : []),
    'agent.sources = mqtt',
    `${source}.type = org.apache.flume.source.mqtt.MqttSource`,
    `${source}.host = ${propertiesValue(endpointUrl(endpoint))}`,
    `${source}.topic = ${propertiesValue(consumer.topics[0]!.topic)}`,
    `${source}.qos = ${consumer.topics[0]!.qos}`,
    `${source}.clientId = ${propertiesValue(consumer.clientId)}`,
    `${source}.cleanSession = false`,
    `${source}.username = ${propertiesValue(consumer.name)}`,
    `${source}.password = ${consumer.inlinePassword ? propertiesValue(consumer.password.reveal()) : `\${${variable}}`}`,
    `${source}.connectionTimeout = 10`,
    `${source}.keepAliveInterval = 60`,
    // Without it the report's source gives up after the first lost connection.
    `${source}.retryConnection = true`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Telegraf's `[[inputs.mqtt_consumer]]`: a persistent session needs client_id set (Telegraf draws a random one when empty). */
export function renderTelegraf(consumer: Consumer, endpoint: ConsumerEndpoint, paths: ConsumerPaths): string {
  const variable = passwordVariable(consumer);
  const input: Record<string, unknown> = {
    servers: [endpointUrl(endpoint)],
    topics: consumer.topics.map((topic) => topic.topic),
    qos: sharedQos(consumer),
    persistent_session: true,
    client_id: consumer.clientId,
    username: consumer.name,
    password: consumer.inlinePassword ? consumer.password.reveal() : `\${${variable}}`,
    ...(endpoint.tls && paths.caFile ? { tls_ca: paths.caFile } : {}),
    data_format: 'influx',
  };
  const header = [
    `# Managed by mqtt-provision: Telegraf consumer "${consumer.name}".`,
    '# persistent_session with a fixed client_id: the broker queues QoS 1 messages while Telegraf is down.',
    consumer.inlinePassword
      ? '# The password is inline (inlinePassword: true): keep this file 0600.'
      : `# Telegraf replaces \${${variable}} from its environment (e.g. /etc/default/telegraf); the value is in ${paths.passwordFile}.`,
    '# data_format is Telegraf\'s default; change it to what the publishers send.',
  ];
  return `${header.join('\n')}\n${stringifyToml({ inputs: { mqtt_consumer: [input] } })}\n`;
}

/** Connection parameters for any client, as JSON: the same names MQTT.js takes. */
export function renderGenericJson(consumer: Consumer, endpoint: ConsumerEndpoint, paths: ConsumerPaths): string {
  const document = {
    name: consumer.name,
    url: endpointUrl(endpoint),
    clientId: consumer.clientId,
    clean: false,
    protocolVersion: 4,
    topics: consumer.topics,
    username: consumer.name,
    ...(consumer.inlinePassword ? { password: consumer.password.reveal() } : { passwordFile: paths.passwordFile }),
    ...(endpoint.tls && paths.caFile ? { caFile: paths.caFile } : {}),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The same as an env file (docker --env-file, systemd EnvironmentFile): plain KEY=value lines, no quoting. */
export function renderGenericEnv(consumer: Consumer, endpoint: ConsumerEndpoint, paths: ConsumerPaths): string {
  const lines = [
    `# Managed by mqtt-provision: consumer "${consumer.name}". Keep MQTT_CLEAN_SESSION false and MQTT_CLIENT_ID fixed.`,
    `MQTT_URL=${endpointUrl(endpoint)}`,
    `MQTT_CLIENT_ID=${consumer.clientId}`,
    'MQTT_CLEAN_SESSION=false',
    `MQTT_TOPICS=${consumer.topics.map((topic) => topic.topic).join(',')}`,
    `MQTT_QOS=${sharedQos(consumer)}`,
    `MQTT_USERNAME=${consumer.name}`,
    consumer.inlinePassword ? `MQTT_PASSWORD=${consumer.password.reveal()}` : `MQTT_PASSWORD_FILE=${paths.passwordFile}`,
    ...(endpoint.tls && paths.caFile ? [`MQTT_CA_FILE=${paths.caFile}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** The files of one consumer: its config(s) by kind, the password file, and for Flume/Telegraf the env file defining the variable. */
export function renderConsumerFiles(consumer: Consumer, endpoint: ConsumerEndpoint, paths: ConsumerPaths): ConsumerFile[] {
  const inline = consumer.inlinePassword;
  const files: ConsumerFile[] = [];
  if (consumer.kind === 'flume') files.push({ name: 'flume-mqtt.properties', content: renderFlume(consumer, endpoint, paths), secret: inline });
  if (consumer.kind === 'telegraf') files.push({ name: 'telegraf-mqtt.conf', content: renderTelegraf(consumer, endpoint, paths), secret: inline });
  if (consumer.kind === 'generic') {
    files.push({ name: 'consumer.json', content: renderGenericJson(consumer, endpoint, paths), secret: inline });
    files.push({ name: 'consumer.env', content: renderGenericEnv(consumer, endpoint, paths), secret: inline });
  }
  // No final newline: a client reading the file takes every byte as the password.
  files.push({ name: 'password', content: consumer.password.reveal(), secret: true });
  if (consumer.kind !== 'generic' && !inline) {
    files.push({ name: 'password.env', content: `${passwordVariable(consumer)}=${consumer.password.reveal()}\n`, secret: true });
  }
  return files;
}
