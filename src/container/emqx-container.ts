import path from 'node:path';
import { currentCookie, parseApiFacts } from '../brokers/emqx/api-facts.ts';
import { dashboardPort, emqxConfigFile } from '../brokers/emqx/files.ts';
import { chooseCookie, cookieInConfig, defaultNodeName, servicePassword } from '../brokers/emqx/identity.ts';
import { restSteps, type RestFacts } from '../brokers/emqx/rest-steps.ts';
import { apiFactScript } from '../brokers/emqx/rest-scripts.ts';
import { atLeast, emqxFeatures, enterpriseOnlyProblem } from '../brokers/emqx/version.ts';
import { servedPorts } from '../brokers/served-ports.ts';
import type { EmqxApiFact } from '../brokers/emqx/facts.ts';
import { sha256 } from '../operations/files.ts';
import type { Command } from '../operations/step.ts';
import type { Settings } from '../settings/load.ts';
import type { Transport } from '../transport/transport.ts';
import { configHash, dataVolume, logVolume, refuseTls, runArgv, type ContainerOptions, type ContainerSpec, type DesiredContainer } from './desired.ts';
import { emqxImageCurlSince, emqxImagePaths, imageLayouts } from './image-layouts.ts';

const image = imageLayouts.emqx;

/** Files kept in the config directory on the Docker host; only emqx.conf is mounted into the container. */
export const emqxContainerFileNames = ['emqx.conf', 'mqtt-provision-users'];

export interface StoredEmqxFiles {
  config: string | null;
  usersState: string | null;
}

/** Drawn by the prepare point (planContainerTarget) or a test, never here: both are pure functions. */
export interface EmqxContainerPlanOptions {
  /** The cookie for a config directory that holds none yet. */
  generateCookie: () => string;
  salt: (name: string) => Buffer;
}

/** The EMQX release an image runs: its tag when that is a plain release, else settings.version. */
export function emqxVersionOf(imageReference: string, settings: Settings): string {
  const tag = /:(\d+\.\d+\.\d+)$/.exec(imageReference)?.[1];
  if (tag) return tag;
  if (settings.version !== '') return settings.version;
  throw new Error(`cannot tell the EMQX release of image "${imageReference}" from its tag: set version in the settings (e.g. "5.8.8")`);
}

/**
 * Whether an EMQX image has the curl the REST steps run inside it: Docker's official `emqx` image
 * always (it downloads EMQX with curl and keeps it), emqx/emqx from 5.8.5, null when unknown (a
 * custom image: the guard of `inContainer` finds out at run time).
 */
export function emqxImageShipsCurl(reference: string): boolean | null {
  const match = /^(?:(?:docker\.io|registry-1\.docker\.io)\/)?((?:library\/)?emqx|emqx\/emqx):(\d+\.\d+\.\d+)$/.exec(reference);
  if (!match) return null;
  if (match[1] !== 'emqx/emqx') return true;
  return atLeast(match[2]!, emqxImageCurlSince);
}

/** How the guard of `inContainer` says the image has no curl (EX_UNAVAILABLE), apart from a script's own failure. */
export const NO_CURL_EXIT = 69;

/**
 * Runs a REST script inside the container, where the API listens on 127.0.0.1. The script still
 * travels on stdin (`docker exec -i`), so no secret reaches an argument list on either side.
 */
export function inContainer(name: string, command: Command): Command {
  const guard =
    `command -v curl >/dev/null 2>&1 || { echo "this image has no curl, which mqtt-provision needs inside the container for EMQX's REST API: use the official emqx image (e.g. emqx:5.8.8), emqx/emqx:${emqxImageCurlSince} or later, or add curl" >&2; exit ${NO_CURL_EXIT}; }; exec "$@"`;
  return { argv: ['docker', 'exec', '-i', name, 'sh', '-c', guard, 'mqtt-provision-exec', ...command.argv], ...(command.stdin !== undefined ? { stdin: command.stdin } : {}) };
}

/** Host facts as the EMQX role reads them, built from the config directory and the container's API. */
/** What the REST steps read of a container: the API facts and the stored users state (content only). */
function restFacts(stored: StoredEmqxFiles, api: EmqxApiFact | null): RestFacts {
  return { api, usersState: stored.usersState === null ? null : { content: stored.usersState, sha256: sha256(stored.usersState) } };
}

/**
 * The EMQX container these settings ask for, laid out like Docker's official emqx image: emqx.conf
 * mounted read-only over /opt/emqx/etc/emqx.conf, data (mnesia: users, admins, sessions) and logs
 * in named volumes, a fixed node name (the mnesia directory is named after it, so a recreated
 * container must keep it), and the REST steps of the host role run through `docker exec`.
 */
