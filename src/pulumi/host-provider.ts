import type * as pulumi from '@pulumi/pulumi';
import { importFromProject } from './import-from-project.ts';
import type { PlainSettings } from './plain-settings.ts';

/**
 * The dynamic provider behind MqttBrokerHost. Pulumi serializes this object into the state and runs
 * it in a separate provider process, so it captures nothing but a path: every method imports
 * host-operations.ts (which holds the engine calls) at call time. No provisioning logic lives here.
 */

/** Plain data only: this is what the engine hands the provider, and what the state stores. */
export interface HostProviderInputs {
  address: string;
  port: number;
  user: string;
  /** OpenSSH private key; `~/` is the home of whoever runs Pulumi. */
  privateKeyPath: string;
  /** known_hosts the host's key is checked against; a changed key is refused, a new host recorded. */
  knownHostsPath: string;
  /** Same as settings.broker; kept apart so a broker change can force a replacement without unwrapping the secret. */
  broker: PlainSettings['broker'];
  /** Validated settings with passwords as strings: always a secret input. */
  settings: PlainSettings;
  /** The rendered non-secret config files, path → text (publicConfigFiles): shown as a diff by `pulumi preview --diff`. */
  config?: Record<string, string>;
  /** On delete, remove the broker's data directory as well (the default keeps it). */
  purgeDataOnDelete: boolean;
}

export interface HostProviderOutputs extends HostProviderInputs {
  /** `user@address:port`, as the engine labels the host. */
  host: string;
  /** The broker package version installed on the host after converge. */
  version: string;
  listeners: PlainSettings['listeners'];
  /** Hash of the rendered non-secret config and of the settings without passwords. */
  configHash: string;
  /** Hash of user names and passwords: a secret output. */
  credentialsHash: string;
}

/** Output properties that hold or reveal passwords; the component marks them additionalSecretOutputs. */
export const secretOutputNames = ['settings', 'credentialsHash'] as const;

type Operations = typeof import('./host-operations.ts');

/** host-operations.ts relative to the project directory, and this checkout's copy (see importFromProject). */
const operationsPath = 'src/pulumi/host-operations.ts';
const fallbackUrl: string = new URL('./host-operations.ts', import.meta.url).href;
const loadOperations = (): Promise<Operations> => importFromProject(operationsPath, fallbackUrl);

export const mqttBrokerHostProvider: pulumi.dynamic.ResourceProvider<HostProviderInputs, HostProviderOutputs> = {
  async check(olds, news) {
    return (await loadOperations()).checkHost(olds, news);
  },
  async diff(id, olds, news) {
    return (await loadOperations()).diffHost(id, olds, news);
  },
  async create(inputs) {
    return (await loadOperations()).createHost(inputs);
  },
  async read(id, props) {
    return (await loadOperations()).readHost(id, props);
  },
  async update(id, olds, news) {
    return (await loadOperations()).updateHost(id, olds, news);
  },
  async delete(id, props) {
    return (await loadOperations()).deleteHost(id, props);
  },
};
