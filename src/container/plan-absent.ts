import path from 'node:path';
import { change, noChange, type Command, type Step } from '../operations/step.ts';
import { dataVolume, LABEL_MANAGED } from './desired.ts';
import type { ContainerFacts } from './facts.ts';
import { currentSpec, foreignVolumes, stopAndRemove } from './plan.ts';

/**
 * Pure: `state: absent` for a container target. The container is stopped (SIGTERM, so the broker
 * saves its data) and removed with its config directory (and the parent named after the
 * container, when that is left empty); the volumes go only with purgeData, and only ours.
 */
export function planContainerAbsent(facts: ContainerFacts, target: { name: string; configDir: string; volumeNames: string[]; purgeData: boolean }): Step[] {
  if (facts.container !== null && facts.container.labels[LABEL_MANAGED] !== 'true') {
    throw new Error(`a container named ${target.name} exists and mqtt-provision did not create it; it is left alone`);
  }
  const foreign = foreignVolumes(facts, target.volumeNames);
  if (target.purgeData && foreign.length > 0) {
    throw new Error(`volume ${foreign.join(', ')} exists without the ${LABEL_MANAGED} label: mqtt-provision did not create it, and purgeData will not remove it`);
  }
  const id = `container:${target.name}`;
  const title = `container ${target.name}`;
  const steps: Step[] = [
    facts.container === null
      ? noChange('container', id, title, 'absent')
      : change('container', id, title, `${facts.container.status}, removing it`, stopAndRemove(target.name, currentSpec(facts.container.labels)?.stopTimeoutSeconds ?? 30)),
  ];
  const stored = Object.entries(facts.files).some(([file, content]) => file.startsWith(`${target.configDir}/`) && content !== null);
  const parent = path.dirname(target.configDir);
  // The default layout is containers/NAME/config: NAME/ is ours too, removed when nothing else is in it.
  const removeParent: Command[] = path.basename(parent) === target.name ? [{ argv: ['sh', '-c', 'rmdir -- "$1" 2>/dev/null || true', 'mqtt-provision-rmdir', parent] }] : [];
  steps.push(
    stored || facts.directories[target.configDir] === true
      ? change('directory', `directory:${target.configDir}`, `directory ${target.configDir}`, 'remove the rendered config (it holds password hashes)', [{ argv: ['rm', '-rf', '--', target.configDir] }, ...removeParent])
      : noChange('directory', `directory:${target.configDir}`, `directory ${target.configDir}`, 'absent'),
  );
  for (const volume of target.volumeNames) {
    const volumeId = `volume:${volume}`;
    const holds = volume === dataVolume(target.name) ? 'sessions and queued messages' : "the broker's log directory";
    if (!facts.volumes[volume]) steps.push(noChange('container', volumeId, `volume ${volume}`, 'absent'));
    else if (!facts.volumes[volume]!.managed) steps.push(noChange('container', volumeId, `volume ${volume}`, 'not created by mqtt-provision; left alone'));
    else if (!target.purgeData) steps.push(noChange('container', volumeId, `volume ${volume}`, `kept (${holds}; purgeData removes it)`));
    else steps.push(change('container', volumeId, `volume ${volume}`, 'purgeData', [{ argv: ['docker', 'volume', 'rm', volume] }]));
  }
  return steps;
}
