// Breaking a --docker broker on purpose (issue 22): a deleted config directory, a hand-edited
// config picked up by `docker restart`, a recreate whose replacement cannot start, a volume
// someone else made, an interrupted verify. Each test converges its own container and port.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { convergeContainer, removeContainerTarget, resolveImage } from '../../src/container/converge.ts';
import type { ContainerOptions } from '../../src/container/desired.ts';
import { formatRecap } from '../../src/cli/progress-printer.ts';
import { countSteps, type HostReport } from '../../src/engine/report.ts';
import { type Settings } from '../../src/settings/load.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { LocalTransport } from '../../src/transport/local.ts';
import { Secret } from '../../src/secret.ts';
import { verifyContainerAfterInstall } from '../../src/verify/install-hook.ts';
import { attemptConnect } from '../../src/verify/mqtt-client.ts';
import { freePort } from './support/free-port.ts';
import { roundTrip } from './support/mqtt-roundtrip.ts';
import { writeSecretFile } from './support/lab-fixture.ts';

const password = 'faults "admin" $pass';
const local = new LocalTransport();
let image = '';
const created: string[] = [];

async function sh(argv: string[]): Promise<string> {
  const result = await local.exec(argv);
  assert.equal(result.code, 0, `${argv.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** A container of its own for one test: name, port, config directory under /var/tmp/NAME. */
async function broker(tag: string, session: Partial<Settings['session']> = {}) {
  const name = `mp-e2e-faults-${tag}-${process.pid}`;
  created.push(name);
  const port = await freePort();
  const options: ContainerOptions = { name, image, bind: '127.0.0.1', configDir: `/var/tmp/${name}/config`, memory: '256m', cpus: '1' };
  const settings = (extra: Partial<Settings['session']> = session, state: 'present' | 'absent' = 'present', purgeData = false) =>
    resolveSettings({ broker: 'mosquitto', state, purgeData, listeners: { mqtt: port }, session: extra, admins: [{ name: 'admin', password }] });
  return { name, port, options, settings, url: `mqtt://127.0.0.1:${port}` };
}

function step(report: HostReport, id: string) {
  const found = report.steps.find((candidate) => candidate.id === id);
  assert.ok(found, `no step ${id} in ${JSON.stringify(report.steps.map((candidate) => candidate.id))}`);
  return found;
}

/** A persistent QoS 1 subscriber goes offline, `count` messages are published, then it comes back and counts them. */
async function queueAndDrain(url: string, clientId: string, count: number): Promise<number> {
  const topic = `mqtt-provision/e2e/faults/${clientId}`;
  const subscriber = await mqtt.connectAsync(url, { username: 'admin', password, clientId, clean: false, reconnectPeriod: 0 });
  await subscriber.subscribeAsync(topic, { qos: 1 });
  await subscriber.endAsync();
  const publisher = await mqtt.connectAsync(url, { username: 'admin', password, reconnectPeriod: 0 });
  for (let i = 0; i < count; i++) await publisher.publishAsync(topic, `m${i}`, { qos: 1 });
  await publisher.endAsync();
  const received = new Set<string>();
  // Listening before the CONNECT leaves: the kept session's in-flight messages come with the CONNACK.
  const back = mqtt.connect(url, { username: 'admin', password, clientId, clean: false, reconnectPeriod: 0 });
  // Done when all arrived, or when none came for 5 s (the machine is shared: a short pause is no end).
  await new Promise<void>((resolve, reject) => {
    let quiet = setTimeout(resolve, 5000);
    back.on('error', reject);
    back.on('message', (_topic, payload) => {
      received.add(payload.toString());
      clearTimeout(quiet);
      quiet = setTimeout(resolve, received.size === count ? 0 : 5000);
    });
  });
  await back.endAsync();
  // Leave no session behind.
  await (await mqtt.connectAsync(url, { username: 'admin', password, clientId, clean: true, reconnectPeriod: 0 })).endAsync();
  return received.size;
}

/** Runs the container's own healthcheck command in it, as Docker does: its exit code. */
async function runHealthcheck(name: string): Promise<number> {
  const test = JSON.parse(await sh(['docker', 'inspect', '-f', '{{json .Config.Healthcheck.Test}}', name])) as string[];
  assert.equal(test[0], 'CMD-SHELL');
  return (await local.exec(['docker', 'exec', name, 'sh', '-c', test[1]!])).code;
}

describe('--docker faults (issue 22)', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    image = await resolveImage(resolveSettings({ broker: 'mosquitto', admins: [{ name: 'admin', password }] }), 'local', false);
  });
  after(async () => {
    for (const name of created) await removeContainerTarget(name, { volumes: true, configDir: `/var/tmp/${name}` });
  });

  it('a deleted config directory: the converge restarts the container onto the new one, and the healthcheck logs in for real', async () => {
    const b = await broker('deleted');
    assert.equal((await convergeContainer(b.settings(), b.options)).status, 'changed');
    await sh(['rm', '-rf', '--', b.options.configDir]);
    const report = await convergeContainer(b.settings(), b.options);
    assert.equal(report.status, 'changed', report.error);
    assert.equal(await roundTrip(b.url, { username: 'admin', password }), 'hello from mqtt-provision');
    assert.match(step(report, `container:${b.name}`).reason, /^restart: .*the directory mounted at \/mosquitto\/config was replaced/);

    // The healthcheck is a real login as the health user; its password is in no inspect field.
    assert.equal(await runHealthcheck(b.name), 0);
    const healthPassword = /^-P (.+)$/m.exec(readFileSync(`${b.options.configDir}/mosquitto_pub`, 'utf8'))![1]!;
    assert.ok(!(await sh(['docker', 'inspect', b.name])).includes(healthPassword), 'the health password is not in docker inspect');
    assert.equal((await sh(['stat', '-c', '%a', `${b.options.configDir}/mosquitto_pub`])), '600');
    assert.equal(countSteps(await convergeContainer(b.settings(), b.options)).changed, 0, 'a second run changes nothing');

    // A wrong health password must fail the healthcheck: "the port answers" is not enough.
    writeFileSync(`${b.options.configDir}/mosquitto_pub`, '-u mqtt-provision-health\n-P 00000000000000000000000000000000\n', { mode: 0o600 });
    assert.notEqual(await runHealthcheck(b.name), 0);
    assert.equal((await convergeContainer(b.settings(), b.options)).status, 'changed');
    assert.equal(await runHealthcheck(b.name), 0);
  });

  it('a hand edit of the mounted mosquitto.conf, picked up by docker restart, is undone on the broker', async () => {
    const b = await broker('edited', { maxQueuedMessages: 500 });
    assert.equal((await convergeContainer(b.settings(), b.options)).status, 'changed');
    const conf = `${b.options.configDir}/mosquitto.conf`;
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^max_queued_messages 500$/m, 'max_queued_messages 100'));
    await sh(['docker', 'restart', b.name]);
    const report = await convergeContainer(b.settings(), b.options);
    assert.equal(report.status, 'changed', report.error);
    assert.match(step(report, `container:${b.name}`).reason, /^restart: mosquitto\.conf differs from what it was rendered as/);
    assert.equal(await queueAndDrain(b.url, `mp-e2e-edited-${process.pid}`, 300), 300, 'the broker runs max_queued_messages 500 again');
    assert.equal(countSteps(await convergeContainer(b.settings(), b.options)).changed, 0);
  });

  it('a recreate whose replacement cannot be created leaves the running broker alone', async () => {
    const b = await broker('safety');
    assert.equal((await convergeContainer(b.settings(), b.options)).status, 'changed');
    const startedAt = await sh(['docker', 'inspect', '-f', '{{.State.StartedAt}}', b.name]);
    const attempts: Array<[string, ContainerOptions, RegExp]> = [
      ['memory below Docker\'s minimum', { ...b.options, memory: '4m' }, /Minimum memory limit/],
      ['more CPUs than the Docker host has', { ...b.options, cpus: '64' }, /--cpus 64 is more than the \d+ CPUs of the Docker host/],
      // A registry on 127.0.0.1:1 answers nothing: the pull fails at once, and no traffic leaves this machine.
      ['an image that cannot be pulled', { ...b.options, image: '127.0.0.1:1/mqtt-provision-missing:1' }, /cannot be created; the running one is left as it is/],
    ];
    for (const [what, options, expected] of attempts) {
      const report = await convergeContainer(b.settings(), options);
      assert.equal(report.status, 'failed', what);
      assert.match(report.error ?? '', expected, what);
      assert.equal(await sh(['docker', 'inspect', '-f', '{{.State.Status}} {{.State.StartedAt}}', b.name]), `running ${startedAt}`, `${what}: the old container still runs`);
      assert.equal(await roundTrip(b.url, { username: 'admin', password }), 'hello from mqtt-provision', what);
    }
  });

  it('a volume without our label is refused, never adopted and never removed by purgeData; a refused plan counts as failed', async () => {
    const b = await broker('volume');
    const volume = `${b.name}-data`;
    await sh(['docker', 'volume', 'create', volume]);
    await sh(['docker', 'run', '--rm', '--volume', `${volume}:/data`, image, 'sh', '-c', 'echo precious > /data/keep']);
    const report = await convergeContainer(b.settings(), b.options);
    assert.equal(report.status, 'failed');
    assert.match(report.error ?? '', /without the mqtt-provision\.managed label/);
    assert.match(formatRecap([report]), /failed=1/, 'the recap does not say failed=0 for a refused plan');
    assert.notEqual((await local.exec(['docker', 'container', 'inspect', b.name])).code, 0, 'no container was created');
    const purge = await convergeContainer(b.settings({}, 'absent', true), b.options);
    assert.equal(purge.status, 'failed');
    assert.equal(await sh(['docker', 'run', '--rm', '--volume', `${volume}:/data`, image, 'cat', '/data/keep']), 'precious');
    await sh(['docker', 'volume', 'rm', volume]);

    // The same for a foreign container of that name: refused, and the recap counts the refusal.
    await sh(['docker', 'create', '--name', b.name, image]);
    const foreign = await convergeContainer(b.settings(), b.options);
    assert.match(foreign.error ?? '', /exists and mqtt-provision did not create it/);
    assert.match(formatRecap([foreign]), /failed=1/);
    await sh(['docker', 'rm', b.name]);
  });

  it('state absent removes the config directory and the parent named after the container', async () => {
    const b = await broker('absent');
    assert.equal((await convergeContainer(b.settings(), b.options)).status, 'changed');
    const report = await convergeContainer(b.settings({}, 'absent', true), b.options);
    assert.equal(report.status, 'changed', report.error);
    assert.match(step(report, `volume:${b.name}-log`).reason, /purgeData/);
    assert.equal((await local.exec(['test', '-e', `/var/tmp/${b.name}`])).code, 1, 'no empty directory is left');
    assert.equal((await convergeContainer(b.settings({}, 'absent', true), b.options)).status, 'ok');
  });

  it('verify tells messages lost to a queue cap from messages lost in a restart', async () => {
    const b = await broker('cap', { maxQueuedMessages: 100 });
    assert.equal((await convergeContainer(b.settings(), b.options)).status, 'changed');
    const lines: string[] = [];
    const passed = await verifyContainerAfterInstall({ name: b.name, label: b.name, transport: local, address: '127.0.0.1', bind: '127.0.0.1' }, b.settings(), (line) => lines.push(line), true);
    assert.equal(passed, false);
    const restart = lines.find((line) => line.includes('restart survival'))!;
    assert.match(restart, /kept only 100 of 5000 before the restart \(its queue limit\), and all of those survived it/, lines.join('\n'));
    assert.doesNotMatch(restart, /lost in the restart/);
    assert.match(restart, /kept before restart=100/);
  });

  it('an interrupted verify-broker.mts ends its sessions: none is left holding messages', async () => {
    const b = await broker('sigint');
    assert.equal((await convergeContainer(b.settings(), b.options)).status, 'changed');
    const passwordFile = writeSecretFile(`${password}\n`);
    // Watches the run's topics, so the interrupt lands while messages are being queued.
    const watcher = await mqtt.connectAsync(b.url, { username: 'admin', password, reconnectPeriod: 0 });
    await watcher.subscribeAsync('mqtt-provision/verify/#', { qos: 0 });
    let seen = 0;
    const flowing = new Promise<void>((resolve) => watcher.on('message', () => ++seen === 2000 && resolve()));
    const child = spawn(process.execPath, ['scripts/verify-broker.mts', '--url', b.url, '--user', 'admin', '--password-file', passwordFile, '--messages', '200000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await flowing;
    await watcher.endAsync();
    child.kill('SIGINT');
    assert.equal(await exited, 130, `${stdout}\n${stderr}`);
    assert.match(stdout, /PASS +cleanup/, stdout);
    const runId = /verify ([0-9a-f]{8}):/.exec(stderr)![1]!;
    // Coming back with clean session off: "session present" would mean a session (and its queue) was left.
    const login = { url: b.url, username: 'admin', password: new Secret(password), connectTimeoutMs: 5000 };
    for (const role of ['sub', 'pub']) {
      const clientId = `mp-verify-${runId}-${role}`;
      const probe = await attemptConnect(login, { clientId, clean: false });
      assert.equal(probe.kind, 'accepted');
      if (probe.kind !== 'accepted') continue;
      const present = probe.connection.sessionPresent;
      await probe.connection.end();
      const clean = await attemptConnect(login, { clientId, clean: true });
      if (clean.kind === 'accepted') await clean.connection.end();
      assert.equal(present, false, `the session of ${clientId} was left on the broker`);
    }
  });
});
