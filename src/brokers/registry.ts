import { createRequire } from 'node:module';
import type { Settings } from '../settings/load.ts';
import type { BrokerRole } from './broker-role.ts';

// Each role's modules load when a run first names its broker (issue 20): a Mosquitto run does not
// compile EMQX's 16 files. require() (Node's require of ES modules) keeps brokerRole() synchronous
// for its callers; the layers test counts these require() calls as imports.
const require = createRequire(import.meta.url);

/** The one place where the broker kind picks its role. */
const roles: Partial<Record<Settings['broker'], () => BrokerRole>> = {
  mosquitto: () => (require('./mosquitto/role.ts') as typeof import('./mosquitto/role.ts')).mosquittoRole,
  emqx: () => (require('./emqx/role.ts') as typeof import('./emqx/role.ts')).emqxRole,
};

export function brokerRole(broker: Settings['broker']): BrokerRole {
  const role = roles[broker];
  if (!role) throw new Error(`broker "${broker}" has no host role yet`);
  return role();
}
