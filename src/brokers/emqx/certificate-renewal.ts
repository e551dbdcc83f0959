import { removeBackups, restoreFile } from '../../operations/files.ts';
import { clearPendingRestart } from '../../operations/service.ts';
import { change, type Command, type Step } from '../../operations/step.ts';
import type { TlsLayout } from '../../tls/server-files.ts';
import { waitStartedCommand } from './config-steps.ts';

/**
 * How a renewed certificate takes effect on EMQX 5.7.2 / 5.8.6 (issue 24, item 4). FROM SOURCE
 * ONLY: no EMQX binary can be had here, so none of this has run against EMQX.
 *
 * - A listener's ssl_options hold file paths (templates/emqx.conf.hbs). Renewal rewrites the files
 *   at the same paths, so the config does not change and emqx_listeners:post_config_update/5
 *   (apps/emqx/src/emqx_listeners.erl) has nothing to update.
 * - OTP's ssl (EMQX ships OTP 26.2.5, .tool-versions) reads PEM files per connection through
 *   ssl_pem_cache, keyed by path (lib/ssl/src/ssl_config.erl init/2), and invalidates files whose
 *   mtime changed only every `ssl_pem_cache_clean` ms, 120000 by default (lib/ssl/src/ssl_pem_cache.erl,
 *   read at a recent OTP commit, not at the 26.2.5 tag): without help a renewal shows within minutes. EMQX
 *   clears that cache on demand: `emqx ctl pem_cache clean node <Node>` → emqx_mgmt:clean_pem_cache_all/1
 *   → emqx_proto_v1:clean_pem_cache/1 → ssl_pem_cache:clear() (apps/emqx_management/src/emqx_mgmt_cli.erl
 *   pem_cache/1, apps/emqx_management/src/emqx_mgmt.erl, apps/emqx/src/proto/emqx_proto_v1.erl).
 *   New handshakes then read the new files; established connections are processes that finished
 *   their handshake and are not touched.
 * - The other way, a config change of the listener (new paths, PUT /api/v5/listeners/{id}), goes
 *   through emqx_listeners:update_listener/4 → do_update_listener/4 → esockd:set_options/2 for
 *   tcp/ssl (same bind): esockd 5.11.3/5.13.0 esockd_listener_sup:do_set_options/3 updates the
 *   connection supervisor's options and restarts only the acceptor supervisor, so connections stay.
 *   Only when set_options fails does EMQX fall back to restart_listener/4 (stop + start: clients
 *   of that listener are dropped). ws/wss listeners go through ranch:set_transport_options after
 *   ranch:suspend_listener, then resume.
 * - The CA file (cacertfile) is read through the same cache, so a CA change is a PEM change too;
 *   still, this toolkit restarts on a CA change, as for Mosquitto, until a lab can prove otherwise.
 */
export function pemCacheCleanCommand(node: string): Command {
  return { argv: ['emqx', 'ctl', 'pem_cache', 'clean', 'node', node] };
}

export type EmqxTlsApply = { how: 'none' } | { how: 'pem-cache-clean'; reason: string } | { how: 'restart'; reason: string };

export function emqxTlsApply(changedPaths: string[], layout: TlsLayout): EmqxTlsApply {
  const changed = new Set(changedPaths);
  if (changed.has(layout.caFile)) return { how: 'restart', reason: `${layout.caFile} changed` };
  const pair = [layout.certFile, layout.keyFile].filter((path) => changed.has(path));
  if (pair.length === 0) return { how: 'none' };
  return { how: 'pem-cache-clean', reason: `${pair.join(', ')} changed at the same paths: clearing the PEM cache makes new handshakes read them, connections stay` };
}

/**
 * `emqx ctl pem_cache clean node N`, judged by its output: emqx_mgmt_cli.erl with_log/2 prints
 * "<Msg> OK" on `ok` and "<Msg> FAILED" + the reason on `{error, _}` (v5.8.6: Msg = "N PEM cache
 * clean"; v5.7.2 the same shape), and for_node/2 gives `{error, unknown_node}` for a name the node
 * has never seen. Whether that reaches bin/emqx's exit status was not read, so the OK line decides.
 */
const pemCacheCleanScript = `node=$1
out=$(emqx ctl pem_cache clean node "$node" 2>&1)
code=$?
printf '%s\\n' "$out"
case "$out" in *"PEM cache clean OK"*) exit 0 ;; esac
echo "EMQX did not confirm the PEM cache clean on $node (exit $code)" >&2
exit 1`;

export function checkedPemCacheCleanCommand(node: string): Command {
  return { argv: ['sh', '-s', '--', node], stdin: pemCacheCleanScript };
}

/**
 * The EMQX counterpart of Mosquitto's reload for a renewed pair: the new files are in place, the
 * node's PEM cache is emptied so new handshakes read them; no restart, connected clients stay.
 */
export function pemCacheCleanStep(node: string, reason: string): Step {
  return change('reload', `pem-cache:${node}`, `clear the PEM cache of ${node}`, reason, [checkedPemCacheCleanCommand(node)]);
}

/**
 * What follows the renewed files in the config handler (its `reload`): on a running node the PEM
 * cache clean, then the backups go; a failure puts the previous pair back and cleans the cache
 * again, so new handshakes get the old, good pair. A stopped node is just started (it reads the
 * files when its listeners start).
 */
export function emqxRenewalStep(input: { service: string; active: boolean; node: string; changedPaths: string[]; layout: TlsLayout }): Step {
  const { service, node, changedPaths } = input;
  const done = [removeBackups(changedPaths), clearPendingRestart(service)];
  if (!input.active) {
    return change('service', `start:${service}`, `start ${service}`, 'not running', [{ argv: ['systemctl', 'start', service] }, waitStartedCommand, ...done]);
  }
  const apply = emqxTlsApply(changedPaths, input.layout);
  const reason = apply.how === 'pem-cache-clean' ? apply.reason : `${changedPaths.join(', ')} changed`;
  const step = pemCacheCleanStep(node, reason);
  return { ...step, commands: [...step.commands, ...done], rollback: [...changedPaths.map(restoreFile), checkedPemCacheCleanCommand(node), clearPendingRestart(service)] };
}
