import type { Settings } from '../settings/load.ts';

/** The TCP ports the broker will listen on: exactly what the firewall opens and the verifier probes. */
export function servedPorts(settings: Settings): number[] {
  return Object.values(settings.listeners)
    .filter((port): port is number => port !== undefined)
    .sort((a, b) => a - b);
}
