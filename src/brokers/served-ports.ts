import type { ListenerAccess } from '../operations/firewall-sources.ts';
import type { Settings } from '../settings/load.ts';
import { parseSourceRange, type SourceRange } from '../settings/source-ranges.ts';

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
  const allowFrom = sourceRanges(settings.metrics.scrapers) ?? [];
  return allowFrom.length === 0 ? [] : [{ port: settings.metrics.port, allowFrom }];
}

/** Listener name → the one local address it binds to; listeners without one listen on all addresses. */
export function listenerBinds(settings: Settings): Partial<Record<keyof Settings['listeners'], string>> {
  return Object.fromEntries(Object.entries(settings.listenerAccess).flatMap(([name, access]) => (access?.bind === undefined ? [] : [[name, access.bind]])));
}

/**
 * What the firewall step admits, one entry per served port: anyone (`allowFrom: null`, the default)
 * or only the listener's `listenerAccess.<name>.allowFrom` ranges, canonical and without repeats.
 * Other ports the firewall should open (e.g. a metrics port for its scrapers) are more entries here.
 */
export function listenerAccess(settings: Settings): ListenerAccess[] {
  return (Object.entries(settings.listeners) as Array<[keyof Settings['listeners'], number | undefined]>)
    .filter((entry): entry is [keyof Settings['listeners'], number] => entry[1] !== undefined)
    .map(([name, port]) => ({ port, allowFrom: sourceRanges(settings.listenerAccess[name]?.allowFrom) }))
    .sort((a, b) => a.port - b.port);
}

/** Ranges were checked while loading (src/settings/listener-access.ts); one that is not is a bug, not input. */
function sourceRanges(texts: string[] | undefined): SourceRange[] | null {
  if (texts === undefined) return null;
  const ranges = new Map<string, SourceRange>();
  for (const text of texts) {
    const parsed = parseSourceRange(text);
    if ('error' in parsed) throw new Error(`listenerAccess was not validated: ${parsed.error}`);
    ranges.set(parsed.cidr, parsed);
  }
  return [...ranges.values()];
}
