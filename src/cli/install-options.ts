import { imageReferencePattern } from '../container/image-layouts.ts';
import { defaultLockTimeoutSeconds } from '../engine/host-lock.ts';
import { InputError } from '../settings/input-error.ts';
import type { HostKeyCheck } from '../transport/known-hosts.ts';
import { defaultKnownHostsFile } from '../transport/ssh-options.ts';
import { parseFlags, parseHostKeyCheck, positiveInteger, settingsFlags, targetFlags } from './target-flags.ts';

export interface InstallOptions {
  hosts: string[];
  inventory?: string;
  /** Only the targets matching these comma-separated names or patterns (`*`, `?`, `!` to exclude). */
  limit?: string;
  identity?: string;
  sshPasswordFile?: string;
  settings?: string;
  adminUser?: string;
  adminPasswordFile?: string;
  version?: string;
  /** EMQX: a local .rpm/.deb to upload and install instead of downloading (air-gapped hosts). */
  package?: string;
  dryRun: boolean;
  /** Drift check for CI: a dry run whose exit code says whether anything would change (3). */
  check: boolean;
  renderTo?: string;
  json: boolean;
  verify: boolean;
  concurrency: number;
  maxFail?: number;
  connectTimeoutSeconds: number;
  /** Seconds to wait for another run's lock on a host or container. */
  lockTimeoutSeconds: number;
  retries: number;
  help: boolean;
  /** Converge a container on a Docker engine instead of SSH hosts. */
  docker: boolean;
  /** unix:///path or ssh://[user@]host[:port]; the local engine when absent. */
  dockerHost?: string;
  image?: string;
  containerName?: string;
  /** Host address the container's ports are published on. */
  bind: string;
  /** known_hosts file and checking policy for SSH host keys. */
  knownHosts: string;
  hostKeyCheck: HostKeyCheck;
  /** `docker run --memory` and `--cpus` limits; undefined keeps the container defaults. */
  memory?: string;
  cpus?: string;
  /** Write each consumer's rendered config (Flume, Telegraf, generic) and password file here. */
  consumerConfigs?: string;
  /** HOST or HOST:PORT the consumer configs connect to (default: the first TLS name, else the first target). */
  consumerBroker?: string;
}

/** install-*.mts's flags: the target and settings flags other front doors share, then install's own. */
const installFlags = {
  ...targetFlags,
  ...settingsFlags,
  version: { type: 'string' },
  package: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  check: { type: 'boolean', default: false },
  'render-to': { type: 'string' },
  json: { type: 'boolean', default: false },
  'no-verify': { type: 'boolean', default: false },
  concurrency: { type: 'string' },
  'max-fail': { type: 'string' },
  'lock-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
  docker: { type: 'boolean', default: false },
  'docker-host': { type: 'string' },
  image: { type: 'string' },
  'container-name': { type: 'string' },
  bind: { type: 'string' },
  memory: { type: 'string' },
  cpus: { type: 'string' },
  'consumer-configs': { type: 'string' },
  'consumer-broker': { type: 'string' },
} as const;

type InstallValues = ReturnType<typeof parseFlags<typeof installFlags>>;

/** Parses the install flags strictly: an unknown or misspelt flag is an input error (exit 2). */
export function parseInstallOptions(args: string[]): InstallOptions {
  const values = parseFlags(args, installFlags);
  const options = optionsFrom(values);
  checkContainerFlags(options, values.bind !== undefined);
  checkRunMode(options);
  return options;
}

