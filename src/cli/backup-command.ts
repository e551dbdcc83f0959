import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brokerBackup, type BackupBroker, type BackupManifest } from '../brokers/backup.ts';
import { gatherFacts } from '../facts/gather.ts';
import { InputError, InputErrors } from '../settings/input-error.ts';
import { readSettingsFile } from '../settings/load.ts';
import type { Transport } from '../transport/transport.ts';
import { defaultEnvironment, type InstallEnvironment } from './install-command.ts';
import { buildTargets, type TargetOptions } from './ssh-targets.ts';
import { requireTargets, targetFlags, targetOptions, targetUsage, parseFlags } from './target-flags.ts';
import { flagsHint, refuseInput } from './refuse-input.ts';

export const backupUsage = `Usage: npx zx scripts/backup.mts (--host [user@]host[:port] … | --inventory FILE) [--to DIR] [--broker mosquitto|emqx | --settings FILE]

Pulls each host's broker config directory (users, ACL, TLS key) and data directory (sessions and
queued messages) into DIR as NAME-TIME.tar.gz with a .json manifest. Both are 0600 in a 0700
directory: the archive holds password hashes and keys.
Mosquitto: /etc/mosquitto and /var/lib/mosquitto, saved on the spot with SIGUSR1 (no downtime).
EMQX: /etc/emqx and /var/lib/emqx, copied with the node STOPPED (mnesia and durable storage are
not copied consistently under a running node), then started again: a short outage. Only durable
sessions' messages survive that stop; in-memory sessions are lost by any restart.

  --to DIR                    where the archives go (default ./backups)
  --broker mosquitto|emqx     the broker on the hosts (default mosquitto, or the settings file's)
  --settings FILE.yaml        read the broker from this settings file
${targetUsage}
  -h, --help                  this text

Exit codes: 0 every host backed up, 1 a host failed, 2 invalid input.`;

export interface BackupOptions extends TargetOptions {
  to: string;
  broker: BackupBroker;
  help: boolean;
}

export function parseBackupOptions(args: string[]): BackupOptions {
  const values = parseFlags(args, { ...targetFlags, to: { type: 'string' }, broker: { type: 'string' }, settings: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } });
  const options: BackupOptions = { ...targetOptions(values), to: values.to ?? 'backups', broker: backupBroker(values.broker, values.settings), help: values.help };
  if (!options.help) requireTargets(options);
  return options;
}

/** The broker from --broker or the settings file's `broker` (checked against each other); Mosquitto when neither says. */
export function backupBroker(flag: string | undefined, settingsPath: string | undefined): BackupBroker {
  const known = (value: unknown, field: string): BackupBroker => {
    if (value === 'mosquitto' || value === 'emqx') return value;
    throw new InputError(field, `must be mosquitto or emqx, got ${JSON.stringify(value)}`);
  };
  const fromFlag = flag === undefined ? undefined : known(flag, '--broker');
  if (settingsPath === undefined) return fromFlag ?? 'mosquitto';
  const raw = readSettingsFile(settingsPath) as { broker?: unknown } | null;
  const fromFile = raw && typeof raw === 'object' && raw.broker !== undefined ? known(raw.broker, 'settings.broker') : undefined;
  if (fromFlag && fromFile && fromFlag !== fromFile) throw new InputError('--broker', `says ${fromFlag} but ${settingsPath} says ${fromFile}`);
  return fromFlag ?? fromFile ?? 'mosquitto';
}

/** A file-name-safe form of a target label: root@10.0.0.5:22 → root_10.0.0.5_22. */
export function fileLabel(label: string): string {
  return label.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^_+|_+$/g, '');
}

export type BackupEnvironment = Pick<InstallEnvironment, 'env' | 'print' | 'printError' | 'connect'> & { now?: () => Date };

export async function runBackup(args: string[], environment: BackupEnvironment = defaultEnvironment): Promise<number> {
  let options: BackupOptions;
  let targets;
  try {
    options = parseBackupOptions(args);
    if (options.help) {
      environment.print(backupUsage);
      return 0;
    }
    targets = buildTargets(options, environment);
  } catch (error) {
    if (error instanceof InputError || error instanceof InputErrors) return refuseInput(error.message, environment, { hint: flagsHint });
    throw error;
  }
  const backup = brokerBackup(options.broker);
  const directory = resolve(options.to);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  chmodSync(directory, 0o700);
  let failed = 0;
  for (const target of targets) {
    let transport: Transport | undefined;
    try {
      transport = await target.connect();
      const facts = await gatherFacts(transport, { packages: [backup.packageName], files: [], directories: [backup.dataDir], services: [] });
      if (facts.directories[backup.dataDir] === null) throw new Error(`${backup.dataDir} does not exist: no ${backup.broker} data to back up`);
      const result = await transport.exec(backup.backupCommand().argv);
      if (result.code !== 0) throw new Error(`the backup failed on the host (exit ${result.code}): ${result.stderr.trim()}`);
      const archive = Buffer.from(result.stdout.trim(), 'base64');
      const createdAt = (environment.now?.() ?? new Date()).toISOString();
      const base = join(directory, `${fileLabel(target.label)}-${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`);
      const manifest: BackupManifest = {
        formatVersion: 1,
        broker: backup.broker,
        source: target.label,
        createdAt,
        packageVersion: facts.packages[backup.packageName] ?? null,
        paths: backup.paths,
        sha256: createHash('sha256').update(archive).digest('hex'),
        bytes: archive.length,
      };
      // 0600 from the first byte: the archive holds password hashes and the TLS key.
      writeFileSync(`${base}.tar.gz`, archive, { mode: 0o600 });
      writeFileSync(`${base}.json`, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
      environment.print(`[${target.label}] backed up ${manifest.paths.map((path) => `/${path}`).join(', ')} → ${base}.tar.gz (${archive.length} bytes)`);
    } catch (error) {
      failed++;
      environment.print(`[${target.label}] FAILED backup: ${(error as Error).message}`);
    } finally {
      await transport?.close();
    }
  }
  return failed > 0 ? 1 : 0;
}
