// Runs the real Pulumi program (index.ts) under mocks once per stack file in stacks/, with the
// config Pulumi would hand it, and checks what it would create.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml } from 'yaml';

const stacksDir = new URL('../../stacks/', import.meta.url);
const project = 'mqtt-provision';

interface Recorded {
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, unknown>;
}

/** Secret config values a user would set with `pulumi config set --secret`. */
const secrets: Record<string, string> = {
  adminPassword: 'staging admin passphrase 1',
  appPassword: 'app-password-2',
  ingestPassword: 'ingest password 3',
  dashboardPassword: 'dashboard password 4',
};

function unwrap<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

function isSecret(value: unknown): boolean {
  return pulumi.runtime.isRpcSecret(value);
}

function reveal<T = unknown>(value: unknown): T {
  return pulumi.runtime.unwrapRpcSecret(value) as T;
}

/** Stack file → the flat `project:key` → string map Pulumi passes in PULUMI_CONFIG (objects as JSON). */
function stackConfig(stack: string, edit: (config: Record<string, unknown>) => void = () => {}): Record<string, string> {
  const document = parseYaml(readFileSync(new URL(`Pulumi.${stack}.yaml`, stacksDir), 'utf8')) as { config: Record<string, unknown> };
  const config = structuredClone(document.config);
  edit(config);
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) flat[key] = typeof value === 'string' ? value : JSON.stringify(value);
  for (const [key, value] of Object.entries(secrets)) flat[`${project}:${key}`] = value;
  return flat;
}

/** Loads a fresh copy of the program for one stack and records every resource it registers. */
async function runProgram(stack: string, config: Record<string, string>): Promise<{ resources: Recorded[]; outputs: Record<string, unknown> }> {
  const resources: Recorded[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({ type: args.type, name: args.name, custom: args.custom ?? false, inputs: args.inputs });
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
      },
      call(args) {
        throw new Error(`unmocked call ${args.token}`);
      },
    },
    project,
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(config, Object.keys(secrets).map((key) => `${project}:${key}`));
  const program = (await import(`../../index.ts?stack=${stack}&run=${Math.random()}`)) as { brokers: Record<string, Record<string, pulumi.Output<unknown>>> };
  const outputs: Record<string, unknown> = {};
  for (const [name, broker] of Object.entries(program.brokers)) {
    outputs[name] = Object.fromEntries(await Promise.all(Object.entries(broker).map(async ([key, value]) => [key, await unwrap(value)])));
  }
  // Components register their outputs after the last apply; let that finish before the next stack's mocks.
  await pulumi.runtime.disconnect();
  return { resources, outputs };
}

/** What the providers would answer: the dynamic host provider's outputs, Docker's image id. */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type === 'pulumi-nodejs:dynamic:MqttBrokerHostInstallation') {
    const settings = reveal<{ listeners: Record<string, number> }>(inputs.settings);
    return {
      ...inputs,
      host: `${String(inputs.user)}@${String(inputs.address)}:${String(inputs.port)}`,
      version: '2.0.11-1.2+deb12u2',
      listeners: settings.listeners,
      configHash: `hash-of-${name}`,
    };
  }
  if (type === 'docker:index/remoteImage:RemoteImage') return { ...inputs, imageId: `sha256:${name}` };
  return inputs;
}

