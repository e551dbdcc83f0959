import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { brokerRole } from '../brokers/registry.ts';
import { convergeAll } from '../engine/converge-all.ts';
import type { HostTarget } from '../engine/converge-host.ts';
import type { HostReport } from '../engine/report.ts';
import { Secret } from '../secret.ts';
import { InputError, InputErrors } from '../settings/input-error.ts';
import { loadSettings, type Settings } from '../settings/load.ts';
import { formatHostSpec, parseHostSpec } from '../transport/host-spec.ts';
import { generatedCaDir, placeholderPrefix } from '../tls/server-files.ts';
import { SshTransport, type SshOptions } from '../transport/ssh.ts';
import type { Transport } from '../transport/transport.ts';
import { readInventory } from './inventory-file.ts';
import { parseDockerHost, type DockerHost } from '../container/docker-host.ts';
import { installUsage, parseInstallOptions, type InstallOptions } from './install-options.ts';
import { formatRecap, formatStepLine } from './progress-printer.ts';

export interface InstallTarget extends HostTarget {
  address: string;
  /** Broker port on the host → port reachable from here (identity unless an inventory maps it). */
  ports: Record<number, number>;
}

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
  verify?: (target: InstallTarget, settings: Settings, print: (line: string) => void, mayRestart: boolean) => Promise<boolean>;
}

export const defaultEnvironment: InstallEnvironment = {
  env: process.env,
  print: (text) => process.stdout.write(`${text}\n`),
  printError: (text) => process.stderr.write(`${text}\n`),
  connect: (options) => SshTransport.connect(options),
  // Loaded on demand: MQTT.js and the Docker path cost start-up time that --help and a no-op run need not pay.
  verify: async (target, settings, print, mayRestart) =>
    (await import('../verify/install-hook.ts')).verifyAfterInstall(target, settings, { print, mayRestart }),
};

/** The install front door's logic, shared by install-mosquitto.mts and install-emqx.mts. Returns the exit code. */
export async function runInstall(broker: Settings['broker'], args: string[], environment: InstallEnvironment = defaultEnvironment): Promise<number> {
  const script = `install-${broker}.mts`;
  let options: InstallOptions;
  let settings: Settings;
  let targets: InstallTarget[];
  let dockerHost: DockerHost = { kind: 'local' };
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
  } catch (error) {
    if (error instanceof InputError || error instanceof InputErrors) {
      environment.printError(`invalid input:\n${error.message}\n\nRun with --help for the flags, or see README.md "Settings".`);
      return 2;
    }
    throw error;
  }

  if (options.renderTo) {
    try {
      renderTo(options.renderTo, settings, environment);
    } catch (error) {
      // Rendering without a host can only fail on what the settings say (e.g. no TLS name to certify).
      environment.printError(`invalid input:\n--render-to: ${(error as Error).message}`);
      return 2;
    }
    return 0;
  }

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
  if (options.verify && !options.dryRun && settings.state === 'present' && environment.verify) {
    for (const [index, report] of reports.entries()) {
      // With --json, stdout carries only the JSON document; the verify report goes to stderr.
      const print = options.json ? environment.printError : environment.print;
      if (report.status !== 'failed') verified = (await environment.verify(targets[index]!, settings, print, report.status === 'changed')) && verified;
    }
  }
  if (options.json) environment.print(JSON.stringify({ broker, dryRun: options.dryRun, hosts: reports }, null, 2));
  else environment.print(formatRecap(reports));
  return reports.some((report: HostReport) => report.status === 'failed') || !verified ? 1 : 0;
}

