import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { brokerBackup, type BackupManifest } from '../brokers/backup.ts';
import { convergeHost } from '../engine/converge-host.ts';
import { lockName, withHostLock } from '../engine/host-lock.ts';
import { InputError, InputErrors } from '../settings/input-error.ts';
import { type Settings } from '../settings/load.ts';
import { loadSettings } from '../brokers/load-settings.ts';
import type { Transport } from '../transport/transport.ts';
import { defaultEnvironment, type InstallEnvironment, type InstallTarget } from './install-command.ts';
import { buildTargets, type TargetOptions } from './ssh-targets.ts';
import { formatRecap, formatStepLine } from './progress-printer.ts';
import { requireTargets, settingsFlagOptions, settingsFlags, settingsOverrides, targetFlags, targetOptions, targetUsage, parseFlags, type SettingsFlagOptions } from './target-flags.ts';
import { flagsHint, refuseInput } from './refuse-input.ts';

export const restoreUsage = `Usage: npx zx scripts/restore.mts --from FILE.tar.gz --settings FILE.yaml --admin-user NAME --admin-password-file FILE (--host H | --inventory FILE)

Restores a backup.mts archive onto one host, the same or a new one: converges the settings first
(package, config, users, ACL, firewall: the settings stay the source of truth for config), then
replaces the broker's data directory (sessions and queued messages) with the archive's and starts
the broker. If it does not start on the restored data, the previous data directory is put back.
The broker is the settings' (or --broker's) and must be the archive's (its manifest says).
EMQX: the node name must be the archive's (mnesia is bound to it: set emqx.nodeName for a new
host); a static cluster is refused (one node's data cannot be restored into a cluster).

  --from FILE.tar.gz          the archive (its .json manifest beside it is checked when present)
  --settings FILE.yaml        the deployment settings
  --broker mosquitto|emqx     when the settings do not say (default mosquitto)
  --admin-user NAME, --admin-password-file FILE   as for install-*.mts
${targetUsage}
  -h, --help                  this text

Exit codes: 0 restored, 1 the host failed, 2 invalid input (nothing was touched).`;

const maxArchiveBytes = 2 * 1024 * 1024 * 1024;

export interface RestoreOptions extends TargetOptions, SettingsFlagOptions {
  from?: string;
  broker?: 'mosquitto' | 'emqx';
  help: boolean;
}

export function parseRestoreOptions(args: string[]): RestoreOptions {
  const values = parseFlags(args, {
    ...targetFlags,
    ...settingsFlags,
    from: { type: 'string' },
    broker: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const options: RestoreOptions = { ...targetOptions(values), ...settingsFlagOptions(values), help: values.help };
  if (values.from !== undefined) options.from = values.from;
  if (values.broker !== undefined) {
    if (values.broker !== 'mosquitto' && values.broker !== 'emqx') throw new InputError('--broker', `must be mosquitto or emqx, got "${values.broker}"`);
    options.broker = values.broker;
  }
  if (options.help) return options;
  if (options.from === undefined) throw new InputError('--from', 'is required: the .tar.gz that backup.mts wrote');
  requireTargets(options);
  return options;
}

/** Reads the archive and checks it against its manifest (when present): a damaged backup is bad input. */
export function readArchive(path: string): { archive: Buffer; manifest: BackupManifest | null } {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error('not a regular file');
    size = stat.size;
  } catch (error) {
    throw new InputError('--from', `cannot read ${path}: ${(error as Error).message}`);
  }
  if (size > maxArchiveBytes) throw new InputError('--from', `${path} is larger than ${maxArchiveBytes} bytes`);
  const archive = readFileSync(path);
  const manifestPath = path.replace(/\.tar\.gz$/, '.json');
  if (manifestPath === path || !existsSync(manifestPath)) return { archive, manifest: null };
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BackupManifest;
  } catch (error) {
    throw new InputError('--from', `the manifest ${manifestPath} is not JSON: ${(error as Error).message}`);
  }
  const sha256 = createHash('sha256').update(archive).digest('hex');
  if (manifest.sha256 !== sha256) throw new InputError('--from', `${path} does not match its manifest (sha256 ${sha256}, manifest ${manifest.sha256}): damaged or replaced`);
  return { archive, manifest };
}

export async function runRestore(args: string[], environment: Pick<InstallEnvironment, 'env' | 'print' | 'printError' | 'connect'> = defaultEnvironment): Promise<number> {
  let options: RestoreOptions;
  let settings: Settings;
  let target: InstallTarget;
  let archive: Buffer;
  try {
    options = parseRestoreOptions(args);
    if (options.help) {
      environment.print(restoreUsage);
      return 0;
    }
    // Without a settings file the broker is --broker's, else Mosquitto; a settings file names its own.
    const broker = options.broker ?? (options.settings === undefined ? 'mosquitto' : undefined);
    settings = loadSettings(options.settings, { ...(broker !== undefined ? { broker } : {}), ...settingsOverrides(options, environment.env) });
    if (settings.state !== 'present') throw new InputError('settings.state', 'must be present to restore onto the host');
    let manifest: BackupManifest | null;
    ({ archive, manifest } = readArchive(options.from!));
    if (manifest && manifest.broker !== settings.broker) throw new InputError('--from', `${options.from} is a ${manifest.broker} backup, the settings install ${settings.broker}`);
    if (settings.broker === 'emqx' && settings.emqx.cluster.seeds.length > 1) {
      throw new InputError('settings.emqx.cluster', 'restore.mts restores one EMQX node; restoring into a static cluster is not supported');
    }
    const targets = buildTargets(options, environment);
    // One archive is one broker's sessions: two brokers serving the same sessions would both deliver them.
    if (targets.length !== 1) throw new InputError('--host', `restore onto exactly one host, got ${targets.length}`);
    target = targets[0]!;
  } catch (error) {
    if (error instanceof InputError || error instanceof InputErrors) return refuseInput(error.message, environment, { hint: flagsHint });
    throw error;
  }

  const report = await convergeHost(target, settings, { onStep: (host, result) => environment.print(formatStepLine(host, result, false)) });
  environment.print(formatRecap([report]));
  if (report.status === 'failed') {
    environment.print(`[${target.label}] not restored: the converge failed`);
    return 1;
  }
  let transport: Transport | undefined;
  try {
    transport = await target.connect();
    const command = brokerBackup(settings.broker).restoreCommand(archive.toString('base64'));
    // The data swap stops and starts the broker: no other run may converge the host meanwhile.
    const result = await withHostLock(transport, lockName(), undefined, () => transport!.exec(command.argv, { stdin: command.stdin! }));
    if (result.code !== 0) throw new Error(`exit ${result.code}: ${result.stderr.trim()}`);
    environment.print(`[${target.label}] restored the data directory from ${options.from} and started the broker`);
    return 0;
  } catch (error) {
    environment.print(`[${target.label}] FAILED restore: ${(error as Error).message}`);
    return 1;
  } finally {
    await transport?.close();
  }
}