/** Every string reachable in a value, skipping secret-wrapped parts. */
function plainStrings(value: unknown): string[] {
  if (isSecret(value)) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(plainStrings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(plainStrings);
  return [];
}

function assertNoPlainPassword(resources: Recorded[], passwords: string[]): void {
  for (const resource of resources) {
    for (const text of plainStrings(resource.inputs)) {
      for (const password of passwords) assert.ok(!text.includes(password), `${resource.name} holds a password outside a secret`);
    }
  }
}

function byType(resources: Recorded[], type: string): Recorded[] {
  return resources.filter((resource) => resource.type === type);
}

const hostType = 'pulumi-nodejs:dynamic:MqttBrokerHostInstallation';

describe('the Pulumi program under mocks', () => {
  it('creates one MqttBrokerHost per lab inventory host, reading the lab password file into a secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulumi-lab-'));
    const inventory = join(dir, 'inventory.json');
    const passwordFile = join(dir, 'admin-password');
    writeFileSync(passwordFile, 'lab admin password\n');
    writeFileSync(
      inventory,
      JSON.stringify({
        keyPath: join(dir, 'id_ed25519'),
        hosts: [1, 2].map((index) => ({
          name: `mqtt-lab-${index}`,
          container: `c${index}`,
          address: '127.0.0.1',
          sshPort: 32000 + index,
          ports: { '22': 32000 + index, '1883': 33000 + index },
          variant: 'base',
        })),
      }),
    );
    const { resources, outputs } = await runProgram(
      'lab',
      stackConfig('lab', (config) => {
        (config[`${project}:labInventory`] as { path: string }).path = inventory;
        const settings = config[`${project}:settings`] as { admins: Array<{ passwordFile: string }> };
        settings.admins[0]!.passwordFile = passwordFile;
      }),
    );

    assert.deepEqual(byType(resources, 'mqtt-provision:index:MqttBrokerHost').map((resource) => resource.name), ['mqtt-lab-1', 'mqtt-lab-2']);
    const installations = byType(resources, hostType);
    assert.deepEqual(
      installations.map(({ name, inputs }) => [name, inputs.address, inputs.port, inputs.user, inputs.privateKeyPath, inputs.broker]),
      [
        ['mqtt-lab-1-installation', '127.0.0.1', 32001, 'root', join(dir, 'id_ed25519'), 'mosquitto'],
        ['mqtt-lab-2-installation', '127.0.0.1', 32002, 'root', join(dir, 'id_ed25519'), 'mosquitto'],
      ],
    );
    const settings = installations[0]!.inputs.settings;
    assert.ok(isSecret(settings), 'settings (with passwords) are a secret input');
    const plain = reveal<{ admins: unknown[]; listeners: unknown; session: { maxQueuedMessages: number } }>(settings);
    assert.deepEqual(plain.admins, [{ name: 'admin', password: 'lab admin password' }]);
    assert.deepEqual(plain.listeners, { mqtt: 1883, websocket: 8083 });
    assert.equal(plain.session.maxQueuedMessages, 100000);
    assertNoPlainPassword(resources, ['lab admin password']);
    assert.deepEqual(outputs['mqtt-lab-2'], {
      host: 'root@127.0.0.1:32002',
      broker: 'mosquitto',
      version: '2.0.11-1.2+deb12u2',
      listeners: { mqtt: 1883, websocket: 8083 },
      configHash: 'hash-of-mqtt-lab-2-installation',
    });
  });

  it('creates a Mosquitto container for staging with its image, volumes, ports and rendered config directory', async () => {
    const { resources, outputs } = await runProgram('staging', stackConfig('staging'));

    assert.deepEqual(
      resources.map((resource) => `${resource.type} ${resource.name}`),
      [
        'mqtt-provision:index:MqttBrokerContainer staging-broker',
        'docker:index/remoteImage:RemoteImage staging-broker-image',
        'docker:index/volume:Volume staging-broker-data',
        'docker:index/volume:Volume staging-broker-log',
        'pulumi-nodejs:dynamic:ContainerConfigFiles staging-broker-config',
        'docker:index/container:Container staging-broker-container',
      ],
    );
    const [image] = byType(resources, 'docker:index/remoteImage:RemoteImage');
    assert.equal(image!.inputs.name, 'eclipse-mosquitto:2.0.20');
    assert.deepEqual(byType(resources, 'docker:index/volume:Volume').map((volume) => volume.inputs.name), ['staging-broker-data', 'staging-broker-log']);

    const container = byType(resources, 'docker:index/container:Container')[0]!.inputs;
    assert.equal(container.name, 'staging-broker');
    assert.equal(container.image, 'sha256:staging-broker-image');
    assert.equal(container.restart, 'unless-stopped');
    assert.deepEqual(container.ports, [
      { internal: 1883, external: 1883, ip: '0.0.0.0', protocol: 'tcp' },
      { internal: 8083, external: 18083, ip: '0.0.0.0', protocol: 'tcp' },
    ]);
    const configDir = '/var/lib/mqtt-provision/containers/staging-broker/config';
    assert.deepEqual(container.volumes, [
      { hostPath: configDir, containerPath: '/mosquitto/config', readOnly: true },
      { volumeName: 'staging-broker-data', containerPath: '/mosquitto/data' },
      { volumeName: 'staging-broker-log', containerPath: '/mosquitto/log' },
    ]);

    const files = byType(resources, 'pulumi-nodejs:dynamic:ContainerConfigFiles')[0]!.inputs;
    assert.ok(isSecret(files.files), 'the files hold the password hashes and the health password, so they are a secret');
    const written = reveal<Array<{ path: string; content: string; mode: string; owner: string }>>(files.files);
    assert.deepEqual(written.map(({ path, mode, owner }) => [path, mode, owner]), [
      [`${configDir}/mosquitto.conf`, '0644', '1883'],
      [`${configDir}/passwd`, '0600', '1883'],
      [`${configDir}/acl`, '0640', '1883'],
      [`${configDir}/mosquitto_pub`, '0600', '1883'],
    ]);
    const [conf, passwd, acl] = written.map((file) => file.content);
    for (const line of [
      'listener 1883\nprotocol mqtt',
      'listener 8083\nprotocol websockets',
      'max_queued_messages 100000',
      'persistent_client_expiration 168h',
      'password_file /mosquitto/config/passwd',
      'acl_file /mosquitto/config/acl',
      'persistence_location /mosquitto/data/',
      'autosave_interval 60',
      'allow_anonymous false',
    ]) {
      assert.ok(conf!.includes(line), `mosquitto.conf has "${line}"`);
    }
    assert.match(passwd!, /^admin:\$7\$101\$[^\n]+\napp:\$7\$101\$[^\n]+\nmqtt-provision-health:\$7\$101\$[^\n]+\n$/);
    assert.match(acl!, /^user admin\ntopic readwrite #\ntopic read \$SYS\/#\nuser app\ntopic readwrite app\/#\n/m);
    assert.match(acl!, /\nuser mqtt-provision-health\n$/);
    assertNoPlainPassword(resources, Object.values(secrets));
    assert.deepEqual((outputs['staging-broker'] as { ports: unknown }).ports, [
      { listener: 'mqtt', internal: 1883, external: 1883, ip: '0.0.0.0' },
      { listener: 'websocket', internal: 8083, external: 18083, ip: '0.0.0.0' },
    ]);
  });

  it('creates the two production hosts over SSH as deploy, with every password inside the secret settings', async () => {
    const { resources, outputs } = await runProgram('prod', stackConfig('prod'));

    assert.deepEqual(byType(resources, 'docker:index/container:Container'), []);
    const installations = byType(resources, hostType);
    assert.deepEqual(
      installations.map(({ inputs }) => [inputs.address, inputs.port, inputs.user, inputs.privateKeyPath, inputs.purgeDataOnDelete]),
      [
        ['10.20.0.11', 22, 'deploy', '~/.ssh/mqtt-prod_ed25519', false],
        ['10.20.0.12', 22, 'deploy', '~/.ssh/mqtt-prod_ed25519', false],
      ],
    );
    for (const { inputs } of installations) {
      assert.ok(isSecret(inputs.settings));
      assert.ok(!isSecret(inputs.broker), 'the broker kind stays readable, so a change can force a replacement');
      // The non-secret config travels in the clear, so `pulumi preview --diff` can print its changed lines.
      assert.ok(!isSecret(inputs.config), 'config (no secrets in it) is a plain input');
      const config = inputs.config as Record<string, string>;
      assert.deepEqual(Object.keys(config).sort(), ['/etc/mosquitto/acl', '/etc/mosquitto/mosquitto.conf']);
      for (const text of Object.values(config)) for (const password of Object.values(secrets)) assert.ok(!text.includes(password));
      const plain = reveal<{ version: string; admins: unknown[]; users: unknown[]; firewall: string }>(inputs.settings);
      assert.equal(plain.version, '2.0.11-1.2+deb12u2');
      assert.equal(plain.firewall, 'auto');
      assert.deepEqual(plain.admins, [{ name: 'admin', password: secrets.adminPassword }]);
      assert.deepEqual(plain.users, [
        { name: 'ingest', password: secrets.ingestPassword, acl: [{ topic: 'telemetry/#', access: 'write' }] },
        { name: 'dashboard', password: secrets.dashboardPassword, acl: [{ topic: 'telemetry/#', access: 'read' }] },
      ]);
      const provider = String(inputs.__provider);
      assert.match(provider, /host-operations\.ts/, 'the serialized provider only points at its operations module');
    }
    assertNoPlainPassword(resources, Object.values(secrets));
    assert.deepEqual(Object.keys(outputs), ['mqtt-prod-1', 'mqtt-prod-2']);
  });

  it('rejects a stack whose settings break the schema, with the same field messages as the CLI', async () => {
    const config = stackConfig('prod', (raw) => {
      const settings = raw[`${project}:settings`] as { session: Record<string, unknown>; listeners: Record<string, unknown> };
      settings.session.maxQueuedMessages = 0;
      settings.session.maxQueue = 10;
    });
    await assert.rejects(runProgram('prod', config), (error: Error) => {
      assert.match(error.message, /^invalid config in stacks\/Pulumi\.prod\.yaml:/);
      assert.match(error.message, /settings\.session\.maxQueuedMessages: /);
      assert.match(error.message, /settings\.session: unknown key "maxQueue"; allowed here: persistent, expirySeconds, maxQueuedMessages/);
      return true;
    });
  });

  it('tells how to set a password secret that is missing', async () => {
    const config = stackConfig('staging');
    delete config[`${project}:appPassword`];
    await assert.rejects(runProgram('staging', config), /settings\.users\[0\]\.passwordSecret: config key mqtt-provision:appPassword is not set; run: pulumi config set --secret appPassword/);
  });
});
