// End to end: consumers declared in the settings get a user on a provisioned Mosquitto and rendered
// configs; an MQTT.js client that connects with exactly what a rendered config says receives all
// 5000 messages queued while it was offline; lint flags the field report's Flume configuration and
// passes the rendered ones; verify runs the offline-retention check as each consumer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getProperties } from 'properties-file';
import { parse as parseToml } from 'smol-toml';
import { runInstall, type InstallTarget } from '../../src/cli/install-command.ts';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { Secret } from '../../src/secret.ts';
import { loadSettings } from '../../src/brokers/load-settings.ts';
import { SshTransport } from '../../src/transport/ssh.ts';
import { installVerifyOptions } from '../../src/verify/install-hook.ts';
import { MessageCollector } from '../../src/verify/message-collector.ts';
import { attemptConnect, connectOrThrow, type BrokerLogin } from '../../src/verify/mqtt-client.ts';
import { publishSequence } from '../../src/verify/publish-window.ts';
import { verifyBroker } from '../../src/verify/verify-broker.ts';
import { formatVerifyReport } from '../../src/verify/verify-report.ts';

const SETUP_TIMEOUT = 15 * 60_000;
const TEST_TIMEOUT = 10 * 60_000;
const MESSAGES = 5000;
const repository = join(import.meta.dirname, '..', '..');

/** What a rendered config says a consumer connects with. */
interface ConsumerParameters {
  url: string;
  clientId: string;
  clean: boolean;
  username: string;
  password: string;
  topics: Array<{ topic: string; qos: 0 | 1 | 2 }>;
}

/** `${VAR}` resolved from the rendered password.env, as Telegraf or Flume would from their environment. */
function resolveVariable(value: string, envFile: string): string {
  const match = /^\$\{([A-Z0-9_]+)\}$/.exec(value);
  if (!match) return value;
  const line = readFileSync(envFile, 'utf8').split('\n').find((entry) => entry.startsWith(`${match[1]}=`));
  assert.ok(line, `${envFile} defines no ${match[1]}`);
  return line.slice(match[1]!.length + 1);
}

function telegrafParameters(directory: string): ConsumerParameters {
  const document = parseToml(readFileSync(join(directory, 'telegraf-mqtt.conf'), 'utf8')) as { inputs: { mqtt_consumer: Array<Record<string, unknown>> } };
  const input = document.inputs.mqtt_consumer[0]!;
  const qos = input.qos as 0 | 1 | 2;
  return {
    url: (input.servers as string[])[0]!,
    clientId: input.client_id as string,
    clean: input.persistent_session !== true,
    username: input.username as string,
    password: resolveVariable(input.password as string, join(directory, 'password.env')),
    topics: (input.topics as string[]).map((topic) => ({ topic, qos })),
  };
}

function flumeParameters(directory: string): ConsumerParameters {
  const properties = getProperties(readFileSync(join(directory, 'flume-mqtt.properties')));
  const key = (name: string) => properties[`agent.sources.mqtt.${name}`]!;
  return {
    url: key('host'),
    clientId: key('clientId'),
    clean: key('cleanSession') !== 'false',
    username: key('username'),
    password: resolveVariable(key('password'), join(directory, 'password.env')),
    topics: [{ topic: key('topic'), qos: Number(key('qos')) as 0 | 1 | 2 }],
  };
}

