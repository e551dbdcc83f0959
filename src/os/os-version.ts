import type { HostFacts } from '../facts/host-facts.ts';

/** Major version number from VERSION_ID ("9.3" → 9, "22.04" → 22, "7" → 7). */
export function osMajorVersion(facts: HostFacts): number {
  return Number.parseInt(facts.os.versionId, 10) || 0;
}
