import { parseSourceRange } from '../settings/source-ranges.ts';
import { InputError } from '../settings/input-error.ts';
import type { ParsedSettings } from '../settings/schema.ts';

/**
 * The `metrics` block's rules, called by each broker role while settings load (so a bad value
 * exits 2 before any host is touched): every scraper is an address or CIDR, and the port is not
 * one a listener already serves. `listenerNeeded` is the role's own requirement (Mosquitto: the
 * plain `mqtt` listener the exporter subscribes on; EMQX: `dashboard`, which serves the endpoint).
 */
export function checkMetricsSettings(settings: ParsedSettings, listenerNeeded: 'mqtt' | 'dashboard', errors: InputError[]): void {
  const { metrics } = settings;
  metrics.scrapers.forEach((text, index) => {
    const parsed = parseSourceRange(text);
    if ('error' in parsed) errors.push(new InputError(`settings.metrics.scrapers[${index}]`, parsed.error));
  });
  if (!metrics.enabled || settings.state === 'absent') return;
  const used = Object.entries(settings.listeners).find(([, port]) => port === metrics.port);
  if (used && settings.broker === 'mosquitto') errors.push(new InputError('settings.metrics.port', `port ${metrics.port} is already used by listener "${used[0]}"`));
  if (settings.broker === 'mosquitto') {
    for (const [list, entries] of [['admins', settings.admins], ['users', settings.users], ['consumers', settings.consumers]] as const) {
      entries.forEach((entry, index) => {
        if (entry.name === metricsUserName) errors.push(new InputError(`settings.${list}[${index}].name`, `"${metricsUserName}" is the exporter's own user while metrics.enabled is on`));
      });
    }
  }
  if (settings.listeners[listenerNeeded] === undefined) {
    const why = listenerNeeded === 'mqtt' ? 'the exporter subscribes to $SYS on the plain mqtt listener (127.0.0.1)' : "EMQX serves /api/v5/prometheus/stats on the dashboard listener";
    errors.push(new InputError('settings.metrics.enabled', `needs listeners.${listenerNeeded}: ${why}`));
  }
}

/** The broker user the exporter logs in as: read-only on $SYS/broker/#, a name no settings user may take. */
export const metricsUserName = 'metrics-exporter';
