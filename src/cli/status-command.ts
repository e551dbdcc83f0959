import { planHost } from '../engine/converge-host.ts';
import { InputError, InputErrors } from '../settings/input-error.ts';
import { type Settings } from '../settings/load.ts';
import { loadSettings } from '../brokers/load-settings.ts';
import type { HostFacts } from '../facts/host-facts.ts';
import type { Transport } from '../transport/transport.ts';
import { evaluateStatus, type BrokerFigures, type TargetStatus, statusProbeQuery } from '../status/evaluate.ts';
import { formatStatusTable } from '../status/format.ts';
import { gatherStatusFacts } from '../status/status-facts.ts';
import { parseDockerHost, type DockerHost } from '../container/docker-host.ts';
import { defaultEnvironment, type InstallEnvironment, type InstallTarget } from './install-command.ts';
import { buildTargets, dockerTransport } from './ssh-targets.ts';
import { settingsOverrides } from './target-flags.ts';
import { parseStatusOptions, statusUsage, type StatusOptions } from './status-options.ts';
import { inputErrorDocument, JSON_FORMAT_VERSION } from '../verify/verify-report.ts';

/** The JSON document's version: bumped when a field changes meaning or goes away. */
export const STATUS_FORMAT_VERSION = JSON_FORMAT_VERSION;

export type StatusEnvironment = Pick<InstallEnvironment, 'env' | 'print' | 'printError' | 'connect'> & {
  /** The broker's own figures; tests may swap it. `host` is the open connection and its facts (absent for --docker). */
  figures?: (target: InstallTarget, settings: Settings, host?: { transport: Transport; facts: HostFacts }) => Promise<BrokerFigures | null>;
  now?: () => Date;
};

/** status.mts: looks at every host, changes nothing, exits 1 when anything is wrong. */
export async function runStatus(args: string[], environment: StatusEnvironment = defaultEnvironment): Promise<number> {
  let options: StatusOptions;
  let settings: Settings;
  let targets: InstallTarget[];
  let dockerHost: DockerHost = { kind: 'local' };
  try {
    options = parseStatusOptions(args);
    if (options.help) {
      environment.print(statusUsage);
      return 0;
    }
    settings = loadSettings(options.settings, settingsOverrides(options, environment.env));
    targets = options.docker ? [] : buildTargets(options, environment);
    if (options.docker) dockerHost = parseDockerHost(options.dockerHost);
  } catch (error) {
    if (error instanceof InputError || error instanceof InputErrors) {
      if (args.includes('--json')) environment.print(inputErrorDocument('status', error.message));
      else environment.printError(`invalid input:\n${error.message}\n\nRun with --help for the flags.`);
      return 2;
    }
    throw error;
  }
  const figures = environment.figures ?? defaultFigures;
  const now = environment.now ?? (() => new Date());
  if (options.docker) {
    const status = await dockerStatus(options, settings, dockerHost, environment, figures, now());
    if (options.json) environment.print(JSON.stringify({ formatVersion: STATUS_FORMAT_VERSION, command: 'status', broker: settings.broker, targets: [status] }, null, 2));
    else environment.print(formatStatusTable([status]));
    return status.problems.length > 0 ? 1 : 0;
  }
  const statuses: TargetStatus[] = new Array(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const index = next++;
      statuses[index] = await targetStatus(targets[index]!, settings, figures, now);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, targets.length) }, worker));
  if (options.json) environment.print(JSON.stringify({ formatVersion: STATUS_FORMAT_VERSION, command: 'status', broker: settings.broker, targets: statuses }, null, 2));
  else environment.print(formatStatusTable(statuses));
  return statuses.some((status) => status.problems.length > 0) ? 1 : 0;
}

async function targetStatus(
  target: InstallTarget,
  settings: Settings,
  figures: NonNullable<StatusEnvironment['figures']>,
  now: () => Date,
): Promise<TargetStatus> {
  let transport: Transport | undefined;
  try {
    transport = await target.connect();
    const { facts, steps } = await planHost(transport, settings);
    const status = await gatherStatusFacts(transport, statusProbeQuery(settings));
    let brokerFigures: BrokerFigures | Error | null = null;
    if (status.active === 'active') brokerFigures = await figures(target, settings, { transport, facts }).catch((error: Error) => error);
    return evaluateStatus({ target: target.label, settings, facts, steps, status, figures: brokerFigures, now: now() });
  } catch (error) {
    return unreachable(target.label, settings, (error as Error).message);
  } finally {
    await transport?.close();
  }
}

async function dockerStatus(
  options: StatusOptions,
  settings: Settings,
  dockerHost: DockerHost,
  environment: StatusEnvironment,
  figures: NonNullable<StatusEnvironment['figures']>,
  now: Date,
): Promise<TargetStatus> {
  const { defaultContainerName } = await import('../container/desired.ts');
  const { containerStatus } = await import('../status/container-status.ts');
  const name = options.containerName ?? defaultContainerName(settings.broker);
  let transport: Transport | undefined;
  try {
    transport = await dockerTransport(dockerHost, options, environment);
    const address = dockerHost.kind === 'ssh' ? dockerHost.spec.host : '127.0.0.1';
    return await containerStatus(transport, settings, name, (host, ports) => figures({ label: name, address: host, ports, connect: async () => transport! }, settings), now, address);
  } catch (error) {
    return unreachable(`docker:${name}`, settings, (error as Error).message);
  } finally {
    await transport?.close();
  }
}

function unreachable(target: string, settings: Settings, message: string): TargetStatus {
  return {
    target,
    broker: settings.broker,
    version: { installed: null, wanted: settings.version },
    service: { state: 'unknown', uptimeSeconds: null, restarts: null },
    listeners: { wanted: [], listening: [], missing: [] },
    firewall: null,
    drift: [],
    tls: null,
    disk: null,
    figures: null,
    problems: [`could not look at the host: ${message}`],
  };
}

/**
 * Mosquitto: $SYS as the first admin, over the first client listener. EMQX: `emqx ctl status` and
 * the REST stats, read on the host (none for a container yet).
 */
async function defaultFigures(target: InstallTarget, settings: Settings, host?: { transport: Transport; facts: HostFacts }): Promise<BrokerFigures | null> {
  if (settings.broker === 'emqx') {
    if (!host) return null;
    const { emqxStatusFigures } = await import('../brokers/emqx/status-figures.ts');
    return emqxStatusFigures(host.transport, host.facts, settings);
  }
  const admin = settings.admins[0];
  if (!admin) return null;
  const { brokerUrls, tlsVerifyOptions } = await import('../verify/install-hook.ts');
  const { mosquittoFigures } = await import('../status/mosquitto-figures.ts');
  const url = brokerUrls(target, settings).mqttUrl;
  const tls = /^(mqtts|wss):/.test(url) ? tlsVerifyOptions(settings) : {};
  return mosquittoFigures({ url, username: admin.name, password: admin.password, connectTimeoutMs: 5_000, ...(tls.ca ? { ca: tls.ca } : {}) });
}
