import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { convergeContainer, removeContainerTarget, resolveImage } from '../../src/container/converge.ts';
import { LocalTransport } from '../../src/transport/local.ts';
import type { ContainerOptions } from '../../src/container/desired.ts';
import { countSteps } from '../../src/engine/report.ts';
import { type Settings } from '../../src/settings/load.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { freePort } from './support/free-port.ts';
import { roundTrip } from './support/mqtt-roundtrip.ts';

const name = `mp-e2e-container-${process.pid}`;
const password = 'hostile "pass" $word \\ with spaces';
let port = 0;
let options: ContainerOptions;
const sensor = { name: 'sensor', password: 'sensor pass "2"', acl: [{ topic: 'mqtt-provision/e2e/#', access: 'readwrite' }] };
const retagged = () => `${options.image}-retag${process.pid}`;
const settingsWith = (maxQueuedMessages: number, users: Array<{ name: string; password: string; acl?: unknown[] }> = []): Settings =>
  resolveSettings({ broker: 'mosquitto', listeners: { mqtt: port }, session: { maxQueuedMessages }, admins: [{ name: 'admin', password }], users });

/** Reconnects a persistent session and collects `count` messages (bounded by 20 s). */
async function drain(clientId: string, count: number): Promise<string[]> {
  const received: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`got ${received.length} of ${count} messages`)), 20_000);
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: 'admin', password, clientId, clean: false, reconnectPeriod: 0 });
    client.on('message', (_topic, payload) => {
      received.push(payload.toString());
      if (received.length === count) {
        clearTimeout(timer);
        client.end(false, {}, () => resolve());
      }
    });
    client.on('error', reject);
  });
  return received;
}

/** A persistent QoS 1 subscriber goes offline, then `count` messages are published for it. */
async function queueForOfflineSubscriber(clientId: string, topic: string, count: number): Promise<void> {
  const url = `mqtt://127.0.0.1:${port}`;
  const subscriber = await mqtt.connectAsync(url, { username: 'admin', password, clientId, clean: false, reconnectPeriod: 0 });
  await subscriber.subscribeAsync(topic, { qos: 1 });
  await subscriber.endAsync();
  const publisher = await mqtt.connectAsync(url, { username: 'admin', password, reconnectPeriod: 0 });
  for (let i = 0; i < count; i++) await publisher.publishAsync(topic, `m${i}`, { qos: 1 });
  await publisher.endAsync();
}

