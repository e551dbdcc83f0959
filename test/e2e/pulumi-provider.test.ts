// End to end: the MqttBrokerHost dynamic provider's create, diff, read, update and delete, called the
// way the Pulumi engine calls them, converge a real lab host over SSH. The Pulumi CLI itself is not
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// involved (it cannot be installed here); everything below it is.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { NodeSSH } from 'node-ssh';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { mqttBrokerHostProvider, type HostProviderInputs, type HostProviderOutputs } from '../../src/pulumi/host-provider.ts';
import { toPlainSettings } from '../../src/pulumi/plain-settings.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';

// The first run may build the lab image with debootstrap; later runs hit the cache.
const SETUP_TIMEOUT = 15 * 60_000;
const STEP_TIMEOUT = 5 * 60_000;

const provider = mqttBrokerHostProvider as Required<typeof mqttBrokerHostProvider>;
const adminPassword = `admin-${randomBytes(9).toString('base64url')}`;
const appPassword = `app ${randomBytes(9).toString('base64url')}`;

/** Publishes one QoS 1 message as `user` and waits for it on a second authenticated connection. */
async function roundTrip(port: number, username: string, password: string, topic: string): Promise<string> {
  const options = { username, password, reconnectPeriod: 0, connectTimeout: 10_000 };
  const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...options, clientId: `sub-${randomBytes(4).toString('hex')}` });
  const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...options, clientId: `pub-${randomBytes(4).toString('hex')}` });
  try {
    const payload = `hello ${randomBytes(4).toString('hex')}`;
    const received = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic} within 10 s`)), 10_000);
      subscriber.on('message', (_topic, message) => {
        clearTimeout(timer);
        resolve(message.toString());
      });
    });
    await subscriber.subscribeAsync(topic, { qos: 1 });
    await publisher.publishAsync(topic, payload, { qos: 1 });
    assert.equal(await received, payload);
    return payload;
  } finally {
    await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
  }
}

/**
 * "connected" on CONNACK, otherwise how the attempt ended. Not connectAsync: it never settles when
 * the peer closes before CONNACK, which Docker's published port does once nothing listens behind it.
 */
function connectAttempt(url: string, credentials: { username: string; password: string }): Promise<string> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { ...credentials, reconnectPeriod: 0, connectTimeout: 5_000 });
    client.once('connect', () => {
      client.end(true);
      resolve('connected');
    });
    client.once('error', (error) => {
      client.end(true);
      resolve(`error: ${error.message}`);
    });
    client.once('close', () => resolve('closed'));
  });
}

describe('MqttBrokerHost provider on a lab host', () => {
  const prefix = `e2e-pulumi-${process.pid}`;
  let host: LabHost;
  let keyPath: string;
  let root: NodeSSH;
  let id: string;
  let outputs: HostProviderOutputs;

  const shell = async (command: string) => root.execCommand(command);
  const inputs = (maxQueuedMessages: number): HostProviderInputs => ({
    address: host.address,
    port: host.sshPort,
    // Not root: the engine runs everything through `sudo -n`, as on a real server.
    user: 'deploy',
    privateKeyPath: keyPath,
    knownHostsPath: join(tmpdir(), `mp-pulumi-known-hosts-${process.pid}`),
    broker: 'mosquitto',
    settings: toPlainSettings(
      resolveSettings({
        broker: 'mosquitto',
        listeners: { mqtt: 1883 },
        session: { maxQueuedMessages },
        admins: [{ name: 'admin', password: adminPassword }],
        users: [{ name: 'app', password: appPassword, acl: [{ topic: 'app/#', access: 'readwrite' }] }],
      }),
    ),
    purgeDataOnDelete: false,
  });

  before(async () => {
    keyPath = await ensureLabKey();
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix })) as [LabHost];
    root = await new NodeSSH().connect({ host: host.address, port: host.sshPort, username: 'root', privateKeyPath: keyPath, readyTimeout: 15_000 });
  }, { timeout: SETUP_TIMEOUT });

  after(async () => {
    root?.dispose();
    // The container's name carries MQTT_LAB_SUFFIX too.
    if (host) await stopLabHosts([host.container]);
  });

  it('check accepts the inputs', async () => {
    assert.deepEqual((await provider.check({} as HostProviderInputs, inputs(50000))).failures, []);
  });

  it('create installs and starts Mosquitto, and an authenticated publish/subscribe works', { timeout: STEP_TIMEOUT }, async () => {
    const created = await provider.create(inputs(50000));
    id = created.id;
    outputs = created.outs!;
    assert.equal(id, `127.0.0.1:${host.sshPort}`);
    assert.equal(outputs.host, `deploy@127.0.0.1:${host.sshPort}`);
    assert.equal(outputs.broker, 'mosquitto');
    assert.match(outputs.version, /^2\.0\.\d+/);
    assert.deepEqual(outputs.listeners, { mqtt: 1883 });
    assert.match(outputs.configHash, /^[0-9a-f]{64}$/);

    assert.equal((await shell('systemctl is-active mosquitto')).stdout.trim(), 'active');
    assert.match((await shell('cat /etc/mosquitto/mosquitto.conf')).stdout, /^max_queued_messages 50000$/m);
    await roundTrip(host.ports[1883]!, 'admin', adminPassword, 'any/topic');
    await roundTrip(host.ports[1883]!, 'app', appPassword, 'app/readings');
    await assert.rejects(mqtt.connectAsync(`mqtt://127.0.0.1:${host.ports[1883]}`, { reconnectPeriod: 0, connectTimeout: 10_000 }), /Not authorized|not authorised/i);
  });

  it('diff reports no change for the same inputs and a change for a new queue length', async () => {
    assert.deepEqual(await provider.diff(id, outputs, inputs(50000)), { changes: false, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await provider.diff(id, outputs, inputs(150000)), { changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it('update applies the new queue length and publish/subscribe still works', { timeout: STEP_TIMEOUT }, async () => {
    const updated = await provider.update(id, outputs, inputs(150000));
    assert.notEqual(updated.outs!.configHash, outputs.configHash);
    outputs = updated.outs!;
    assert.match((await shell('cat /etc/mosquitto/mosquitto.conf')).stdout, /^max_queued_messages 150000$/m);
    assert.equal((await shell('systemctl is-active mosquitto')).stdout.trim(), 'active');
    await roundTrip(host.ports[1883]!, 'app', appPassword, 'app/after-update');
    assert.equal((await provider.diff(id, outputs, inputs(150000))).changes, false);
  });

  it('read (pulumi refresh) finds a config edited by hand, and update puts it back', { timeout: STEP_TIMEOUT }, async () => {
    assert.equal((await provider.read(id, outputs)).props!.configHash, outputs.configHash);
    const edit = await shell("sed -i 's/^max_queued_messages .*/max_queued_messages 1000/' /etc/mosquitto/mosquitto.conf");
    assert.equal(edit.code, 0, edit.stderr);

    const refreshed = (await provider.read(id, outputs)).props!;
    assert.equal(refreshed.configHash, 'drifted: file:/etc/mosquitto/mosquitto.conf, restart:mosquitto');
    assert.equal((await provider.diff(id, refreshed, inputs(150000))).changes, true);

    outputs = (await provider.update(id, refreshed, inputs(150000))).outs!;
    assert.match((await shell('cat /etc/mosquitto/mosquitto.conf')).stdout, /^max_queued_messages 150000$/m);
    assert.equal((await provider.read(id, outputs)).props!.configHash, outputs.configHash);
  });

  it('delete removes the broker and keeps its data directory', { timeout: STEP_TIMEOUT }, async () => {
    await provider.delete(id, outputs);
    assert.notEqual((await shell('dpkg-query -W -f=\'${Status}\' mosquitto')).stdout, 'install ok installed');
    assert.notEqual((await shell('systemctl is-active mosquitto')).stdout.trim(), 'active');
    assert.equal((await shell('test -e /etc/mosquitto/passwd')).code, 1, 'the password file is gone');
    assert.equal((await shell('test -d /var/lib/mosquitto')).code, 0, 'the data directory is kept');
    assert.notEqual(await connectAttempt(`mqtt://127.0.0.1:${host.ports[1883]}`, { username: 'admin', password: adminPassword }), 'connected');
  });
});
