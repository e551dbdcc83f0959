import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import type { Settings } from '../settings/load.ts';
import { containerConfigHash, containerLayouts, imageFor, publishedPorts, type PublishedPort } from './container-files.ts';
import type { ListenerName } from './stack-config.ts';

export interface MqttBrokerContainerArgs {
  /** Settings validated by resolveSettings; passwords reach the container only as a secret upload. */
  settings: Settings;
  /** Image to run; defaults to the official image pinned per broker (eclipse-mosquitto:2.0.22, emqx:5.8.8). */
  image?: string;
  /** Container name on the Docker host; defaults to the component name. */
  containerName?: string;
  /** Docker-host address the listeners are published on. Defaults to 127.0.0.1. */
  bindAddress?: string;
  /** Listener name → port on the Docker host, where it differs from the listener's own port. */
  ports?: Partial<Record<ListenerName, number>>;
  /** Keep the data volume when the component is destroyed (the default), so no queued message is lost by accident. */
  retainDataOnDelete?: boolean;
}

/**
 * One broker in a Docker container: the official image, the rendered config uploaded into it, and a
 * named volume for persistence so sessions and queued messages outlive any container replacement.
 */
export class MqttBrokerContainer extends pulumi.ComponentResource {
  declare public readonly containerName: pulumi.Output<string>;
  /** Image reference the container runs. */
  declare public readonly image: pulumi.Output<string>;
  /** Name of the Docker volume holding the broker's data. */
  declare public readonly dataVolume: pulumi.Output<string>;
  declare public readonly ports: pulumi.Output<PublishedPort[]>;
  /** Hash of the image and non-secret config; also set as a container label. */
  declare public readonly configHash: pulumi.Output<string>;

  constructor(name: string, args: MqttBrokerContainerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('mqtt-provision:index:MqttBrokerContainer', name, {}, opts);
    const { settings } = args;
    const layout = containerLayouts[settings.broker];
    const containerName = args.containerName ?? name;
    const imageName = imageFor(settings, args.image);
    const files = layout.files(settings, containerName);
    const ports = publishedPorts(settings, args.ports ?? {}, args.bindAddress ?? '127.0.0.1');
    const hash = containerConfigHash(imageName, files);

    const image = new docker.RemoteImage(`${name}-image`, { name: imageName, keepLocally: true }, { parent: this });
    const volume = new docker.Volume(
      `${name}-data`,
      { name: `${containerName}-data`, labels: [{ label: 'mqtt-provision.broker', value: settings.broker }] },
      { parent: this, retainOnDelete: args.retainDataOnDelete ?? true },
    );
    const container = new docker.Container(
      `${name}-container`,
      {
        name: containerName,
        image: image.imageId,
        uploads: files.map((file) => ({
          file: file.path,
          content: file.secret ? pulumi.secret(file.content) : file.content,
          permissions: file.mode,
          owner: file.owner,
          group: file.group,
        })),
        volumes: [{ volumeName: volume.name, containerPath: layout.dataDir }],
        tmpfs: layout.tmpfs,
        ports: ports.map(({ internal, external, ip }) => ({ internal, external, ip, protocol: 'tcp' })),
        restart: 'unless-stopped',
        healthcheck: { tests: layout.healthcheck(settings), interval: '10s', timeout: '5s', retries: 3, startPeriod: '10s' },
        // `pulumi up` fails when the broker does not come up healthy, instead of reporting success.
        wait: true,
        waitTimeout: 90,
        // The broker writes its persistence file on SIGTERM; without a grace period a replacement would kill it first.
        destroyGraceSeconds: 30,
        stopTimeout: 30,
        labels: [
          { label: 'mqtt-provision.broker', value: settings.broker },
          { label: 'mqtt-provision.config-hash', value: hash },
        ],
      },
      // The replacement reuses the name, the host ports and the data volume, so the old container must go first.
      { parent: this, deleteBeforeReplace: true },
    );

    this.containerName = container.name;
    this.image = pulumi.output(imageName);
    this.dataVolume = volume.name;
    this.ports = pulumi.output(ports);
    this.configHash = pulumi.output(hash);
    this.registerOutputs({
      containerName: this.containerName,
      image: this.image,
      dataVolume: this.dataVolume,
      ports: this.ports,
      configHash: this.configHash,
    });
  }
}
