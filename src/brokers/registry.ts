import type { Settings } from '../settings/load.ts';
import type { BrokerRole } from './broker-role.ts';
import { gatherEmqxApiFacts } from './emqx/api-facts.ts';
import { gatherClusterFacts, isStaticCluster } from './emqx/cluster.ts';
import { emqxRenderFiles } from './emqx/render-files.ts';
import { emqxFactQuery, planEmqx } from './emqx/plan.ts';
import { prepareEmqx } from './emqx/prepare.ts';
import { emqxPersistenceWarnings } from './emqx/review.ts';
import { emqxSettingsRules } from './emqx/settings.ts';
import { mosquittoRenderFiles } from './mosquitto/render-files.ts';
import { mosquittoFactQuery, planMosquitto } from './mosquitto/plan.ts';
import { mosquittoSettingsRules } from './mosquitto/settings.ts';
import { prepareMosquitto } from './mosquitto/prepare.ts';

/** The one place where the broker kind picks its role. */
const roles: Partial<Record<Settings['broker'], BrokerRole>> = {
  mosquitto: {
    settings: mosquittoSettingsRules,
    factQuery: mosquittoFactQuery,
    prepare: (facts, settings, options) => prepareMosquitto(facts, settings, options),
    plan: planMosquitto,
    renderFiles: mosquittoRenderFiles,
  },
  emqx: {
    settings: emqxSettingsRules,
    factQuery: emqxFactQuery,
    prepare: (facts, settings, options) => prepareEmqx(facts, settings, options),
    plan: planEmqx,
    renderFiles: emqxRenderFiles,
    extraFacts: async (transport, facts, settings) => gatherClusterFacts(transport, await gatherEmqxApiFacts(transport, facts, settings), settings),
    rolling: isStaticCluster,
    warnings: emqxPersistenceWarnings,
  },
};

export function brokerRole(broker: Settings['broker']): BrokerRole {
  const role = roles[broker];
  if (!role) throw new Error(`broker "${broker}" has no host role yet`);
  return role;
}
