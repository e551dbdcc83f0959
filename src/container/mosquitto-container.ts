import path from 'node:path';
import { mosquittoFilesWithTls } from '../brokers/mosquitto/files.ts';
import { renderPasswordFile } from '../brokers/mosquitto/password-file.ts';
import { servedPorts } from '../brokers/served-ports.ts';
import { Secret } from '../secret.ts';
import type { Settings } from '../settings/load.ts';
import { configHash, dataVolume, logVolume, refuseTls, runArgv, type ContainerOptions, type ContainerSpec, type DesiredContainer } from './desired.ts';
import { imageLayouts, mosquittoImagePaths } from './image-layouts.ts';

const image = imageLayouts.mosquitto;

/**
 * The healthcheck logs in as this user, so "healthy" means the broker read its password file and
 * accepts a real login. It may use no topic (no ACL line grants it one).
 */
export const HEALTH_USER = 'mqtt-provision-health';
/**
 * The health user's name and password, in the options file mosquitto_pub reads from
 * $XDG_CONFIG_HOME/mosquitto_pub: 0600 in the mounted config directory, so the password is in no
 * argument, label or environment variable that `docker inspect` or `ps` shows.
 */
export const HEALTH_OPTIONS_FILE = 'mosquitto_pub';

/** The files Mosquitto (and its healthcheck) reads, as stored in the config directory on the Docker host. */
export const mosquittoContainerFileNames = ['mosquitto.conf', 'passwd', 'acl', HEALTH_OPTIONS_FILE];

/** The health password from a stored options file, or null when there is none to keep. */
export function storedHealthPassword(options: string | null): string | null {
  const match = /^-P ([0-9a-f]{32,})$/m.exec(options ?? '');
  return match ? match[1]! : null;
}

/**
 * The Mosquitto container these settings ask for, laid out like the official eclipse-mosquitto
 * image. `storedPasswd` is the password file from the config directory: hashes whose password
 * still matches are kept, so the same settings render the same bytes. `health` is the stored
 * healthcheck options file: its password is kept; `generate` (a pure function the caller's
 * prepare made) gives one only when there is none. Salts come from the caller too: nothing is drawn here.
 */
export function desiredMosquittoContainer(
  settings: Settings,
  options: ContainerOptions,
  storedPasswd: string | null,
  salt: (name: string) => Buffer,
  health: { stored: string | null; generate: () => string },
): DesiredContainer {
  refuseTls(settings);
  if ([...settings.admins, ...settings.users].some((user) => user.name === HEALTH_USER)) {
    throw new Error(`the user name ${HEALTH_USER} is the container healthcheck's own; choose another`);
  }
  const healthPassword = storedHealthPassword(health.stored) ?? health.generate();
  const healthUser = { name: HEALTH_USER, password: new Secret(healthPassword) };
  // Owned by the image's mosquitto uid/gid (numeric: the Docker host may have no such user), 0600
  // for the secret ones: what Mosquitto 2.0.16+ accepts without a permissions warning.
  const files = mosquittoFilesWithTls(settings, storedPasswd, salt, { files: [] }, { ...mosquittoImagePaths, logCommand: `docker logs ${options.name}` }).files.map((file) => {
    const name = path.basename(file.path);
    let content = file.content;
    if (name === 'passwd') content = renderPasswordFile([...settings.admins, ...settings.users, healthUser], storedPasswd, salt);
    if (name === 'acl') content += `# The container healthcheck's login: no topic.\nuser ${HEALTH_USER}\n`;
    return { ...file, content, path: path.join(options.configDir, name), owner: String(image.uid), group: String(image.gid), mode: file.secret ? '0600' : file.mode };
  });
  files.push({
    path: path.join(options.configDir, HEALTH_OPTIONS_FILE),
    content: `-u ${HEALTH_USER}\n-P ${healthPassword}\n`,
    mode: '0600',
    owner: String(image.uid),
    group: String(image.gid),
    secret: true,
    // Read by each healthcheck run, not by the broker: the new passwd reaches the broker by SIGHUP.
    apply: 'reload',
  });
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
