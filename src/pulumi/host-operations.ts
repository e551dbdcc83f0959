import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import type * as pulumi from '@pulumi/pulumi';
import { brokerRole } from '../brokers/registry.ts';
import { convergeHost, inspectHost, type HostTarget } from '../engine/converge-host.ts';
import type { HostReport } from '../engine/report.ts';
import { InputError, InputErrors } from '../settings/input-error.ts';
import type { Settings } from '../settings/load.ts';
import { bracketHost, formatHostSpec, parseHostSpec } from '../transport/host-spec.ts';
import { SshTransport } from '../transport/ssh.ts';
import { sshOptions } from '../transport/ssh-options.ts';
import type { HostProviderInputs, HostProviderOutputs } from './host-provider.ts';
import { configHash, credentialsHash, fromPlainSettings } from './plain-settings.ts';

/**
 * What the MqttBrokerHost provider does, loaded by the serialized provider at call time. Each
 * operation is a call of the engine every front door shares: converge to create and update,
 * converge with `state: absent` to delete, planHost to look for drift on refresh.
 */

type CheckResult = pulumi.dynamic.CheckResult<HostProviderInputs>;
type CheckFailure = pulumi.dynamic.CheckFailure;

/** Validates the inputs with the same schema as the CLI, before preview shows any plan. */
export async function checkHost(_olds: HostProviderInputs | undefined, news: HostProviderInputs): Promise<CheckResult> {
  const failures: CheckFailure[] = [];
  try {
    parseHostSpec(specText(news), 'address');
  } catch (error) {
    failures.push({ property: 'address', reason: (error as Error).message });
  }
  try {
    accessSync(expandHome(news.privateKeyPath), constants.R_OK);
  } catch {
    failures.push({ property: 'privateKeyPath', reason: `cannot read the SSH key ${news.privateKeyPath}` });
  }
  try {
    const settings = resolve(news.settings);
    if (settings.broker !== news.broker) failures.push({ property: 'broker', reason: `is "${news.broker}" but settings.broker is "${settings.broker}"` });
  } catch (error) {
    const errors = error instanceof InputErrors ? error.errors : [error as Error];
    failures.push(...errors.map((entry) => ({ property: 'settings', reason: entry.message })));
  }
  return { inputs: news, failures };
}

/**
 * Compares fingerprints instead of asking the host, so preview needs no SSH connection; drift
 * made on the host by hand is found by `pulumi refresh` (readHost). A new address, port or broker
 * is a different installation: replaced, and on the same host the old one goes first.
 */
export async function diffHost(_id: string, olds: HostProviderOutputs, news: HostProviderInputs): Promise<pulumi.dynamic.DiffResult> {
  const replaces = (['address', 'port', 'broker'] as const).filter((key) => olds[key] !== news[key]);
  if (replaces.length > 0) {
    return { changes: true, replaces, deleteBeforeReplace: olds.address === news.address && olds.port === news.port };
  }
  const settings = resolveOrThrow(news.settings);
  const changed =
    olds.user !== news.user ||
    olds.privateKeyPath !== news.privateKeyPath ||
    olds.purgeDataOnDelete !== news.purgeDataOnDelete ||
    olds.configHash !== configHash(settings) ||
    olds.credentialsHash !== credentialsHash(settings);
  return { changes: changed, replaces: [], deleteBeforeReplace: false };
}

export async function createHost(inputs: HostProviderInputs): Promise<pulumi.dynamic.CreateResult<HostProviderOutputs>> {
  const settings = resolveOrThrow(inputs.settings);
  await converge(inputs, settings);
  return { id: hostId(inputs), outs: await outputs(inputs, settings) };
}

export async function updateHost(_id: string, _olds: HostProviderOutputs, news: HostProviderInputs): Promise<pulumi.dynamic.UpdateResult<HostProviderOutputs>> {
  const settings = resolveOrThrow(news.settings);
  await converge(news, settings);
  return { outs: await outputs(news, settings) };
}

/** Uninstalls the broker the way `state: absent` does: service stopped, package and users removed, data kept unless asked. */
export async function deleteHost(_id: string, props: HostProviderOutputs): Promise<void> {
  const settings = resolveOrThrow({ ...props.settings, state: 'absent', purgeData: props.purgeDataOnDelete });
  await converge(props, settings);
}

