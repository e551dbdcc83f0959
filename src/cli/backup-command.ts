import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mosquittoBackupCommand, mosquittoBackupPaths, type BackupManifest } from '../brokers/mosquitto/backup.ts';
import { mosquittoLayout } from '../brokers/mosquitto/layout.ts';
import { gatherFacts } from '../facts/gather.ts';
import { InputError, InputErrors } from '../settings/input-error.ts';
import type { Transport } from '../transport/transport.ts';
import { buildTargets, defaultEnvironment, type InstallEnvironment, type TargetOptions } from './install-command.ts';
import { requireTargets, targetFlags, targetOptions, targetUsage, parseFlags } from './target-flags.ts';

export const backupUsage = `Usage: npx zx scripts/backup.mts (--host [user@]host[:port] … | --inventory FILE) [--to DIR]

Pulls each host's Mosquitto config directory (users, ACL, TLS key) and data directory (sessions and
queued messages, saved on the spot with SIGUSR1) into DIR as NAME-TIME.tar.gz with a .json
manifest. Both are 0600 in a 0700 directory: the archive holds password hashes and keys.

  --to DIR                    where the archives go (default ./backups)
${targetUsage}
  -h, --help                  this text

Exit codes: 0 every host backed up, 1 a host failed, 2 invalid input.`;

export interface BackupOptions extends TargetOptions {
  to: string;
  help: boolean;
}

export function parseBackupOptions(args: string[]): BackupOptions {
  const values = parseFlags(args, { ...targetFlags, to: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } });
  const options: BackupOptions = { ...targetOptions(values), to: values.to ?? 'backups', help: values.help };
  if (!options.help) requireTargets(options);
  return options;
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
    if (error instanceof InputError || error instanceof InputErrors) {
      environment.printError(`invalid input:\n${error.message}\n\nRun with --help for the flags.`);
      return 2;
    }
    throw error;
  }
  const directory = resolve(options.to);
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  chmodSync(directory, 0o700);
  let failed = 0;
  for (const target of targets) {
    let transport: Transport | undefined;
    try {
      transport = await target.connect();
      const facts = await gatherFacts(transport, { packages: [mosquittoLayout.packageName], files: [], directories: [mosquittoLayout.dataDir], services: [] });
      if (facts.directories[mosquittoLayout.dataDir] === null) throw new Error(`${mosquittoLayout.dataDir} does not exist: no Mosquitto data to back up`);
      const result = await transport.exec(mosquittoBackupCommand().argv);
      if (result.code !== 0) throw new Error(`the backup failed on the host (exit ${result.code}): ${result.stderr.trim()}`);
      const archive = Buffer.from(result.stdout.trim(), 'base64');
      const createdAt = (environment.now?.() ?? new Date()).toISOString();
      const base = join(directory, `${fileLabel(target.label)}-${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`);
      const manifest: BackupManifest = {
        formatVersion: 1,
        broker: 'mosquitto',
        source: target.label,
        createdAt,
        packageVersion: facts.packages[mosquittoLayout.packageName] ?? null,
        paths: mosquittoBackupPaths,
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
