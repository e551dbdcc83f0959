import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { ExecResult, HeldCommand, Transport } from '../transport/transport.ts';

/**
 * One converge at a time per host (or per container on a Docker host): a flock held ON the host,
 * for the whole run, by a command whose stdin is our SSH channel (or our child's pipe). When the
 * run ends, is killed, or its connection is lost, the command sees EOF and exits, and the kernel
 * drops the lock with it: a dead run never blocks the next one. Every front door goes through
 * the engine, so every front door takes it (dry runs too: like `terraform plan`, a plan read
 * while another run is changing the host would show a state that is about to vanish).
 */

export const defaultLockTimeoutSeconds = 120;

/** The exit code the lock script uses when the wait ran out. */
const busyExit = 75;

/**
 * $1 lock name, $2 seconds to wait, $3 who we are. /run/lock is a tmpfs on systemd hosts (a
 * reboot clears it); umask 0 lets a non-root Docker user and root share the file.
 */
export const lockScript = [
  'umask 0',
  'd=/run/lock; { [ -d "$d" ] && [ -w "$d" ]; } || d="${TMPDIR:-/tmp}"',
  'lock="$d/mqtt-provision-$1.lock"',
  'exec 9>>"$lock" || exit 70',
  `if ! flock -w "$2" 9; then printf 'BUSY %s\\n' "$(cat "$lock.holder" 2>/dev/null || echo 'an unknown run')"; exit ${busyExit}; fi`,
  'printf \'%s\\n\' "$3" > "$lock.holder"',
  'echo LOCKED',
  // $4 bytes of script, $5 an end marker, the rest its arguments: the script comes first on our
  // stdin and runs now, under the lock, in this same session (one channel, one sudo per host). The
  // marker ends both its stdout (with its exit code) and its stderr, which arrive independently.
  `if [ "$#" -gt 3 ]; then n=$4 end=$5; shift 5; head -c "$n" | sh -s -- "$@"; rc=$?; printf '\\n%s %s\\n' "$end" "$rc"; printf '\\n%s\\n' "$end" >&2; fi`,
  // Held until our stdin closes: released by us, or by sshd when the session goes away.
  'cat > /dev/null',
  'rm -f "$lock.holder" 2>/dev/null',
  'exit 0',
].join('\n');

export interface HostLock {
  /** What `then` printed and how it ended, when the lock was asked to run one. */
  output?: ExecResult;
  release(): Promise<void>;
}

/** A script (sent on stdin to `sh -s`) and its arguments, run as soon as the lock is held. */
export interface ThenRun {
  script: string;
  args: readonly string[];
}

export class HostLockBusy extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostLockBusy';
  }
}

/** Who holds a lock, as the next run reports it: user, controller, pid and since when. */
export function describeHolder(now: Date = new Date()): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers): the rest still names the run.
  }
  return `${user} on ${hostname()} (pid ${process.pid}) since ${now.toISOString().replace(/\.\d+Z$/, 'Z')}`.replace(/[^\x20-\x7e]/g, '?');
}

/** The lock's name on the host: one per host, or one per container on a Docker host. */
export function lockName(container?: string): string {
  return container === undefined ? 'host' : `docker-${container.replace(/[^\w.-]/g, '_')}`;
}

/**
 * Waits up to timeoutSeconds for the lock, then fails naming the run that holds it. The
 * controller's own timer is a backstop only (a host that stops answering mid-wait).
 */
export async function acquireHostLock(
  transport: Transport,
  name: string,
  timeoutSeconds: number = defaultLockTimeoutSeconds,
  holder: string = describeHolder(),
  then?: ThenRun,
): Promise<HostLock> {
  // A fresh marker per run, so no line the script prints can end its output early.
  const marker = `mqtt-provision-end-${randomUUID()}`;
  const extra = then ? [String(Buffer.byteLength(then.script)), marker, ...then.args] : [];
  const held: HeldCommand = transport.start(['sh', '-c', lockScript, 'mqtt-provision-lock', name, String(timeoutSeconds), holder, ...extra], then ? { stdin: then.script } : {});
  let timer: NodeJS.Timeout | undefined;
  const backstop = new Promise<'late'>((resolveLate) => (timer = setTimeout(() => resolveLate('late'), (timeoutSeconds + 60) * 1000)));
  const first = await Promise.race([held.firstLine, backstop]);
  clearTimeout(timer);
  if (first !== 'late' && 'line' in first && first.line.trim() === 'LOCKED') {
    if (!then) return { release: () => held.release() };
    const ran = await held.until(marker);
    if ('ended' in ran) {
      void held.release();
      throw new Error(`${transport.label}: the host lock's session ended early (exit ${ran.ended.code}): ${(ran.ended.stderr || ran.ended.stdout).trim()}`);
    }
    const code = Number.parseInt(ran.status, 10);
    return { output: { code: Number.isInteger(code) ? code : 1, stdout: ran.text, stderr: ran.stderr }, release: () => held.release() };
  }
  void held.release();
  if (first === 'late') throw new Error(`${transport.label}: no answer while waiting for the host lock`);
  // trim(): a line may end in \r\n where the command's output passes through a pty.
  if ('line' in first && first.line.startsWith('BUSY ')) {
    throw new HostLockBusy(
      `${transport.label} is locked by another mqtt-provision run: ${first.line.slice(5).trim()}; gave up after ${timeoutSeconds} s (--lock-timeout)`,
    );
  }
  const detail = 'line' in first ? first.line : `exit ${first.ended.code}: ${(first.ended.stderr || first.ended.stdout).trim()}`;
  throw new Error(`${transport.label}: cannot take the host lock (${detail})`);
}

/** Runs fn while holding the lock; released even when fn throws. */
export async function withHostLock<T>(transport: Transport, name: string, timeoutSeconds: number | undefined, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireHostLock(transport, name, timeoutSeconds);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