/** Flag values → InstallOptions, numbers and the host key policy checked one by one. */
function optionsFrom(values: InstallValues): InstallOptions {
  const options: InstallOptions = {
    hosts: values.host ?? [],
    // --check is a dry run: nothing is changed, only the exit code differs.
    dryRun: values['dry-run'] || values.check,
    check: values.check,
    json: values.json,
    verify: !values['no-verify'],
    concurrency: positiveInteger(values.concurrency, '--concurrency', 10),
    connectTimeoutSeconds: positiveInteger(values['connect-timeout'], '--connect-timeout', 10),
    retries: positiveInteger(values.retries, '--retries', 2, 0),
    lockTimeoutSeconds: positiveInteger(values['lock-timeout'], '--lock-timeout', defaultLockTimeoutSeconds, 0),
    help: values.help,
    docker: values.docker,
    knownHosts: values['known-hosts'] ?? defaultKnownHostsFile(),
    hostKeyCheck: parseHostKeyCheck(values['host-key-check']),
    bind: values.bind ?? '0.0.0.0',
  };
  if (values['max-fail'] !== undefined) options.maxFail = positiveInteger(values['max-fail'], '--max-fail', 1);
  for (const [key, flag] of [
    ['inventory', 'inventory'],
    ['limit', 'limit'],
    ['identity', 'identity'],
    ['sshPasswordFile', 'ssh-password-file'],
    ['settings', 'settings'],
    ['adminUser', 'admin-user'],
    ['adminPasswordFile', 'admin-password-file'],
    ['version', 'version'],
    ['package', 'package'],
    ['renderTo', 'render-to'],
    ['image', 'image'],
    ['dockerHost', 'docker-host'],
    ['containerName', 'container-name'],
    ['memory', 'memory'],
    ['cpus', 'cpus'],
    ['consumerConfigs', 'consumer-configs'],
    ['consumerBroker', 'consumer-broker'],
  ] as const) {
    const value = values[flag];
    if (value !== undefined) options[key] = value;
  }
  return options;
}

/** --docker and the flags that only mean something with it, each value checked before any engine is asked. */
function checkContainerFlags(options: InstallOptions, bindGiven: boolean): void {
  if (!options.docker && (options.image !== undefined || options.dockerHost !== undefined || options.containerName !== undefined || bindGiven || options.memory !== undefined || options.cpus !== undefined)) {
    throw new InputError('--docker', '--docker-host, --image, --container-name, --bind, --memory and --cpus only apply with --docker');
  }
  if (options.image !== undefined && !imageReferencePattern.test(options.image)) {
    throw new InputError('--image', `must be an image reference like eclipse-mosquitto:2.0.22 (or "local"), got "${options.image}"`);
  }
  if (options.memory !== undefined && !/^[1-9][0-9]*[kmg]?$/i.test(options.memory)) {
    throw new InputError('--memory', `must be a size like 512m or 2g, got "${options.memory}"`);
  }
  // Docker refuses less than 6 MB; said here, before any engine is asked.
  if (options.memory !== undefined && memoryBytes(options.memory) < 6 * 1024 ** 2) {
    throw new InputError('--memory', `must be at least 6m (Docker's minimum), got "${options.memory}"`);
  }
  if (options.cpus !== undefined && !(/^[0-9]+(\.[0-9]+)?$/.test(options.cpus) && Number(options.cpus) > 0)) {
    throw new InputError('--cpus', `must be a positive number like 1 or 0.5, got "${options.cpus}"`);
  }
  if (options.docker && (options.hosts.length > 0 || options.inventory)) {
    throw new InputError('--docker', 'converges one container (on --docker-host, or locally); leave out --host and --inventory');
  }
  if (options.containerName !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(options.containerName)) {
    throw new InputError('--container-name', `must be letters, digits, "_", "." or "-" (at most 63), got "${options.containerName}"`);
  }
  if (!/^[0-9a-fA-F.:]+$/.test(options.bind)) throw new InputError('--bind', `must be an IP address, got "${options.bind}"`);
}

/** What the run does (converge, --check, --render-to) against where (hosts, inventory, a container): the combinations that mean nothing. */
function checkRunMode(options: InstallOptions): void {
  if (options.check && options.renderTo !== undefined) {
    throw new InputError('--check', 'compares hosts with the settings; --render-to contacts no host: use one or the other');
  }
  if (options.renderTo !== undefined && (options.hosts.length > 0 || options.inventory !== undefined || options.docker)) {
    throw new InputError('--render-to', 'only renders and contacts no host: leave out --host, --inventory and --docker');
  }
  if (!options.help && !options.docker && options.hosts.length === 0 && !options.inventory && !options.renderTo) {
    throw new InputError('--host', 'give at least one --host or an --inventory (or --render-to DIR to only render)');
  }
}

/** Docker's size notation (512m, 2g, 1048576) in bytes. */
function memoryBytes(size: string): number {
  const unit = size.slice(-1).toLowerCase();
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(factor === 1 ? size : size.slice(0, -1)) * factor;
}
