import type { HostFacts } from '../facts/host-facts.ts';
import { change, noChange, type Command, type Step } from './step.ts';

/** Enabled at boot, and started unless a restart is planned anyway (starting twice costs a restart). */
export function serviceEnabledStep(facts: HostFacts, service: string, restartPlanned: boolean): Step {
  const id = `service:${service}`;
  const title = `service ${service} enabled and running`;
  const state = facts.services[service] ?? { active: 'unknown', enabled: 'not-found' };
  const commands: Command[] = [];
  const reasons: string[] = [];
  if (state.enabled !== 'enabled') {
    commands.push({ argv: ['systemctl', 'enable', service] });
    reasons.push(`not enabled (${state.enabled})`);
  }
  if (state.active !== 'active' && !restartPlanned) {
    commands.push({ argv: ['systemctl', 'start', service] });
    reasons.push(`not running (${state.active})`);
  }
  if (commands.length === 0) return noChange('service', id, title, restartPlanned ? 'enabled; restart planned' : 'enabled and active');
  return change('service', id, title, reasons.join(', '), commands);
}

/**
 * A marker written before a run changes a service's config and removed once the service runs on
 * it: if the run is cut off in between (connection lost, a later step failed), the next run sees
 * the marker and still restarts, though the files already match.
 */
export function pendingRestartMarker(service: string): string {
  return `/var/lib/mqtt-provision/restart-pending-${service}`;
}

export function pendingRestartStep(service: string, reason: string): Step {
  const marker = pendingRestartMarker(service);
  return change('marker', `pending:${service}`, `mark ${service} restart pending`, reason, [
    // It holds the running broker's MainPID: the failed-start log tells that broker's last lines from the new one's.
    { argv: ['sh', '-c', 'mkdir -p "${1%/*}" && systemctl show -p MainPID --value "$2" > "$1"', 'mqtt-provision-mark', marker, service] },
  ]);
}

export function clearPendingRestart(service: string): Command {
  return { argv: ['rm', '-f', pendingRestartMarker(service)] };
}

export interface RestartOptions {
  service: string;
  reason: string;
  /** Commands that must succeed after the restart, e.g. `systemctl is-active`. */
  checks: Command[];
  /** Puts the previous config files back; the engine restarts the service after them. */
  restore: Command[];
  /** Backups to delete once the new config is known to work. */
  cleanup: Command[];
}

/**
 * Clears a unit's failed state and start-limit count. A unit systemd has not loaded yet (a package
 * just installed it, and nothing has asked for it) has no failed state, and `reset-failed` says
 * "not loaded" and exits 1: that is not a failure of the restart that follows.
 */
export function resetFailed(service: string): Command {
  return { argv: ['sh', '-c', 'systemctl reset-failed "$1" 2>/dev/null || :', 'mqtt-provision-reset-failed', service] };
}

/**
 * Restart with a safety net: if the service does not come back, the previous files are restored
 * and the service restarted on them, and the service's own log explains what it rejected.
 */
export function restartStep(options: RestartOptions): Step {
  const { service } = options;
  return change(
    'restart',
    `restart:${service}`,
    `restart ${service}`,
    options.reason,
    // reset-failed first: systemd's start limit (5 starts in 10 s) counts the auto-restarts of an
    // earlier failed start, and would refuse this deliberate restart, or the rollback's start.
    [resetFailed(service), { argv: ['systemctl', 'restart', service] }, ...options.checks, ...options.cleanup, clearPendingRestart(service)],
    {
      // Stop first: with Restart=on-failure the rejected config may be mid-retry, and a restart
      // racing that retry fails on the killed start instead of starting the restored files.
      rollback: [
        ...options.restore,
        { argv: ['systemctl', 'stop', service] },
        resetFailed(service),
        { argv: ['systemctl', 'start', service] },
        ...options.cleanup,
        clearPendingRestart(service),
      ],
      diagnostics: [failedStartLog(service)],
    },
  );
}

/**
 * The log of the start that just failed, and only of it, read once it is all in: a plain journal
 * tail raced the broker's last line, and with Restart=on-failure could show a later retry (or
 * "start request repeated too quickly") instead of the broker's own error.
 * - The restart-pending marker, written before this run changed the config, dates our restart and
 *   holds the MainPID of the broker that ran before it.
 * - systemd's first "Failed with result" verdict (MESSAGE_ID below) after it names the failed
 *   start's InvocationID: systemd's own lines about that start.
 * - The broker's lines are those of the first process of the unit's program (SYSLOG_IDENTIFIER,
 *   which the stream carries itself) other than the old MainPID to log since then. Not
 *   _SYSTEMD_INVOCATION_ID: journald loses it for a process that exits at once (the 20-run loop
 *   saw it missing), and takes in pid 1's verdict and the broker's stream in no fixed order.
 * $1 service, $2 the marker. Both waits are bounded readiness checks (15 s, then 10 s).
 */
const failedStartLogScript = [
  'verdict=d9b373ed55a64feb8242e02dbe79a49c',
  'since=$(stat -c %.3Y "$2" 2>/dev/null) || since=$(($(date +%s) - 120))',
  'old=$(cat "$2" 2>/dev/null); old=${old:-0}',
  'program=$(systemctl show -p ExecStart --value "$1" | sed -n "s/.*path=\\([^ ;]*\\).*/\\1/p" | head -n 1); program=${program##*/}',
  'id=; n=0',
  'while [ -z "$id" ] && [ $n -lt 150 ]; do',
  '  id=$(journalctl -u "$1" --since "@$since" -o export MESSAGE_ID=$verdict | sed -n "s/^INVOCATION_ID=//p" | head -n 1)',
  '  [ -n "$id" ] || { n=$((n+1)); sleep 0.1; }',
  'done',
  '[ -n "$id" ] || exec journalctl -u "$1" --since "@$since" -n 30 --no-pager -o cat',
  'pid=; n=0',
  'while [ -z "$pid" ] && [ -n "$program" ] && [ $n -lt 100 ]; do',
  '  pid=$(journalctl --since "@$since" -o export SYSLOG_IDENTIFIER="$program" | sed -n "s/^_PID=//p" | grep -vx "$old" | head -n 1)',
  '  [ -n "$pid" ] || { n=$((n+1)); sleep 0.1; }',
  'done',
  'journalctl --no-pager -o cat --since "@$since" INVOCATION_ID="$id" ${pid:+ + _PID="$pid" SYSLOG_IDENTIFIER="$program"} | tail -n 40',
].join('\n');

export function failedStartLog(service: string): Command {
  return { argv: ['sh', '-c', failedStartLogScript, 'journal-of-the-failed-start', service, pendingRestartMarker(service)] };
}

export function reloadStep(service: string, reason: string): Step {
  return change('reload', `reload:${service}`, `reload ${service}`, reason, [
    { argv: ['systemctl', 'reload', service] },
    { argv: ['systemctl', 'is-active', '--quiet', service] },
  ]);
}
