import { createHash } from 'node:crypto';
import { mosquittoConfig } from '../brokers/mosquitto/files.ts';
import { hashPassword } from '../brokers/mosquitto/password-hash.ts';
import { sha256 } from '../operations/files.ts';
import { renderTemplate } from '../render/render-template.ts';
import { clientUsers, type Settings } from '../settings/load.ts';
import type { ListenerName } from './stack-config.ts';
import { imageLayouts, mosquittoImagePaths, officialImage } from '../container/image-layouts.ts';

/**
 * How each broker's official image is laid out, and the config files a container of it gets. The
 * container is the same broker with the same templates as a host; only the paths differ.
 */

export interface ContainerFile {
  path: string;
  content: string;
  /** Octal mode as the Docker provider takes it, e.g. "0640". */
  mode: string;
  /** Numeric owner and group: names would be looked up on the machine running Pulumi, not in the image. */
  owner: string;
  group: string;
  /** Holds password hashes: uploaded as a secret. */
  secret: boolean;
}

export interface ContainerLayout {
  repository: string;
  /** Pinned tag of the official image, used when settings.version is empty. */
  defaultTag: string;
  /** Where the named data volume is mounted: sessions and queued messages live here. */
  dataDir: string;
  /** tmpfs mounts the rendered config needs (Mosquitto's pid file directory). */
  tmpfs: Record<string, string>;
  /** Docker healthcheck command for these settings. */
  healthcheck(settings: Settings): string[];
  /** The config files, rendered for the image's paths; `seed` makes password salts stable per container. */
  files(settings: Settings, seed: string): ContainerFile[];
}

/** The image's mosquitto user and group; its entrypoint also chowns /mosquitto to them at start. */
const mosquittoId = String(imageLayouts.mosquitto.uid);

export const containerLayouts: Record<Settings['broker'], ContainerLayout> = {
  mosquitto: {
    repository: imageLayouts.mosquitto.repository,
    defaultTag: imageLayouts.mosquitto.defaultTag,
    dataDir: imageLayouts.mosquitto.dataDir,
    // The config names no pid file in a container, so nothing needs /run/mosquitto.
    tmpfs: {},
    healthcheck: imageLayouts.mosquitto.healthcheck,
    files: mosquittoContainerFiles,
  },
  emqx: {
    repository: imageLayouts.emqx.repository,
    defaultTag: imageLayouts.emqx.defaultTag,
    dataDir: imageLayouts.emqx.dataDir,
    tmpfs: {},
    healthcheck: imageLayouts.emqx.healthcheck,
    files: () => {
      // Users, admins and ACL rules go through EMQX's REST API after start, which this resource
      // cannot do from a Pulumi program; the zx front door's --docker target does.
      throw new Error('EMQX containers are not supported by the Pulumi resource yet (users go through the REST API after start); use `install-emqx.mts --docker` or deployment "hosts"');
    },
  },
};

/** Package versions (2.0.11-1.2) are not image tags; only a plain release number picks a tag. */
export function imageFor(settings: Settings, override?: string): string {
  return officialImage(settings, override);
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

export function publishedPorts(settings: Settings, overrides: Partial<Record<ListenerName, number>>, ip: string): PublishedPort[] {
  return (Object.entries(settings.listeners) as Array<[ListenerName, number | undefined]>)
    .filter((entry): entry is [ListenerName, number] => entry[1] !== undefined)
    .map(([listener, port]) => ({ listener, internal: port, external: overrides[listener] ?? port, ip }));
}

/** Fingerprint of what the container is given, passwords excluded: a label, so `docker inspect` tells which config runs. */
export function containerConfigHash(image: string, files: ContainerFile[]): string {
  return sha256(JSON.stringify({ image, files: files.filter((file) => !file.secret).map((file) => [file.path, file.mode, sha256(file.content)]) }));
}

function mosquittoContainerFiles(settings: Settings, seed: string): ContainerFile[] {
  const owner = { owner: mosquittoId, group: mosquittoId };
  // The TLS files live in the host layout only; a container would point at paths it does not have.
  if (settings.tls) throw new Error('settings.tls: TLS listeners are not supported for containers yet; use a host');
  const config = mosquittoConfig(settings, mosquittoImagePaths);
  const passwords = [...settings.admins, ...clientUsers(settings)]
    .map(({ name, password }) => `${name}:${hashPassword(password.reveal(), stableSalt(seed, name))}\n`)
    .join('');
  return [
    { path: mosquittoImagePaths.configFile, content: config, mode: '0644', ...owner, secret: false },
    { path: mosquittoImagePaths.passwordFile, content: passwords, mode: '0600', ...owner, secret: true },
    {
      path: mosquittoImagePaths.aclFile,
      content: renderTemplate('mosquitto-acl', { admins: settings.admins, users: clientUsers(settings) }, settings.templates),
      mode: '0600',
      ...owner,
      secret: false,
    },
  ];
}

/**
 * A container has no earlier password file to keep hashes from, and a random salt would change the
 * upload (and replace the container) on every run. The salt is derived from the container and user
 * names only, never from the password, so it gives nothing away while staying unique per user.
 */
function stableSalt(seed: string, name: string): Buffer {
  return createHash('sha256').update(`mqtt-provision salt\0${seed}\0${name}`).digest().subarray(0, 12);
}
