import type { BrokerRole } from '../broker-role.ts';
import { gatherEmqxApiFacts } from './api-facts.ts';
import { gatherClusterFacts, isStaticCluster } from './cluster.ts';
import { emqxFactQuery, planEmqx } from './plan.ts';
import { prepareEmqx } from './prepare.ts';
import { emqxRenderFiles } from './render-files.ts';
import { emqxPersistenceWarnings } from './review.ts';
import { emqxSettingsRules } from './settings.ts';

/** EMQX as the engine sees it (src/brokers/registry.ts loads it when a run names EMQX). */
export const emqxRole: BrokerRole = {
  settings: emqxSettingsRules,
  factQuery: emqxFactQuery,
  prepare: prepareEmqx,
  plan: planEmqx,
  renderFiles: emqxRenderFiles,
  extraFacts: async (transport, facts, settings) => gatherClusterFacts(transport, await gatherEmqxApiFacts(transport, facts, settings), settings),
  rolling: isStaticCluster,
  warnings: emqxPersistenceWarnings,
};
