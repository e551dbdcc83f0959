import * as pulumi from '@pulumi/pulumi';
import type { Settings } from '../settings/load.ts';
import { mqttBrokerHostProvider, secretOutputNames, type HostProviderInputs } from './host-provider.ts';
import { projectRelative, publicConfigFiles, toPlainSettings } from './plain-settings.ts';

export interface MqttBrokerHostArgs {
  /** Host name or IP address SSH connects to. */
  address: pulumi.Input<string>;
  /** SSH user; anyone but root runs every command through `sudo -n`. Defaults to root. */
  user?: pulumi.Input<string>;
  /** SSH port. Defaults to 22. */
  port?: pulumi.Input<number>;
  /** OpenSSH private key file of the SSH user; `~/` is the home of whoever runs `pulumi up`. */
  privateKeyPath: pulumi.Input<string>;
  /** known_hosts checked for the host's SSH key (new hosts recorded, changed keys refused). Defaults to ~/.ssh/known_hosts. */
  knownHostsPath?: pulumi.Input<string>;
  /** Settings validated by resolveSettings; their passwords enter the resource only inside a secret. */
  settings: Settings;
  /** On `pulumi destroy`, remove the broker's data (queued messages, sessions) too. Defaults to false. */
  purgeDataOnDelete?: pulumi.Input<boolean>;
  /**
   * The project directory (the program's): key files, templates and a generated CA inside it are
   * stored in the state relative to it, and the provider, which runs there, resolves them again, so
   * `refresh` and `destroy` still work after the checkout moves. Without it paths are stored as given.
   */
  projectDir?: string;
}

/** The dynamic resource doing the work; its provider calls the shared engine over SSH. */
class MqttBrokerHostInstallation extends pulumi.dynamic.Resource {
  declare public readonly host: pulumi.Output<string>;
  declare public readonly broker: pulumi.Output<string>;
  declare public readonly version: pulumi.Output<string>;
  declare public readonly listeners: pulumi.Output<Record<string, number>>;
  declare public readonly configHash: pulumi.Output<string>;

  constructor(name: string, inputs: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(mqttBrokerHostProvider, name, { host: undefined, version: undefined, listeners: undefined, configHash: undefined, ...inputs }, opts, undefined, 'MqttBrokerHostInstallation');
  }
}

/** One broker on one SSH host, converged by the same engine as install-mosquitto.mts. */
export class MqttBrokerHost extends pulumi.ComponentResource {
  /** `user@address:port` of the host. */
  declare public readonly host: pulumi.Output<string>;
  declare public readonly broker: pulumi.Output<string>;
  /** Broker package version installed on the host. */
  declare public readonly version: pulumi.Output<string>;
  /** Listener name → port the broker serves. */
  declare public readonly listeners: pulumi.Output<Record<string, number>>;
  /** Hash of the rendered non-secret config and settings; changes whenever converge has work to do. */
  declare public readonly configHash: pulumi.Output<string>;

  constructor(name: string, args: MqttBrokerHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super('mqtt-provision:index:MqttBrokerHost', name, {}, opts);
    const local = (path: string) => (args.projectDir === undefined ? path : projectRelative(path, args.projectDir));
    const inputs: Record<keyof HostProviderInputs, pulumi.Input<unknown>> = {
      address: args.address,
      port: args.port ?? 22,
      user: args.user ?? 'root',
      privateKeyPath: pulumi.output(args.privateKeyPath).apply(local),
      knownHostsPath: pulumi.output(args.knownHostsPath ?? '~/.ssh/known_hosts').apply(local),
      broker: args.settings.broker,
      settings: pulumi.secret(toPlainSettings(args.settings, args.projectDir)),
      purgeDataOnDelete: args.purgeDataOnDelete ?? false,
      // Plain, not secret: only files without secrets, so preview can print their changed lines.
      config: publicConfigFiles(args.settings),
    };
    const installation = new MqttBrokerHostInstallation(`${name}-installation`, inputs, {
      parent: this,
      additionalSecretOutputs: [...secretOutputNames],
    });
    this.host = installation.host;
    this.broker = installation.broker;
    this.version = installation.version;
    this.listeners = installation.listeners;
    this.configHash = installation.configHash;
    this.registerOutputs({ host: this.host, broker: this.broker, version: this.version, listeners: this.listeners, configHash: this.configHash });
  }
}
