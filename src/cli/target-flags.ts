import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { InputError } from '../settings/input-error.ts';
import type { SettingsOverrides } from '../settings/load.ts';
import type { HostKeyCheck } from '../transport/known-hosts.ts';
import { defaultKnownHostsFile } from '../transport/ssh-options.ts';
import type { TargetOptions } from './ssh-targets.ts';

/** The parseArgs options that pick hosts and say how to reach them, shared by install, status, backup and restore. */
export const targetFlags = {
  host: { type: 'string', multiple: true },
  inventory: { type: 'string' },
  limit: { type: 'string' },
  identity: { type: 'string' },
  'ssh-password-file': { type: 'string' },
  'connect-timeout': { type: 'string' },
  retries: { type: 'string' },
  'known-hosts': { type: 'string' },
  'host-key-check': { type: 'string' },
} as const;

/** The flags that name the settings a front door loads: shared by install, status and restore. */
export const settingsFlags = {
  settings: { type: 'string' },
  'admin-user': { type: 'string' },
  'admin-password-file': { type: 'string' },
} as const;

export interface SettingsFlagOptions {
  settings?: string;
  adminUser?: string;
  adminPasswordFile?: string;
}

/** parseArgs values of settingsFlags → the options that carry them (absent flags stay absent). */
export function settingsFlagOptions(values: { settings?: string | undefined; 'admin-user'?: string | undefined; 'admin-password-file'?: string | undefined }): SettingsFlagOptions {
  return {
    ...(values.settings !== undefined ? { settings: values.settings } : {}),
    ...(values['admin-user'] !== undefined ? { adminUser: values['admin-user'] } : {}),
    ...(values['admin-password-file'] !== undefined ? { adminPasswordFile: values['admin-password-file'] } : {}),
  };
}

/** What loadSettings takes from those flags, with the environment (MQTT_ADMIN_PASSWORD). */
export function settingsOverrides(options: SettingsFlagOptions, env: Record<string, string | undefined>): SettingsOverrides {
  return {
    ...(options.adminUser !== undefined ? { adminUser: options.adminUser } : {}),
    ...(options.adminPasswordFile !== undefined ? { adminPasswordFile: options.adminPasswordFile } : {}),
    env,
  };
}

export const targetUsage = `  --host [user@]host[:port], --inventory FILE, --limit PATTERNS, --identity FILE, --ssh-password-file FILE,
  --known-hosts FILE, --host-key-check MODE, --connect-timeout SECONDS, --retries N
                              which hosts and how to reach them, as for install-*.mts`;

export function positiveInteger(value: string | undefined, flag: string, fallback: number, minimum = 1): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum || number > 100000) throw new InputError(flag, `must be a whole number ≥ ${minimum}, got "${value}"`);
  return number;
}

export function parseHostKeyCheck(value: string | undefined): HostKeyCheck {
  if (value === undefined) return 'accept-new';
  if (value === 'strict' || value === 'accept-new' || value === 'off') return value;
  throw new InputError('--host-key-check', `must be strict, accept-new or off, got "${value}"`);
}

type TargetValues = { [K in keyof typeof targetFlags]?: (typeof targetFlags)[K] extends { multiple: true } ? string[] : string };

/** Strict flag parsing (no positionals, unknown flags refused) whose errors are input errors: exit 2. */
export function parseFlags<T extends ParseArgsOptionsConfig>(args: string[], options: T) {
  try {
    return parseArgs({ args, strict: true, allowPositionals: false, options }).values;
  } catch (error) {
    throw new InputError('arguments', (error as Error).message);
  }
}

/** parseArgs values of targetFlags → TargetOptions, checked; at least one host unless `optional`. */
export function targetOptions(values: TargetValues): TargetOptions {
  const hostKeyCheck = parseHostKeyCheck(values['host-key-check']);
  const options: TargetOptions = {
    hosts: values.host ?? [],
    connectTimeoutSeconds: positiveInteger(values['connect-timeout'], '--connect-timeout', 10),
    retries: positiveInteger(values.retries, '--retries', 2, 0),
    knownHosts: values['known-hosts'] ?? defaultKnownHostsFile(),
    hostKeyCheck,
  };
  if (values.inventory !== undefined) options.inventory = values.inventory;
  if (values.limit !== undefined) options.limit = values.limit;
  if (values.identity !== undefined) options.identity = values.identity;
  if (values['ssh-password-file'] !== undefined) options.sshPasswordFile = values['ssh-password-file'];
  return options;
}

export function requireTargets(options: TargetOptions): void {
  if (options.hosts.length === 0 && options.inventory === undefined) throw new InputError('--host', 'give at least one --host or an --inventory');
}
