// MqttBrokerContainer under mocks: the Docker resources it asks for, input by input.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { verifyPassword } from '../../src/brokers/mosquitto/password-hash.ts';
import type { MqttBrokerContainer as MqttBrokerContainerClass } from '../../src/pulumi/mqtt-broker-container.ts';
import { imageFor } from '../../src/pulumi/container-files.ts';
import { resolveSettings } from '../../src/settings/load.ts';

interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

const resources: Recorded[] = [];
let MqttBrokerContainer: typeof MqttBrokerContainerClass;

function unwrap<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

function settings(extra: Record<string, unknown> = {}) {
  return resolveSettings({ broker: 'mosquitto', admins: [{ name: 'admin', password: 'admin secret' }], ...extra });
}

/** Creates a component and waits until its container is registered; returns the recorded Docker inputs. */
async function create(name: string, args: Omit<ConstructorParameters<typeof MqttBrokerContainerClass>[1], 'settings'> & { settings?: ReturnType<typeof settings> }) {
  const component = new MqttBrokerContainer(name, { settings: settings(), ...args });
  await unwrap(component.containerName);
  const find = (type: string) => resources.find((resource) => resource.type === type && resource.name.startsWith(`${name}-`))!.inputs;
  const container = find('docker:index/container:Container');
  assert.ok(pulumi.runtime.isRpcSecret(container.uploads), 'uploads carry the password file, so they are a secret');
  const uploads = pulumi.runtime.unwrapRpcSecret(container.uploads) as Array<{ file: string; content: string; permissions: string; owner: string; group: string }>;
  const file = (path: string) => uploads.find((upload) => upload.file === path)!.content;
  return {
    component,
    image: find('docker:index/remoteImage:RemoteImage'),
    volume: find('docker:index/volume:Volume'),
    container,
    uploads,
    conf: file('/mosquitto/config/mosquitto.conf'),
    passwd: file('/mosquitto/config/passwd'),
  };
}

before(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state = args.type === 'docker:index/remoteImage:RemoteImage' ? { ...args.inputs, imageId: `sha256:${args.inputs.name}` } : args.inputs;
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        throw new Error(`unmocked call ${args.token}`);
      },
    },
    'mqtt-provision',
    'unit',
    false,
  );
  ({ MqttBrokerContainer } = await import('../../src/pulumi/mqtt-broker-container.ts'));
});

