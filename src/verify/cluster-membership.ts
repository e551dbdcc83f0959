import type { VerifyCheck } from './verify-report.ts';

/**
 * Cluster membership of a static EMQX cluster (issue 24, item 5): every node of
 * emqx.cluster.seeds that runs must be in ONE cluster with the others that run. A node that is up
 * but formed a cluster of its own (never joined, left, or cut off) serves clients that the rest
 * never see: its subscribers miss what is published elsewhere. That is a failure, not a warning.
 *
 * Input per node: whether `emqx ctl status` says it is started, and the stdout of
 * `emqx ctl cluster status --json` run on that node. Fields at v5.7.2 and v5.8.6
 * (apps/emqx_management/src/emqx_mgmt_cli.erl cluster_info/0, mria src/mria.erl):
 * running_nodes = the running nodes this node is clustered with, itself included;
 * stopped_nodes = known members that do not run. Both are sorted. Both are [] when the CLI ran
 * before mria was up. test/fixtures/emqx-fake-cluster.ts reproduces them.
 */
export interface NodeObservation {
  /** The node's name as in emqx.cluster.seeds, e.g. emqx@10.0.0.5. */
  node: string;
  /** `emqx ctl status` printed "Node '…' … is started". */
  up: boolean;
  /** stdout of `emqx ctl cluster status --json` on that node; null when it could not be run. */
  clusterStatus: string | null;
}

export interface ClusterView {
  running: string[];
  stopped: string[];
}

/** The two lists, or null when the text is not that JSON document. */
export function parseClusterView(text: string): ClusterView | null {
  try {
    const parsed = JSON.parse(text) as { running_nodes?: unknown; stopped_nodes?: unknown };
    const names = (value: unknown) => (Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : null);
    const running = names(parsed.running_nodes);
    const stopped = names(parsed.stopped_nodes);
    return running && stopped ? { running, stopped } : null;
  } catch {
    return null;
  }
}

const list = (nodes: string[]) => `[${nodes.join(', ')}]`;

/** `notChecked`: seeds nobody looked at (not a host of this run): neither up nor down, left out of the figures' `up`. */
export function judgeClusterMembership(seeds: string[], observations: NodeObservation[], notChecked: string[] = []): VerifyCheck {
  const name = 'cluster membership';
  const byNode = new Map(observations.map((observation) => [observation.node, observation]));
  const problems: string[] = [];
  const warnings: string[] = [];
  const down = seeds.filter((seed) => !notChecked.includes(seed) && !byNode.get(seed)?.up);
  const views = new Map<string, ClusterView>();
  for (const seed of seeds.filter((node) => !down.includes(node) && !notChecked.includes(node))) {
    const text = byNode.get(seed)!.clusterStatus;
    const view = text === null ? null : parseClusterView(text);
    if (view === null) problems.push(`${seed} is up but its cluster status could not be read`);
    else if (!view.running.includes(seed)) problems.push(`${seed} is up but does not list itself among running nodes ${list(view.running)} (its database layer is not running)`);
    else views.set(seed, view);
  }

  // Nodes that see the same running set form one cluster; the largest (ties: the earlier seed) is "the cluster".
  const groups = new Map<string, string[]>();
  for (const [node, view] of views) {
    const key = [...view.running].sort().join(',');
    groups.set(key, [...(groups.get(key) ?? []), node]);
  }
  const ranked = [...groups.entries()].sort((a, b) => b[1].length - a[1].length || seeds.indexOf(a[1][0]!) - seeds.indexOf(b[1][0]!));
  const main = ranked[0];
  if (main && main[1].length === 1 && ranked.length > 1) {
    // A split into singletons has no "the cluster" to name: say what each node sees.
    problems.push(`no two running nodes are in one cluster: ${ranked.map(([, [node]]) => `${node} sees ${list(views.get(node!)!.running)}`).join(', ')}`);
  } else if (main) {
    const mainRunning = main[0].split(',');
    for (const [, members] of ranked.slice(1)) {
      for (const node of members) {
        problems.push(`${node} is up but not in the cluster: it sees running ${list(views.get(node)!.running)}, the cluster ${list(mainRunning)}`);
      }
    }
    const foreign = mainRunning.filter((node) => !seeds.includes(node));
    if (foreign.length > 0) warnings.push(`running nodes not in emqx.cluster.seeds: ${list(foreign)}`);
  }
  for (const node of down) {
    const knownStopped = [...views.values()].some((view) => view.stopped.includes(node));
    problems.push(`${node} is not running${knownStopped ? ' (the cluster lists it as stopped)' : ' and no running node knows it as a member'}`);
  }

  const inCluster = main ? main[1].length : 0;
  const figures = { seeds: seeds.length, inCluster, up: seeds.length - down.length - notChecked.length, ...(notChecked.length > 0 ? { notChecked: notChecked.length } : {}) };
  if (problems.length > 0) return { name, status: 'fail', detail: problems.join('; '), figures };
  const checked = seeds.length - notChecked.length;
  if (warnings.length > 0) return { name, status: 'warn', detail: `all ${checked} nodes in one cluster; ${warnings.join('; ')}`, figures };
  return { name, status: 'pass', detail: `all ${checked} nodes run in one cluster ${list(main![0].split(','))}`, figures };
}
