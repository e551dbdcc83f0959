import { parseArgs } from 'node:util';
import { InputError } from '../settings/input-error.ts';
import type { TargetOptions } from './install-command.ts';
import { positiveInteger, requireTargets, targetFlags, targetOptions, targetUsage } from './target-flags.ts';

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
(connected clients, kept sessions of offline clients, queued messages). Changes nothing.

  --settings FILE.yaml        the deployment settings the hosts were converged with
  --admin-user NAME           admin the broker's figures are read as (default: the settings' first)
  --admin-password-file FILE  its password (or env MQTT_ADMIN_PASSWORD)
${targetUsage}
  --concurrency N             hosts looked at once (default 10)
  --json                      one JSON document instead of the table
  -h, --help                  this text

Exit codes: 0 all well, 1 something is wrong on a host (or it could not be reached), 2 invalid input.`;

export function parseStatusOptions(args: string[]): StatusOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        ...targetFlags,
        settings: { type: 'string' },
        'admin-user': { type: 'string' },
        'admin-password-file': { type: 'string' },
        json: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new InputError('arguments', (error as Error).message);
  }
  const options: StatusOptions = {
    ...targetOptions(values),
    json: values.json,
    help: values.help,
    concurrency: positiveInteger(values.concurrency, '--concurrency', 10),
  };
  if (values.settings !== undefined) options.settings = values.settings;
  if (values['admin-user'] !== undefined) options.adminUser = values['admin-user'];
  if (values['admin-password-file'] !== undefined) options.adminPasswordFile = values['admin-password-file'];
  if (options.help) return options;
  if (options.settings === undefined) throw new InputError('--settings', 'is required: status compares each host with the settings it was converged with');
  requireTargets(options);
  return options;
}
