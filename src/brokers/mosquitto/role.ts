import type { BrokerRole } from '../broker-role.ts';
import { mosquittoFactQuery, planMosquitto } from './plan.ts';
import { mosquittoRenderFiles } from './render-files.ts';
import { prepareMosquitto } from './prepare.ts';
import { mosquittoSettingsRules } from './settings.ts';

/** Mosquitto as the engine sees it (src/brokers/registry.ts loads it when a run names Mosquitto). */
export const mosquittoRole: BrokerRole = {
  settings: mosquittoSettingsRules,
  factQuery: mosquittoFactQuery,
  prepare: prepareMosquitto,
  plan: planMosquitto,
  renderFiles: mosquittoRenderFiles,
};
