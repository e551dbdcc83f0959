// MqttBrokerContainer under mocks: the Docker resources it asks for must be the container
// `install-mosquitto.mts --docker` runs for the same settings (its `docker run` argv, parsed).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { verifyPassword } from '../../src/brokers/password-hash.ts';
import { seededSalt } from '../../src/brokers/prepared.ts';
import { defaultContainerOptions, LABEL_CONFIG_HASH, LABEL_SPEC, type ContainerOptions } from '../../src/container/desired.ts';
import { desiredMosquittoContainer, HEALTH_USER, storedHealthPassword } from '../../src/container/mosquitto-container.ts';
import type { ManagedFile } from '../../src/operations/managed-file.ts';
import { imageFor, pulumiSeeds } from '../../src/pulumi/container-files.ts';
import type { MqttBrokerContainer as MqttBrokerContainerClass, MqttBrokerContainerArgs } from '../../src/pulumi/mqtt-broker-container.ts';
import { type Settings } from '../../src/settings/load.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';

interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

const resources: Recorded[] = [];
let MqttBrokerContainer: typeof MqttBrokerContainerClass;
const filesType = 'pulumi-nodejs:dynamic:ContainerConfigFiles';

function unwrap<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

function settings(extra: Record<string, unknown> = {}): Settings {
  return resolveSettings({
    broker: 'mosquitto',
    listeners: { mqtt: 1883, websocket: 8083 },
    admins: [{ name: 'admin', password: 'admin secret' }],
    users: [{ name: 'app', password: 'app secret', acl: [{ topic: 'app/#', access: 'readwrite' }] }],
    ...extra,
  });
}

/** Creates a component and waits until its container is registered; returns the recorded inputs of its children. */
async function create(name: string, args: Partial<MqttBrokerContainerArgs> = {}) {
  const component = new MqttBrokerContainer(name, { settings: settings(), ...args });
  await unwrap(component.containerName);
  const children = (type: string) => resources.filter((resource) => resource.type === type && resource.name.startsWith(`${name}-`)).map((resource) => resource.inputs);
  const [files] = children(filesType);
  assert.ok(pulumi.runtime.isRpcSecret(files!.files), 'the files hold the password hashes and the health password, so they are a secret');
  return {
    component,
    image: children('docker:index/remoteImage:RemoteImage')[0]!,
    volumes: children('docker:index/volume:Volume'),
    container: children('docker:index/container:Container')[0]!,
    filesInputs: files!,
    files: pulumi.runtime.unwrapRpcSecret(files!.files) as ManagedFile[],
  };
}

/** The container as `docker run` would make it: every option of the argv, in a comparable shape. */
function fromRunArgv(argv: string[]) {
  assert.deepEqual(argv.slice(0, 3), ['docker', 'run', '--detach']);
  const spec = { name: '', image: argv.at(-1), labels: {} as Record<string, string>, env: [] as string[], ports: [] as string[], volumes: [] as string[], health: {} as Record<string, string> } as Record<string, any>;
  for (let index = 3; index < argv.length - 1; index += 2) {
    const [flag, value] = [argv[index]!, argv[index + 1]!];
    if (flag === '--label') spec.labels[value.slice(0, value.indexOf('='))] = value.slice(value.indexOf('=') + 1);
    else if (flag === '--env') spec.env.push(value);
    else if (flag === '--publish') spec.ports.push(value);
    else if (flag === '--volume') spec.volumes.push(value);
    else if (flag.startsWith('--health-')) spec.health[flag.slice('--health-'.length)] = value;
    // The provider takes megabytes.
    else if (flag === '--memory') spec.memory = Number(/^(\d+)[mg]$/.exec(value)![1]) * (value.endsWith('g') ? 1024 : 1);
    else spec[flag.slice(2)] = value;
  }
  return spec;
}

