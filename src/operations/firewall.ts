import type { HostFacts } from '../facts/host-facts.ts';
import { firewalldSourceCommands, ufwSourceCommands, type ListenerAccess } from './firewall-sources.ts';
import { change, noChange, type Step } from './step.ts';

/**
 * Ports either broker serves by convention. A port in this set that the settings no longer serve
 * is closed again, so the firewall lists exactly the served ones; ports outside it belong to
 * someone else (8080 is not here: neither broker serves it, and other services often do).
 * 9641 is the Mosquitto metrics exporter's default port (metrics.port): closed when metrics go off.
 */
export const brokerPortUniverse = [1883, 8883, 8083, 8084, 18083, 9641];

/** `1883/tcp` for a port open to anyone, `1883/tcp from 10.0.0.0/8, 192.0.2.7/32` for a restricted one. */
function describe(access: ListenerAccess): string {
  return access.allowFrom === null ? `${access.port}/tcp` : `${access.port}/tcp from ${access.allowFrom.map((range) => range.cidr).join(', ')}`;
}

/**
 * Makes firewalld (runtime and permanent) or an active ufw admit exactly `wanted`: a port open to
 * anyone as a plain port rule, a port restricted by source as one rule per range (firewalld rich
 * rules, ufw `from` rules) and no plain rule. The commands come from src/operations/firewall-sources.ts.
 */
export function firewallStep(facts: HostFacts, wanted: ListenerAccess[], mode: 'auto' | 'off'): Step {
  const id = 'firewall';
  const title = `firewall ports ${wanted.map(describe).join('; ') || '(none)'}`;
  if (mode === 'off') return noChange('firewall', id, title, 'firewall management is off in the settings');
  if (facts.firewalld?.running) {
    const { runtimePorts, permanentPorts, runtimeRichRules = '', permanentRichRules = '' } = facts.firewalld;
    const commands = firewalldSourceCommands({ ports: runtimePorts, richRules: runtimeRichRules }, { ports: permanentPorts, richRules: permanentRichRules }, wanted);
    const note = serviceWarnings(wanted, [...(facts.firewalld.runtimeServices ?? []), ...(facts.firewalld.permanentServices ?? [])]);
    if (commands.length === 0) return noChange('firewall', id, title, `firewalld already admits exactly these sources to these ports${note}`);
    return change('firewall', id, title, `firewalld ports or rich rules differ${note}`, commands);
  }
  if (facts.ufw?.active) {
    // Without the listing (an older probe's facts) the plain ports are all that is known.
    const status = facts.ufw.status ?? ufwListing(facts.ufw.allowedPorts);
    const commands = ufwSourceCommands(status, wanted);
    if (commands.length === 0) return noChange('firewall', id, title, 'ufw already admits exactly these sources to these ports');
    return change('firewall', id, title, 'ufw rules differ', commands);
  }
  return noChange('firewall', id, title, 'no firewall is running on the host');
}

/** A `ufw status` listing of plain port rules, in ufw's own columns. */
function ufwListing(ports: string[]): string {
  return ['To                         Action      From', '--                         ------      ----', ...ports.map((port) => `${port.padEnd(27)}ALLOW       Anywhere`)].join('\n');
}

/** firewalld's own services for MQTT (ports 1883 and 8883 in firewalld 1.3's services/mqtt*.xml). */
const mqttServices: Record<string, number> = { mqtt: 1883, 'mqtt-tls': 8883 };

/**
 * A zone service opening a restricted port admits everyone whatever our rich rules say. It is not
 * ours (an admin enabled it), so it is left alone and named in the step's reason instead.
 */
function serviceWarnings(wanted: ListenerAccess[], services: string[]): string {
  const restricted = new Set(wanted.filter((access) => access.allowFrom !== null).map((access) => access.port));
  const open = [...new Set(services)].filter((service) => restricted.has(mqttServices[service] ?? -1));
  return open.map((service) => `; warning: firewalld service "${service}" opens ${mqttServices[service]}/tcp to everyone, so allowFrom is not enforced there (left alone: not ours)`).join('');
}

