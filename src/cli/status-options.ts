import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../settings/input-error.ts';
import type { HostKeyCheck } from '../transport/known-hosts.ts';
import type { TargetOptions } from './install-command.ts';

export interface StatusOptions extends TargetOptions {
  settings?: string;
  adminUser?: string;
  adminPasswordFile?: string;
  json: boolean;
  concurrency: number;
  help: boolean;
}

export const statusUsage = `Usage: npx zx scripts/status.mts --settings FILE.yaml (--host [user@]host[:port] … | --inventory FILE) [options]

Reports, per host: broker and installed vs wanted version, service state and uptime, which served
listeners really listen, firewall ports, config drift (what a converge would change), days until
the TLS certificate expires, free disk on the data directory, and the broker's own figures
(connected clients, kept sessions of offline clients, stored messages). Changes nothing.

  --settings FILE.yaml        the deployment settings the hosts were converged with
  --admin-user NAME           admin the broker's figures are read as (default: the settings' first)
  --admin-password-file FILE  its password (or env MQTT_ADMIN_PASSWORD)
  --host, --inventory, --identity, --ssh-password-file, --known-hosts, --host-key-check,
  --connect-timeout, --retries   as for install-*.mts
  --concurrency N             hosts looked at once (default 10)
  --json                      one JSON document instead of the table
  -h, --help                  this text

Exit codes: 0 all well, 1 something is wrong on a host (or it could not be reached), 2 invalid input.`;

function positiveInteger(value: string | undefined, flag: string, fallback: number, minimum = 1): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum || number > 100000) throw new InputError(flag, `must be a whole number ≥ ${minimum}, got "${value}"`);
  return number;
}

export function parseStatusOptions(args: string[]): StatusOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string', multiple: true },
        inventory: { type: 'string' },
        identity: { type: 'string' },
        'ssh-password-file': { type: 'string' },
        settings: { type: 'string' },
        'admin-user': { type: 'string' },
        'admin-password-file': { type: 'string' },
        json: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        'connect-timeout': { type: 'string' },
        retries: { type: 'string' },
        'known-hosts': { type: 'string' },
        'host-key-check': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new InputError('arguments', (error as Error).message);
  }
  const check = values['host-key-check'] ?? 'accept-new';
  if (check !== 'strict' && check !== 'accept-new' && check !== 'off') throw new InputError('--host-key-check', `must be strict, accept-new or off, got "${check}"`);
  const options: StatusOptions = {
    hosts: values.host ?? [],
    json: values.json,
    help: values.help,
    concurrency: positiveInteger(values.concurrency, '--concurrency', 10),
    connectTimeoutSeconds: positiveInteger(values['connect-timeout'], '--connect-timeout', 10),
    retries: positiveInteger(values.retries, '--retries', 2, 0),
    knownHosts: values['known-hosts'] ?? join(homedir(), '.ssh', 'known_hosts'),
    hostKeyCheck: check as HostKeyCheck,
  };
  for (const [key, flag] of [
    ['inventory', 'inventory'],
    ['identity', 'identity'],
    ['sshPasswordFile', 'ssh-password-file'],
    ['settings', 'settings'],
    ['adminUser', 'admin-user'],
    ['adminPasswordFile', 'admin-password-file'],
  ] as const) {
    const value = values[flag];
    if (value !== undefined) options[key] = value;
  }
  if (options.help) return options;
  if (options.settings === undefined) throw new InputError('--settings', 'is required: status compares each host with the settings it was converged with');
  if (options.hosts.length === 0 && options.inventory === undefined) throw new InputError('--host', 'give at least one --host or an --inventory');
  return options;
}
