import type { Settings } from '../settings/load.ts';

/**
 * How each broker's official image is laid out. The zx `--docker` target and the Pulumi container
 * both render the same templates for these paths; the host layouts live in src/brokers/.
 */
export interface BrokerImageLayout {
  repository: string;
  /** Pinned tag of the official image: what runs when no --image (or settings.version) says otherwise. */
  defaultTag: string;
  /** The image's broker user and group: host-side files are owned by this numeric id (names are looked up inside the image, not here). */
  uid: number;
  gid: number;
  /** Where the broker reads its config inside the container. */
  configFile: string;
  /** Named data volume mount point: sessions and queued messages (Mosquitto's db, EMQX's mnesia). */
  dataDir: string;
  logDir: string;
  /** Docker healthcheck in exec form (`CMD …` or `CMD-SHELL …`). */
  healthcheck(settings: Settings): string[];
}

export const mosquittoImagePaths = {
  configDir: '/mosquitto/config',
  configFile: '/mosquitto/config/mosquitto.conf',
  passwordFile: '/mosquitto/config/passwd',
  aclFile: '/mosquitto/config/acl',
  dataDir: '/mosquitto/data',
  logDir: '/mosquitto/log',
} as const;

export const emqxImagePaths = {
  configFile: '/opt/emqx/etc/emqx.conf',
  dataDir: '/opt/emqx/data',
  logDir: '/opt/emqx/log',
  emqx: '/opt/emqx/bin/emqx',
} as const;

export const imageLayouts: Record<Settings['broker'], BrokerImageLayout> = {
  mosquitto: {
    repository: 'eclipse-mosquitto',
    defaultTag: '2.0.22',
    uid: 1883,
    gid: 1883,
    configFile: mosquittoImagePaths.configFile,
    dataDir: mosquittoImagePaths.dataDir,
    logDir: mosquittoImagePaths.logDir,
    // Exit 0 only when a QoS 1 publish as the health user (mosquitto-container.ts: HEALTH_USER, its
    // password in the options file mosquitto_pub reads from $XDG_CONFIG_HOME) was acknowledged: the
    // broker answers and read its password file. Both `--docker` and Pulumi's container use it.
    healthcheck: (settings) =>
      settings.listeners.mqtt === undefined
        ? ['CMD', 'pidof', 'mosquitto']
        : ['CMD-SHELL', `XDG_CONFIG_HOME=${mosquittoImagePaths.configDir} mosquitto_pub -h 127.0.0.1 -p ${settings.listeners.mqtt} -t mqtt-provision/health -m ok -q 1`],
  },
  emqx: {
    // Docker's official `emqx` image: it downloads EMQX with curl and keeps it, and the REST steps
    // (admins, users, ACL) run curl inside the container. EMQX's own emqx/emqx images have curl
    // too from 5.8.5 (deploy/docker/Dockerfile, "feat: add cURL to docker image"), none before
    // (emqxImageShipsCurl). 5.8.8 is the newest open-source 5.8; 5.9+ is emqx-enterprise only.
    repository: 'emqx',
    defaultTag: '5.8.8',
    // Both images' Dockerfiles: `groupadd -r -g 1000 emqx && useradd -r -m -u 1000 -g emqx emqx`.
    uid: 1000,
    gid: 1000,
    configFile: emqxImagePaths.configFile,
    dataDir: emqxImagePaths.dataDir,
    logDir: emqxImagePaths.logDir,
    healthcheck: () => ['CMD', emqxImagePaths.emqx, 'ctl', 'status'],
  },
};

/** The first emqx/emqx release whose image installs curl (deploy/docker/Dockerfile at v5.8.5). */
export const emqxImageCurlSince = '5.8.5';

/** What Docker accepts as an image reference (lower-case repository, tag, digest): checked before any engine is asked. */
export const imageReferencePattern = /^[a-z0-9][a-z0-9._/:@-]*$/;

/** The official image for these settings: the override, else a plain release in settings.version, else the pinned tag. */
export function officialImage(settings: Settings, override?: string): string {
  if (override) return override;
  const layout = imageLayouts[settings.broker];
  if (settings.version === '') return `${layout.repository}:${layout.defaultTag}`;
  // Package versions (2.0.11-1.2) are not image tags; only a plain release number picks a tag.
  if (!/^\d+(\.\d+){1,2}$/.test(settings.version)) {
    throw new Error(`settings.version "${settings.version}" is not an image tag of ${layout.repository}; use a release like ${layout.defaultTag} or give an image`);
  }
  return `${layout.repository}:${settings.version}`;
}
