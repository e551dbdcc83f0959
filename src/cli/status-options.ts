import { InputError } from '../settings/input-error.ts';
import type { TargetOptions } from './ssh-targets.ts';
import { positiveInteger, requireTargets, settingsFlagOptions, settingsFlags, targetFlags, targetOptions, targetUsage, parseFlags, type SettingsFlagOptions } from './target-flags.ts';

export interface StatusOptions extends TargetOptions, SettingsFlagOptions {
  json: boolean;
  concurrency: number;
  help: boolean;
  /** Look at a broker container instead of SSH hosts. */
  docker: boolean;
  dockerHost?: string;
  containerName?: string;
}

export const statusUsage = `Usage: npx zx scripts/status.mts --settings FILE.yaml (--host [user@]host[:port] … | --inventory FILE | --docker) [options]

Reports, per host: broker and installed vs wanted version, service state and uptime, which served
listeners really listen, firewall ports, config drift (what a converge would change), days until
the TLS certificate expires, free disk on the data directory, and the broker's own figures
(connected clients, kept sessions of offline clients, queued messages). Changes nothing.

  --settings FILE.yaml        the deployment settings the hosts were converged with
  --admin-user NAME           admin the broker's figures are read as (default: the settings' first)
  --admin-password-file FILE  its password (or env MQTT_ADMIN_PASSWORD)
${targetUsage}
  --docker                    look at the broker container instead (--docker-host URL, --container-name NAME
                              as for install-*.mts); its own stored image and limits are the wanted ones
  --concurrency N             hosts looked at once (default 10)
  --json                      one JSON document instead of the table
  -h, --help                  this text

Exit codes: 0 all well, 1 something is wrong on a host (or it could not be reached), 2 invalid input.`;

export function parseStatusOptions(args: string[]): StatusOptions {
  const values = parseFlags(args, {
    ...targetFlags,
    ...settingsFlags,
    json: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
    docker: { type: 'boolean', default: false },
    'docker-host': { type: 'string' },
    'container-name': { type: 'string' },
  });
  const options: StatusOptions = {
    ...targetOptions(values),
    json: values.json,
    help: values.help,
    concurrency: positiveInteger(values.concurrency, '--concurrency', 10),
    docker: values.docker,
  };
  if (values['docker-host'] !== undefined) options.dockerHost = values['docker-host'];
  if (values['container-name'] !== undefined) options.containerName = values['container-name'];
  if (!options.docker && (options.dockerHost !== undefined || options.containerName !== undefined)) {
    throw new InputError('--docker', '--docker-host and --container-name only apply with --docker');
  }
  Object.assign(options, settingsFlagOptions(values));
  if (options.help) return options;
  if (options.settings === undefined) throw new InputError('--settings', 'is required: status compares each host with the settings it was converged with');
  if (options.docker) {
    if (options.hosts.length > 0 || options.inventory !== undefined) throw new InputError('--docker', 'looks at one container: leave out --host and --inventory');
    if (options.containerName !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(options.containerName)) {
      throw new InputError('--container-name', `must be letters, digits, "_", "." or "-" (at most 63), got "${options.containerName}"`);
    }
    return options;
  }
  requireTargets(options);
  return options;
}
