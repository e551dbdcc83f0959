import { mosquittoLayout } from './layout.ts';
import type { Command } from '../../operations/step.ts';
import { archiveToBackupDir, pruneBackups, restoreUpgradeBackup, upgradeBackupDir, upgradeBackupsKept, writeArchive } from '../../operations/upgrade-backup.ts';

/** The config directory (users, ACL, TLS key included) and the data directory (sessions, queued messages). */
export const mosquittoBackupPaths = [mosquittoLayout.configFile.replace(/\/[^/]+$/, ''), mosquittoLayout.dataDir].map((path) => path.replace(/^\//, ''));

/**
 * Shell lines that ask a running Mosquitto to write its persistence file now (SIGUSR1, as
 * mosquitto(8) documents) and wait until the file's modification time moves, so what follows
 * sees every message queued up to this moment; a stopped broker's file is already complete.
 * Expects $service and $db.
 */
const saveNow = `if systemctl is-active --quiet "$service"; then
  before=$(stat -c %y "$db" 2>/dev/null || echo none)
  pid=$(systemctl show -p MainPID --value "$service")
  kill -USR1 "$pid"
  i=0
  while [ "$(stat -c %y "$db" 2>/dev/null || echo none)" = "$before" ]; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then echo "$service did not save $db within 10 s of SIGUSR1 (is persistence off?)" >&2; exit 3; fi
    sleep 0.1
  done
fi`;

/** Saves, then streams a gzip tar of the config and data directories as base64 (the transport carries text). */
export const mosquittoBackupScript = `set -eu
service=$1; db=$2; shift 2
${saveNow}
tar -C / -czpf - "$@" | base64 -w0`;

export function mosquittoBackupCommand(): Command {
  return { argv: ['sh', '-c', mosquittoBackupScript, 'mqtt-provision-archive', mosquittoLayout.service, `${mosquittoLayout.dataDir}/mosquitto.db`, ...mosquittoBackupPaths] };
}

/**
 * Replaces the broker's data directory with the archive's (the broker stopped meanwhile) and
 * starts it again. The config stays what the settings made it: the converge before this step is
 * the source of truth for config, users and ACL; the archive's config is kept on the controller
 * for reference. The archive travels on stdin as base64.
 */
export const mosquittoRestoreScript = `set -eu
service=$1; data=$2; owner=$3
work=$(mktemp -d /var/tmp/mqtt-provision-restore.XXXXXX)
trap 'rm -rf "$work"' EXIT
base64 -d | tar -C "$work" -xzpf -
[ -d "$work/\${data#/}" ] || { echo "the archive holds no \${data}" >&2; exit 3; }
systemctl stop "$service"
rm -rf "$data.mqtt-provision-old"
mv "$data" "$data.mqtt-provision-old"
mv "$work/\${data#/}" "$data"
chown -R "$owner:$owner" "$data"
if systemctl start "$service" && systemctl is-active --quiet "$service"; then
  rm -rf "$data.mqtt-provision-old"
else
  echo "$service did not start on the restored data; the previous data directory is back" >&2
  rm -rf "$data"; mv "$data.mqtt-provision-old" "$data"; systemctl restart "$service" || true
  exit 4
fi`;

export function mosquittoRestoreCommand(archiveBase64: string): Command {
  return { argv: ['sh', '-c', mosquittoRestoreScript, 'mqtt-provision-restore', mosquittoLayout.service, mosquittoLayout.dataDir, mosquittoLayout.user], stdin: archiveBase64 };
}

/**
 * Before a package upgrade: save, then archive config and data on the host itself
 * (mosquitto-<UTC time>.tar.gz, 0600), keeping the newest few. The time is the host's, read when
 * the step runs: planning draws nothing.
 */
export const upgradeBackupScript = `set -eu
service=$1; db=$2; dir=$3; keep=$4; shift 4
${saveNow}
umask 077
${archiveToBackupDir}
${writeArchive}
${pruneBackups}`;

export function upgradeBackupCommand(): Command {
  return {
    argv: ['sh', '-c', upgradeBackupScript, 'mqtt-provision-upgrade-backup', mosquittoLayout.service, `${mosquittoLayout.dataDir}/mosquitto.db`, upgradeBackupDir, String(upgradeBackupsKept), ...mosquittoBackupPaths],
  };
}

/** After a failed upgrade: the data directory as the backup before it had it (every queued message). */
export function restoreUpgradeBackupCommand(): Command {
  return restoreUpgradeBackup(mosquittoLayout.service, mosquittoLayout.dataDir, mosquittoLayout.user);
}
