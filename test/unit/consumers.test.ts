import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getProperties } from 'properties-file';
import { parse as parseToml } from 'smol-toml';
import { renderAclRules } from '../../src/brokers/emqx/acl.ts';
import { mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import { runInstall, type InstallEnvironment } from '../../src/cli/install-command.ts';
import { runLintCommand } from '../../src/consumers/lint-command.ts';
import { consumerEndpoint, endpointUrl } from '../../src/consumers/endpoint.ts';
import { lintConsumerText } from '../../src/consumers/lint.ts';
import { renderConsumerFiles } from '../../src/consumers/render.ts';
import { writeConsumerConfigs } from '../../src/consumers/write-configs.ts';
import { consumerWarnings } from '../../src/consumers/warnings.ts';
import { derivedClientId } from '../../src/settings/consumers.ts';
import { InputError, InputErrors } from '../../src/settings/input-error.ts';
import { type Settings } from '../../src/settings/load.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { emptyFacts } from '../../src/facts/empty-facts.ts';
import { toPlainSettings } from '../../src/pulumi/plain-settings.ts';
import { probeTopic } from '../../src/verify/consumer-retention.ts';
import { consumerProbes, installVerifyOptions } from '../../src/verify/install-hook.ts';
import { ensureCa } from '../../src/tls/ca-store.ts';

const directory = mkdtempSync(join(tmpdir(), 'mp-consumers-'));
const admins = [{ name: 'admin', password: 'correct horse' }];

function settingsWith(consumers: unknown[], extra: Record<string, unknown> = {}): Settings {
  return resolveSettings({ broker: 'mosquitto', admins, consumers, ...extra });
}

function inputErrorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof InputError || error instanceof InputErrors, `expected an input error, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected an input error');
}

const flume = { name: 'flume-ingest', kind: 'flume', topics: ['flume-demo'], password: 'flume pass' };
const telegraf = { name: 'telegraf', kind: 'telegraf', clientId: 'telegraf-metrics', topics: ['sensors/+/temp', { topic: 'alerts/#', qos: 1 }], password: 'tg-pass' };
const generic = { name: 'archiver', kind: 'generic', topics: ['orders/#'], password: 'arch "pass"' };

describe('consumer settings', () => {
  it('derives the same client id on every run from the broker and the name, when none is given', () => {
    const first = settingsWith([flume]).consumers[0]!;
    const second = settingsWith([flume]).consumers[0]!;
    assert.equal(first.clientId, second.clientId);
    assert.match(first.clientId, /^flume-ingest-[0-9a-f]{8}$/);
    assert.equal(first.clientId, derivedClientId('mosquitto', 'flume-ingest'));
    assert.notEqual(derivedClientId('emqx', 'flume-ingest'), first.clientId);
  });

  it('keeps a given client id and makes plain topics QoS 1', () => {
    const consumer = settingsWith([telegraf]).consumers[0]!;
    assert.equal(consumer.clientId, 'telegraf-metrics');
    assert.deepEqual(consumer.topics, [{ topic: 'sensors/+/temp', qos: 1 }, { topic: 'alerts/#', qos: 1 }]);
  });

  it('reads the password from passwordFile, like users', () => {
    const file = join(directory, 'flume-pw');
    writeFileSync(file, 'from a file\n');
    const { password: _password, ...rest } = flume;
    assert.equal(settingsWith([{ ...rest, passwordFile: file }]).consumers[0]!.password.reveal(), 'from a file');
  });

  const bad: Array<[string, unknown[], RegExp]> = [
    ['an unknown kind', [{ ...flume, kind: 'kafka' }], /settings\.consumers\[0\]\.kind: must be one of "flume", "telegraf", "generic"/],
    ['no topics', [{ ...flume, topics: [] }], /settings\.consumers\[0\]\.topics: needs at least one topic/],
    ['a QoS of 3', [{ ...telegraf, topics: [{ topic: 'a', qos: 3 }] }], /settings\.consumers\[0\]\.topics\[0\]\.qos/],
    ['a wildcard inside a level', [{ ...generic, topics: ['orders/a#'] }], /settings\.consumers\[0\]\.topics\[0\]\.topic: wildcards must fill a whole level/],
    ['two topics for Flume', [{ ...flume, topics: ['a', 'b'] }], /settings\.consumers\[0\]\.topics: a Flume MQTT source subscribes one topic/],
    ['a client id with a space', [{ ...flume, clientId: 'a b' }], /settings\.consumers\[0\]\.clientId: must be 1–128 characters/],
    ['two consumers with one client id', [{ ...flume, clientId: 'same' }, { ...generic, clientId: 'same' }], /settings\.consumers\[1\]\.clientId: "same" is already the client id of consumer "flume-ingest"/],
    ['no password', [{ name: 'x', kind: 'generic', topics: ['t'] }], /settings\.consumers\[0\]\.password: is required/],
    ['an unreadable passwordFile', [{ name: 'x', kind: 'generic', topics: ['t'], passwordFile: '/nonexistent/pw' }], /settings\.consumers\[0\]\.passwordFile: cannot read/],
    ['a name an admin already has', [{ ...generic, name: 'admin' }], /user name "admin" is given twice/],
    ['an unknown key', [{ ...generic, cleanSession: true }], /settings\.consumers\[0\]: unknown key "cleanSession"/],
  ];
  for (const [what, consumers, message] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      assert.match(inputErrorOf(() => settingsWith(consumers)), message);
    });
  }

  it('survives the plain-settings round trip into the Pulumi provider unchanged', () => {
    const settings = settingsWith([flume, telegraf]);
    const again = resolveSettings(toPlainSettings(settings));
    assert.deepEqual(toPlainSettings(again).consumers, toPlainSettings(settings).consumers);
    assert.equal(again.users.length, 0);
  });

  it('gives each consumer a user that may read exactly its topics, in Mosquitto\'s ACL and password file', () => {
    const settings = settingsWith([telegraf]);
    const files = mosquittoFiles(settings, emptyFacts(), () => Buffer.alloc(12, 1));
    const acl = files.find((file) => file.path.endsWith('acl'))!.content;
    assert.match(acl, /user telegraf\ntopic read sensors\/\+\/temp\ntopic read alerts\/#\n/);
    assert.doesNotMatch(acl, /user telegraf\ntopic readwrite/);
    const passwd = files.find((file) => file.path.endsWith('passwd'))!.content;
    assert.match(passwd, /^telegraf:\$7\$/m);
  });

  it('gives the same read-only rules to EMQX\'s file authorization source', () => {
    const rules = renderAclRules(resolveSettings({ broker: 'emqx', admins: [{ name: 'admin', password: 'Correct-horse-1' }], consumers: [telegraf] }));
    assert.match(rules, /\{allow, \{username, "telegraf"\}, subscribe, \["sensors\/\+\/temp"\]\}\.\n\{allow, \{username, "telegraf"\}, subscribe, \["alerts\/#"\]\}\./);
  });
});

describe('consumer warnings', () => {
  it('warns when a consumer may stay offline longer than the session expiry', () => {
    const warnings = consumerWarnings(settingsWith([{ ...flume, maxOfflineSeconds: 700000 }], { session: { expirySeconds: 604800 } }));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /settings\.consumers\[0\]\.maxOfflineSeconds \(flume-ingest\): 700000 s offline outlives session\.expirySeconds \(604800 s\)/);
  });

  it('warns when the expected backlog exceeds the per-client queue', () => {
    const warnings = consumerWarnings(settingsWith([{ ...flume, expectedBacklog: 200000 }]));
    assert.match(warnings.join('\n'), /expectedBacklog \(flume-ingest\): 200000 messages exceed session\.maxQueuedMessages \(100000\)/);
  });

  it('warns about a QoS 0 topic and about sessions that are not kept at all', () => {
    const warnings = consumerWarnings(settingsWith([{ ...generic, topics: [{ topic: 'x', qos: 0 }] }], { session: { persistent: false } }));
    assert.equal(warnings.length, 2);
  });

  it('is silent when the broker holds what the consumer needs', () => {
    assert.deepEqual(consumerWarnings(settingsWith([{ ...flume, maxOfflineSeconds: 604800, expectedBacklog: 100000 }])), []);
  });
});

describe('rendered consumer configs', () => {
  const settings = settingsWith([flume, telegraf, generic]);
  const endpoint = consumerEndpoint(settings, 'broker.example:18830');
  const paths = { passwordFile: '/etc/consumer/password' };
  const filesOf = (index: number) => renderConsumerFiles(settings.consumers[index]!, endpoint, paths);

  it('writes the Flume source in the field report\'s keys, with a fixed clientId and cleanSession false', () => {
    const file = filesOf(0).find((entry) => entry.name === 'flume-mqtt.properties')!;
    const properties = getProperties(file.content);
    assert.equal(properties['agent.sources.mqtt.host'], 'tcp://broker.example:18830');
    assert.equal(properties['agent.sources.mqtt.topic'], 'flume-demo');
    assert.equal(properties['agent.sources.mqtt.clientId'], settings.consumers[0]!.clientId);
    assert.equal(properties['agent.sources.mqtt.cleanSession'], 'false');
    assert.equal(properties['agent.sources.mqtt.qos'], '1');
    assert.equal(properties['agent.sources.mqtt.username'], 'flume-ingest');
    assert.equal(properties['agent.sources.mqtt.password'], '${MQTT_PASSWORD_FLUME_INGEST}');
    assert.equal(file.secret, false);
    assert.doesNotMatch(file.content, /flume pass/);
  });

  it('writes Telegraf\'s mqtt_consumer with client_id, persistent_session and qos 1', () => {
    const file = filesOf(1).find((entry) => entry.name === 'telegraf-mqtt.conf')!;
    const input = (parseToml(file.content) as { inputs: { mqtt_consumer: Array<Record<string, unknown>> } }).inputs.mqtt_consumer[0]!;
    assert.deepEqual(input.servers, ['tcp://broker.example:18830']);
    assert.deepEqual(input.topics, ['sensors/+/temp', 'alerts/#']);
    assert.equal(input.client_id, 'telegraf-metrics');
    assert.equal(input.persistent_session, true);
    assert.equal(input.qos, 1);
    assert.equal(input.password, '${MQTT_PASSWORD_TELEGRAF}');
    assert.equal(input.tls_ca, undefined);
  });

  it('writes generic consumers as JSON and as an env file that point at the password file', () => {
    const files = filesOf(2);
    const json = JSON.parse(files.find((entry) => entry.name === 'consumer.json')!.content);
    assert.equal(json.clean, false);
    assert.equal(json.passwordFile, '/etc/consumer/password');
    assert.equal(json.password, undefined);
    const env = files.find((entry) => entry.name === 'consumer.env')!.content;
    assert.match(env, /^MQTT_CLIENT_ID=archiver-[0-9a-f]{8}$/m);
    assert.match(env, /^MQTT_CLEAN_SESSION=false$/m);
    assert.doesNotMatch(env, /arch "pass"/);
    const password = files.find((entry) => entry.name === 'password')!;
    assert.equal(password.content, 'arch "pass"');
    assert.equal(password.secret, true);
  });

  it('puts the password inline only when asked, and then keeps the config secret', () => {
    const inline = settingsWith([{ ...telegraf, inlinePassword: true }]).consumers[0]!;
    const file = renderConsumerFiles(inline, endpoint, paths).find((entry) => entry.name === 'telegraf-mqtt.conf')!;
    assert.equal((parseToml(file.content) as { inputs: { mqtt_consumer: Array<{ password: string }> } }).inputs.mqtt_consumer[0]!.password, 'tg-pass');
    assert.equal(file.secret, true);
  });

  it('uses the mqtts listener and the CA when TLS is served', () => {
    const tls = resolveSettings({ broker: 'mosquitto', admins, consumers: [telegraf], listeners: { mqtt: 1883, mqtts: 8883 }, tls: { generate: { caDir: join(directory, 'ca'), subjectAltNames: ['mqtt.example'] } } });
    const tlsEndpoint = consumerEndpoint(tls, 'mqtt.example');
    assert.equal(endpointUrl(tlsEndpoint), 'ssl://mqtt.example:8883');
    const file = renderConsumerFiles(tls.consumers[0]!, tlsEndpoint, { ...paths, caFile: '/etc/consumer/ca.crt' })[0]!;
    const input = (parseToml(file.content) as { inputs: { mqtt_consumer: Array<Record<string, unknown>> } }).inputs.mqtt_consumer[0]!;
    assert.deepEqual(input.servers, ['ssl://mqtt.example:8883']);
    assert.equal(input.tls_ca, '/etc/consumer/ca.crt');
  });

  it('writes the deployment CA beside the configs and points the TLS consumers at it', () => {
    const caDir = join(directory, 'ca-write');
    const tls = resolveSettings({ broker: 'mosquitto', admins, consumers: [telegraf, generic], listeners: { mqtts: 8883 }, tls: { generate: { caDir, subjectAltNames: ['mqtt.example'] } } });
    const out = join(directory, 'tls-configs');
    assert.throws(() => writeConsumerConfigs(out, tls, consumerEndpoint(tls, 'mqtt.example')), /the generated CA in .* does not exist yet; converge once/);
    ensureCa(caDir); // what the first converge that applies does
    const written = writeConsumerConfigs(out, tls, consumerEndpoint(tls, 'mqtt.example'));
    assert.ok(written.includes(join(out, 'ca.crt')));
    assert.equal(readFileSync(join(out, 'ca.crt'), 'utf8'), readFileSync(join(caDir, 'ca.crt'), 'utf8'));
    const input = (parseToml(readFileSync(join(out, 'telegraf', 'telegraf-mqtt.conf'), 'utf8')) as { inputs: { mqtt_consumer: Array<Record<string, unknown>> } }).inputs.mqtt_consumer[0]!;
    assert.equal(input.tls_ca, join(out, 'ca.crt'));
    assert.equal(JSON.parse(readFileSync(join(out, 'archiver', 'consumer.json'), 'utf8')).caFile, join(out, 'ca.crt'));
    assert.equal(statSync(join(out, 'archiver')).mode & 0o777, 0o700);
    assert.equal(statSync(join(out, 'archiver', 'password')).mode & 0o777, 0o600);
  });

  it('passes its own lint (Flume and Telegraf; lint reads no JSON)', () => {
    for (const index of [0, 1]) {
      const config = filesOf(index)[0]!;
      assert.deepEqual(lintConsumerText(config.content).risks, [], config.name);
    }
  });
});

describe('consumer lint', () => {
  const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'consumers', name), 'utf8');

  it('flags the field report\'s Flume source: random client id with a persistent session, and no credentials', () => {
    const result = lintConsumerText(fixture('field-report-flume.conf'));
    assert.equal(result.format, 'flume');
    assert.deepEqual(result.risks.map((risk) => risk.kind).sort(), ['no-credentials', 'random-client-id']);
    assert.match(result.risks.find((risk) => risk.kind === 'random-client-id')!.detail, /getUuid/);
  });

  it('flags the field report\'s mosquitto_sub: QoS 0 and no credentials', () => {
    const result = lintConsumerText(fixture('field-report-mosquitto-sub.sh'));
    assert.deepEqual(result.risks.map((risk) => risk.kind).sort(), ['no-credentials', 'qos0']);
  });

  it('flags Telegraf\'s defaults: clean session and QoS 0', () => {
    const result = lintConsumerText(fixture('telegraf-defaults.conf'));
    assert.deepEqual(result.risks.map((risk) => risk.kind).sort(), ['clean-session', 'no-credentials', 'qos0']);
  });

  it('flags a persistent Telegraf session without client_id', () => {
    const result = lintConsumerText('[[inputs.mqtt_consumer]]\nservers = ["tcp://h:1883"]\ntopics = ["t"]\nqos = 1\npersistent_session = true\nusername = "u"\n');
    assert.deepEqual(result.risks.map((risk) => risk.kind), ['random-client-id']);
  });

  it('reads mosquitto_sub quoting and flags -I and $RANDOM ids, clean sessions and missing -q', () => {
    assert.deepEqual(lintConsumerText(`mosquitto_sub -c -I 'sub-' -t x -q 1 -u u -P p`).risks.map((risk) => risk.kind), ['random-client-id']);
    assert.deepEqual(lintConsumerText('mosquitto_sub -c -i "sub-$RANDOM" -t x -q 1 -u u -P p').risks.map((risk) => risk.kind), ['random-client-id']);
    assert.deepEqual(lintConsumerText('mosquitto_sub -t x -u u -P p -i fixed').risks.map((risk) => risk.kind).sort(), ['clean-session', 'qos0']);
    assert.deepEqual(lintConsumerText('$ mosquitto_sub -c \\\n  --id fixed --qos 1 -t "a b" -L mqtt://u:p@h:1883/t').risks, []);
  });

  it('treats a Flume source with cleanSession true, or not set, as a clean session', () => {
    const base = 'a.sources = m\na.sources.m.type = org.apache.flume.source.mqtt.MqttSource\na.sources.m.host = tcp://h:1883\na.sources.m.topic = t\na.sources.m.clientId = fixed\na.sources.m.username = u\n';
    assert.deepEqual(lintConsumerText(`${base}a.sources.m.cleanSession = true\n`).risks.map((risk) => risk.kind), ['clean-session']);
    assert.deepEqual(lintConsumerText(base).risks.map((risk) => risk.kind), ['clean-session']);
    assert.deepEqual(lintConsumerText(`${base}a.sources.m.cleanSession = false\na.sources.m.qos = 0\n`).risks.map((risk) => risk.kind), ['qos0']);
  });

  it('exits 1 on a risk, 0 on none, 2 on an unreadable or unknown file', () => {
    const clean = join(directory, 'clean.sh');
    writeFileSync(clean, 'mosquitto_sub -c -i fixed -q 1 -t t -u u -P p\n');
    const unknown = join(directory, 'unknown.txt');
    writeFileSync(unknown, 'hello\n');
    const out: string[] = [];
    const fixtureFile = join(import.meta.dirname, '..', 'fixtures', 'consumers', 'field-report-flume.conf');
    assert.equal(runLintCommand([fixtureFile], (text) => out.push(text), () => {}), 1);
    assert.equal(runLintCommand([clean], (text) => out.push(text), () => {}), 0);
    assert.match(out.at(-1)!, /no loss risk found/);
    assert.equal(runLintCommand([clean, '/nonexistent/file'], () => {}, () => {}), 2);
    assert.equal(runLintCommand([unknown], () => {}, () => {}), 2);
  });

  it('refuses a file in none of the formats', () => {
    assert.throws(() => lintConsumerText('{"hello": 1}'), /not a Flume properties file/);
    assert.throws(() => lintConsumerText('[[inputs.mqtt_consumer]]\nservers = [\n'), /not valid TOML/);
  });
});

describe('consumer verify probes and the install front door', () => {
  it('probes a topic the consumer\'s filter matches, with this run\'s own level for each wildcard', () => {
    assert.equal(probeTopic('sensors/+/temp', 'ab12'), 'sensors/mp-verify-ab12/temp');
    assert.equal(probeTopic('orders/#', 'ab12'), 'orders/mp-verify-ab12');
    assert.equal(probeTopic('flume-demo', 'ab12'), 'flume-demo');
  });

  it('verifies consumers with their own client id, user and topics only on a run that changed the broker', () => {
    const settings = settingsWith([flume]);
    const target = { label: 'h', address: '192.0.2.1', ports: {}, connect: async () => assert.fail('no connection') };
    const changed = installVerifyOptions(target, settings, { mayRestart: true });
    assert.deepEqual(changed.consumers?.map(({ clientId, username }) => ({ clientId, username })), [{ clientId: settings.consumers[0]!.clientId, username: 'flume-ingest' }]);
    const unchanged = installVerifyOptions(target, settings, { mayRestart: false });
    assert.equal(unchanged.consumers, undefined);
    assert.match(unchanged.consumerSkipReason ?? '', /not taken over/);
    assert.equal(consumerProbes(settings)[0]!.password.reveal(), 'flume pass');
  });

  function recorder(): InstallEnvironment & { err: string[]; connections: number } {
    const env = {
      err: [] as string[],
      connections: 0,
      env: {},
      print: () => {},
      printError: (text: string) => env.err.push(text),
      connect: async () => {
        env.connections++;
        throw new Error('no host in unit tests');
      },
    };
    return env;
  }
  const settingsFile = join(directory, 'consumers.yaml');
  writeFileSync(settingsFile, JSON.stringify({ broker: 'mosquitto', admins, consumers: [flume, generic], session: { maxQueuedMessages: 1000 } }));
  writeFileSync(join(directory, 'with-backlog.yaml'), JSON.stringify({ broker: 'mosquitto', admins, consumers: [{ ...flume, expectedBacklog: 5000 }], session: { maxQueuedMessages: 1000 } }));

  it('renders consumer configs with --render-to into DIR/consumers, passwords 0600, and warns about the backlog', async () => {
    const target = join(directory, 'render');
    const environment = recorder();
    const code = await runInstall('mosquitto', ['--render-to', target, '--settings', join(directory, 'with-backlog.yaml'), '--consumer-broker', '10.0.0.5'], environment);
    assert.equal(code, 0, environment.err.join('\n'));
    const properties = getProperties(readFileSync(join(target, 'consumers', 'flume-ingest', 'flume-mqtt.properties')));
    assert.equal(properties['agent.sources.mqtt.host'], 'tcp://10.0.0.5:1883');
    assert.equal(statSync(join(target, 'consumers', 'flume-ingest', 'password')).mode & 0o777, 0o600);
    assert.equal(statSync(join(target, 'consumers', 'flume-ingest', 'password.env')).mode & 0o777, 0o600);
    assert.match(environment.err.join('\n'), /warning: settings\.consumers\[0\]\.expectedBacklog/);
    assert.equal(environment.connections, 0);
  });

  it('refuses to render consumer configs without an address, before anything is written (exit 2)', async () => {
    const environment = recorder();
    const code = await runInstall('mosquitto', ['--render-to', join(directory, 'nowhere'), '--settings', settingsFile], environment);
    assert.equal(code, 2);
    assert.match(environment.err.join('\n'), /--consumer-broker: is required to render consumer configs without a host/);
  });

  it('refuses a malformed --consumer-broker with exit 2 and no connection', async () => {
    const environment = recorder();
    const code = await runInstall('mosquitto', ['--host', 'h', '--settings', settingsFile, '--consumer-configs', join(directory, 'c'), '--consumer-broker', 'a b:1'], environment);
    assert.equal(code, 2);
    assert.match(environment.err.join('\n'), /--consumer-broker: must be HOST or HOST:PORT/);
    assert.equal(environment.connections, 0);
  });
});
