import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { brokerRole } from '../brokers/registry.ts';
import { convergeAll } from '../engine/converge-all.ts';
import type { InstallTarget } from '../engine/install-target.ts';
import type { HostReport } from '../engine/report.ts';
import { Secret } from '../secret.ts';
import { InputError, InputErrors } from '../settings/input-error.ts';
import { inputCaps, readInputBytes, readSecretFile } from '../settings/input-file.ts';
import { type Settings } from '../settings/load.ts';
import { loadSettings } from '../brokers/load-settings.ts';
import { formatHostSpec, parseHostSpec } from '../transport/host-spec.ts';
import { generatedCaDir, placeholderPrefix } from '../tls/server-files.ts';
import { SshTransport, type SshOptions } from '../transport/ssh.ts';
import type { Transport } from '../transport/transport.ts';
import { readInventory } from './inventory-file.ts';
import { limitTargets } from './limit.ts';
import { parseDockerHost, type DockerHost } from '../container/docker-host.ts';
import { installUsage, parseInstallOptions, type InstallOptions } from './install-options.ts';
import { formatRecap, formatStepLine } from './progress-printer.ts';
import { consumerOutput, type ConsumerOutput } from '../consumers/install-output.ts';
import { consumerWarnings } from '../consumers/warnings.ts';
import { writeConsumerConfigs } from '../consumers/write-configs.ts';
import { interruptExitCodes, processInterrupts, withInterrupts } from '../verify/interrupts.ts';
import type { VerifyReport } from '../verify/verify-report.ts';
import { inputErrorDocument, installJsonDocument } from './install-json.ts';

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
   * restart a production broker just to prove restart survival.
   */
  verify?: (target: InstallTarget, settings: Settings, print: (line: string) => void, mayRestart: boolean, signal?: AbortSignal, onReport?: (report: VerifyReport) => void) => Promise<boolean>;
  /** SIGINT/SIGTERM during the verify: it ends its sessions and the run exits 130/143. None in tests that do not ask. */
  onInterrupt?: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

export const defaultEnvironment: InstallEnvironment = {
  env: process.env,
  print: (text) => process.stdout.write(`${text}\n`),
  printError: (text) => process.stderr.write(`${text}\n`),
  connect: (options) => SshTransport.connect(options),
  // Loaded on demand: MQTT.js and the Docker path cost start-up time that --help and a no-op run need not pay.
  verify: async (target, settings, print, mayRestart, signal, onReport) =>
    (await import('../verify/install-hook.ts')).verifyAfterInstall(target, settings, { print, mayRestart, ...(signal ? { signal } : {}), ...(onReport ? { onReport } : {}) }),
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
      ...(options.adminUser !== undefined ? { adminUser: options.adminUser } : {}),
      ...(options.adminPasswordFile !== undefined ? { adminPasswordFile: options.adminPasswordFile } : {}),
      ...(options.package !== undefined ? { emqxPackage: options.package } : {}),
      env: environment.env,
    });
    targets = buildTargets(options, environment);
    if (options.docker) dockerHost = parseDockerHost(options.dockerHost);
    checkTemplatesRender(settings);
    const first = targets[0] ?? (options.docker && dockerHost.kind === 'ssh' ? { address: dockerHost.spec.host, ports: {} } : options.docker ? { address: '127.0.0.1', ports: {} } : undefined);
    consumers = consumerOutput(options, settings, first);
  } catch (error) {
    if (error instanceof InputError || error instanceof InputErrors) {
      environment.printError(`invalid input:\n${error.message}\n\nRun with --help for the flags, or see README.md "Settings".`);
      if (args.includes('--json')) environment.print(inputErrorDocument('install', error.message));
      return 2;
    }
    throw error;
  }

  for (const warning of [...consumerWarnings(settings), ...(brokerRole(settings.broker).warnings?.(settings) ?? [])]) environment.printError(`warning: ${warning}`);

  if (options.renderTo) {
    try {
      renderTo(options.renderTo, settings, environment);
      if (consumers) writeConsumers(consumers, settings, environment);
    } catch (error) {
      // Rendering without a host can only fail on what the settings say (e.g. no TLS name to certify).
      environment.printError(`invalid input:\n--render-to: ${(error as Error).message}`);
      if (options.json) environment.print(inputErrorDocument('install', `--render-to: ${(error as Error).message}`));
      return 2;
    }
    return 0;
  }

  // Written before the converge, and not on a dry run: they are local files, and a consumer set up
  // from them meanwhile only finds its user once the converge created it.
  if (consumers && !options.dryRun) writeConsumers(consumers, settings, environment);

  if (options.docker) return runDockerInstall(broker, settings, options, dockerHost, environment);

  const reports = await convergeAll(targets, settings, {
    concurrency: options.concurrency,
    dryRun: options.dryRun,
    lockTimeoutSeconds: options.lockTimeoutSeconds,
    ...(options.maxFail !== undefined ? { maxFail: options.maxFail } : {}),
    onStep: (host, result) => {
      if (!options.json) environment.print(formatStepLine(host, result, options.dryRun));
    },
  });
  let verified = true;
  let stoppedBy: NodeJS.Signals | undefined;
  const verifyReports = new Map<HostReport, VerifyReport>();
  const verify = environment.verify;
  if (options.verify && !options.dryRun && settings.state === 'present' && verify) {
    ({ stoppedBy } = await withInterrupts(environment.onInterrupt, async (signal) => {
      for (const [index, report] of reports.entries()) {
        // With --json, stdout carries only the JSON document (which holds the structured report); the text goes to stderr.
        const print = options.json ? environment.printError : environment.print;
        if (report.status === 'failed' || signal.aborted) continue;
        const started = performance.now();
        const passed = await verify(targets[index]!, settings, print, report.status === 'changed', signal, (found) => verifyReports.set(report, found));
        if (!passed) markVerifyFailed(report, performance.now() - started);
        verified = passed && verified;
      }
    }));
  }
  if (options.json) environment.print(JSON.stringify(installJsonDocument(broker, options.dryRun, reports, verifyReports, checkSummary(options, reports)), null, 2));
  else environment.print(formatRecap(reports) + checkLine(options, reports));
  if (stoppedBy !== undefined) return interruptExitCodes[stoppedBy] ?? 1;
  return exitCode(options, reports, verified);
}

