import path from 'node:path';
import { mosquittoFiles } from '../brokers/mosquitto/files.ts';
import { mosquittoLayout } from '../brokers/mosquitto/layout.ts';
import { servedPorts } from '../brokers/served-ports.ts';
import { emptyFacts } from '../facts/empty-facts.ts';
import type { Settings } from '../settings/load.ts';
import { configHash, dataVolume, logVolume, refuseTls, runArgv, type ContainerOptions, type ContainerSpec, type DesiredContainer } from './desired.ts';
import { imageLayouts, mosquittoImagePaths } from './image-layouts.ts';

const image = imageLayouts.mosquitto;

/** The files Mosquitto reads, as stored in the config directory on the Docker host. */
export const mosquittoContainerFileNames = ['mosquitto.conf', 'passwd', 'acl'];

/**
 * The Mosquitto container these settings ask for, laid out like the official eclipse-mosquitto
 * image. `storedPasswd` is the password file from the config directory: hashes whose password
 * still matches are kept, so the same settings render the same bytes.
 */
export function desiredMosquittoContainer(settings: Settings, options: ContainerOptions, storedPasswd: string | null, salt?: () => Buffer): DesiredContainer {
  refuseTls(settings);
  const facts = emptyFacts();
  facts.files[mosquittoLayout.passwordFile] = storedPasswd === null ? null : { mode: '0600', owner: '', group: '', sha256: '', content: storedPasswd };
  // Owned by the image's mosquitto uid/gid (numeric: the Docker host may have no such user), 0600
  // for the secret ones: what Mosquitto 2.0.16+ accepts without a permissions warning.
  const files = mosquittoFiles(settings, facts, salt, undefined, mosquittoImagePaths).map((file) => ({
    ...file,
    path: path.join(options.configDir, path.basename(file.path)),
    owner: String(image.uid),
    group: String(image.gid),
    mode: file.secret ? '0600' : file.mode,
  }));
  const ports = servedPorts(settings);
  const data = dataVolume(options.name);
  const log = logVolume(options.name);
  const spec: ContainerSpec = {
    image: options.image,
    ports: ports.map((port) => `${options.bind}:${port}:${port}/tcp`),
    volumes: [`${options.configDir}:${mosquittoImagePaths.configDir}:ro`, `${data}:${image.dataDir}`, `${log}:${image.logDir}`],
    env: [],
    restart: 'unless-stopped',
    memory: options.memory,
    cpus: options.cpus,
    healthcheck: image.healthcheck(settings),
    // Mosquitto writes its persistence db on SIGTERM; a queue of 100000 messages needs seconds.
    stopTimeoutSeconds: 30,
  };
  // Passwords and ACL are re-read on SIGHUP: only mosquitto.conf forces a new container.
  const hash = configHash(files.filter((file) => file.apply === 'restart'));
  return {
    name: options.name,
    spec,
    volumeNames: [data, log],
    files,
    configDir: options.configDir,
    configHash: hash,
    runArgv: runArgv(options.name, spec, hash),
    reload: { argv: ['docker', 'kill', '--signal', 'HUP', options.name] },
    validate: null,
    healthTimeoutSeconds: 60,
    afterSteps: [],
  };
}