/**
 * Refresh: plans against the host's real facts. When anything would change (a config edited by
 * hand, a stopped service) configHash reads "drifted: <steps>", so the next `pulumi up` converges.
 */
export async function readHost(id: string, props?: HostProviderOutputs): Promise<pulumi.dynamic.ReadResult<HostProviderOutputs>> {
  if (!props) throw new Error(`${id}: importing an existing host is not supported; add it to the stack config instead`);
  const settings = resolveOrThrow(props.settings);
  const transport = await target(props).connect();
  try {
    const { facts, steps } = await inspectHost(transport, settings);
    // The restart-pending marker is bookkeeping of the plan, not drift of the host.
    const drift = steps.filter((step) => step.change && step.kind !== 'marker').map((step) => step.id);
    const current = await outputs(props, settings, facts.packages[packageName(settings)] ?? '');
    return { id, props: drift.length > 0 ? { ...current, configHash: `drifted: ${drift.join(', ')}` } : current };
  } finally {
    await transport.close();
  }
}

/** The engine takes the host lock (default wait), so `pulumi up` and a CLI run never overlap on a host. */
async function converge(inputs: HostProviderInputs, settings: Settings): Promise<void> {
  const report = await convergeHost(target(inputs), settings);
  if (report.status === 'failed') throw new Error(describeFailure(report));
}

async function outputs(inputs: HostProviderInputs, settings: Settings, version?: string): Promise<HostProviderOutputs> {
  return {
    ...inputs,
    host: formatHostSpec({ user: inputs.user, host: inputs.address, port: inputs.port }),
    version: version ?? (await installedVersion(inputs, settings)),
    listeners: settings.listeners,
    configHash: configHash(settings),
    credentialsHash: credentialsHash(settings),
  };
}

/** Reads the installed version back from the host: the truth, where settings.version may be empty. */
async function installedVersion(inputs: HostProviderInputs, settings: Settings): Promise<string> {
  const transport = await target(inputs).connect();
  try {
    const { facts } = await inspectHost(transport, settings);
    return facts.packages[packageName(settings)] ?? '';
  } finally {
    await transport.close();
  }
}

function packageName(settings: Settings): string {
  return brokerRole(settings.broker).factQuery(settings).packages[0] ?? settings.broker;
}

function target(inputs: HostProviderInputs): HostTarget {
  const spec = { user: inputs.user, host: inputs.address, port: inputs.port };
  return {
    label: formatHostSpec(spec),
    connect: () =>
      SshTransport.connect(
        sshOptions(spec, { identityFile: expandHome(inputs.privateKeyPath), knownHosts: expandHome(inputs.knownHostsPath ?? '~/.ssh/known_hosts'), connectTimeoutSeconds: 15 }),
      ),
  };
}

/** The host's identity for Pulumi: where it is, not who logs in. */
function hostId(inputs: HostProviderInputs): string {
  return `${bracketHost(inputs.address)}:${inputs.port}`;
}

function specText(inputs: HostProviderInputs): string {
  return `${inputs.user}@${hostId(inputs)}`;
}

/**
 * `~/` is the home of whoever runs Pulumi; a relative path is the project directory's, which is this
 * process's working directory (the program stores paths inside the project relative, so a moved
 * checkout still finds its key).
 */
function expandHome(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : resolvePath(process.cwd(), path);
}

/** Same schema, same messages as the CLI; relative paths are the project directory's (the working directory). */
function resolve(settings: unknown): Settings {
  return fromPlainSettings(settings, process.cwd());
}

function resolveOrThrow(settings: unknown): Settings {
  try {
    return resolve(settings);
  } catch (error) {
    if (error instanceof InputErrors || error instanceof InputError) throw new Error(`invalid settings:\n${error.message}`);
    throw error;
  }
}

function describeFailure(report: HostReport): string {
  const failed = report.steps.filter((step) => step.status === 'failed').map((step) => `  ${step.title}: ${step.error ?? 'failed'}`);
  return [`${report.host}: converge failed: ${report.error ?? 'unknown error'}`, ...failed].join('\n');
}
