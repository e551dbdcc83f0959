import type { Command } from '../operations/step.ts';
import { emqxBackupCommand, emqxBackupPaths, emqxRestoreCommand } from './emqx/backup.ts';
import { emqxLayout } from './emqx/layout.ts';
import { mosquittoBackupCommand, mosquittoBackupPaths, mosquittoRestoreCommand } from './mosquitto/backup.ts';
import { mosquittoLayout } from './mosquitto/layout.ts';

export type BackupBroker = 'mosquitto' | 'emqx';

/** What a backup holds, next to the archive: enough to tell what it came from without opening it. */
export interface BackupManifest {
  formatVersion: 1;
  broker: BackupBroker;
  /** The target label as the run named it, e.g. root@10.0.0.5:22. */
  source: string;
  createdAt: string;
  /** The broker package installed when the backup was taken. */
  packageVersion: string | null;
  /** Paths inside the archive, relative to /. */
  paths: string[];
  /** sha256 of the .tar.gz, checked before a restore pushes it anywhere. */
  sha256: string;
  bytes: number;
}

/** backup.mts and restore.mts ask the broker only this: the CLI picks, the broker folders hold the how. */
export interface BrokerBackup {
  broker: BackupBroker;
  packageName: string;
  dataDir: string;
  paths: string[];
  /** Streams the archive as base64 on stdout. */
  backupCommand(): Command;
  /** Replaces the data directory with the archive's (base64 on stdin) and starts the broker. */
  restoreCommand(archiveBase64: string): Command;
}

const backups: Record<BackupBroker, BrokerBackup> = {
  mosquitto: {
    broker: 'mosquitto',
    packageName: mosquittoLayout.packageName,
    dataDir: mosquittoLayout.dataDir,
    paths: mosquittoBackupPaths,
    backupCommand: mosquittoBackupCommand,
    restoreCommand: mosquittoRestoreCommand,
  },
  emqx: {
    broker: 'emqx',
    packageName: emqxLayout.packageName,
    dataDir: emqxLayout.dataDir,
    paths: emqxBackupPaths,
    backupCommand: emqxBackupCommand,
    restoreCommand: emqxRestoreCommand,
  },
};

export function brokerBackup(broker: BackupBroker): BrokerBackup {
  return backups[broker];
}
