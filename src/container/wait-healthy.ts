import type { Command } from '../operations/step.ts';

// Its own module because two layers run it: the container planner after a create or restart, and
// verify after install (src/verify/install-hook.ts) before it connects to a container's broker.

/** Waits until the container reports healthy (or running, without a healthcheck); fails on unhealthy/exited. */
const waitHealthyScript =
  'i=0; while [ "$i" -lt "$2" ]; do ' +
  's=$(docker inspect -f "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}" "$1") || exit 1; ' +
  'case "$s" in healthy|running) exit 0;; unhealthy|exited|dead) echo "container $1 is $s" >&2; exit 1;; esac; ' +
  'sleep 1; i=$((i+1)); done; echo "container $1 is not healthy after $2 s" >&2; exit 1';

export function waitHealthy(name: string, timeoutSeconds = 60): Command {
  return { argv: ['sh', '-c', waitHealthyScript, 'mqtt-provision-wait', name, String(timeoutSeconds)] };
}
