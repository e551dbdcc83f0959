import { emqxLayout } from '../brokers/emqx/layout.ts';
import type { Command } from '../transport/command.ts';
import type { Transport } from '../transport/transport.ts';
import { judgeClusterMembership, type NodeObservation } from './cluster-membership.ts';
import type { VerifyCheck } from './verify-report.ts';

/**
 * The gather half of the EMQX cluster-membership check (issue 24 item 5; the judge is
 * cluster-membership.ts). One round trip per host of the run: the node name from our emqx.conf
 * (so a node that is down is still known by name), `emqx ctl status` and `emqx ctl cluster
 * status --json`. bin/emqx exits 1 and prints nothing for a node that is down, so both may be empty.
 */
const observationScript = `conf=$1
printf 'conf-node\\t%s\\n' "$(sed -n 's/^[[:space:]]*name[[:space:]]*=[[:space:]]*"\\([^"]*\\)".*/\\1/p' "$conf" 2>/dev/null | head -n 1)"
printf 'status\\t%s\\n' "$(emqx ctl status 2>/dev/null | tr '\\n' ' ')"
echo 'cluster-status'
emqx ctl cluster status --json 2>/dev/null
exit 0`;

export function nodeObservationCommand(configFile: string = emqxLayout.configFile): Command {
  return { argv: ['sh', '-s', '--', configFile], stdin: observationScript };
}

/** What one host said; `node` is null when neither its config nor its CLI names it. */
export function parseNodeObservation(stdout: string): Omit<NodeObservation, 'node'> & { node: string | null } {
  const confNode = /^conf-node\t(.*)$/m.exec(stdout)?.[1]?.trim() || null;
  const status = /^status\t(.*)$/m.exec(stdout)?.[1] ?? '';
  // emqx_mgmt_cli.erl status/1: "Node ~p ~ts is ~p" (node, release, init status).
  const started = /Node '?([^'\s]+)'? \S+ is started/.exec(status);
  const marker = stdout.indexOf('cluster-status\n');
  const clusterText = marker < 0 ? '' : stdout.slice(marker + 'cluster-status\n'.length).trim();
  return { node: started?.[1] ?? confNode, up: started !== null, clusterStatus: clusterText === '' ? null : clusterText };
}

/** A host of this run, as verify reaches it. */
export interface ClusterPeer {
  label: string;
  connect: () => Promise<Transport>;
}

/**
 * Observes every host of the run and judges the seeds they turn out to be. A seed no reachable
 * host of this run is (a host left out by --limit, or one SSH could not reach) is "not checked",
 * never "down": nothing was looked at.
 */
export async function checkClusterMembership(seeds: string[], peers: ClusterPeer[], configFile?: string): Promise<VerifyCheck> {
  const observations: NodeObservation[] = [];
  const unreachable: string[] = [];
  for (const peer of peers) {
    let transport: Transport | undefined;
    try {
      transport = await peer.connect();
      const command = nodeObservationCommand(configFile);
      const result = await transport.exec(command.argv, { stdin: command.stdin! });
      const observed = parseNodeObservation(result.stdout);
      if (observed.node !== null) observations.push({ node: observed.node, up: observed.up, clusterStatus: observed.clusterStatus });
    } catch {
      unreachable.push(peer.label);
    } finally {
      await transport?.close().catch(() => undefined);
    }
  }
  const observed = new Set(observations.map((observation) => observation.node));
  const notChecked = seeds.filter((seed) => !observed.has(seed));
  if (notChecked.length === seeds.length) {
    return { name: 'cluster membership', status: 'skip', detail: `no host of this run could be checked${unreachable.length > 0 ? ` (unreachable: ${unreachable.join(', ')})` : ''}` };
  }
  const check = judgeClusterMembership(seeds, observations, notChecked);
  const note = notChecked.length === 0 ? '' : `; not checked: ${notChecked.join(', ')} (not a host of this run${unreachable.length > 0 ? `, or unreachable: ${unreachable.join(', ')}` : ''})`;
  return { ...check, detail: check.detail + note };
}
