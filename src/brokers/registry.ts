import { emptyFacts } from '../facts/empty-facts.ts';
import type { Settings } from '../settings/load.ts';
import type { BrokerRole } from './broker-role.ts';
import { mosquittoFiles } from './mosquitto/files.ts';
import { mosquittoFactQuery, planMosquitto } from './mosquitto/plan.ts';

/** The one place where the broker kind picks its role. */
const roles: Partial<Record<Settings['broker'], BrokerRole>> = {
  mosquitto: {
    factQuery: mosquittoFactQuery,
    plan: (facts, settings) => planMosquitto(facts, settings),
    renderFiles: (settings) => mosquittoFiles(settings, emptyFacts()),
  },
};

export function brokerRole(broker: Settings['broker']): BrokerRole {
  const role = roles[broker];
  if (!role) throw new Error(`broker "${broker}" has no host role yet`);
  return role;
}