/**
 * 1 when a host failed (or did not verify): a drift check that could not look at a host must not
 * pass; 3 when --check found something that would change; else 0.
 */
export function exitCode(options: Pick<InstallOptions, 'check'>, reports: HostReport[], verified: boolean): number {
  if (reports.some((report) => report.status === 'failed') || !verified) return 1;
  if (options.check && reports.some((report) => report.status === 'changed')) return 3;
  return 0;
}

/** --check --json: which steps would change, per host. */
function checkSummary(options: InstallOptions, reports: HostReport[]): { inSync: boolean; drift: Record<string, string[]> } | undefined {
  if (!options.check) return undefined;
  const drift: Record<string, string[]> = {};
  for (const report of reports) {
    const steps = report.steps.filter((step) => step.status === 'changed').map((step) => step.id);
    if (steps.length > 0) drift[report.host] = steps;
  }
  return { inSync: Object.keys(drift).length === 0 && reports.every((report) => report.status !== 'failed'), drift };
}

function checkLine(options: InstallOptions, reports: HostReport[]): string {
  if (!options.check) return '';
  const drifted = reports.filter((report) => report.status === 'changed').map((report) => report.host);
  if (reports.some((report) => report.status === 'failed')) return '\n\ncheck: could not check every host (exit 1)';
  return drifted.length === 0 ? '\n\ncheck: in sync' : `\n\ncheck: drift on ${drifted.join(', ')} (exit 3)`;
}

