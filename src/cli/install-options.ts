import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { imageReferencePattern } from '../container/image-layouts.ts';
import { defaultLockTimeoutSeconds } from '../engine/host-lock.ts';
import { InputError } from '../settings/input-error.ts';
import type { HostKeyCheck } from '../transport/known-hosts.ts';

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

export const installUsage = (script: string): string => `Usage: npx zx scripts/${script} [options]

Targets (at least one, unless --render-to):
  --host [user@]host[:port]   a host to converge over SSH; repeat for more (they run in parallel)
  --inventory FILE            hosts from a YAML/JSON inventory (e.g. .lab/inventory.json)
  --limit PATTERNS            only these hosts: comma-separated names, addresses or patterns
                              (* and ?), "!" in front to leave some out, e.g. 'broker-*,!broker-3'
  --identity FILE             SSH private key (default: ssh-agent / the inventory's key)
  --ssh-password-file FILE    SSH password instead of a key (or env MQTT_SSH_PASSWORD)
  --known-hosts FILE          host keys to check against (default ~/.ssh/known_hosts)
  --host-key-check MODE       accept-new (default: record unknown hosts, refuse changed keys),
                              strict (known hosts only) or off
  --docker                    converge a broker container instead of SSH hosts
  --docker-host URL           with --docker: unix:///path/docker.sock, or ssh://[user@]host[:port]
                              to run docker on that host over SSH (default: the local engine)
  --image IMAGE               with --docker: the image (default: the official one, pinned:
                              eclipse-mosquitto:2.0.22 / emqx:5.8.8; "local" builds a Mosquitto
                              image here from Debian packages)
  --container-name NAME       with --docker: the container (default mqtt-provision-BROKER)
  --bind ADDRESS              with --docker: publish the ports on ADDRESS (default 0.0.0.0)
  --memory SIZE               with --docker: memory limit, e.g. 512m or 2g (default 512m, EMQX 2g)
  --cpus N                    with --docker: CPU limit, e.g. 1 or 0.5 (default 1)

Settings:
  --settings FILE.yaml        the deployment settings (see README, "Settings")
  --admin-user NAME           admin user to create or update
  --admin-password-file FILE  its password (or env MQTT_ADMIN_PASSWORD)
  --version VERSION           package version to pin
  --package FILE              EMQX only: upload and install this .rpm/.deb instead of downloading

Behaviour:
  --dry-run                   gather facts and show what would change, with diffs; change nothing
  --check                     drift check (for CI): a dry run that exits 3 when anything would change
  --render-to DIR             write the rendered config files to DIR and contact no host
                              (consumer configs too, in DIR/consumers, unless --consumer-configs)
  --consumer-configs DIR      write each consumer's config (Flume, Telegraf, JSON + env) and its
                              0600 password file to DIR/<name>/ (see README, "Consumers")
  --consumer-broker HOST[:PORT]  the address those configs connect to (default: the first
                              tls.generate.subjectAltNames entry, else the first --host)
  --json                      print one JSON document with per-host, per-step results
  --no-verify                 skip the broker verification after converging
  --concurrency N             hosts converged at once (default 10)
  --max-fail N                start no new host once N hosts failed
  --connect-timeout SECONDS   per SSH connection attempt (default 10)
  --retries N                 extra SSH connection attempts with backoff (default 2)
  --lock-timeout SECONDS      wait this long for another run's lock on a host or container,
                              then fail naming it (default 120; 0 fails at once)
  -h, --help                  this text

Exit codes: 0 success (--check: in sync), 1 a host failed or did not verify, 2 invalid input
(nothing was touched), 3 --check found drift.`;

function positiveInteger(value: string | undefined, flag: string, fallback: number, minimum = 1): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum || number > 100000) throw new InputError(flag, `must be a whole number ≥ ${minimum}, got "${value}"`);
  return number;
}

function parseHostKeyCheck(value: string | undefined): HostKeyCheck {
  if (value === undefined) return 'accept-new';
  if (value === 'strict' || value === 'accept-new' || value === 'off') return value;
  throw new InputError('--host-key-check', `must be strict, accept-new or off, got "${value}"`);
}

/** Parses the install flags strictly: an unknown or misspelt flag is an input error (exit 2). */
export function parseInstallOptions(args: string[]): InstallOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string', multiple: true },
        inventory: { type: 'string' },
        limit: { type: 'string' },
        identity: { type: 'string' },
        'ssh-password-file': { type: 'string' },
        settings: { type: 'string' },
        'admin-user': { type: 'string' },
        'admin-password-file': { type: 'string' },
        version: { type: 'string' },
        package: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        'render-to': { type: 'string' },
        json: { type: 'boolean', default: false },
        'no-verify': { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        'max-fail': { type: 'string' },
        'connect-timeout': { type: 'string' },
        retries: { type: 'string' },
        'lock-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        docker: { type: 'boolean', default: false },
        'docker-host': { type: 'string' },
        image: { type: 'string' },
        'container-name': { type: 'string' },
        bind: { type: 'string' },
        'known-hosts': { type: 'string' },
        'host-key-check': { type: 'string' },
        memory: { type: 'string' },
        cpus: { type: 'string' },
        'consumer-configs': { type: 'string' },
        'consumer-broker': { type: 'string' },
      },
    }));
  } catch (error) {
    throw new InputError('arguments', (error as Error).message);
  }
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
    knownHosts: values['known-hosts'] ?? join(homedir(), '.ssh', 'known_hosts'),
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
  if (!options.docker && (options.image !== undefined || options.dockerHost !== undefined || options.containerName !== undefined || values.bind !== undefined || options.memory !== undefined || options.cpus !== undefined)) {
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
  if (options.check && options.renderTo !== undefined) {
    throw new InputError('--check', 'compares hosts with the settings; --render-to contacts no host: use one or the other');
  }
  if (options.renderTo !== undefined && (options.hosts.length > 0 || options.inventory !== undefined || options.docker)) {
    throw new InputError('--render-to', 'only renders and contacts no host: leave out --host, --inventory and --docker');
  }
  if (!options.help && !options.docker && options.hosts.length === 0 && !options.inventory && !options.renderTo) {
    throw new InputError('--host', 'give at least one --host or an --inventory (or --render-to DIR to only render)');
  }
  return options;
}

/** Docker's size notation (512m, 2g, 1048576) in bytes. */
function memoryBytes(size: string): number {
  const unit = size.slice(-1).toLowerCase();
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(factor === 1 ? size : size.slice(0, -1)) * factor;
}
