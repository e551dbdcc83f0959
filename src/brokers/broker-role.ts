import type { FactQuery, HostFacts } from '../facts/host-facts.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import type { Step } from '../operations/step.ts';
import type { Settings } from '../settings/load.ts';

/** What the engine needs of a broker: which facts to gather and how to plan from them. */
export interface BrokerRole {
  factQuery(settings: Settings): FactQuery;
  plan(facts: HostFacts, settings: Settings): Step[];
  /** The config files for these settings as a fresh host would get them (for --render-to). */
  renderFiles(settings: Settings): ManagedFile[];
}
