import type { HostFacts } from '../../facts/host-facts.ts';
import type { Command } from '../../operations/step.ts';
import type { Settings } from '../../settings/load.ts';
import type { Transport } from '../../transport/transport.ts';

/**
 * A static EMQX cluster (emqx.cluster.seeds over several hosts) changes one node at a time: the
 * engine converges its hosts in order, one after the other, and stops at the first that fails
 * (BrokerRole.rolling). A restart only counts as done when the node is back in the cluster: every
 * node that was running before, and the node itself, are in `emqx ctl cluster status` running_nodes.
 */
export function isStaticCluster(settings: Settings): boolean {
  return settings.broker === 'emqx' && settings.emqx.cluster.seeds.length > 1;
}

/** How long a restarted node has to be back among the running nodes. */
export const rejoinSeconds = 120;

/** `emqx ctl cluster status --json` (emqx_mgmt_cli.erl, v5.7.2–v5.8.8): {"running_nodes": [...], "stopped_nodes": [...]}. */
export const clusterStatusCommand: Command = { argv: ['emqx', 'ctl', 'cluster', 'status', '--json'] };

/** running_nodes from the command's output; null when the output is not that JSON (node down, older CLI). */
export function parseClusterStatus(output: string): string[] | null {
  try {
    const parsed = JSON.parse(output) as { running_nodes?: unknown };
    return Array.isArray(parsed.running_nodes) ? parsed.running_nodes.filter((node): node is string => typeof node === 'string') : null;
  } catch {
    return null;
  }
}

/** Reads running_nodes on a cluster node whose EMQX runs; other hosts are left as they are. */
export async function gatherClusterFacts(transport: Transport, facts: HostFacts, settings: Settings): Promise<HostFacts> {
  if (!isStaticCluster(settings) || facts.services.emqx?.active !== 'active') return facts;
  const result = await transport.exec(clusterStatusCommand.argv);
  const clusterRunning = result.code === 0 ? parseClusterStatus(result.stdout.trim()) : null;
  return { ...facts, emqx: { status: facts.emqx?.status ?? null, api: facts.emqx?.api ?? null, clusterRunning } };
}

/** The nodes a restarted node must see running again: itself and the seeds that ran before it restarted. */
export function nodesToRejoin(settings: Settings, facts: HostFacts, self: string): string[] {
  const before = new Set(facts.emqx?.clusterRunning ?? []);
  return settings.emqx.cluster.seeds.filter((seed) => seed === self || before.has(seed));
}

/**
 * Polls `emqx ctl cluster status --json` once a second until every expected node is in
 * running_nodes, at most `seconds`; exit 1 naming the nodes that run and the ones expected.
 */
export function waitRejoinedCommand(nodes: string[], seconds = rejoinSeconds): Command {
  return {
    argv: [
      'sh',
      '-c',
      'limit=$1; shift; i=0; r=""; while [ "$i" -lt "$limit" ]; do ' +
        's=$(emqx ctl cluster status --json 2>/dev/null | tr -d \' \\n\\t\'); r=${s#*\'"running_nodes":[\'}; r=${r%%]*}; ' +
        'ok=1; for n in "$@"; do case ",$r," in *",\\"$n\\","*) ;; *) ok="" ;; esac; done; ' +
        '[ -n "$ok" ] && exit 0; i=$((i + 1)); sleep 1; done; ' +
        'echo "the node is not back in the cluster within $limit s: running nodes [$r], expected $*" >&2; exit 1',
      'mqtt-provision-wait-cluster',
      String(seconds),
      ...nodes,
    ],
  };
}