/** The same shape from the Docker provider's inputs; `image` is the RemoteImage whose id the container runs. */
function fromPulumi(container: Record<string, any>, image: Record<string, any>, volumes: Array<Record<string, any>>) {
  assert.equal(container.image, `sha256:${image.name}`);
  const { tests, interval, timeout, retries, startPeriod } = container.healthcheck;
  assert.equal(tests[0], 'CMD-SHELL');
  for (const mount of container.volumes) if ('volumeName' in mount) assert.ok(volumes.some((volume) => volume.name === mount.volumeName), `${mount.volumeName} is a volume resource`);
  return {
    name: container.name,
    image: image.name,
    labels: Object.fromEntries(container.labels.map(({ label, value }: { label: string; value: string }) => [label, value])),
    env: container.envs,
    ports: container.ports.map(({ ip, external, internal, protocol }: Record<string, unknown>) => `${ip}:${external}:${internal}/${protocol}`),
    volumes: container.volumes.map(({ volumeName, hostPath, containerPath, readOnly }: Record<string, unknown>) => `${volumeName ?? hostPath}:${containerPath}${readOnly ? ':ro' : ''}`),
    health: { cmd: tests[1], interval, timeout, retries: String(retries), 'start-period': startPeriod },
    memory: container.memory,
    cpus: container.cpus,
    restart: container.restart,
    'stop-timeout': String(container.stopTimeout),
  };
}