/** --docker: converge one container, on this machine's engine or a Docker host over SSH, with the same settings and templates. */
async function runDockerInstall(broker: Settings['broker'], settings: Settings, options: InstallOptions, dockerHost: DockerHost, environment: InstallEnvironment): Promise<number> {
  const { containerLabel, convergeContainer, resolveImage, LOCAL_IMAGE } = await import('../container/converge.ts');
  const { defaultContainerOptions } = await import('../container/desired.ts');
  const defaults = defaultContainerOptions(broker, options.containerName);
  let image: string;
  try {
    if (dockerHost.kind === 'ssh' && options.image === LOCAL_IMAGE) throw new InputError('--image', `"${LOCAL_IMAGE}" builds on this machine's engine only; give an image the Docker host has or can pull`);
    image = await resolveImage(settings, options.image, options.dryRun);
  } catch (error) {
    const message = error instanceof InputError ? error.message : `--image: ${(error as Error).message}`;
    environment.printError(`invalid input:\n${message}`);
    if (options.json) environment.print(inputErrorDocument('install', message));
    return 2;
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
    let verified = true;
    let stoppedBy: NodeJS.Signals | undefined;
    const verifyReports = new Map<HostReport, VerifyReport>();
    if (options.verify && !options.dryRun && settings.state === 'present' && report.status !== 'failed' && environment.verify) {
      const { verifyContainerAfterInstall } = await import('../verify/install-hook.ts');
      // A wildcard bind is reached through the Docker host's own address (127.0.0.1 for this machine).
      const address = dockerHost.kind === 'ssh' ? dockerHost.spec.host : '127.0.0.1';
      const started = performance.now();
      ({ result: verified, stoppedBy } = await withInterrupts(environment.onInterrupt, (signal) =>
        verifyContainerAfterInstall(
          { name: defaults.name, label, transport, address, bind: options.bind },
          settings,
          options.json ? environment.printError : environment.print,
          report.status === 'changed',
          signal,
          (found) => verifyReports.set(report, found),
        ),
      ));
      if (!verified) markVerifyFailed(report, performance.now() - started);
    }
    if (options.json) environment.print(JSON.stringify(installJsonDocument(broker, options.dryRun, [report], verifyReports, checkSummary(options, [report])), null, 2));
    else environment.print(formatRecap([report]) + checkLine(options, [report]));
    if (stoppedBy !== undefined) return interruptExitCodes[stoppedBy] ?? 1;
    return exitCode(options, [report], verified);
  } finally {
    await transport.close();
  }
}

/** Where docker runs: this machine's engine (or a unix socket), or a Docker host over our SSH transport. */
export async function dockerTransport(dockerHost: DockerHost, options: TargetOptions, environment: Pick<InstallEnvironment, 'env' | 'connect'>): Promise<Transport> {
  if (dockerHost.kind === 'ssh') return environment.connect(sshOptionsFor(dockerHost.spec, sshCommon(options, environment), options.identity));
  const { LocalTransport } = await import('../transport/local.ts');
  return new LocalTransport(dockerHost.socket ? { env: { DOCKER_HOST: `unix://${dockerHost.socket}` } } : {});
}

/**
 * A broker that failed its verification is a failed host: the recap counts it (never `failed=0`)
 * and --json shows it as a failed step, so no reader of either can take the run for a success.
 */
function markVerifyFailed(report: HostReport, durationMs: number): void {
  report.steps.push({ id: 'verify', title: 'verify broker', status: 'failed', reason: 'checks after converging', error: 'the broker failed its verification (see the FAIL lines above, or this host\'s "verify" in --json)', durationMs: Math.round(durationMs) });
  report.status = 'failed';
  report.error ??= 'the broker failed its verification';
}

type SshCommon = Omit<SshOptions, 'user' | 'host' | 'port' | 'identityFile'>;

/** The flags that say which hosts a run reaches and how: shared by install and status. */
export type TargetOptions = Pick<InstallOptions, 'hosts' | 'inventory' | 'limit' | 'identity' | 'sshPasswordFile' | 'connectTimeoutSeconds' | 'retries' | 'hostKeyCheck' | 'knownHosts'>;

/** What every SSH connection of a run shares (password, host keys, timeouts); the password file is read once. */
function sshCommon(options: TargetOptions, environment: Pick<InstallEnvironment, 'env'>): SshCommon {
  let password: Secret | undefined;
  if (options.sshPasswordFile !== undefined) password = readSecretFile(options.sshPasswordFile, '--ssh-password-file');
  else if (environment.env.MQTT_SSH_PASSWORD) password = new Secret(environment.env.MQTT_SSH_PASSWORD);
  return {
    connectTimeoutMs: options.connectTimeoutSeconds * 1000,
    retries: options.retries,
    hostKeys: { check: options.hostKeyCheck, file: options.knownHosts },
    ...(password ? { password } : {}),
  };
}

