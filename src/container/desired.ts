import { createHash } from 'node:crypto';
import path from 'node:path';
import { brokerRole } from '../brokers/registry.ts';
import { mosquittoFiles } from '../brokers/mosquitto/files.ts';
import { mosquittoLayout } from '../brokers/mosquitto/layout.ts';
import { servedPorts } from '../brokers/served-ports.ts';
import { emptyFacts } from '../facts/empty-facts.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import type { Settings } from '../settings/load.ts';
import { MOSQUITTO_UID } from './image.ts';

/** Where and how the broker container runs; everything the settings file does not say. */
export interface ContainerOptions {
  name: string;
  image: string;
  /** Host address the served ports are published on (0.0.0.0 = every interface; the lab uses 127.0.0.1). */
  bind: string;
  /** Host directory holding the rendered config, mounted read-only at /etc/mosquitto. */
  configDir: string;
  /** `docker run --memory`: a broker holding 100000 queued messages per client needs headroom, but not the whole host. */
  memory: string;
  /** `docker run --cpus`. */
  cpus: string;
}

export const LABEL_MANAGED = 'mqtt-provision.managed';
export const LABEL_CONFIG_HASH = 'mqtt-provision.config-hash';
export const LABEL_SPEC = 'mqtt-provision.spec';
const CONTAINER_CONFIG_DIR = path.dirname(mosquittoLayout.configFile);

export function defaultContainerOptions(name = 'mqtt-provision-mosquitto'): Omit<ContainerOptions, 'image'> {
  return { name, bind: '0.0.0.0', configDir: `/var/lib/mqtt-provision/containers/${name}/config`, memory: '512m', cpus: '1' };
}

/**
 * How the container is run, as data: stored as a label on the container so the next run (and a
 * dry-run diff) can compare it without parsing `docker inspect`'s many normalised fields.
 */
export interface ContainerSpec {
  image: string;
  ports: string[];
  volumes: string[];
  restart: string;
  memory: string;
  cpus: string;
  healthcheck: string | null;
}

export interface DesiredContainer {
  name: string;
  spec: ContainerSpec;
  /** Named volumes that must exist: data (sessions, queued messages) and logs. */
  volumeNames: string[];
  /** Files as written on this machine (paths inside configDir), group = the image's mosquitto gid. */
  files: ManagedFile[];
  configDir: string;
  configHash: string;
  /** The full `docker run` argv. */
  runArgv: string[];
}

export const dataVolume = (name: string) => `${name}-data`;
export const logVolume = (name: string) => `${name}-log`;

/** Hash over what the broker reads: any change here means the container must be recreated. */
export function configHash(files: ManagedFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${path.basename(file.path)}\0${file.mode}\0${file.content}\0`);
  return hash.digest('hex');
}

/**
 * The container these settings ask for. `currentPasswd` is the password file stored last time:
 * hashes whose password still matches are kept, so the same settings render the same bytes.
 */
export function desiredContainer(settings: Settings, options: ContainerOptions, currentPasswd: string | null, salt?: () => Buffer): DesiredContainer {
  if (settings.broker !== 'mosquitto') throw new Error(`the container target supports Mosquitto only, not "${settings.broker}"`);
  brokerRole(settings.broker); // same role lookup as the host engine: fails loudly for unsupported brokers
  if (settings.listeners.mqtts !== undefined || settings.listeners.wss !== undefined) {
    throw new Error('TLS listeners (mqtts, wss) are supported on SSH hosts only, not with --docker yet');
  }
  const facts = emptyFacts();
  facts.files[mosquittoLayout.passwordFile] = currentPasswd === null ? null : { mode: '0640', owner: 'root', group: 'mosquitto', sha256: '', content: currentPasswd };
  const files = mosquittoFiles(settings, facts, salt).map((file) => ({
    ...file,
    path: path.join(options.configDir, path.basename(file.path)),
    owner: '0',
    group: String(MOSQUITTO_UID),
  }));
  const ports = servedPorts(settings);
  const data = dataVolume(options.name);
  const log = logVolume(options.name);
  const spec: ContainerSpec = {
    image: options.image,
    ports: ports.map((port) => `${options.bind}:${port}:${port}/tcp`),
    volumes: [`${options.configDir}:${CONTAINER_CONFIG_DIR}:ro`, `${data}:${mosquittoLayout.dataDir}`, `${log}:/var/log/mosquitto`],
    restart: 'unless-stopped',
    memory: options.memory,
    cpus: options.cpus,
    // A TCP connect to the first listener: needs no credentials and no client tools in the image.
    healthcheck: ports.length === 0 ? null : `exec 3<>/dev/tcp/127.0.0.1/${ports[0]}`,
  };
  const hash = configHash(files);
  const runArgv = [
    'docker', 'run', '--detach', '--name', options.name,
    '--label', `${LABEL_MANAGED}=true`,
    '--label', `${LABEL_CONFIG_HASH}=${hash}`,
    '--label', `${LABEL_SPEC}=${JSON.stringify(spec)}`,
    '--restart', spec.restart,
    '--memory', spec.memory,
    '--cpus', spec.cpus,
    // Mosquitto writes its persistence db on SIGTERM; give a big queue time to reach the disk.
    '--stop-timeout', '30',
    ...spec.ports.flatMap((port) => ['--publish', port]),
    ...spec.volumes.flatMap((volume) => ['--volume', volume]),
    ...(spec.healthcheck === null
      ? ['--no-healthcheck']
      : ['--health-cmd', `bash -c '${spec.healthcheck}'`, '--health-interval', '5s', '--health-timeout', '3s', '--health-retries', '3', '--health-start-period', '10s']),
    spec.image,
  ];
  return { name: options.name, spec, volumeNames: [data, log], files, configDir: options.configDir, configHash: hash, runArgv };
}
