import type { Command } from './step.ts';

/**
 * On-host backups taken before a broker package changes, shared by both brokers: where they go,
 * how many are kept, how one is written, and how the newest one's data directory is put back.
 * What differs per broker (how its data is made consistent first) stays in the broker's folder.
 */
export const upgradeBackupDir = '/var/backups/mqtt-provision';
export const upgradeBackupsKept = 3;

/**
 * Shell lines that write "$@" (paths relative to /) to $dir/$service-<UTC time>.tar.gz through a
 * temp name. Expects $service and $dir, and umask 077 set (the archive holds secrets).
 */
export const archiveToBackupDir = `mkdir -p "$dir"
file="$dir/$service-$(date -u +%Y%m%dT%H%M%S%NZ).tar.gz"`;
export const writeArchive = `tar -C / -czpf "$file.tmp" "$@"
mv "$file.tmp" "$file"`;

/** Shell lines that keep the newest $keep archives of $service and print the new one's path. */
export const pruneBackups = `ls -1 "$dir/$service-"*.tar.gz | sort -r | tail -n +$((keep + 1)) | while read -r old; do rm -f "$old"; done
echo "$file"`;

/**
 * After a failed upgrade, once the old package is back: the service stopped, its data directory
 * replaced by the newest upgrade backup's, which holds what the broker had before the change.
 */
export const restoreUpgradeBackupScript = `set -eu
service=$1; data=$2; dir=$3; owner=$4
file=$(ls -1 "$dir/$service-"*.tar.gz 2>/dev/null | sort -r | head -n 1)
[ -n "$file" ] || { echo "no upgrade backup in $dir" >&2; exit 3; }
systemctl stop "$service" || true
rm -rf "$data"
tar -C / -xzpf "$file" "\${data#/}"
chown -R "$owner:$owner" "$data"`;

export function restoreUpgradeBackup(service: string, dataDir: string, owner: string): Command {
  return { argv: ['sh', '-c', restoreUpgradeBackupScript, 'mqtt-provision-upgrade-restore', service, dataDir, upgradeBackupDir, owner] };
}
