/**
 * Phase marks for the performance work (issue 20): with MQTT_PROVISION_TIMINGS=1 every front door
 * prints `timing <ms since process start> <phase> [host]` lines on stderr, so a no-op's time can be
 * split (process start, modules, settings, connect, lock and facts, plan, apply, exit) without a
 * profiler; bench/floor.mts reads them. Off, a mark costs one boolean test.
 */
const enabled = process.env.MQTT_PROVISION_TIMINGS === '1';

export function mark(phase: string, host?: string): void {
  if (enabled) process.stderr.write(`timing ${performance.now().toFixed(1)} ${phase}${host === undefined ? '' : ` ${host}`}\n`);
}

/** The marks of one run's stderr, in order: phase and host with the time of each. */
export function readMarks(stderr: string): { ms: number; phase: string; host?: string }[] {
  return [...stderr.matchAll(/^timing (\d+(?:\.\d+)?) (\S+)(?: (\S+))?$/gm)].map((m) => ({ ms: Number(m[1]), phase: m[2]!, ...(m[3] === undefined ? {} : { host: m[3] }) }));
}