/** --docker: converge one container, on this machine's engine or a Docker host over SSH, with the same settings and templates. */
async function runDockerInstall(broker: Settings['broker'], settings: Settings, options: InstallOptions, dockerHost: DockerHost, environment: InstallEnvironment): Promise<number> {
  const { containerLabel, convergeContainer, resolveImage, LOCAL_IMAGE } = await import('../container/converge.ts');
  const { defaultContainerOptions } = await import('../container/desired.ts');
  const { LocalTransport } = await import('../transport/local.ts');
  const defaults = defaultContainerOptions(broker, options.containerName);
  let image: string;
  try {
    if (dockerHost.kind === 'ssh' && options.image === LOCAL_IMAGE) throw new InputError('--image', `"${LOCAL_IMAGE}" builds on this machine's engine only; give an image the Docker host has or can pull`);
    image = await resolveImage(settings, options.image, options.dryRun);
  } catch (error) {
    environment.printError(`invalid input:\n${error instanceof InputError ? error.message : `--image: ${(error as Error).message}`}`);
    return 2;
  }
  let transport: Transport;
  try {
    transport =
      dockerHost.kind === 'ssh'
        ? await environment.connect(sshOptionsFor(dockerHost.spec, sshCommon(options, environment), options.identity))
        : new LocalTransport(dockerHost.socket ? { env: { DOCKER_HOST: `unix://${dockerHost.socket}` } } : {});
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
    if (options.verify && !options.dryRun && settings.state === 'present' && report.status !== 'failed' && environment.verify) {
      const { verifyContainerAfterInstall } = await import('../verify/install-hook.ts');
      // A wildcard bind is reached through the Docker host's own address (127.0.0.1 for this machine).
      const address = dockerHost.kind === 'ssh' ? dockerHost.spec.host : '127.0.0.1';
      verified = await verifyContainerAfterInstall(
        { name: defaults.name, label, transport, address, bind: options.bind },
        settings,
        options.json ? environment.printError : environment.print,
        report.status === 'changed',
      );
    }
    if (options.json) environment.print(JSON.stringify({ broker, dryRun: options.dryRun, hosts: [report] }, null, 2));
    else environment.print(formatRecap([report]));
    return report.status === 'failed' || !verified ? 1 : 0;
  } finally {
    await transport.close();
  }
}

type SshCommon = Omit<SshOptions, 'user' | 'host' | 'port' | 'identityFile'>;

/** What every SSH connection of a run shares (password, host keys, timeouts); the password file is read once. */
function sshCommon(options: InstallOptions, environment: InstallEnvironment): SshCommon {
  let password: Secret | undefined;
  if (options.sshPasswordFile !== undefined) password = new Secret(readFileSync(options.sshPasswordFile, 'utf8').replace(/\r?\n$/, ''));
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

function buildTargets(options: InstallOptions, environment: InstallEnvironment): InstallTarget[] {
  const identity = options.identity;
  if (identity !== undefined) checkReadable(identity, '--identity');
  if (options.sshPasswordFile !== undefined) checkReadable(options.sshPasswordFile, '--ssh-password-file');
  const specs = options.hosts.map((text) => ({ ...parseHostSpec(text), ports: {} as Record<number, number>, identity }));
  if (options.inventory) {
    for (const host of readInventory(options.inventory)) {
      const spec = parseHostSpec(`${host.user}@${host.address.includes(':') ? `[${host.address}]` : host.address}:${host.port}`, '--inventory');
      if (identity === undefined && host.identity !== undefined) checkReadable(host.identity, '--inventory identity');
      specs.push({ ...spec, ports: host.ports, identity: identity ?? host.identity });
    }
  }
  const common = sshCommon(options, environment);
  return specs.map((spec) => {
    const sshOptions = sshOptionsFor(spec, common, spec.identity);
    return {
      label: formatHostSpec(spec),
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

function checkReadable(path: string, flag: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new InputError(flag, `cannot read ${path}`);
  }
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
    writeFileSync(target, file.content, { mode: file.secret ? 0o600 : 0o644 });
    environment.printError(`rendered ${target}`);
  }
  if (notIssued.length > 0) {
    environment.printError(`not rendered: ${notIssued.join(', ')}: the CA in ${generatedCaDir(settings)} does not exist yet, and --render-to does not create it (a run that applies would create the CA)`);
  }
}