export function desiredEmqxContainer(settings: Settings, options: ContainerOptions, stored: StoredEmqxFiles, api: EmqxApiFact | null, planOptions: EmqxContainerPlanOptions): DesiredContainer {
  refuseTls(settings);
  if (settings.emqx.cluster.seeds.length > 1) throw new Error('emqx.cluster: a cluster is supported on SSH hosts only, not with --docker');
  if (emqxImageShipsCurl(options.image) === false) {
    throw new Error(`image ${options.image} has no curl, which the REST steps run inside the container (emqx/emqx installs it from ${emqxImageCurlSince}): use emqx/emqx:${emqxImageCurlSince} or later, or emqx:${image.defaultTag}`);
  }
  const version = emqxVersionOf(options.image, settings);
  const enterprise = enterpriseOnlyProblem(version);
  if (enterprise) throw new Error(`image ${options.image}: ${enterprise}`);
  const features = emqxFeatures(version);
  if (settings.emqx.durableSessions && !features.durableSessions) throw new Error(`durable sessions need EMQX 5.7 or later; image ${options.image} runs ${version}`);

  const usersStatePath = path.join(options.configDir, 'mqtt-provision-users');
  const cookie = chooseCookie(settings, stored.config, planOptions.generateCookie);
  const nodeName = settings.emqx.nodeName ?? defaultNodeName;
  const config = emqxConfigFile(settings, { version, nodeName, cookie, dataDir: image.dataDir });
  const configFile = { ...config, path: path.join(options.configDir, 'emqx.conf'), owner: '0', group: String(image.gid) };

  const data = dataVolume(options.name);
  const log = logVolume(options.name);
  // The entrypoint derives a node name from the container's IP unless EMQX_NODE_NAME is set, and
  // EMQX_* variables win over emqx.conf: both spellings pin the one name the mnesia data belongs to.
  const env = [`EMQX_NODE_NAME=${nodeName}`, `EMQX_NODE__NAME=${nodeName}`];
  const configMount = `${configFile.path}:${emqxImagePaths.configFile}:ro`;
  const spec: ContainerSpec = {
    image: options.image,
    ports: servedPorts(settings).map((port) => `${options.bind}:${port}:${port}/tcp`),
    volumes: [configMount, `${data}:${image.dataDir}`, `${log}:${image.logDir}`],
    env,
    restart: 'unless-stopped',
    memory: options.memory,
    cpus: options.cpus,
    healthcheck: image.healthcheck(settings),
    stopTimeoutSeconds: 30,
  };
  const hash = configHash([configFile]);
  // `emqx check_config` of the new file in a throwaway container of the same image, before the running one is replaced.
  const validate: Command = {
    argv: ['docker', 'run', '--rm', '--entrypoint', emqxImagePaths.emqx, '--volume', configMount, ...env.flatMap((entry) => ['--env', entry]), options.image, 'check_config'],
  };
  const target = { port: dashboardPort(settings), servicePassword: servicePassword(cookie) };
  const cookieChanges = cookieInConfig(stored.config) !== cookie.reveal();
  const afterSteps = restSteps(restFacts(stored, api), settings, target, cookieChanges, planOptions.salt, { usersStateFile: usersStatePath, dataDir: image.dataDir, script: (command) => inContainer(options.name, command) });
  return {
    name: options.name,
    spec,
    volumeNames: [data, log],
    files: [configFile],
    configDir: options.configDir,
    configHash: hash,
    runArgv: runArgv(options.name, spec, hash),
    reload: null,
    validate,
    // EMQX boots in 10-30 s; a node replaying durable sessions takes longer.
    healthTimeoutSeconds: 120,
    afterSteps,
  };
}

/**
 * Asks the running container's REST API who logs in and which users and rules exist (the same
 * script as on a host, through `docker exec -i`). Null when the container is not running or has
 * no curl: every REST step is then planned, and each checks again when it runs.
 */
export async function gatherEmqxContainerApi(transport: Transport, name: string, settings: Settings, storedConfig: string | null): Promise<EmqxApiFact | null> {
  const cookie = currentCookie(settings, storedConfig);
  const command = apiFactScript({ port: dashboardPort(settings), servicePassword: cookie === null ? null : servicePassword(cookie) }, settings.admins);
  const probe = inContainer(name, command);
  const result = await transport.exec(probe.argv, { stdin: probe.stdin! });
  if (result.code === NO_CURL_EXIT) return null;
  if (result.code !== 0) throw new Error(`the EMQX REST API probe in container ${name} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return parseApiFacts(result.stdout, settings.admins.map((admin) => admin.name));
}