/** What `--docker` plans for a first run of these settings, with the given salts and health password. */
function dockerDesired(name: string, value: Settings, options: Partial<ContainerOptions>, seeds: { salt?: (name: string) => Buffer; health?: () => string }) {
  const full: ContainerOptions = { ...defaultContainerOptions('mosquitto', name), image: imageFor(value), bind: '127.0.0.1', ...options };
  return desiredMosquittoContainer(value, full, null, seeds.salt ?? seededSalt(), { stored: null, generate: seeds.health ?? (() => 'cd'.repeat(16)) });
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
  it('runs the container --docker runs for the same settings: image, ports, volumes, env, limits, healthcheck and labels', async () => {
    const { image, volumes, container } = await create('broker-a', {});
    const seeds = pulumiSeeds(settings(), 'unit/broker-a');
    const docker = dockerDesired('broker-a', settings(), {}, { salt: seeds.salt, health: seeds.generateHealthPassword });

    assert.deepEqual(fromPulumi(container, image, volumes), fromRunArgv(docker.runArgv));
    // Spelled out once, so a change on both sides still shows here.
    assert.deepEqual(container.volumes, [
      { hostPath: '/var/lib/mqtt-provision/containers/broker-a/config', containerPath: '/mosquitto/config', readOnly: true },
      { volumeName: 'broker-a-data', containerPath: '/mosquitto/data' },
      { volumeName: 'broker-a-log', containerPath: '/mosquitto/log' },
    ]);
    assert.deepEqual(container.ports.map((port: { ip: string }) => port.ip), ['127.0.0.1', '127.0.0.1']);
    assert.equal(container.memory, 512);
    assert.equal(container.cpus, '1');
    assert.equal(container.healthcheck.tests[1], `XDG_CONFIG_HOME=/mosquitto/config mosquitto_pub -h 127.0.0.1 -p 1883 -t mqtt-provision/health -m ok -q 1`);
    assert.equal(container.destroyGraceSeconds, 30);
    assert.equal(container.wait, true);
    assert.deepEqual(volumes.map((volume) => [volume.name, volume.labels]), [
      ['broker-a-data', [{ label: 'mqtt-provision.managed', value: 'true' }]],
      ['broker-a-log', [{ label: 'mqtt-provision.managed', value: 'true' }]],
    ]);
  });

  it('follows the image, bind address, config directory and limits it is given, as --docker does with its options', async () => {
    const options = { bind: '0.0.0.0', configDir: '/srv/mqtt/b/config', memory: '1g', cpus: '0.5', image: 'registry.example.com/eclipse-mosquitto:2.0.20' };
    const { image, volumes, container } = await create('broker-b', {
      containerName: 'mqtt-b',
      image: options.image,
      bindAddress: options.bind,
      configDir: options.configDir,
      memory: options.memory,
      cpus: options.cpus,
      settings: settings({ listeners: { websocket: 9001 } }),
    });
    const seeds = pulumiSeeds(settings({ listeners: { websocket: 9001 } }), 'unit/mqtt-b');
    const docker = dockerDesired('mqtt-b', settings({ listeners: { websocket: 9001 } }), options, { salt: seeds.salt, health: seeds.generateHealthPassword });
    assert.deepEqual(fromPulumi(container, image, volumes), fromRunArgv(docker.runArgv));
    assert.equal(container.memory, 1024);
    // No mqtt listener to log in on: the exec-form check, as `--health-cmd` stores it.
    assert.deepEqual(container.healthcheck.tests, ['CMD-SHELL', 'pidof mosquitto']);
  });

  it('writes the files --docker writes, byte for byte, when given the same salts and health password', async () => {
    const { files, filesInputs } = await create('broker-c', {});
    const seeds = pulumiSeeds(settings(), 'unit/broker-c');
    const docker = dockerDesired('broker-c', settings(), {}, { salt: seeds.salt, health: seeds.generateHealthPassword });
    assert.deepEqual(files, docker.files);
    assert.deepEqual(
      files.map(({ path, mode, owner, group }) => [path, mode, owner, group]),
      [
        ['/var/lib/mqtt-provision/containers/broker-c/config/mosquitto.conf', '0644', '1883', '1883'],
        ['/var/lib/mqtt-provision/containers/broker-c/config/passwd', '0600', '1883', '1883'],
        ['/var/lib/mqtt-provision/containers/broker-c/config/acl', '0640', '1883', '1883'],
        ['/var/lib/mqtt-provision/containers/broker-c/config/mosquitto_pub', '0600', '1883', '1883'],
      ],
    );
    assert.equal(filesInputs.configHash, docker.configHash);
    assert.deepEqual(filesInputs.reload, ['docker', 'kill', '--signal', 'HUP', 'broker-c']);
  });

  it('differs from a first --docker run only in the salts and the health password, which --docker draws at random', async () => {
    const { files } = await create('broker-d', {});
    const docker = dockerDesired('broker-d', settings(), {}, {});
    const content = (list: ManagedFile[], name: string) => list.find((file) => file.path.endsWith(`/${name}`))!.content;
    assert.equal(content(files, 'mosquitto.conf'), content(docker.files, 'mosquitto.conf'));
    assert.equal(content(files, 'acl'), content(docker.files, 'acl'));
    assert.notEqual(content(files, 'passwd'), content(docker.files, 'passwd'));
    const health = storedHealthPassword(content(files, 'mosquitto_pub'))!;
    assert.match(health, /^[0-9a-f]{32}$/);
    const lines = content(files, 'passwd').trimEnd().split('\n').map((line) => line.split(':') as [string, string]);
    assert.deepEqual(lines.map(([name]) => name), ['admin', 'app', HEALTH_USER]);
    const passwords = ['admin secret', 'app secret', health];
    lines.forEach(([, hash], index) => assert.ok(verifyPassword(passwords[index]!, hash), `Mosquitto accepts ${lines[index]![0]}'s password`));
  });

  it('is a container --docker takes as its own unchanged: its stored passwd and health password are kept', async () => {
    const { files, container } = await create('broker-l', {});
    const stored = (name: string) => files.find((file) => file.path.endsWith(`/${name}`))!.content;
    // What a `--docker` run would plan after `pulumi up`, reading the files the component wrote; salts it would draw fail the test.
    const docker = desiredMosquittoContainer(settings(), { ...defaultContainerOptions('mosquitto', 'broker-l'), image: imageFor(settings()), bind: '127.0.0.1' }, stored('passwd'), () => {
      throw new Error('no salt is drawn: every stored hash still matches');
    }, { stored: stored('mosquitto_pub'), generate: () => {
      throw new Error('no health password is drawn: the stored one is kept');
    } });
    assert.deepEqual(docker.files, files);
    assert.equal(container.labels.find((entry: { label: string }) => entry.label === LABEL_CONFIG_HASH).value, docker.configHash);
  });

  it('derives the same salts and health password on every run, and others for another container or stack', async () => {
    const first = await create('broker-e', {});
    const again = await create('broker-e2', { containerName: 'broker-e' });
    const elsewhere = await create('broker-f', {});
    const passwd = (files: ManagedFile[]) => files.filter((file) => file.secret).map((file) => file.content);
    assert.deepEqual(passwd(first.files), passwd(again.files));
    assert.notDeepEqual(passwd(first.files).slice(0, 1), passwd(elsewhere.files).slice(0, 1));
    assert.notEqual(pulumiSeeds(settings(), 'unit/broker-e').generateHealthPassword(), pulumiSeeds(settings(), 'prod/broker-e').generateHealthPassword());
    assert.notEqual(
      pulumiSeeds(settings(), 'unit/broker-e').generateHealthPassword(),
      pulumiSeeds(settings({ admins: [{ name: 'admin', password: 'another secret' }] }), 'unit/broker-e').generateHealthPassword(),
      'the health password follows the passwords it is derived from',
    );
  });

  it('keeps every password and the health password out of the inputs outside a secret', async () => {
    const { files, container, filesInputs } = await create('broker-g', {});
    const health = storedHealthPassword(files.find((file) => file.path.endsWith('/mosquitto_pub'))!.content)!;
    const plain = JSON.stringify({ container, filesInputs: { ...filesInputs, files: undefined } });
    for (const secret of ['admin secret', 'app secret', health]) assert.ok(!plain.includes(secret), 'no secret outside the secret files');
  });

  it('moves a listener to another host port and records it in the spec label', async () => {
    const { container, component } = await create('broker-h', { ports: { websocket: 18083 } });
    assert.deepEqual(container.ports, [
      { internal: 1883, external: 1883, ip: '127.0.0.1', protocol: 'tcp' },
      { internal: 8083, external: 18083, ip: '127.0.0.1', protocol: 'tcp' },
    ]);
    const spec = JSON.parse(container.labels.find((entry: { label: string }) => entry.label === LABEL_SPEC).value);
    assert.deepEqual(spec.ports, ['127.0.0.1:1883:1883/tcp', '127.0.0.1:18083:8083/tcp']);
    assert.deepEqual((await unwrap(component.ports)).map((port) => [port.listener, port.external]), [['mqtt', 1883], ['websocket', 18083]]);
  });

  it('labels a config hash that follows mosquitto.conf and not the passwords, which a SIGHUP re-reads', async () => {
    const label = (container: Record<string, any>) => container.labels.find((entry: { label: string }) => entry.label === LABEL_CONFIG_HASH).value;
    const a = await create('broker-i', {});
    const queue = await create('broker-j', { containerName: 'broker-i', settings: settings({ session: { maxQueuedMessages: 5 } }) });
    const password = await create('broker-k', { containerName: 'broker-i', settings: settings({ admins: [{ name: 'admin', password: 'new admin secret' }] }) });
    assert.match(label(a.container), /^[0-9a-f]{64}$/);
    assert.notEqual(label(queue.container), label(a.container));
    assert.equal(label(password.container), label(a.container));
    assert.equal(await unwrap(a.component.configHash), label(a.container));
  });

  it('refuses a remote docker:host, where the config directory written here would not exist', () => {
    try {
      pulumi.runtime.setConfig('docker:host', 'ssh://deploy@docker-host');
      assert.throws(() => new MqttBrokerContainer('remote-1', { settings: settings() }), /docker:host ssh:\/\/deploy@docker-host: .*needs the local Docker daemon; use install-mosquitto\.mts --docker --docker-host/);
    } finally {
      // A local socket is allowed: later tests in this process see that.
      pulumi.runtime.setConfig('docker:host', 'unix:///var/run/docker.sock');
    }
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