function sshOptionsFor(spec: { user: string; host: string; port: number }, common: SshCommon, identity: string | undefined): SshOptions {
  return { user: spec.user, host: spec.host, port: spec.port, ...common, ...(identity ? { identityFile: identity } : {}) };
}

export function buildTargets(options: TargetOptions, environment: Pick<InstallEnvironment, 'env' | 'connect'>): InstallTarget[] {
  const identity = options.identity;
  if (identity !== undefined) checkReadable(identity, '--identity');
  if (options.sshPasswordFile !== undefined) checkReadable(options.sshPasswordFile, '--ssh-password-file');
  const all = options.hosts.map((text) => {
    const spec = parseHostSpec(text);
    return { ...spec, label: formatHostSpec(spec), ports: {} as Record<number, number>, identity };
  });
  if (options.inventory) {
    for (const host of readInventory(options.inventory)) {
      const spec = parseHostSpec(`${host.user}@${host.address.includes(':') ? `[${host.address}]` : host.address}:${host.port}`, '--inventory');
      // The inventory's own name for a host is what its operators call it: output uses it.
      all.push({ ...spec, label: host.label ?? formatHostSpec(spec), ports: host.ports, identity: identity ?? host.identity });
    }
  }
  const specs = options.limit === undefined ? all : limitTargets(all, options.limit);
  for (const spec of specs) {
    if (identity === undefined && spec.identity !== undefined) checkReadable(spec.identity, '--inventory identity');
  }
  const common = sshCommon(options, environment);
  return specs.map((spec) => {
    const sshOptions = sshOptionsFor(spec, common, spec.identity);
    return {
      label: spec.label,
      address: spec.host,
      ports: spec.ports,
      connect: () => environment.connect(sshOptions),
    };
  });
}

/** A user's own template that does not render is bad input: say so before any host is contacted. */
function checkTemplatesRender(settings: Settings): void {
  if (Object.keys(settings.templates).length === 0) return;
  try {
    brokerRole(settings.broker).renderFiles(settings);
  } catch (error) {
    throw new InputError('settings.templates', (error as Error).message);
  }
}

/** An SSH key is read later by the transport; refuse a device, FIFO or huge file now, with the flag named. */
function checkReadable(path: string, flag: string): void {
  readInputBytes(path, flag, inputCaps.pem);
}

function writeConsumers(output: ConsumerOutput, settings: Settings, environment: InstallEnvironment): void {
  for (const path of writeConsumerConfigs(output.directory, settings, output.endpoint)) environment.printError(`rendered ${path}`);
}

/** Writes what would be installed, secret files at 0600, for review or for a config-management repo. */
function renderTo(directory: string, settings: Settings, environment: InstallEnvironment): void {
  mkdirSync(directory, { recursive: true });
  const notIssued: string[] = [];
  for (const file of brokerRole(settings.broker).renderFiles(settings)) {
    // Rendering never creates the CA: without one there is nothing to issue the TLS files from.
    if (file.content.startsWith(placeholderPrefix)) {
      notIssued.push(basename(file.path));
      continue;
    }
    const target = join(directory, basename(file.path));
    writeRendered(target, file.content, file.secret ? 0o600 : 0o644);
    environment.printError(`rendered ${target}`);
  }
  if (notIssued.length > 0) {
    environment.printError(`not rendered: ${notIssued.join(', ')}: the CA in ${generatedCaDir(settings)} does not exist yet, and --render-to does not create it (a run that applies would create the CA)`);
  }
}

/**
 * writeFileSync's mode applies only to a file it creates: an existing 0644 file that now holds a
 * secret would stay 0644. A new private temp file, chmod'ed explicitly (the umask plays no part)
 * and renamed over the target, gives every file exactly its mode, and never a moment of exposure.
 */
function writeRendered(target: string, content: string, mode: number): void {
  const temp = `${target}.mqtt-provision-${process.pid}.tmp`;
  try {
    writeFileSync(temp, content, { mode: 0o600, flag: 'wx' });
    chmodSync(temp, mode);
    renameSync(temp, target);
  } finally {
    rmSync(temp, { force: true });
  }
}
