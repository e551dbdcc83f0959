import type { DockerHost } from '../container/docker-host.ts';
import { InputError } from '../settings/input-error.ts';
import type { Settings } from '../settings/load.ts';
import type { Transport } from '../transport/transport.ts';
import type { InstallEnvironment } from './install-command.ts';
import { refuseInput } from './refuse-input.ts';
import type { InstallOptions } from './install-options.ts';
import { finishInstall } from './install-report.ts';
import { formatStepLine } from './progress-printer.ts';
import { dockerTransport } from './ssh-targets.ts';

/** --docker: converge one container, on this machine's engine or a Docker host over SSH, with the same settings and templates. */
export async function runDockerInstall(broker: Settings['broker'], settings: Settings, options: InstallOptions, dockerHost: DockerHost, environment: InstallEnvironment): Promise<number> {
  const { containerLabel, convergeContainer, resolveImage, LOCAL_IMAGE } = await import('../container/converge.ts');
  const { defaultContainerOptions } = await import('../container/desired.ts');
  const defaults = defaultContainerOptions(broker, options.containerName);
  // Mosquitto's metrics are a second service (the exporter) beside the broker on a host; a container runs the broker alone.
  if (broker === 'mosquitto' && settings.metrics.enabled && settings.state === 'present') {
    return refuseInput("settings.metrics.enabled: a Mosquitto container gets no metrics exporter (Debian's prometheus-mqtt-exporter runs beside the broker on a host); turn it off for --docker", environment, { installJson: options.json });
  }
  let image: string;
  try {
    if (dockerHost.kind === 'ssh' && options.image === LOCAL_IMAGE) throw new InputError('--image', `"${LOCAL_IMAGE}" builds on this machine's engine only; give an image the Docker host has or can pull`);
    image = await resolveImage(settings, options.image, options.dryRun);
  } catch (error) {
    return refuseInput(error instanceof InputError ? error.message : `--image: ${(error as Error).message}`, environment, { installJson: options.json });
  }
  let transport: Transport;
  try {
    transport = await dockerTransport(dockerHost, options, environment);
  } catch (error) {
    environment.printError(`--docker-host ${options.dockerHost}: ${(error as Error).message}`);
    return 1;
  }
  const label = containerLabel(transport, defaults.name);
  const limits = { ...(options.memory ? { memory: options.memory } : {}), ...(options.cpus ? { cpus: options.cpus } : {}) };
  try {
    const report = await convergeContainer(settings, { ...defaults, ...limits, image, bind: options.bind }, {
      dryRun: options.dryRun,
      lockTimeoutSeconds: options.lockTimeoutSeconds,
      transport,
      onStep: (result) => {
        if (!options.json) environment.print(formatStepLine(label, result, options.dryRun));
      },
    });
    // A wildcard bind is reached through the Docker host's own address (127.0.0.1 for this machine).
    const address = dockerHost.kind === 'ssh' ? dockerHost.spec.host : '127.0.0.1';
    return await finishInstall(broker, settings, options, {
      reports: [report],
      verify: async (_index, print, mayRestart, signal, onReport) =>
        (await import('../verify/install-hook.ts')).verifyContainerAfterInstall({ name: defaults.name, label, transport, address, bind: options.bind }, settings, print, mayRestart, signal, onReport),
    }, environment);
  } finally {
    await transport.close();
  }
}
