import { readFile } from 'node:fs/promises';
import { $ } from 'zx';

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
 * Reads the facts through the docker CLI (zx `$` with argument arrays: every value is one argv
 * entry, no shell) and the config directory from this machine's filesystem. Touches nothing.
 */
export async function gatherContainerFacts(name: string, volumeNames: string[], filePaths: string[]): Promise<ContainerFacts> {
  const inspect = await $({ nothrow: true, quiet: true })`docker container inspect ${name}`;
  let container: ContainerState | null = null;
  if (inspect.exitCode === 0) container = parseContainerInspect(inspect.stdout);
  else if (!notFound(inspect.stderr)) throw new Error(`docker container inspect ${name} failed: ${inspect.stderr.trim()}`);

  const volumes: Record<string, boolean> = {};
  for (const volume of volumeNames) {
    const out = await $({ nothrow: true, quiet: true })`docker volume inspect ${volume}`;
    if (out.exitCode !== 0 && !notFound(out.stderr)) throw new Error(`docker volume inspect ${volume} failed: ${out.stderr.trim()}`);
    volumes[volume] = out.exitCode === 0;
  }

  const files: Record<string, string | null> = {};
  for (const path of filePaths) {
    try {
      files[path] = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      files[path] = null;
    }
  }
  return { container, volumes, files };
}