describe('MqttBrokerContainer', () => {
  it('runs the pinned official image with a named data volume, local ports, a restart policy and a healthcheck', async () => {
    const { image, volume, container, uploads, conf } = await create('broker-a', {});

    assert.deepEqual(image, { name: 'eclipse-mosquitto:2.0.22', keepLocally: true });
    assert.equal(volume.name, 'broker-a-data');
    assert.equal(container.name, 'broker-a');
    assert.equal(container.image, 'sha256:eclipse-mosquitto:2.0.22');
    assert.deepEqual(container.volumes, [{ volumeName: 'broker-a-data', containerPath: '/mosquitto/data' }]);
    assert.deepEqual(container.ports, [{ internal: 1883, external: 1883, ip: '127.0.0.1', protocol: 'tcp' }]);
    assert.equal(container.restart, 'unless-stopped');
    // No pid file in a container's config, so nothing needs a writable /run/mosquitto.
    assert.deepEqual(container.tmpfs, {});
    assert.doesNotMatch(conf, /pid_file/);
    assert.deepEqual(container.healthcheck, {
      tests: ['CMD-SHELL', "mosquitto_sub -h 127.0.0.1 -p 1883 -t mqtt-provision/health -C 1 -W 3 2>&1 | grep -q 'not authori'"],
      interval: '10s',
      timeout: '5s',
      retries: 3,
      startPeriod: '10s',
    });
    assert.equal(container.wait, true);
    assert.equal(container.destroyGraceSeconds, 30);
    assert.deepEqual(
      uploads.map(({ file, permissions, owner, group }) => [file, permissions, owner, group]),
      [
        ['/mosquitto/config/mosquitto.conf', '0644', '1883', '1883'],
        ['/mosquitto/config/passwd', '0600', '1883', '1883'],
        ['/mosquitto/config/acl', '0600', '1883', '1883'],
      ],
    );
    assert.match(conf, /^max_queued_messages 100000$/m);
    assert.match(conf, /^persistence true$/m);
    assert.match(conf, /^persistence_location \/mosquitto\/data\/$/m);
    assert.match(conf, /^password_file \/mosquitto\/config\/passwd$/m);
  });

  it('takes an image override, a container name and published ports other than the listeners', async () => {
    const { image, volume, container, component } = await create('broker-b', {
      image: 'registry.example.com/eclipse-mosquitto:2.0.20-openssl',
      containerName: 'mqtt-b',
      bindAddress: '0.0.0.0',
      ports: { mqtt: 21883, websocket: 28083 },
      settings: settings({ listeners: { mqtt: 1883, websocket: 8083 } }),
    });
    assert.equal(image.name, 'registry.example.com/eclipse-mosquitto:2.0.20-openssl');
    assert.equal(volume.name, 'mqtt-b-data');
    assert.equal(container.name, 'mqtt-b');
    assert.deepEqual(container.ports, [
      { internal: 1883, external: 21883, ip: '0.0.0.0', protocol: 'tcp' },
      { internal: 8083, external: 28083, ip: '0.0.0.0', protocol: 'tcp' },
    ]);
    assert.equal(await unwrap(component.dataVolume), 'mqtt-b-data');
  });

  it('renders the queue length, extraConfig and the websocket-only healthcheck from the settings', async () => {
    const { conf, container } = await create('broker-c', {
      settings: settings({ listeners: { websocket: 9001 }, session: { maxQueuedMessages: 250000 }, extraConfig: 'max_keepalive 120' }),
    });
    assert.match(conf, /^max_queued_messages 250000$/m);
    assert.match(conf, /^listener 9001\nprotocol websockets$/m);
    assert.doesNotMatch(conf, /^protocol mqtt$/m);
    assert.match(conf, /^max_keepalive 120$/m);
    assert.deepEqual(container.ports, [{ internal: 9001, external: 9001, ip: '127.0.0.1', protocol: 'tcp' }]);
    assert.deepEqual(container.healthcheck.tests, ['CMD', 'pidof', 'mosquitto']);
  });

  it('hashes passwords with a salt that is stable per container, so a second run uploads the same file', async () => {
    const first = await create('broker-d', {});
    const again = await create('broker-d2', { containerName: 'broker-d' });
    const elsewhere = await create('broker-e', {});
    assert.equal(first.passwd, again.passwd);
    assert.notEqual(first.passwd, elsewhere.passwd);
    const [name, hash] = first.passwd.trimEnd().split(':');
    assert.equal(name, 'admin');
    assert.ok(verifyPassword('admin secret', hash!), 'Mosquitto can check the password against the hash');
    assert.ok(!first.passwd.includes('admin secret'));
  });

  it('labels the container with a config hash that follows the rendered config', async () => {
    const a = await create('broker-f', {});
    const b = await create('broker-g', { settings: settings({ session: { maxQueuedMessages: 5 } }) });
    const label = (container: Record<string, any>) => container.labels.find((entry: { label: string }) => entry.label === 'mqtt-provision.config-hash').value;
    assert.match(label(a.container), /^[0-9a-f]{64}$/);
    assert.notEqual(label(a.container), label(b.container));
    assert.equal(await unwrap(a.component.configHash), label(a.container));
  });

  it('refuses an EMQX container, whose users need REST calls after start, and names the front door that does it', () => {
    const emqx = resolveSettings({ broker: 'emqx', admins: [{ name: 'admin', password: 'emqx dashboard secret1' }] });
    assert.throws(() => new MqttBrokerContainer('emqx-1', { settings: emqx }), /EMQX containers are not supported by the Pulumi resource yet.*install-emqx\.mts --docker/);
  });
});

describe('imageFor', () => {
  it('uses settings.version as the tag of the official image', () => {
    assert.equal(imageFor(settings({ version: '2.0.18' })), 'eclipse-mosquitto:2.0.18');
    assert.equal(imageFor(resolveSettings({ broker: 'emqx', admins: [{ name: 'admin', password: 'emqx dashboard secret' }] })), 'emqx:5.8.8');
  });

  it('refuses a package version, which is no image tag', () => {
    assert.throws(() => imageFor(settings({ version: '2.0.11-1.2+deb12u2' })), /settings.version "2.0.11-1.2\+deb12u2" is not an image tag of eclipse-mosquitto; use a release like 2.0.22/);
  });
});
