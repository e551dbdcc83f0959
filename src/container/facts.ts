import type { Transport } from '../transport/transport.ts';
import { LABEL_MANAGED } from './desired.ts';

/** A bind mount of the container: a path on the Docker host mounted at a path inside. */
export interface BindMount {
  source: string;
  destination: string;
}

/** What `docker container inspect` says about the broker container, reduced to what the planner compares. */
export interface ContainerState {
  /** The image reference it was created from (Config.Image), e.g. mqtt-provision/mosquitto-local:2.0-abc. */
  image: string;
  labels: Record<string, string>;
  /** State.Status: running, exited, created, restarting… */
  status: string;
  /** State.Health.Status, or null without a healthcheck. */
  health: string | null;
  /** State.Pid: the broker's process on the Docker host (0 when not running). */
  pid: number;
  binds: BindMount[];
}

/** A named volume: whether mqtt-provision created it (its label), or null when it does not exist. */
export type VolumeState = { managed: boolean } | null;

export interface ContainerFacts {
  container: ContainerState | null;
  volumes: Record<string, VolumeState>;
  /** Config file path on the Docker host → its content, null when absent. */
  files: Record<string, string | null>;
  /** Directory path on the Docker host → whether it exists (the config directory and its parent). */
  directories: Record<string, boolean>;
  /**
   * Bind mounts (their destinations) whose source on the Docker host is no longer what the
   * running container has mounted: the directory was deleted or replaced after the container
   * started, so the broker reads a detached copy until it is restarted. Empty when unknown.
   */
  replacedMounts: string[];
  /** CPUs of the Docker host (`docker info` NCPU); 0 when unknown. */
  hostCpus: number;
  /** Stored files others may not read: written as secret files by an earlier run, so never diffed. */
  privateFiles?: string[];
}

interface InspectJson {
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; Pid?: number; Health?: { Status?: string } | null };
  Mounts?: Array<{ Type?: string; Source?: string; Destination?: string }> | null;
}

const notFound = (stderr: string) => /no such (container|volume|object)/i.test(stderr);

/** Parses `docker container inspect` output (a JSON array of one). Pure, for the unit tests. */
export function parseContainerInspect(json: string): ContainerState {
  const [item] = JSON.parse(json) as InspectJson[];
  if (!item) throw new Error('docker inspect returned no object');
  return {
    image: item.Config?.Image ?? '',
    labels: item.Config?.Labels ?? {},
    status: item.State?.Status ?? 'unknown',
    health: item.State?.Health?.Status ?? null,
    pid: item.State?.Pid ?? 0,
    binds: (item.Mounts ?? [])
      .filter((mount) => mount.Type === 'bind' && mount.Source && mount.Destination)
      .map((mount) => ({ source: mount.Source!, destination: mount.Destination! })),
  };
}

/**
 * Prints one line per path argument: "d" for a directory, "-" when it does not exist, else "+"
 * (others may read it) or "!" (private: written as a secret file) and its base64 content; stops
 * at an unreadable file.
 */
const readFilesScript =
  'for f; do if [ -d "$f" ]; then echo d; elif [ -e "$f" ]; then c=$(base64 -w0 < "$f") || exit 1; case $(stat -c %a "$f") in *[4567]) p=+ ;; *) p=! ;; esac; printf "%s%s\\n" "$p" "$c"; else echo -; fi; done';

/**
 * One line per bind mount: the device:inode of its source on the Docker host ("missing" when
 * gone) and of what the container's mount namespace has at the destination, read through
 * /proc/PID/root ("unknown" when that is not readable, e.g. without root). A deleted directory
 * stays mounted, detached, in a running container: the two then differ.
 */
const mountIdentityScript =
  'pid=$1; shift; while [ "$#" -ge 2 ]; do ' +
  'a=$(stat -L -c %d:%i -- "$1" 2>/dev/null) || a=missing; ' +
  'b=$(stat -L -c %d:%i -- "/proc/$pid/root$2" 2>/dev/null) || b=unknown; ' +
  'echo "$a $b"; shift 2; done';

/** Pure: the destinations whose source differs from what the container has mounted (unknown ones are not counted). */
export function parseMountIdentities(binds: BindMount[], output: string): string[] {
  const lines = output.split('\n');
  return binds.filter((_, index) => {
    const [host, inside] = (lines[index] ?? '').trim().split(' ');
    return inside !== undefined && inside !== 'unknown' && host !== inside;
  }).map((bind) => bind.destination);
}

/**
 * Reads the facts on the Docker host through the transport (this machine, or the --docker-host
 * over SSH): the docker CLI with argument lists, and the stored config files. Touches nothing.
 * `paths` are read as files, or reported as directories when they are ones; `askCpus` asks the
 * engine for the host's CPUs.
 */
export async function gatherContainerFacts(transport: Transport, name: string, volumeNames: string[], paths: string[], askCpus = true): Promise<ContainerFacts> {
  const inspect = await transport.exec(['docker', 'container', 'inspect', name]);
  let container: ContainerState | null = null;
  if (inspect.code === 0) container = parseContainerInspect(inspect.stdout);
  else if (!notFound(inspect.stderr)) throw new Error(`docker container inspect ${name} failed: ${inspect.stderr.trim() || `exit ${inspect.code}`}`);

  const volumes: Record<string, VolumeState> = {};
  for (const volume of volumeNames) {
    const out = await transport.exec(['docker', 'volume', 'inspect', '--format', `{{index .Labels "${LABEL_MANAGED}"}}`, volume]);
    if (out.code !== 0 && !notFound(out.stderr)) throw new Error(`docker volume inspect ${volume} failed: ${out.stderr.trim() || `exit ${out.code}`}`);
    volumes[volume] = out.code === 0 ? { managed: out.stdout.trim() === 'true' } : null;
  }

  // One exec for every stored file (like the host probe): a line each, "-" when absent, "d" for a directory, else base64.
  const files: Record<string, string | null> = {};
  const directories: Record<string, boolean> = {};
  const privateFiles: string[] = [];
  if (paths.length > 0) {
    const read = await transport.exec(['sh', '-c', readFilesScript, 'mqtt-provision-read', ...paths]);
    if (read.code !== 0) throw new Error(`reading the stored config failed: ${read.stderr.trim() || `exit ${read.code}`}`);
    const lines = read.stdout.split('\n');
    paths.forEach((path, index) => {
      const line = lines[index] ?? '-';
      directories[path] = line === 'd';
      files[path] = line === '-' || line === 'd' ? null : Buffer.from(line.slice(1), 'base64').toString('utf8');
      if (line.startsWith('!')) privateFiles.push(path);
    });
  }

  let replacedMounts: string[] = [];
  if (container !== null && container.status === 'running' && container.pid > 0 && container.binds.length > 0) {
    const args = container.binds.flatMap((bind) => [bind.source, bind.destination]);
    const identities = await transport.exec(['sh', '-c', mountIdentityScript, 'mqtt-provision-mounts', String(container.pid), ...args]);
    if (identities.code === 0) replacedMounts = parseMountIdentities(container.binds, identities.stdout);
  }

  // `docker info` costs a round trip and tens of ms: asked only when a limit above one CPU could exceed the host.
  const info = askCpus ? await transport.exec(['docker', 'info', '--format', '{{.NCPU}}']) : null;
  const hostCpus = info !== null && info.code === 0 && /^\d+$/.test(info.stdout.trim()) ? Number(info.stdout.trim()) : 0;
  return { container, volumes, files, directories, replacedMounts, hostCpus, privateFiles };
}
