// readStackConfig without Pulumi: stack config in, validated targets and settings or every error out.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InputErrors } from '../../src/settings/input-error.ts';
import { readStackConfig, type ConfigReader } from '../../src/pulumi/stack-config.ts';

const baseDir = mkdtempSync(join(tmpdir(), 'pulumi-stack-config-'));

/** Config as Pulumi passes it: strings as they are, everything else as JSON text. */
function reader(values: Record<string, unknown>): ConfigReader {
  return { get: (key) => (key in values ? (typeof values[key] === 'string' ? (values[key] as string) : JSON.stringify(values[key])) : undefined) };
}

const settings = { broker: 'mosquitto', admins: [{ name: 'admin', passwordSecret: 'adminPassword' }] };
const host = { name: 'broker-1', address: '10.0.0.5', privateKeyPath: 'keys/id' };

async function messages(values: Record<string, unknown>): Promise<string[]> {
  try {
    await readStackConfig(reader(values), baseDir);
  } catch (error) {
    assert.ok(error instanceof InputErrors, String(error));
    return error.errors.map((entry) => entry.message);
  }
  assert.fail('expected InputErrors');
}

describe('readStackConfig', () => {
  it('fills a passwordSecret from its config key and applies the host defaults', async () => {
    const stack = await readStackConfig(reader({ deployment: 'hosts', hosts: [host], settings, adminPassword: 's3cret pass' }), baseDir);
    assert.equal(stack.deployment, 'hosts');
    assert.deepEqual(stack.hosts, [{ name: 'broker-1', address: '10.0.0.5', user: 'root', port: 22, privateKeyPath: join(baseDir, 'keys/id'), knownHostsPath: '~/.ssh/known_hosts' }]);
    assert.equal(stack.settings.admins[0]!.name, 'admin');
    assert.equal(stack.settings.admins[0]!.password.reveal(), 's3cret pass');
    assert.equal(stack.settings.session.maxQueuedMessages, 100000);
    assert.equal(stack.purgeDataOnDelete, false);
    assert.deepEqual(stack.warnings, []);
  });

  it('accepts TLS settings with a generated CA, resolved the way a settings file is', async () => {
    const tls = { ...settings, listeners: { mqtt: 1883, mqtts: 8883 }, tls: { generate: { caDir: 'ca', subjectAltNames: ['broker-1'] } } };
    const stack = await readStackConfig(reader({ deployment: 'hosts', hosts: [host], settings: tls, adminPassword: 'pw' }), baseDir);
    assert.deepEqual(stack.settings.tls, { source: 'generate', caDir: join(baseDir, 'ca'), subjectAltNames: ['broker-1'], validDays: 365, renewBeforeDays: 30, requireClientCertificate: false });
  });

  it('keeps a ~/ key path for the home of whoever runs pulumi', async () => {
    const stack = await readStackConfig(reader({ deployment: 'hosts', hosts: [{ ...host, privateKeyPath: '~/.ssh/id' }], settings, adminPassword: 'pw' }), baseDir);
    assert.equal(stack.hosts[0]!.privateKeyPath, '~/.ssh/id');
  });

  it('lists every problem at once, naming the config key to fix', async () => {
    assert.deepEqual(
      await messages({
        hosts: [{ ...host, port: 70000, colour: 'blue' }],
        settings: { ...settings, listeners: { mqtt: 1883, dashboard: 18083 } },
      }),
      [
        'mqtt-provision:deployment: is not set; set it to "hosts" (SSH) or "containers" (Docker)',
        'settings.admins[0].passwordSecret: config key mqtt-provision:adminPassword is not set; run: pulumi config set --secret adminPassword',
        'settings.listeners.dashboard: mosquitto does not serve it; allowed for mosquitto: mqtt, websocket, mqtts, wss',
        'mqtt-provision:hosts[0].port: Too big: expected number to be <=65535',
        'mqtt-provision:hosts[0]: unknown key "colour"',
      ],
    );
  });

  it('passes the settings file checks through unchanged', async () => {
    assert.deepEqual(
      await messages({ deployment: 'hosts', hosts: [host], settings: { ...settings, listeners: { mqtt: 1883, dashboard: 18083 } }, adminPassword: 'pw' }),
      ['settings.listeners.dashboard: mosquitto does not serve it; allowed for mosquitto: mqtt, websocket, mqtts, wss'],
    );
  });

  it('refuses a password given two ways, and warns about one in plain text', async () => {
    assert.deepEqual(
      await messages({ deployment: 'hosts', hosts: [host], settings: { broker: 'mosquitto', admins: [{ name: 'admin', password: 'x', passwordSecret: 'adminPassword' }] }, adminPassword: 'pw' }),
      ['settings.admins[0]: give one of "password", "passwordFile" or "passwordSecret"'],
    );
    const stack = await readStackConfig(reader({ deployment: 'hosts', hosts: [host], settings: { broker: 'mosquitto', admins: [{ name: 'admin', password: 'plain' }] } }), baseDir);
    assert.deepEqual(stack.warnings, ['settings.admins[0].password is plain text in the stack file; use "passwordSecret" and `pulumi config set --secret`']);
  });

  it('checks container ports against the listeners and keeps hosts and containers apart', async () => {
    assert.deepEqual(
      await messages({
        deployment: 'containers',
        hosts: [host],
        containers: [{ name: 'broker-1', ports: { websocket: 8083 } }],
        settings,
        adminPassword: 'pw',
      }),
      [
        'mqtt-provision:hosts: hosts and labInventory are only read when deployment is "hosts"',
        'mqtt-provision:containers[0].ports.websocket: settings.listeners has no "websocket" listener to publish',
      ],
    );
    const stack = await readStackConfig(reader({ deployment: 'containers', containers: [{ name: 'broker-1' }], settings, adminPassword: 'pw' }), baseDir);
    assert.deepEqual(stack.containers, [{ name: 'broker-1', bindAddress: '127.0.0.1', ports: {} }]);
  });

  it('takes lab hosts from the lab inventory and says how to start them when there are none', async () => {
    const inventory = join(baseDir, 'inventory.json');
    writeFileSync(
      inventory,
      JSON.stringify({ keyPath: '/lab/id_ed25519', hosts: [{ name: 'mqtt-lab-1', container: 'c1', address: '127.0.0.1', sshPort: 32768, ports: { '22': 32768 }, variant: 'base' }] }),
    );
    const stack = await readStackConfig(reader({ deployment: 'hosts', labInventory: { path: 'inventory.json' }, settings, adminPassword: 'pw' }), baseDir);
    assert.deepEqual(stack.hosts, [{ name: 'mqtt-lab-1', address: '127.0.0.1', user: 'root', port: 32768, privateKeyPath: '/lab/id_ed25519', knownHostsPath: '/lab/known_hosts' }]);
    assert.deepEqual(await messages({ deployment: 'hosts', labInventory: { path: 'missing.json' }, settings, adminPassword: 'pw' }), [
      'mqtt-provision:labInventory.path: missing.json lists no lab hosts; start some with: npm run lab -- up --count 2',
    ]);
  });
});
