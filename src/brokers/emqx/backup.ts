import type { Command } from '../../operations/step.ts';
import { emqxLayout as layout } from './layout.ts';
import { archiveToBackupDir, pruneBackups, restoreUpgradeBackup, upgradeBackupDir, upgradeBackupsKept, writeArchive } from '../../operations/upgrade-backup.ts';

/**
 * Backups of an EMQX node: a tar of /etc/emqx and the data directory, taken with the node stopped.
 *
 * Why not `emqx ctl data export`: at v5.7.2 and v5.8.6 it writes the config (cluster.hocon's keys)
 * and the mnesia tables marked for backup (users, ACL rules, dashboard accounts), never sessions
 * or messages (apps/emqx_management/src/emqx_mgmt_data_backup.erl). Queued messages survive a
 * node restart only in durable sessions (durable_sessions.enable, 5.7+), whose storage lives
 * under node.data_dir unless moved (emqx_durable_storage's db_data_dir defaults to
 * emqx:data_dir(), apps/emqx_durable_storage/src/emqx_ds_storage_layer.erl): /var/lib/emqx, with
 * mnesia/ and configs/cluster.hocon beside it. RocksDB and mnesia files copied under a running
 * node may not be consistent, so the node is stopped for the copy and started again.
 * In-memory sessions (durable sessions off) are lost on any restart, an upgrade's included.
 */

/** Paths inside the archive, relative to /: config directory (cookie, users state, TLS key) and data directory. */
export const emqxBackupPaths = [layout.configFile.replace(/\/[^/]+$/, ''), layout.dataDir].map((path) => path.replace(/^\//, ''));

/**
 * Waits until `emqx ctl status` prints "Node '…' 5.8.6 is started" (emqx_mgmt_cli.erl, status/1)
 * or gives up after 120 s. Expects nothing; exits 4 on time-out.
 */
const waitStarted = `i=0
until emqx ctl status 2>/dev/null | grep -q ' is started'; do
  i=$((i + 1))
  if [ "$i" -gt 120 ]; then echo "EMQX did not report started within 120 s" >&2; exit 4; fi
  sleep 1
done`;

/**
 * Stops a running node (remembering it ran), runs $copy, then starts it again and waits for it.
 * Expects $service and a cleanup function; a failed copy still starts the node again.
 */
function whileStopped(copy: string): string {
  return `was_active=''
if systemctl is-active --quiet "$service"; then was_active=1; systemctl stop "$service"; fi
restart_node() { cleanup; if [ -n "$was_active" ]; then systemctl start "$service"; fi; }
trap restart_node EXIT
${copy}
trap cleanup EXIT
if [ -n "$was_active" ]; then
  systemctl start "$service"
  ${waitStarted.replace(/\n/g, '\n  ')}
fi`;
}

/** backup.mts: streams a gzip tar of config and data directories as base64; the node is down for the copy. */
export const emqxBackupScript = `set -eu
service=$1; shift 1
work=$(mktemp /var/tmp/mqtt-provision-backup.XXXXXX)
cleanup() { rm -f "$work"; }
${whileStopped('tar -C / -czpf "$work" "$@"')}
base64 -w0 < "$work"
cleanup`;

export function emqxBackupCommand(): Command {
  return { argv: ['sh', '-c', emqxBackupScript, 'mqtt-provision-archive', layout.service, ...emqxBackupPaths] };
}

/**
 * restore.mts: replaces the data directory with the archive's, the node stopped, then starts it and
 * waits until it reports started; if it does not, the previous data directory goes back.
 * mnesia keeps its tables under mnesia/<node name>: an archive from a node of another name would
 * start an empty node, so that is refused (exit 3) before anything is touched. The config stays
 * what the settings made it (the converge before this step).
 */
export const emqxRestoreScript = `set -eu
service=$1; data=$2; owner=$3
work=$(mktemp -d /var/tmp/mqtt-provision-restore.XXXXXX)
trap 'rm -rf "$work"' EXIT
base64 -d | tar -C "$work" -xzpf -
[ -d "$work/\${data#/}" ] || { echo "the archive holds no \${data}" >&2; exit 3; }
theirs=$(ls -1 "$work/\${data#/}/mnesia" 2>/dev/null | head -n 1)
ours=$(ls -1 "$data/mnesia" 2>/dev/null | head -n 1)
if [ -n "$theirs" ] && [ -n "$ours" ] && [ "$theirs" != "$ours" ]; then
  echo "the archive is from node $theirs, this host runs node $ours: set emqx.nodeName to $theirs in the settings (mnesia is bound to the node name)" >&2
  exit 3
fi
systemctl stop "$service"
rm -rf "$data.mqtt-provision-old"
mv "$data" "$data.mqtt-provision-old"
mv "$work/\${data#/}" "$data"
chown -R "$owner:$owner" "$data"
started() {
  systemctl start "$service" || return 1
  ${waitStarted.replace(/exit 4/, 'return 1').replace(/\n/g, '\n  ')}
}
if started; then
  rm -rf "$data.mqtt-provision-old"
else
  echo "$service did not start on the restored data; the previous data directory is back" >&2
  systemctl stop "$service" || true
  rm -rf "$data"; mv "$data.mqtt-provision-old" "$data"; systemctl start "$service" || true
  exit 4
fi`;

export function emqxRestoreCommand(archiveBase64: string): Command {
  return { argv: ['sh', '-c', emqxRestoreScript, 'mqtt-provision-restore', layout.service, layout.dataDir, layout.user], stdin: archiveBase64 };
}

/**
 * Before a package change on a running node: stop, archive config and data on the host
 * (emqx-<UTC time>.tar.gz, 0600, newest few kept), start again. The time is the host's, read when
 * the step runs: planning draws nothing.
 */
export const emqxUpgradeBackupScript = `set -eu
service=$1; dir=$2; keep=$3; shift 3
umask 077
${archiveToBackupDir}
cleanup() { rm -f "$file.tmp"; }
${whileStopped(writeArchive)}
${pruneBackups}`;

export function emqxUpgradeBackupCommand(): Command {
  return { argv: ['sh', '-c', emqxUpgradeBackupScript, 'mqtt-provision-upgrade-backup', layout.service, upgradeBackupDir, String(upgradeBackupsKept), ...emqxBackupPaths] };
}

/**
 * After a failed upgrade, once the old package is back: the data directory as the backup had it
 * (mnesia, durable storage, cluster.hocon). A newer EMQX may have migrated those files, so the old
 * package must not start on them.
 */
export function emqxRestoreUpgradeBackupCommand(): Command {
  return restoreUpgradeBackup(layout.service, layout.dataDir, layout.user);
}
