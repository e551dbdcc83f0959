import { brokerRole } from '../brokers/registry.ts';
import type { InstallTarget } from '../engine/install-target.ts';
import { parseDockerHost, type DockerHost } from '../container/docker-host.ts';
import { consumerOutput, type ConsumerOutput } from '../consumers/install-output.ts';
import { consumerWarnings } from '../consumers/warnings.ts';
import { convergeAll } from '../engine/converge-all.ts';
import { InputError, InputErrors } from '../settings/input-error.ts';
import { mark } from '../timings.ts';
import type { Settings } from '../settings/load.ts';
import { loadSettings } from '../brokers/load-settings.ts';
import { withStandInCertificates } from '../tls/server-files.ts';
import { SshTransport, type SshOptions } from '../transport/ssh.ts';
import type { Transport } from '../transport/transport.ts';
import { processInterrupts } from '../verify/interrupts.ts';
import type { VerifyReport } from '../verify/verify-report.ts';
import { runDockerInstall } from './docker-install.ts';
import { refuseInput } from './refuse-input.ts';
import { parseInstallOptions, type InstallOptions } from './install-options.ts';
import { installUsage } from './install-usage.ts';
import { finishInstall } from './install-report.ts';
import { formatStepLine } from './progress-printer.ts';
import { buildTargets } from './ssh-targets.ts';
import { settingsOverrides } from './target-flags.ts';

export type { InstallTarget };

export interface InstallEnvironment {
  env: Record<string, string | undefined>;
  print: (text: string) => void;
  printError: (text: string) => void;
  /** How a host is reached; tests swap it to prove bad input never connects. */
  connect: (options: SshOptions) => Promise<Transport>;
  /**
   * Runs after a successful converge unless --no-verify; returns false when the broker failed a
   * check. `mayRestart` is true only when the converge changed the host: a no-op run must not
   * restart a production broker just to prove restart survival. `peers`: every host of the run
   * (an EMQX cluster's membership check looks at each).
   */
  verify?: (target: InstallTarget, settings: Settings, print: (line: string) => void, mayRestart: boolean, signal?: AbortSignal, onReport?: (report: VerifyReport) => void, peers?: InstallTarget[]) => Promise<boolean>;
  /** SIGINT/SIGTERM during the verify: it ends its sessions and the run exits 130/143. None in tests that do not ask. */
  onInterrupt?: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

export const defaultEnvironment: InstallEnvironment = {
  env: process.env,
  print: (text) => process.stdout.write(`${text}\n`),
  printError: (text) => process.stderr.write(`${text}\n`),
  connect: (options) => SshTransport.connect(options),
  // Loaded on demand: MQTT.js and the Docker path cost start-up time that --help and a no-op run need not pay.
  verify: async (target, settings, print, mayRestart, signal, onReport, peers) =>
    (await import('../verify/install-hook.ts')).verifyAfterInstall(target, settings, { print, mayRestart, ...(signal ? { signal } : {}), ...(onReport ? { onReport } : {}), ...(peers ? { peers } : {}) }),
  onInterrupt: processInterrupts,
};

/** The install front door's logic, shared by install-mosquitto.mts and install-emqx.mts. Returns the exit code. */
export async function runInstall(broker: Settings['broker'], args: string[], environment: InstallEnvironment = defaultEnvironment): Promise<number> {
  const script = `install-${broker}.mts`;
  let options: InstallOptions;
  let settings: Settings;
  let targets: InstallTarget[];
  let dockerHost: DockerHost = { kind: 'local' };
  let consumers: ConsumerOutput | undefined;
  try {
    options = parseInstallOptions(args);
    if (options.help) {
      environment.print(installUsage(script));
      return 0;
    }
    if (options.package !== undefined && broker !== 'emqx') {
      throw new InputError('--package', `only install-emqx.mts installs a local package; ${broker} comes from the OS repository`);
    }
    settings = loadSettings(options.settings, {
      broker,
      ...(options.version !== undefined ? { version: options.version } : {}),
      ...(options.package !== undefined ? { emqxPackage: options.package } : {}),
      ...settingsOverrides(options, environment.env),
    });
    targets = buildTargets(options, environment);
    if (options.docker) dockerHost = parseDockerHost(options.dockerHost);
    checkTemplatesRender(settings);
    const first = targets[0] ?? (options.docker && dockerHost.kind === 'ssh' ? { address: dockerHost.spec.host, ports: {} } : options.docker ? { address: '127.0.0.1', ports: {} } : undefined);
    consumers = consumerOutput(options, settings, first);
  } catch (error) {
    if (error instanceof InputError || error instanceof InputErrors) {
      return refuseInput(error.message, environment, { hint: '\n\nRun with --help for the flags, or see README.md "Settings".', installJson: args.includes('--json') });
    }
    throw error;
  }

  for (const warning of [...consumerWarnings(settings), ...(brokerRole(settings.broker).warnings?.(settings) ?? [])]) environment.printError(`warning: ${warning}`);

  // render-to.ts (and the consumer renderers with smol-toml) load only when there is a file to write.
  if (options.renderTo) {
    const { renderTo, writeConsumers } = await import('./render-to.ts');
    try {
      renderTo(options.renderTo, settings, environment);
      if (consumers) writeConsumers(consumers, settings, environment);
    } catch (error) {
      // Rendering without a host can only fail on what the settings say (e.g. no TLS name to certify).
      return refuseInput(`--render-to: ${(error as Error).message}`, environment, { installJson: options.json });
    }
    return 0;
  }

  // Written before the converge, and not on a dry run: they are local files, and a consumer set up
  // from them meanwhile only finds its user once the converge created it.
  if (consumers && !options.dryRun) (await import('./render-to.ts')).writeConsumers(consumers, settings, environment);

  if (options.docker) return runDockerInstall(broker, settings, options, dockerHost, environment);

  mark('settings');
  const reports = await convergeAll(targets, settings, {
    concurrency: options.concurrency,
    dryRun: options.dryRun,
    lockTimeoutSeconds: options.lockTimeoutSeconds,
    ...(options.maxFail !== undefined ? { maxFail: options.maxFail } : {}),
    onStep: (host, result) => {
      if (!options.json) environment.print(formatStepLine(host, result, options.dryRun));
    },
  });
  return finishInstall(broker, settings, options, {
    reports,
    // finishInstall verifies only when environment.verify is set (tests leave it out to skip the verify).
    verify: (index, print, mayRestart, signal, onReport) => environment.verify!(targets[index]!, settings, print, mayRestart, signal, onReport, targets),
  }, environment);
}

/**
 * A user's own template that does not render is bad input: say so before any host is contacted.
 * With stand-in certificates: the check needs the files' shape, not a CA or a freshly drawn key.
 */
function checkTemplatesRender(settings: Settings): void {
  if (Object.keys(settings.templates).length === 0) return;
  try {
    brokerRole(settings.broker).renderFiles(withStandInCertificates(settings));
  } catch (error) {
    throw new InputError('settings.templates', (error as Error).message);
  }
}
