import { change, type Command, type Step } from '../../operations/step.ts';

/**
 * SIGHUP makes Mosquitto re-read its password and ACL files, and `systemctl reload` succeeds
 * whatever the broker thought of them: a rejected ACL line ("Invalid ACL topic") is only logged,
 * and the broker fails at its next restart. So the reload is judged by the broker's own log.
 *
 * The broker logs "Reloading config." when it handles the signal, then any error of that reload
 * right after it, from the same thread. A second SIGHUP, sent once the first line is seen, gives a
 * second "Reloading config." that the journal can only hold after every line of the first reload:
 * the lines between the two are that reload's complete verdict, without guessing a delay.
 * Mosquitto clears its reload flag when a reload ends, so a signal that lands while a long one is
 * still parsing (10000 users take a while) is lost: the second signal is re-sent each second until
 * its line shows up. Extra reloads only re-read the same files.
 */
const checkedReloadScript = `set -u
svc=$1
start=$(date +%s)
cursor=$(journalctl -u "$svc" -n 1 --show-cursor -o cat --no-pager 2>/dev/null | sed -n 's/^-- cursor: //p')
since() {
  if [ -n "$cursor" ]; then journalctl -u "$svc" --after-cursor "$cursor" -o cat --no-pager 2>/dev/null
  else journalctl -u "$svc" --since "@$start" -o cat --no-pager 2>/dev/null; fi
}
wait_for() {
  n=0
  while [ "$(since | grep -c 'Reloading config\\.$')" -lt "$1" ]; do
    n=$((n + 1))
    if [ "$1" -gt 1 ] && [ $((n % 10)) -eq 0 ]; then systemctl reload "$svc" || exit 1; fi
    if [ "$n" -gt 300 ]; then echo "$svc logged no \\"Reloading config.\\" within 30 s of SIGHUP (its config must keep log_type information and log_dest stderr)" >&2; exit 1; fi
    sleep 0.1
  done
}
systemctl reload "$svc" || exit 1
wait_for 1
systemctl reload "$svc" || exit 1
wait_for 2
errors=$(since | awk '/Reloading config\\.$/ { n++; next } n == 1 && /Error/')
if [ -n "$errors" ]; then printf '%s rejected the new files on reload:\\n%s\\n' "$svc" "$errors" >&2; exit 1; fi
systemctl is-active --quiet "$svc"`;

/**
 * Reload that fails, naming the broker's own error, when Mosquitto refused what it re-read. The
 * script travels on stdin (like the fact probe), so a failure prints `sh -s -- mosquitto`, not it.
 */
export function checkedReloadStep(service: string, reason: string): Step {
  return change('reload', `reload:${service}`, `reload ${service}`, reason, [{ argv: ['sh', '-s', '--', service], stdin: checkedReloadScript }]);
}

/**
 * The rollback of a reload that only renewed the server certificate and key: the previous pair is
 * back on disk, and the same checked reload loads it, so the clients connected through it all stay
 * (the lab showed a mismatched pair leaves the broker running but failing new handshakes until a
 * good pair is loaded). Only when that reload fails too (the broker died) is it restarted.
 */
export function checkedReloadOrRestartCommand(service: string): Command {
  const stdin = `checked_reload() {
${checkedReloadScript}
}
if ( checked_reload "$1" ); then exit 0; fi
echo "the reload onto the previous files failed: restarting $1" >&2
systemctl restart "$1" && systemctl is-active --quiet "$1"`;
  return { argv: ['sh', '-s', '--', service], stdin };
}
