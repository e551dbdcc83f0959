import { createHmac, scryptSync } from 'node:crypto';
import { defaultContainerOptions, containerLabels, healthShellCommand, healthTimings, type ContainerOptions, type ContainerSpec, type DesiredContainer } from '../container/desired.ts';
import { officialImage } from '../container/image-layouts.ts';
import { desiredMosquittoContainer } from '../container/mosquitto-container.ts';
import type { Settings } from '../settings/load.ts';
import type { ListenerName } from './stack-config.ts';

/**
 * MqttBrokerContainer's desired state is `--docker`'s (src/container/): the same
 * desiredMosquittoContainer, turned into @pulumi/docker inputs here by pure functions. What differs
 * is only where the salts and the health password come from (see pulumiSeeds) and the published
 * ports a stack may move (`ports`).
 */

/** Package versions (2.0.11-1.2) are not image tags; only a plain release number picks a tag. */
export function imageFor(settings: Settings, override?: string): string {
  return officialImage(settings, override);
}

export interface PulumiContainerOptions {
  containerName: string;
  image: string;
  /** Pulumi's default is 127.0.0.1 (`--docker`'s is 0.0.0.0): a stack publishes on every interface only when it says so. */
  bindAddress?: string;
  configDir?: string;
  memory?: string;
  cpus?: string;
}

/** `--docker`'s ContainerOptions for the same container, with the component's arguments applied. */
export function containerOptions(broker: Settings['broker'], args: PulumiContainerOptions): ContainerOptions {
  const defaults = defaultContainerOptions(broker, args.containerName);
  return {
    ...defaults,
    image: args.image,
    bind: args.bindAddress ?? '127.0.0.1',
    ...(args.configDir !== undefined ? { configDir: args.configDir } : {}),
    ...(args.memory !== undefined ? { memory: args.memory } : {}),
    ...(args.cpus !== undefined ? { cpus: args.cpus } : {}),
  };
}

/**
 * Salts and the health password, derived from the stack's secrets instead of drawn at random.
 * `--docker` reads the stored passwd and health options back and keeps what still matches; a Pulumi
 * program may not read the Docker host while planning (`preview` must touch nothing), and random
 * values would change the files, hence show a diff, on every `preview`. Keeping them in the state
 * would need a resource that draws them (@pulumi/random is not available here). So they are derived:
 * a key is stretched once with scrypt from every password in the settings (salted with the stack
 * and container name), and each value is an HMAC of that key. The health password is therefore
 * as secret as the passwords it comes from, and reading it from the options file on the Docker host
 * gives an attacker no faster guessing of them than the passwd hashes do. Changing any password
 * changes the salts and the health password: the passwd file changes then anyway.
 */
export function pulumiSeeds(settings: Settings, seed: string): { salt: (name: string) => Buffer; generateHealthPassword: () => string } {
  const credentials = [...settings.admins, ...settings.users];
  if (credentials.length === 0) {
    throw new Error('settings.admins: a container needs at least one admin or user; its healthcheck password and password salts are derived from their passwords');
  }
  const material = credentials.map(({ name, password }) => `${name}\0${password.reveal()}`).join('\0');
  const key = scryptSync(material, `mqtt-provision container\0${seed}`, 32);
  const hmac = (purpose: string) => createHmac('sha256', key).update(purpose).digest();
  return {
    salt: (name) => hmac(`salt\0${name}`).subarray(0, 12),
    generateHealthPassword: () => hmac('health password').subarray(0, 16).toString('hex'),
  };
}

/** The container `--docker` would run for these settings and options, with the derived seeds. */
export function desiredPulumiContainer(settings: Settings, options: ContainerOptions, seed: string): DesiredContainer {
  if (settings.broker === 'emqx') {
    // Users, admins and ACL go through EMQX's REST API after start, which the Docker provider
    // cannot do; the zx front door's --docker target does.
    throw new Error('EMQX containers are not supported by the Pulumi resource yet (users go through the REST API after start); use `install-emqx.mts --docker` or deployment "hosts"');
  }
  if (settings.tls) throw new Error('settings.tls: TLS listeners are not supported for containers yet; use a host');
  if (settings.metrics.enabled) throw new Error("settings.metrics.enabled: a Mosquitto container gets no metrics exporter (Debian's prometheus-mqtt-exporter runs beside the broker on a host); use a host");
  const seeds = pulumiSeeds(settings, seed);
  return desiredMosquittoContainer(settings, options, null, seeds.salt, { stored: null, generate: seeds.generateHealthPassword });
}