async function startedAt(): Promise<string> {
  const result = await new LocalTransport().exec(['docker', 'inspect', '-f', '{{.State.StartedAt}}', name]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

describe('container target on the local Docker engine', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    port = await freePort();
    options = { name, image: await resolveImage(settingsWith(100000), 'local', false), bind: '127.0.0.1', configDir: `/var/tmp/${name}/config`, memory: '256m', cpus: '1' };
  });
  after(async () => {
    await removeContainerTarget(name, { volumes: true, configDir: `/var/tmp/${name}` });
    await new LocalTransport().exec(['docker', 'image', 'rm', retagged()]);
  });

  const url = () => `mqtt://127.0.0.1:${port}`;

  /** Each test starts from the container state it needs: a no-op when the test before left it so. */
  async function convergedWith(settings: Settings, image = options.image): Promise<void> {
    const report = await convergeContainer(settings, { ...options, image });
    assert.notEqual(report.status, 'failed', report.error);
  }

  it('converges a fresh container and serves authenticated pub/sub on the published port', async () => {
    const started = performance.now();
    const report = await convergeContainer(settingsWith(100000), options);
    assert.equal(report.status, 'changed', report.error);
    console.log(`# converge (fresh): ${Math.round(performance.now() - started)} ms, ${countSteps(report).changed} steps changed`);
    assert.equal(await roundTrip(url(), { username: 'admin', password }), 'hello from mqtt-provision');
    await assert.rejects(mqtt.connectAsync(url(), { username: 'admin', password: 'wrong', reconnectPeriod: 0, connectTimeout: 5000 }));
  });

  it('reports no change on a second run with the same settings', async () => {
    await convergedWith(settingsWith(100000));
    const started = performance.now();
    const report = await convergeContainer(settingsWith(100000), options);
    console.log(`# converge (no-op): ${Math.round(performance.now() - started)} ms`);
    assert.equal(report.status, 'ok', JSON.stringify(report.steps.filter((step) => step.status !== 'ok')));
    assert.equal(countSteps(report).changed, 0);
  });

  it('dry-run shows the config diff and touches nothing', async () => {
    await convergedWith(settingsWith(100000));
    const report = await convergeContainer(settingsWith(777), options, { dryRun: true });
    assert.equal(report.status, 'changed');
    const conf = report.steps.find((step) => step.id.endsWith('mosquitto.conf'))!;
    assert.match(conf.diff!, /\+max_queued_messages 777/);
    assert.match(report.steps.at(-1)!.reason, /config changed/);
    const again = await convergeContainer(settingsWith(100000), options, { dryRun: true });
    assert.equal(again.status, 'ok');
  });

  it('keeps 50 queued QoS 1 messages for an offline subscriber across a recreate', async () => {
    await convergedWith(settingsWith(100000));
    const clientId = `mp-e2e-offline-${process.pid}`;
    const topic = `mqtt-provision/e2e/container/${process.pid}`;
    await queueForOfflineSubscriber(clientId, topic, 50);

    const started = performance.now();
    const report = await convergeContainer(settingsWith(50000), options);
    console.log(`# converge (config change → recreate): ${Math.round(performance.now() - started)} ms`);
    assert.equal(report.status, 'changed', report.error);
    const container = report.steps.find((step) => step.id === `container:${name}`)!;
    assert.equal(container.status, 'changed');
    assert.match(container.reason, /recreate: config changed \(volumes kept\)/);

    const received = await drain(clientId, 50);
    assert.deepEqual(received, Array.from({ length: 50 }, (_, i) => `m${i}`));
  });

  it('adds a user with SIGHUP: no recreate, connected clients stay connected, the new user logs in', async () => {
    await convergedWith(settingsWith(50000));
    const before = await startedAt();
    const watcher = await mqtt.connectAsync(url(), { username: 'admin', password, reconnectPeriod: 0 });
    let closed = false;
    watcher.on('close', () => {
      closed = true;
    });
    const report = await convergeContainer(settingsWith(50000, [sensor]), options);
    assert.equal(report.status, 'changed', report.error);
    const changedIds = report.steps.filter((step) => step.status === 'changed').map((step) => step.id);
    assert.ok(changedIds.includes('reload'), changedIds.join(', '));
    assert.ok(!changedIds.includes(`container:${name}`), 'the container was not recreated');
    assert.equal(await startedAt(), before, 'the same container process');
    // mosquitto_passwd is not needed: the hash was computed here, and the broker re-read the file on SIGHUP.
    assert.equal(await roundTrip(url(), { username: 'sensor', password: sensor.password }), 'hello from mqtt-provision');
    assert.equal(closed, false, 'the client connected before the reload is still connected');
    await watcher.endAsync();
    const again = await convergeContainer(settingsWith(50000, [sensor]), options);
    assert.equal(again.status, 'ok');
  });

  it('recreates on a new image tag with the same volumes: messages queued before still arrive', async () => {
    await convergedWith(settingsWith(50000, [sensor]));
    const tag = await new LocalTransport().exec(['docker', 'tag', options.image, retagged()]);
    assert.equal(tag.code, 0, tag.stderr);
    const clientId = `mp-e2e-retag-${process.pid}`;
    await queueForOfflineSubscriber(clientId, `mqtt-provision/e2e/retag/${process.pid}`, 20);
    const report = await convergeContainer(settingsWith(50000, [sensor]), { ...options, image: retagged() });
    assert.equal(report.status, 'changed', report.error);
    assert.match(report.steps.find((step) => step.id === `container:${name}`)!.reason, /^recreate: image .+ → .+-retag\d+ \(volumes kept\)$/);
    assert.deepEqual(await drain(clientId, 20), Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it('state absent removes the container and its config and keeps the data volume; a second run changes nothing', async () => {
    await convergedWith(settingsWith(50000, [sensor]));
    const absent = resolveSettings({ broker: 'mosquitto', state: 'absent', listeners: { mqtt: port }, admins: [{ name: 'admin', password }] });
    const report = await convergeContainer(absent, options);
    assert.equal(report.status, 'changed', report.error);
    const local = new LocalTransport();
    assert.notEqual((await local.exec(['docker', 'container', 'inspect', name])).code, 0, 'the container is gone');
    assert.equal((await local.exec(['docker', 'volume', 'inspect', `${name}-data`])).code, 0, 'the data volume is kept');
    assert.equal((await local.exec(['test', '-e', options.configDir])).code, 1, 'the config (password hashes) is gone');
    assert.equal((await convergeContainer(absent, options)).status, 'ok');
  });
});
