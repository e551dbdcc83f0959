import type { HostTarget } from './converge-host.ts';

/**
 * A host as the front doors target it: the engine's HostTarget plus where its broker ports are
 * reachable from here. Below the front doors because verify after install takes one too.
 */
export interface InstallTarget extends HostTarget {
  address: string;
  /** Broker port on the host → port reachable from here (identity unless an inventory maps it). */
  ports: Record<number, number>;
}
