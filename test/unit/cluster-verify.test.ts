import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import type { InstallTarget } from '../../src/engine/install-target.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { checkClusterMembership, parseNodeObservation, type ClusterPeer } from '../../src/verify/cluster-check.ts';
import { installVerifyOptions } from '../../src/verify/install-hook.ts';
import { buildReport, formatVerifyReport } from '../../src/verify/verify-report.ts';
import type { FakeClusterPartition } from '../fixtures/emqx-fake-cluster.ts';
import { fakeHost } from '../fixtures/emqx-fake-host.ts';
import { clusterSettings } from '../fixtures/emqx-settings.ts';

// Issue 24 item 5 (fixture-level): verify of an EMQX static cluster looks at every host of the
// run over SSH (fake `emqx` per host, its cluster view from test/fixtures/emqx-fake-cluster.ts)
// and fails a node that is up but not in the cluster.

const [a, b, c] = clusterSettings.emqx.cluster.seeds;

/** One fake host per node: its own emqx.conf (node name), the fake emqx and the shared partitions. */
function peer(node: string, partitions: FakeClusterPartition[], running = true): ClusterPeer & { configFile: string } {
  const host = fakeHost({ node, running, cluster: partitions });
  const configFile = join(host.directory, 'emqx.conf');
  writeFileSync(configFile, `node {\n  name = "${node}"\n  cookie = "x"\n}\ncluster {\n  name = emqxcl\n}\n`);
  const transport: Transport = {
    label: `root@${node.slice(5)}`,
    exec: async (argv, options) => host.run({ argv: [...argv], ...(options?.stdin === undefined ? {} : { stdin: String(options.stdin) }) }, 'dash'),
    start: () => {
      throw new Error('not used');
    },
    close: async () => undefined,
  };
  return { label: transport.label, connect: async () => transport, configFile };
}

/** All peers share one config path in production; here each fake host has its own, so the check gets a per-peer command. */
async function check(peers: Array<ClusterPeer & { configFile?: string }>) {
  // The observation script reads the path given as its argument: point each peer at its own file.
  const wrapped = peers.map((one) => ({
    label: one.label,
    connect: async () => {
      const transport = await one.connect();
      return { ...transport, exec: (argv: readonly string[], options?: Parameters<Transport['exec']>[1]) => transport.exec(one.configFile ? [...argv.slice(0, 3), one.configFile] : argv, options) };
    },
  }));
  return checkClusterMembership([a, b, c], wrapped);
}

describe('EMQX cluster membership in verify (fixture-level)', () => {
  it('passes when every seed runs in one cluster', async () => {
    const partitions = [{ members: [a, b, c], running: [a, b, c] }];
    const result = await check([peer(a, partitions), peer(b, partitions), peer(c, partitions)]);
    assert.equal(result.status, 'pass', result.detail);
    assert.deepEqual(result.figures, { seeds: 3, inCluster: 3, up: 3 });
  });

  it('fails a node that is up but never joined, naming what it sees and the cluster', async () => {
    const partitions = [{ members: [a, b], running: [a, b] }, { members: [c], running: [c] }];
    const result = await check([peer(a, partitions), peer(b, partitions), peer(c, partitions)]);
    assert.equal(result.status, 'fail');
    assert.equal(result.detail, `${c} is up but not in the cluster: it sees running [${c}], the cluster [${a}, ${b}]`);
    assert.deepEqual(result.figures, { seeds: 3, inCluster: 2, up: 3 });
  });

  it('fails a member that is down, known by name from its emqx.conf (the CLI prints nothing then)', async () => {
    const partitions = [{ members: [a, b, c], running: [a, c] }];
    const result = await check([peer(a, partitions), peer(b, partitions, false), peer(c, partitions)]);
    assert.equal(result.status, 'fail');
    assert.equal(result.detail, `${b} is not running (the cluster lists it as stopped)`);
  });

  it('a host SSH cannot reach is "not checked", not down; the others are still judged', async () => {
    const partitions = [{ members: [a, b, c], running: [a, b, c] }];
    const unreachable: ClusterPeer = { label: 'root@10.0.0.8', connect: async () => Promise.reject(new Error('connect ECONNREFUSED')) };
    const result = await check([peer(a, partitions), peer(b, partitions), unreachable]);
    assert.equal(result.status, 'pass', result.detail);
    assert.match(result.detail, new RegExp(`; not checked: ${c} \\(not a host of this run, or unreachable: root@10\\.0\\.0\\.8\\)$`));
    assert.deepEqual(result.figures, { seeds: 3, inCluster: 2, up: 2, notChecked: 1 }, 'in cluster counts the nodes looked at');
    const none = await checkClusterMembership([a, b, c], [unreachable]);
    assert.equal(none.status, 'skip');
  });

  it('reads the observation: node from the CLI when up, from emqx.conf when down', () => {
    const up = parseNodeObservation(`conf-node\t${a}\nstatus\tNode '${a}' 5.8.6 is started \ncluster-status\n{"running_nodes": ["${a}"], "stopped_nodes": []}\n`);
    assert.deepEqual(up, { node: a, up: true, clusterStatus: `{"running_nodes": ["${a}"], "stopped_nodes": []}` });
    assert.deepEqual(parseNodeObservation(`conf-node\t${b}\nstatus\t\ncluster-status\n`), { node: b, up: false, clusterStatus: null });
  });

  it('the install verify of a static cluster carries the check, a single node does not; a failure fails the report', async () => {
    const settings = resolveSettings(clusterSettings);
    const target = (address: string): InstallTarget => ({ label: `root@${address}`, address, ports: {}, connect: async () => Promise.reject(new Error('not in this test')) });
    const options = installVerifyOptions(target('10.0.0.6'), settings, { peers: [target('10.0.0.6'), target('10.0.0.7')] });
    assert.equal(typeof options.clusterMembership, 'function');
    assert.equal((await options.clusterMembership!()).status, 'skip', 'no host reachable in this test');
    const single = resolveSettings({ ...clusterSettings, emqx: { cookie: clusterSettings.emqx.cookie } });
    assert.equal(installVerifyOptions(target('10.0.0.6'), single).clusterMembership, undefined);

    const partitions = [{ members: [a, b], running: [a, b] }, { members: [c], running: [c] }];
    const failing = await check([peer(a, partitions), peer(b, partitions), peer(c, partitions)]);
    const report = buildReport('run1', [{ name: 'reachability mqtt', status: 'pass', detail: 'ok' }, failing]);
    assert.equal(report.passed, false);
    assert.match(formatVerifyReport(report), new RegExp(`^FAIL  cluster membership: ${c} is up but not in the cluster`, 'm'));
    assert.match(formatVerifyReport(report), /FAILED \(1 of 2 checks failed\)$/);
    assert.deepEqual(JSON.parse(JSON.stringify(report)).checks[1], { name: 'cluster membership', status: 'fail', detail: failing.detail, figures: { seeds: 3, inCluster: 2, up: 3 } });
  });
});
