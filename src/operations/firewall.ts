import type { HostFacts } from '../facts/host-facts.ts';
import { change, noChange, type Command, type Step } from './step.ts';

/**
 * Ports either broker serves by convention. A port in this set that the settings no longer serve
 * is closed again, so the firewall lists exactly the served ones; ports outside it belong to
 * someone else (8080 is not here: neither broker serves it, and other services often do).
 * 9641 is the Mosquitto metrics exporter's default port (metrics.port): closed when metrics go off.
 */
export const brokerPortUniverse = [1883, 8883, 8083, 8084, 18083, 9641];

/** Opens exactly the served ports in firewalld (runtime and permanent) or in an active ufw. */
export function firewallStep(facts: HostFacts, servedPorts: number[], mode: 'auto' | 'off'): Step {
  const id = 'firewall';
  const title = `firewall ports ${servedPorts.map((port) => `${port}/tcp`).join(', ') || '(none)'}`;
  if (mode === 'off') return noChange('firewall', id, title, 'firewall management is off in the settings');
  const wanted = servedPorts.map((port) => `${port}/tcp`);
  const managed = new Set([...brokerPortUniverse.map((port) => `${port}/tcp`), ...wanted]);
  if (facts.firewalld?.running) {
    const commands: Command[] = [];
    for (const [flag, present] of [
      [[], facts.firewalld.runtimePorts],
      [['--permanent'], facts.firewalld.permanentPorts],
    ] as const) {
      for (const port of wanted.filter((item) => !present.includes(item))) commands.push({ argv: ['firewall-cmd', '-q', ...flag, `--add-port=${port}`] });
      for (const port of present.filter((item) => managed.has(item) && !wanted.includes(item))) {
        commands.push({ argv: ['firewall-cmd', '-q', ...flag, `--remove-port=${port}`] });
      }
    }
    if (commands.length === 0) return noChange('firewall', id, title, 'firewalld already opens exactly these ports');
    return change('firewall', id, title, 'firewalld ports differ', commands);
  }
  if (facts.ufw?.active) {
    const present = facts.ufw.allowedPorts;
    const commands: Command[] = [
      ...wanted.filter((port) => !present.includes(port)).map((port) => ({ argv: ['ufw', 'allow', port] })),
      ...present.filter((port) => managed.has(port) && !wanted.includes(port)).map((port) => ({ argv: ['ufw', 'delete', 'allow', port] })),
    ];
    if (commands.length === 0) return noChange('firewall', id, title, 'ufw already allows exactly these ports');
    return change('firewall', id, title, 'ufw rules differ', commands);
  }
  return noChange('firewall', id, title, 'no firewall is running on the host');
}
