import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeClusterMembership, parseClusterView, type NodeObservation } from '../../src/verify/cluster-membership.ts';
import { clusterStatusBeforeMria, clusterStatusJson, type FakeClusterPartition } from '../fixtures/emqx-fake-cluster.ts';

// Issue 24 item 5: a node that is up but not in the cluster fails verify. Each node's
// `emqx ctl cluster status --json` comes from the fixture read from EMQX's and mria's source.
const seeds = ['emqx@10.0.0.5', 'emqx@10.0.0.6', 'emqx@10.0.0.7'];
const [a, b, c] = seeds as [string, string, string];

function observe(partitions: FakeClusterPartition[], nodes: string[] = seeds): NodeObservation[] {
  return nodes.map((node) => {
    const clusterStatus = clusterStatusJson(partitions, node);
    return { node, up: clusterStatus !== null, clusterStatus };
  });
}

describe('cluster membership of a static EMQX cluster', () => {
  it('passes when every seed runs in one cluster', () => {
    const check = judgeClusterMembership(seeds, observe([{ members: seeds, running: seeds }]));
    assert.equal(check.status, 'pass', check.detail);
    assert.deepEqual(check.figures, { seeds: 3, inCluster: 3, up: 3 });
  });

  it('fails a node that is up but never joined: it sees only itself, the others do not list it', () => {
    const check = judgeClusterMembership(seeds, observe([{ members: [a, b], running: [a, b] }, { members: [c], running: [c] }]));
    assert.equal(check.status, 'fail');
    assert.equal(check.detail, `${c} is up but not in the cluster: it sees running [${c}], the cluster [${a}, ${b}]`);
    assert.deepEqual(check.figures, { seeds: 3, inCluster: 2, up: 3 });
  });

  it('fails a member cut off from the others, which list it as stopped while it runs', () => {
    const partitions = [{ members: seeds, running: [a, b] }, { members: seeds, running: [c] }];
    const check = judgeClusterMembership(seeds, observe(partitions));
    assert.equal(check.status, 'fail');
    assert.match(check.detail, new RegExp(`^${c} is up but not in the cluster`));
  });

  it('names every node when a two-node cluster split into singletons', () => {
    const pair = [a, b];
    const check = judgeClusterMembership(pair, observe([{ members: pair, running: [a] }, { members: pair, running: [b] }], pair));
    assert.equal(check.status, 'fail');
    assert.equal(check.detail, `no two running nodes are in one cluster: ${a} sees [${a}], ${b} sees [${b}]`);
  });

  it('fails a seed that is down, saying whether the cluster knows it', () => {
    const stoppedMember = judgeClusterMembership(seeds, observe([{ members: seeds, running: [a, b] }]));
    assert.equal(stoppedMember.status, 'fail');
    assert.equal(stoppedMember.detail, `${c} is not running (the cluster lists it as stopped)`);
    const stranger = judgeClusterMembership(seeds, observe([{ members: [a, b], running: [a, b] }]));
    assert.equal(stranger.detail, `${c} is not running and no running node knows it as a member`);
  });

  it('fails a node whose CLI answered before mria was up, and one whose answer is not the JSON document', () => {
    const observations = observe([{ members: seeds, running: seeds }]);
    observations[1] = { node: b, up: true, clusterStatus: clusterStatusBeforeMria };
    observations[2] = { node: c, up: true, clusterStatus: 'Cluster status: #{running_nodes => []}' };
    const check = judgeClusterMembership(seeds, observations);
    assert.equal(check.status, 'fail');
    assert.equal(check.detail, `${b} is up but does not list itself among running nodes [] (its database layer is not running); ${c} is up but its cluster status could not be read`);
  });

  it('warns about a running node that is not among the seeds', () => {
    const extra = 'emqx@10.0.0.99';
    const check = judgeClusterMembership(seeds, observe([{ members: [...seeds, extra], running: [...seeds, extra] }]));
    assert.equal(check.status, 'warn');
    assert.match(check.detail, /not in emqx\.cluster\.seeds: \[emqx@10\.0\.0\.99\]/);
  });

  it('reads the lists whatever the whitespace, and refuses other shapes', () => {
    assert.deepEqual(parseClusterView('{"running_nodes":["emqx@b","emqx@a"],"stopped_nodes":[]}'), { running: ['emqx@b', 'emqx@a'], stopped: [] });
    assert.deepEqual(parseClusterView(clusterStatusJson([{ members: [a, b], running: [b] }], b)!), { running: [b], stopped: [a] });
    assert.equal(parseClusterView('{"running_nodes":["emqx@a"]}'), null);
    assert.equal(parseClusterView('{"running_nodes":[1],"stopped_nodes":[]}'), null);
    assert.equal(parseClusterView(''), null);
  });
});