export interface PublishedPort {
  listener: ListenerName;
  /** Port the broker listens on inside the container. */
  internal: number;
  /** Port on the Docker host. */
  external: number;
  /** Docker-host address it is bound to. */
  ip: string;
}

/** The spec's `BIND:PORT:PORT/tcp` entries, with a listener's host port moved where the stack says. */
export function publishedPorts(settings: Settings, spec: ContainerSpec, overrides: Partial<Record<ListenerName, number>>): PublishedPort[] {
  const listenerOf = new Map((Object.entries(settings.listeners) as Array<[ListenerName, number | undefined]>).map(([listener, port]) => [port, listener]));
  return spec.ports.map((entry) => {
    const match = /^(.+):(\d+):(\d+)\/tcp$/.exec(entry);
    if (!match) throw new Error(`unexpected published port "${entry}"`);
    const internal = Number(match[3]);
    const listener = listenerOf.get(internal)!;
    return { listener, internal, external: overrides[listener] ?? Number(match[2]), ip: match[1]! };
  });
}

/** The spec with the stack's published ports: what the spec label records, so it says what runs. */
export function specWithPorts(spec: ContainerSpec, ports: PublishedPort[]): ContainerSpec {
  return { ...spec, ports: ports.map(({ ip, external, internal }) => `${ip}:${external}:${internal}/tcp`) };
}

/** `--memory` as the Docker provider takes it: megabytes. */
export function memoryMegabytes(memory: string): number {
  const match = /^(\d+)([kmg]?)b?$/i.exec(memory);
  if (!match) throw new Error(`memory "${memory}": give a size like 512m or 2g`);
  const factor = { '': 1 / (1024 * 1024), k: 1 / 1024, m: 1, g: 1024 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.ceil(Number(match[1]) * factor);
}

export type Mount = { volumeName: string; containerPath: string; readOnly?: boolean } | { hostPath: string; containerPath: string; readOnly?: boolean };

/** `--volume` entries as the Docker provider's `volumes`: a source with a slash is a host path, else a named volume. */
export function mounts(spec: ContainerSpec): Mount[] {
  return spec.volumes.map((entry) => {
    const [source, containerPath, flags] = entry.split(':') as [string, string, string | undefined];
    const readOnly = flags === 'ro' ? { readOnly: true } : {};
    return source.includes('/') ? { hostPath: source, containerPath, ...readOnly } : { volumeName: source, containerPath, ...readOnly };
  });
}

/**
 * Plain docker.Container inputs for a desired container (the image and volume names are wired to
 * their resources by the component). Every field comes from the spec `--docker` runs with.
 */
export function dockerContainerInputs(desired: DesiredContainer, spec: ContainerSpec) {
  const health = healthShellCommand(spec);
  return {
    name: desired.name,
    labels: Object.entries(containerLabels(spec, desired.configHash)).map(([label, value]) => ({ label, value })),
    restart: spec.restart,
    memory: memoryMegabytes(spec.memory),
    cpus: spec.cpus,
    envs: spec.env,
    ports: spec.ports.map((entry) => {
      const [, ip, external, internal] = /^(.+):(\d+):(\d+)\/tcp$/.exec(entry)!;
      return { internal: Number(internal), external: Number(external), ip: ip!, protocol: 'tcp' };
    }),
    volumes: mounts(spec),
    // As `docker run --health-cmd` stores it, so `docker inspect` shows the same healthcheck either way.
    healthcheck: health === null ? { tests: ['NONE'] } : { tests: ['CMD-SHELL', health], ...healthTimings },
    // The broker writes its persistence file on SIGTERM; both ends of a replacement give it this long.
    stopTimeout: spec.stopTimeoutSeconds,
    destroyGraceSeconds: spec.stopTimeoutSeconds,
  };
}
