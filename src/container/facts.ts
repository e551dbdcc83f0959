import type { Transport } from '../transport/transport.ts';

/** What `docker container inspect` says about the broker container, reduced to what the planner compares. */
export interface ContainerState {
  /** The image reference it was created from (Config.Image), e.g. mqtt-provision/mosquitto-local:2.0-abc. */
  image: string;
  labels: Record<string, string>;
  /** State.Status: running, exited, created, restarting… */
  status: string;
  /** State.Health.Status, or null without a healthcheck. */
  health: string | null;
}

export interface ContainerFacts {
  container: ContainerState | null;
  /** Volume name → whether it exists. */
  volumes: Record<string, boolean>;
  /** Config file path on this machine → its content, null when absent. */
  files: Record<string, string | null>;
  /** Stored files others may not read: written as secret files by an earlier run, so never diffed. */
  privateFiles?: string[];
}

interface InspectJson {
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; Health?: { Status?: string } | null };
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
  };
}

/**
 * Prints one line per file argument: "-" when it does not exist, else "+" (others may read it) or
 * "!" (private: written as a secret file) and its base64 content; stops at an unreadable one.
 */
const readFilesScript =
  'for f; do if [ -e "$f" ]; then c=$(base64 -w0 < "$f") || exit 1; case $(stat -c %a "$f") in *[4567]) p=+ ;; *) p=! ;; esac; printf "%s%s\\n" "$p" "$c"; else echo -; fi; done';

/**
 * Reads the facts on the Docker host through the transport (this machine, or the --docker-host
 * over SSH): the docker CLI with argument lists, and the stored config files. Touches nothing.
 */
export async function gatherContainerFacts(transport: Transport, name: string, volumeNames: string[], filePaths: string[]): Promise<ContainerFacts> {
  const inspect = await transport.exec(['docker', 'container', 'inspect', name]);
  let container: ContainerState | null = null;
  if (inspect.code === 0) container = parseContainerInspect(inspect.stdout);
  else if (!notFound(inspect.stderr)) throw new Error(`docker container inspect ${name} failed: ${inspect.stderr.trim() || `exit ${inspect.code}`}`);

  const volumes: Record<string, boolean> = {};
  for (const volume of volumeNames) {
    const out = await transport.exec(['docker', 'volume', 'inspect', volume]);
    if (out.code !== 0 && !notFound(out.stderr)) throw new Error(`docker volume inspect ${volume} failed: ${out.stderr.trim() || `exit ${out.code}`}`);
    volumes[volume] = out.code === 0;
  }

  // One exec for every stored file (like the host probe): a line each, "-" when absent, else base64.
  const files: Record<string, string | null> = {};
  const privateFiles: string[] = [];
  if (filePaths.length > 0) {
    const read = await transport.exec(['sh', '-c', readFilesScript, 'mqtt-provision-read', ...filePaths]);
    if (read.code !== 0) throw new Error(`reading the stored config failed: ${read.stderr.trim() || `exit ${read.code}`}`);
    const lines = read.stdout.split('\n');
    filePaths.forEach((path, index) => {
      const line = lines[index] ?? '-';
      files[path] = line === '-' ? null : Buffer.from(line.slice(1), 'base64').toString('utf8');
      if (line.startsWith('!')) privateFiles.push(path);
    });
  }
  return { container, volumes, files, privateFiles };
}
