// The Pulumi program: one MqttBrokerHost per SSH host or one MqttBrokerContainer per container,
// as the selected stack's config (stacks/Pulumi.<stack>.yaml) says. See docs/pulumi.md.
import * as pulumi from '@pulumi/pulumi';
import { fileURLToPath } from 'node:url';
import { InputError, InputErrors } from './src/settings/input-error.ts';
import { MqttBrokerContainer } from './src/pulumi/mqtt-broker-container.ts';
import { MqttBrokerHost } from './src/pulumi/mqtt-broker-host.ts';
import { project, readStackConfig, type StackConfig } from './src/pulumi/stack-config.ts';

/** Relative paths in a stack file (keys, password files, templates) are the project directory's. */
const projectDir = fileURLToPath(new URL('.', import.meta.url));
const config = new pulumi.Config(project);

async function loadStack(): Promise<StackConfig> {
  try {
    return await readStackConfig({ get: (key) => config.get(key) }, projectDir);
  } catch (error) {
    if (error instanceof InputErrors || error instanceof InputError) {
      // A RunError prints its message without a stack trace: the same list of fields the CLI prints.
      throw new pulumi.RunError(`invalid config in stacks/Pulumi.${pulumi.getStack()}.yaml:\n${error.message}`);
    }
    throw error;
  }
}

const stack = await loadStack();
for (const warning of stack.warnings) pulumi.log.warn(warning);

const hosts = stack.hosts.map(
  (host) =>
    new MqttBrokerHost(host.name, {
      address: host.address,
      user: host.user,
      port: host.port,
      privateKeyPath: host.privateKeyPath,
      knownHostsPath: host.knownHostsPath,
      settings: stack.settings,
      purgeDataOnDelete: stack.purgeDataOnDelete,
      projectDir,
    }),
);

const containers = stack.containers.map(
  (container) =>
    new MqttBrokerContainer(container.name, {
      settings: stack.settings,
      ...(container.image !== undefined ? { image: container.image } : {}),
      bindAddress: container.bindAddress,
      ports: container.ports,
      retainDataOnDelete: !stack.purgeDataOnDelete,
    }),
);

export const deployment = stack.deployment;
export const brokers = Object.fromEntries([
  ...hosts.map((host, index) => [
    stack.hosts[index]!.name,
    { host: host.host, broker: host.broker, version: host.version, listeners: host.listeners, configHash: host.configHash },
  ]),
  ...containers.map((container, index) => [
    stack.containers[index]!.name,
    { container: container.containerName, image: container.image, ports: container.ports, dataVolume: container.dataVolume, configHash: container.configHash },
  ]),
]);
