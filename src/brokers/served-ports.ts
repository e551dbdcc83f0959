import type { ListenerAccess } from '../operations/firewall-sources.ts';
import { parseSourceRange, type SourceRange } from '../operations/source-ranges.ts';
import type { Settings } from '../settings/load.ts';

/** The TCP ports the broker will listen on: exactly what the firewall opens and the verifier probes. */
export function servedPorts(settings: Settings): number[] {
  return Object.values(settings.listeners)
    .filter((port): port is number => port !== undefined)
    .sort((a, b) => a - b);
}

/**
 * The metrics port as one more firewall entry, admitted only from `metrics.scrapers` (validated
 * while settings load). Mosquitto's exporter only: EMQX serves its endpoint on the dashboard
 * listener, which is already an entry of its own. None when metrics are off or nobody may scrape.
 */
export function metricsAccess(settings: Settings): ListenerAccess[] {
  if (settings.broker !== 'mosquitto' || !settings.metrics.enabled || settings.state === 'absent') return [];
  const allowFrom = settings.metrics.scrapers.map(parseSourceRange).filter((range): range is SourceRange => !('error' in range));
  return allowFrom.length === 0 ? [] : [{ port: settings.metrics.port, allowFrom }];
}
