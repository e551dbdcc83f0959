import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { dataVolume, LABEL_MANAGED, logVolume } from '../container/desired.ts';
import type { Settings } from '../settings/load.ts';
import { configFilesProvider, type ConfigFilesInputs } from './config-files-provider.ts';
import { containerOptions, desiredPulumiContainer, dockerContainerInputs, imageFor, publishedPorts, specWithPorts, type PublishedPort } from './container-files.ts';
import type { ListenerName } from './stack-config.ts';

export interface MqttBrokerContainerArgs {
  /** Settings validated by resolveSettings; passwords reach the Docker host only inside secret files. */
  settings: Settings;
  /** Image to run; defaults to the official image pinned per broker (eclipse-mosquitto:2.0.22, emqx:5.8.8). */
  image?: string;
  /** Container name on the Docker host; defaults to the component name. */
  containerName?: string;
  /** Docker-host address the listeners are published on. Defaults to 127.0.0.1. */
  bindAddress?: string;
  /** Listener name → port on the Docker host, where it differs from the listener's own port. */
  ports?: Partial<Record<ListenerName, number>>;
  /** Config directory on the Docker host; defaults to `--docker`'s /var/lib/mqtt-provision/containers/<name>/config. */
  configDir?: string;
  /** `docker run --memory`; defaults to `--docker`'s (512m for Mosquitto). */
  memory?: string;
  /** `docker run --cpus`; defaults to `--docker`'s (1). */
  cpus?: string;
  /** Keep the data and log volumes when the component is destroyed (the default), so no queued message is lost by accident. */
  retainDataOnDelete?: boolean;
}

/** Writes the container's config directory (see config-files-provider.ts). */
class ContainerConfigFiles extends pulumi.dynamic.Resource {
  constructor(name: string, inputs: { [K in keyof ConfigFilesInputs]: pulumi.Input<ConfigFilesInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(configFilesProvider, name, inputs, { ...opts, additionalSecretOutputs: ['files'] }, undefined, 'ContainerConfigFiles');
  }
}

/**
 * One broker in a Docker container, exactly as `install-mosquitto.mts --docker` runs it: the spec,
 * files, labels and volumes come from desiredMosquittoContainer (src/container/), only expressed as
 * @pulumi/docker resources. The config directory is written on the machine running Pulumi and
 * mounted read-only; named volumes keep data and logs across container replacements.
 */
export class MqttBrokerContainer extends pulumi.ComponentResource {
  declare public readonly containerName: pulumi.Output<string>;
  /** Image reference the container runs. */
  declare public readonly image: pulumi.Output<string>;
  /** Name of the Docker volume holding the broker's data. */
  declare public readonly dataVolume: pulumi.Output<string>;
  declare public readonly ports: pulumi.Output<PublishedPort[]>;
  /** Hash of the files the broker reads at start; also the container's mqtt-provision.config-hash label. */
  declare public readonly configHash: pulumi.Output<string>;
  /** Directory on the Docker host holding the rendered config. */
  declare public readonly configDir: pulumi.Output<string>;

  constructor(name: string, args: MqttBrokerContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('mqtt-provision:index:MqttBrokerContainer', name, {}, opts);
    const { settings } = args;
    // The config directory is written where Pulumi runs; a daemon elsewhere would mount a path it does not have.
    const dockerHost = new pulumi.Config('docker').get('host');
    if (dockerHost !== undefined && !dockerHost.startsWith('unix://')) {
      throw new Error(`docker:host ${dockerHost}: MqttBrokerContainer writes its config directory on this machine, so it needs the local Docker daemon; use install-mosquitto.mts --docker --docker-host for a remote one`);
    }
    const containerName = args.containerName ?? name;
    const options = containerOptions(settings.broker, {
      containerName,
      image: imageFor(settings, args.image),
      ...(args.bindAddress !== undefined ? { bindAddress: args.bindAddress } : {}),
      ...(args.configDir !== undefined ? { configDir: args.configDir } : {}),
      ...(args.memory !== undefined ? { memory: args.memory } : {}),
      ...(args.cpus !== undefined ? { cpus: args.cpus } : {}),
    });
    const desired = desiredPulumiContainer(settings, options, `${pulumi.getStack()}/${containerName}`);
    const ports = publishedPorts(settings, desired.spec, args.ports ?? {});
    const spec = specWithPorts(desired.spec, ports);
    const inputs = dockerContainerInputs(desired, spec);

    const image = new docker.RemoteImage(`${name}-image`, { name: spec.image, keepLocally: true }, { parent: this });
    // Created with the label `--docker` gives its volumes, so either front door recognises them as ours.
    const volumeOptions = { parent: this, retainOnDelete: args.retainDataOnDelete ?? true };
    const volumes = Object.fromEntries(
      [dataVolume(containerName), logVolume(containerName)].map((volumeName) => [
        volumeName,
        new docker.Volume(`${name}-${volumeName.slice(containerName.length + 1)}`, { name: volumeName, labels: [{ label: LABEL_MANAGED, value: 'true' }] }, volumeOptions),
      ]),
    );
    const files = new ContainerConfigFiles(
      `${name}-config`,
      {
        configDir: desired.configDir,
        containerName,
        // The passwd and the health options file hold secrets: the whole list is one secret.
        files: pulumi.secret(desired.files),
        configHash: desired.configHash,
        reload: desired.reload?.argv ?? null,
      },
      { parent: this },
    );
    const container = new docker.Container(
      `${name}-container`,
      {
        ...inputs,
        image: image.imageId,
        volumes: inputs.volumes.map((mount) => ('volumeName' in mount ? { ...mount, volumeName: volumes[mount.volumeName]!.name } : mount)),
        // `pulumi up` fails when the broker does not come up healthy, instead of reporting success.
        wait: true,
        waitTimeout: desired.healthTimeoutSeconds,
      },
      // The replacement reuses the name, the host ports and the volumes, so the old container must go first.
      { parent: this, deleteBeforeReplace: true, dependsOn: [files] },
    );

    this.containerName = container.name;
    this.image = pulumi.output(spec.image);
    this.dataVolume = volumes[dataVolume(containerName)]!.name;
    this.ports = pulumi.output(ports);
    this.configHash = pulumi.output(desired.configHash);
    this.configDir = pulumi.output(desired.configDir);
    this.registerOutputs({
      containerName: this.containerName,
      image: this.image,
      dataVolume: this.dataVolume,
      ports: this.ports,
      configHash: this.configHash,
      configDir: this.configDir,
    });
  }
}
