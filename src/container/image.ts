// Builds a local Mosquitto image, because no image registry is reachable: FROM the lab's
// debootstrap-built Debian 12 image, `apt-get install mosquitto` from Debian's mirror. The tag
// carries a hash of the recipe (like src/container/host-image.ts), so an unchanged recipe is a cache hit.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { $ } from 'zx';
import { ensureLabImage } from './host-image.ts';
import { imageLayouts } from './image-layouts.ts';

export const MOSQUITTO_IMAGE_REPO = 'mqtt-provision/mosquitto-local';
/** Fixed uid/gid of the `mosquitto` user in the image, so host-side config files can be owned by its group. */
export const MOSQUITTO_UID = imageLayouts.mosquitto.uid;

export function mosquittoDockerfile(baseImage: string): string {
  // Laid out like the official eclipse-mosquitto image (src/container/image-layouts.ts), so the
  // same container spec runs either: /mosquitto/{config,data,log}, uid/gid 1883, the clients
  // (the healthcheck uses mosquitto_pub), no pid file.
  return [
    `FROM ${baseImage}`,
    // Created before the package so its postinst (adduser --system) reuses our fixed ids.
    `RUN groupadd --system --gid ${MOSQUITTO_UID} mosquitto \\`,
    `  && useradd --system --uid ${MOSQUITTO_UID} --gid ${MOSQUITTO_UID} --home-dir /var/lib/mosquitto --shell /usr/sbin/nologin mosquitto \\`,
    '  && apt-get update \\',
    '  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mosquitto mosquitto-clients \\',
    '  && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \\',
    '  && mkdir -p /mosquitto/config /mosquitto/data /mosquitto/log \\',
    '  && chown -R mosquitto:mosquitto /mosquitto',
    // The lab image boots systemd; this one runs the broker as PID 1, which saves its db on SIGTERM.
    'ENV container=',
    'STOPSIGNAL SIGTERM',
    'EXPOSE 1883',
    'VOLUME ["/mosquitto/data", "/mosquitto/log"]',
    'CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]',
    '',
  ].join('\n');
}

/** The tag the recipe would build; the version part is informational, the hash decides the cache. */
export function mosquittoImageTag(baseImage: string): string {
  const hash = createHash('sha256').update(JSON.stringify({ version: 2, dockerfile: mosquittoDockerfile(baseImage) })).digest('hex').slice(0, 12);
  return `${MOSQUITTO_IMAGE_REPO}:2.0-${hash}`;
}

async function imageExists(tag: string): Promise<boolean> {
  return (await $({ nothrow: true, quiet: true })`docker image inspect ${tag}`).exitCode === 0;
}

/** Returns the tag of the local Mosquitto image, building it (a minute or two) only when the recipe changed. */
export async function ensureMosquittoImage(log: (text: string) => void = (text) => console.log(`[container] ${text}`)): Promise<string> {
  const base = await ensureLabImage('base');
  const tag = mosquittoImageTag(base);
  if (await imageExists(tag)) return tag;
  const work = await mkdtemp(path.join(tmpdir(), 'mqtt-provision-image-'));
  try {
    await writeFile(path.join(work, 'Dockerfile'), mosquittoDockerfile(base));
    const started = Date.now();
    log(`building ${tag} from ${base} (apt-get install mosquitto)`);
    const out = await $({ nothrow: true, quiet: true })`docker build --network host --tag ${tag} ${work}`;
    if (out.exitCode !== 0) throw new Error(`docker build failed (exit ${out.exitCode}):\n${out.stderr.split('\n').slice(-30).join('\n')}`);
    log(`${tag}: built in ${Math.round((Date.now() - started) / 1000)}s`);
    return tag;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
