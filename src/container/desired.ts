import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ManagedFile } from '../operations/managed-file.ts';
import type { Command, Step } from '../operations/step.ts';
import type { Settings } from '../settings/load.ts';
import { quoteCommand } from '../transport/shell-quote.ts';

/** Where and how the broker container runs; everything the settings file does not say. */
export interface ContainerOptions {
  name: string;
  image: string;
  /** Docker-host address the served ports are published on (0.0.0.0 = every interface; the lab uses 127.0.0.1). */
  bind: string;
  /** Directory on the Docker host holding the rendered config, mounted read-only into the container. */
  configDir: string;
  /** `docker run --memory`: a broker holding 100000 queued messages per client needs headroom, but not the whole host. */
  memory: string;
  /** `docker run --cpus`. */
  cpus: string;
}

export const LABEL_MANAGED = 'mqtt-provision.managed';
export const LABEL_CONFIG_HASH = 'mqtt-provision.config-hash';
export const LABEL_SPEC = 'mqtt-provision.spec';

export function defaultContainerName(broker: Settings['broker']): string {
  return `mqtt-provision-${broker}`;
}

export function defaultContainerOptions(broker: Settings['broker'], name = defaultContainerName(broker)): Omit<ContainerOptions, 'image'> {
  return { name, bind: '0.0.0.0', configDir: `/var/lib/mqtt-provision/containers/${name}/config`, memory: broker === 'emqx' ? '2g' : '512m', cpus: '1' };
}

/**
 * How the container is run, as data: stored as a label on the container so the next run (and a
 * dry-run diff) can compare it without parsing `docker inspect`'s many normalised fields.
 */
export interface ContainerSpec {
  image: string;
  ports: string[];
  volumes: string[];
  /** NAME=value; never a secret (they would show in `docker inspect`). */
  env: string[];
  restart: string;
  memory: string;
  cpus: string;
  /** Docker's exec form: ['CMD', …] or ['CMD-SHELL', '…']; null for none. */
  healthcheck: string[] | null;
  stopTimeoutSeconds: number;
}

export interface DesiredContainer {
  name: string;
  spec: ContainerSpec;
  /** Named volumes that must exist: data (sessions, queued messages) and logs (the broker's log directory; Mosquitto logs to stderr, read with `docker logs`). */
  volumeNames: string[];
  /** Files as written on the Docker host, in configDir. `apply: 'reload'` ones need no recreate when `reload` is set. */
  files: ManagedFile[];
  configDir: string;
  /** Hash of the files that need a recreate when they change; a container label. */
  configHash: string;
  /** The full `docker run` argv. */
  runArgv: string[];
  /** Makes the running broker re-read its `apply: 'reload'` files (Mosquitto: SIGHUP); null when every change recreates. */
  reload: Command | null;
  /** Checks the written config with the image before the running container is replaced (EMQX `check_config`). */
  validate: Command | null;
  /** How long a new container may take to report healthy. */
  healthTimeoutSeconds: number;
  /** Steps that need the broker up, after the container step (EMQX: accounts, users and ACL through its REST API). */
  afterSteps: Step[];
}

export const dataVolume = (name: string) => `${name}-data`;
export const logVolume = (name: string) => `${name}-log`;

/** Hash over what the broker reads at start: any change here means the container must be recreated. */
export function configHash(files: ManagedFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${path.basename(file.path)}\0${file.mode}\0${file.content}\0`);
  return hash.digest('hex');
}

/** `docker run` for a spec: labels first (managed, config hash, the spec itself), then the spec's options. */
export function runArgv(name: string, spec: ContainerSpec, hash: string): string[] {
  return ['docker', 'run', '--detach', '--name', name, ...runOptions(spec, hash)];
}

/**
 * `docker create` of the same container under a name Docker picks: the engine checks the image
 * (pulling it when absent) and the limits, and binds no port, so it can run beside the old one.
 */
export function createArgv(spec: ContainerSpec, hash: string): string[] {
  return ['docker', 'create', ...runOptions(spec, hash)];
}

/** How often and how patiently Docker runs the healthcheck; the Pulumi container uses the same. */
export const healthTimings = { interval: '5s', timeout: '4s', retries: 3, startPeriod: '10s' } as const;

/**
 * The healthcheck as `--health-cmd` gives it to the image's /bin/sh (Docker stores it as
 * ['CMD-SHELL', this]); an exec-form test is quoted for it here. Null for no healthcheck.
 */
export function healthShellCommand(spec: ContainerSpec): string | null {
  if (spec.healthcheck === null) return null;
  const [kind, ...test] = spec.healthcheck;
  return kind === 'CMD-SHELL' ? test.join(' ') : quoteCommand(test);
}

/** The labels every container of ours carries: managed, the hash of its config, and the spec it was run with. */
export function containerLabels(spec: ContainerSpec, hash: string): Record<string, string> {
  return { [LABEL_MANAGED]: 'true', [LABEL_CONFIG_HASH]: hash, [LABEL_SPEC]: JSON.stringify(spec) };
}

function runOptions(spec: ContainerSpec, hash: string): string[] {
  const healthCommand = healthShellCommand(spec);
  const { interval, timeout, retries, startPeriod } = healthTimings;
  return [
    ...Object.entries(containerLabels(spec, hash)).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
    '--restart', spec.restart,
    '--memory', spec.memory,
    '--cpus', spec.cpus,
    // Both brokers save sessions and queues when stopped with SIGTERM; give a big queue time to reach the disk.
    '--stop-timeout', String(spec.stopTimeoutSeconds),
    ...spec.env.flatMap((entry) => ['--env', entry]),
    ...spec.ports.flatMap((port) => ['--publish', port]),
    ...spec.volumes.flatMap((volume) => ['--volume', volume]),
    ...(healthCommand === null
      ? ['--no-healthcheck']
      : ['--health-cmd', healthCommand, '--health-interval', interval, '--health-timeout', timeout, '--health-retries', String(retries), '--health-start-period', startPeriod]),
    spec.image,
  ];
}

/** TLS files live in the host layouts (src/tls); a container would point at paths it does not have. */
export function refuseTls(settings: Settings): void {
  if (settings.listeners.mqtts !== undefined || settings.listeners.wss !== undefined || settings.tls !== undefined) {
    throw new Error('TLS listeners (mqtts, wss) are supported on SSH hosts only, not with --docker yet');
  }
  // Also host-only: a bind address names the host's NIC (the container has its own), and allowFrom needs the host's firewall.
  if (Object.values(settings.listenerAccess).some((access) => access !== undefined)) {
    throw new Error('settings.listenerAccess (bind, allowFrom) is supported on SSH hosts only, not with --docker: publish the ports on one address with --bind instead');
  }
}
