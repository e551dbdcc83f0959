import net from 'node:net';
import { InputError } from './input-error.ts';
import type { ParsedSettings } from './schema.ts';
import { parseSourceRange } from './source-ranges.ts';

/**
 * Checks `listenerAccess` (bind address and `allowFrom` per listener) while settings load, so a bad
 * range stops the run before any host is touched. Every problem names its field.
 */
export function checkListenerAccess(settings: Pick<ParsedSettings, 'listeners' | 'listenerAccess' | 'firewall'>, errors: InputError[]): void {
  for (const [name, access] of Object.entries(settings.listenerAccess)) {
    if (access === undefined) continue;
    const field = `settings.listenerAccess.${name}`;
    if (settings.listeners[name as keyof ParsedSettings['listeners']] === undefined) {
      errors.push(new InputError(field, `settings.listeners has no "${name}" listener to restrict; add its port there or remove this entry`));
    }
    if (access.bind !== undefined) {
      if (net.isIP(access.bind) === 0) errors.push(new InputError(`${field}.bind`, `${JSON.stringify(access.bind)} is not an IPv4 or IPv6 address (host names are not accepted: the broker binds before DNS is sure to answer)`));
      // The toolkit itself reaches EMQX's REST API on 127.0.0.1 at the dashboard port (src/brokers/emqx/rest-scripts.ts).
      else if (name === 'dashboard' && !isAllOrLoopback(access.bind)) {
        errors.push(new InputError(`${field}.bind`, 'may only be 127.0.0.1 (or all addresses): mqtt-provision calls the REST API on 127.0.0.1; restrict who reaches it with allowFrom'));
      }
    }
    if (access.allowFrom === undefined) continue;
    if (settings.firewall === 'off') {
      errors.push(new InputError(`${field}.allowFrom`, 'nothing would enforce it: settings.firewall is "off"; set it to "auto" or remove allowFrom'));
    }
    access.allowFrom.forEach((text, index) => {
      const parsed = parseSourceRange(text);
      if ('error' in parsed) errors.push(new InputError(`${field}.allowFrom[${index}]`, parsed.error));
    });
  }
}

function isAllOrLoopback(address: string): boolean {
  return ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(address);
}
