import type * as pulumi from '@pulumi/pulumi';
import type { ManagedFile } from '../operations/managed-file.ts';
import { importFromProject } from './import-from-project.ts';

/**
 * The dynamic provider that writes a container's config directory on the Docker host: the files
 * `--docker` writes there (desiredMosquittoContainer), which the container mounts read-only. Like
 * the host provider it is serialized into the state, so it captures nothing but a path and imports
 * config-files-operations.ts at call time.
 */

/** Plain data only: what the engine hands the provider and the state stores (files: a secret). */
export interface ConfigFilesInputs {
  /** Directory on the Docker host, mounted at /mosquitto/config. */
  configDir: string;
  containerName: string;
  /** The desired files with their content, mode and owner; the passwd and health options hold secrets. */
  files: ManagedFile[];
  /** Hash of the files the container is created with (its label): when it changes the container is replaced, not restarted. */
  configHash: string;
  /** Makes the running broker re-read its `apply: 'reload'` files (docker kill --signal HUP). */
  reload: string[] | null;
}

export type ConfigFilesOutputs = ConfigFilesInputs;

type Operations = typeof import('./config-files-operations.ts');

/** config-files-operations.ts relative to the project directory, and this checkout's copy (see importFromProject). */
const operationsPath = 'src/pulumi/config-files-operations.ts';
const fallbackUrl: string = new URL('./config-files-operations.ts', import.meta.url).href;
const loadOperations = (): Promise<Operations> => importFromProject(operationsPath, fallbackUrl);

export const configFilesProvider: pulumi.dynamic.ResourceProvider<ConfigFilesInputs, ConfigFilesOutputs> = {
  async diff(id, olds, news) {
    return (await loadOperations()).diffFiles(id, olds, news);
  },
  async create(inputs) {
    return (await loadOperations()).createFiles(inputs);
  },
  async read(id, props) {
    return (await loadOperations()).readFiles(id, props);
  },
  async update(id, olds, news) {
    return (await loadOperations()).updateFiles(id, olds, news);
  },
  async delete(id, props) {
    return (await loadOperations()).deleteFiles(id, props);
  },
};