function lint(file: string): { code: number | null; output: string } {
  const result = spawnSync('npx', ['zx', join(repository, 'scripts', 'lint-consumer.mts'), file], { cwd: repository, encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('consumers on a lab host', () => {
  const prefix = `e2e-consumers-${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), 'mp-consumers-e2e-'));
  const adminPasswordFile = join(work, 'admin-password');
  const settingsFile = join(work, 'settings.yaml');
  const configs = join(work, 'consumer-configs');
  let host: LabHost;
  let keyPath: string;
  let mqttPort: number;

  before(async () => {
    writeFileSync(adminPasswordFile, 'admin pass word\n', { mode: 0o600 });
    writeFileSync(join(work, 'telegraf-password'), 'telegraf "secret" $HOME\n', { mode: 0o600 });
    writeFileSync(join(work, 'flume-password'), 'flume secret\n', { mode: 0o600 });
    writeFileSync(
      settingsFile,
      [
        'broker: mosquitto',
        'listeners:',
        '  mqtt: 1883',
        'consumers:',
        '  - name: telegraf',
        '    kind: telegraf',
        '    topics: ["sensors/+/temp", { topic: "alerts/#", qos: 1 }]',
        '    passwordFile: telegraf-password',
        '    maxOfflineSeconds: 86400',
        '  - name: flume-ingest',
        '    kind: flume',
        '    topics: [flume-demo]',
        '    passwordFile: flume-password',
        '',
      ].join('\n'),
    );
    keyPath = await ensureLabKey();
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix, publish: [1883] })) as [LabHost];
    mqttPort = host.ports[1883]!;
  }, { timeout: SETUP_TIMEOUT });

  after(async () => {
    if (host) await stopLabHosts([host.name]);
    rmSync(work, { recursive: true, force: true });
  });

  it('installs the consumers\' users, renders their configs, and an MQTT.js client with those parameters gets all 5000 queued messages', { timeout: TEST_TIMEOUT }, async () => {
    const output: string[] = [];
    const code = await runInstall('mosquitto', [
      '--host', `root@127.0.0.1:${host.sshPort}`, '--identity', keyPath, '--known-hosts', join(work, 'known_hosts'),
      '--settings', settingsFile, '--admin-user', 'admin', '--admin-password-file', adminPasswordFile,
      '--consumer-configs', configs, '--consumer-broker', `127.0.0.1:${mqttPort}`, '--no-verify',
    ], {
      env: {},
      print: (text) => output.push(text),
      printError: (text) => output.push(text),
      connect: (options) => SshTransport.connect(options),
    });
    assert.equal(code, 0, output.join('\n'));
    const settings = loadSettings(settingsFile, { broker: 'mosquitto' , adminUser: 'admin', adminPasswordFile });
    assert.equal(statSync(join(configs, 'telegraf', 'password')).mode & 0o777, 0o600);

    const telegraf = telegrafParameters(join(configs, 'telegraf'));
    assert.deepEqual(
      { ...telegraf, password: '[checked below]' },
      {
        url: `tcp://127.0.0.1:${mqttPort}`,
        clientId: settings.consumers[0]!.clientId,
        clean: false,
        username: 'telegraf',
        password: '[checked below]',
        topics: [{ topic: 'sensors/+/temp', qos: 1 }, { topic: 'alerts/#', qos: 1 }],
      },
    );
    assert.equal(telegraf.password, 'telegraf "secret" $HOME');
    const flume = flumeParameters(join(configs, 'flume-ingest'));
    assert.deepEqual(
      { url: flume.url, clientId: flume.clientId, clean: flume.clean, username: flume.username, topics: flume.topics },
      { url: `tcp://127.0.0.1:${mqttPort}`, clientId: settings.consumers[1]!.clientId, clean: false, username: 'flume-ingest', topics: [{ topic: 'flume-demo', qos: 1 }] },
    );
    assert.equal(flume.password, 'flume secret');

    const admin: BrokerLogin = { url: `mqtt://127.0.0.1:${mqttPort}`, username: 'admin', password: new Secret('admin pass word'), connectTimeoutMs: 10_000 };
    for (const [parameters, topic] of [[telegraf, 'sensors/room-1/temp'], [flume, 'flume-demo']] as const) {
      const login: BrokerLogin = { url: parameters.url, username: parameters.username, password: new Secret(parameters.password), connectTimeoutMs: 10_000 };
      // First start: subscribe as the config says, then go offline.
      const first = await connectOrThrow(login, { clientId: parameters.clientId, clean: parameters.clean });
      for (const subscription of parameters.topics) assert.equal(await first.subscribe(subscription.topic, subscription.qos), subscription.qos);
      await first.end();

      const publisher = await connectOrThrow(admin, { clientId: `e2e-consumers-pub-${process.pid}`, clean: true });
      await publishSequence(publisher, topic, MESSAGES, { window: 500, timeoutMs: 120_000 });
      await publisher.end();

      // Restart with the same parameters: the fixed client id finds its session and the queue.
      const collector = new MessageCollector(topic, MESSAGES);
      const again = await connectOrThrow(login, { clientId: parameters.clientId, clean: parameters.clean, onMessage: collector.handle });
      const drain = await collector.wait(again, { quietMs: 3_000, timeoutMs: 120_000 });
      await again.end();
      assert.equal(again.sessionPresent, true, `${parameters.clientId}: the broker kept no session`);
      assert.equal(collector.tally.distinct, MESSAGES, `${parameters.clientId} received ${collector.tally.distinct} of ${MESSAGES} (${drain.end})`);
      // End the session so the next test starts from none.
      const cleanup = await connectOrThrow(login, { clientId: parameters.clientId, clean: true });
      await cleanup.end();
    }

    // A consumer's user reads only its topics: publishing is refused by the ACL, which Mosquitto
    // answers by dropping the message; a topic outside its list is not granted for reading either.
    const outsider = await connectOrThrow({ url: telegraf.url, username: 'telegraf', password: new Secret(telegraf.password), connectTimeoutMs: 10_000 }, { clientId: `e2e-consumers-acl-${process.pid}`, clean: true });
    const collector = new MessageCollector('flume-demo', 1);
    outsider.client.on('message', collector.handle);
    await outsider.subscribe('flume-demo', 1).catch(() => 128);
    const publisher = await connectOrThrow(admin, { clientId: `e2e-consumers-pub2-${process.pid}`, clean: true });
    await publishSequence(publisher, 'flume-demo', 1, { window: 1, timeoutMs: 10_000 });
    await publisher.end();
    await collector.wait(outsider, { quietMs: 1_500, timeoutMs: 10_000 });
    await outsider.end();
    assert.equal(collector.tally.distinct, 0, 'the telegraf user read a topic outside its list');
  });

  it('lint flags the field report\'s Flume configuration and passes the rendered ones', { timeout: TEST_TIMEOUT }, () => {
    const report = lint(join(repository, 'test', 'fixtures', 'consumers', 'field-report-flume.conf'));
    assert.equal(report.code, 1, report.output);
    assert.match(report.output, /random-client-id: no clientId with cleanSession = false/);
    assert.match(report.output, /no-credentials/);
    // Rendered here on their own, so the test needs no other test before it.
    const rendered = join(work, 'lint-rendered');
    const code = spawnSync('npx', ['zx', join(repository, 'scripts', 'install-mosquitto.mts'), '--render-to', rendered, '--settings', settingsFile,
      '--admin-user', 'admin', '--admin-password-file', adminPasswordFile, '--consumer-broker', 'broker.example'], { cwd: repository, encoding: 'utf8' });
    assert.equal(code.status, 0, `${code.stdout}${code.stderr}`);
    for (const file of [join(rendered, 'consumers', 'telegraf', 'telegraf-mqtt.conf'), join(rendered, 'consumers', 'flume-ingest', 'flume-mqtt.properties')]) {
      const result = lint(file);
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /no loss risk found/);
    }
  });

  it('verify runs the offline-retention check with each consumer\'s client id, user and topics, and ends their sessions', { timeout: TEST_TIMEOUT }, async () => {
    // Converge first (a no-op when the test above ran): this test stands alone.
    const code = await runInstall('mosquitto', [
      '--host', `root@127.0.0.1:${host.sshPort}`, '--identity', keyPath, '--known-hosts', join(work, 'known_hosts'),
      '--settings', settingsFile, '--admin-user', 'admin', '--admin-password-file', adminPasswordFile, '--no-verify',
    ], { env: {}, print: () => {}, printError: () => {}, connect: (options) => SshTransport.connect(options) });
    assert.equal(code, 0);
    const settings = loadSettings(settingsFile, { broker: 'mosquitto', adminUser: 'admin', adminPasswordFile });
    const target: InstallTarget = {
      label: host.name,
      address: host.address,
      ports: host.ports,
      connect: () => SshTransport.connect({ user: 'root', host: host.address, port: host.sshPort, identityFile: keyPath }),
    };
    const options = installVerifyOptions(target, settings, { mayRestart: true });
    // The restart is proven in verify.test.ts; here only the consumers matter.
    delete options.restartBroker;
    const report = await verifyBroker(options);
    const text = formatVerifyReport(report);
    const statuses = Object.fromEntries(report.checks.map((check) => [check.name, check.status]));
    assert.equal(statuses['consumer telegraf retention'], 'pass', text);
    assert.equal(statuses['consumer flume-ingest retention'], 'pass', text);
    assert.equal(statuses.cleanup, 'pass', text);
    assert.equal(statuses['offline retention'], 'pass', text);
    assert.equal(report.passed, true, text);
    const telegrafCheck = report.checks.find((check) => check.name === 'consumer telegraf retention')!;
    assert.equal(telegrafCheck.figures?.receivedDistinct, 5000, text);
    assert.match(telegrafCheck.detail, new RegExp(`client id ${settings.consumers[0]!.clientId}, user telegraf`), text);

    // Nothing stays behind: the consumer's client id has no session any more.
    for (const consumer of settings.consumers) {
      const outcome = await attemptConnect(
        { url: `mqtt://127.0.0.1:${host.ports[1883]}`, username: consumer.name, password: consumer.password, connectTimeoutMs: 10_000 },
        { clientId: consumer.clientId, clean: false },
      );
      assert.equal(outcome.kind, 'accepted');
      if (outcome.kind !== 'accepted') continue;
      assert.equal(outcome.connection.sessionPresent, false, `${consumer.clientId} still has a session after verify`);
      await outcome.connection.end();
      const cleanup = await connectOrThrow({ url: `mqtt://127.0.0.1:${host.ports[1883]}`, username: consumer.name, password: consumer.password, connectTimeoutMs: 10_000 }, { clientId: consumer.clientId, clean: true });
      await cleanup.end();
    }
  });
});
