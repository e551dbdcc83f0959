import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseClusterStatus, waitRejoinedCommand } from '../../src/brokers/emqx/cluster.ts';
import { convergeAll } from '../../src/engine/converge-all.ts';
import type { HostTarget } from '../../src/engine/converge-host.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import { type Settings } from '../../src/settings/load.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import type { ExecResult, Transport } from '../../src/transport/transport.ts';
import { convergedApi, convergedEmqxFacts, emqxFacts } from '../fixtures/emqx-facts.ts';
import { clusterSettings } from '../fixtures/emqx-settings.ts';
import { lockGrantedBy } from './support/no-start.ts';

/**
 * A change that needs a restart, rolled across a three-node static cluster through the real engine
 * (convergeAll → convergeHost → probe, API facts, plan, apply) against recording fake transports.
 * The hosts' probe output is rendered from the converged-host fixture of the settings before.
 */

const seeds = clusterSettings.emqx.cluster.seeds;
const before = resolveSettings(clusterSettings);
const after = resolveSettings({ ...clusterSettings, session: { maxQueuedMessages: 5000 } });

/** HostFacts back to the probe's tab-separated lines (the inverse of parse-probe.ts, for what the EMQX role reads). */
function probeText(facts: HostFacts, address: string, index: number): string {
  const lines = [
    'os\tid\trocky',
    'os\tid_like\trhel centos fedora',
    'os\tversion_id\t9.3',
    'os\tpretty_name\tRocky Linux 9.3 (Blue Onyx)',
    ...['dnf', 'yum', 'rpm', 'systemctl', 'curl'].map((command) => `cmd\t${command}`),
    'arch\tx86_64',
    `host\tname\tmq${index}`,
    `host\taddr\t${address}`,
    ...Object.entries(facts.packages).map(([name, version]) => `pkg\t${name}\t${version ?? '-'}`),
    ...Object.entries(facts.files).map(([path, file]) =>
      file ? `file\t${path}\t${file.sha256}\t${file.mode}\t${file.owner}\t${file.group}\t${Buffer.from(file.content ?? '').toString('base64')}` : `file\t${path}\t-`,
    ),
    ...Object.entries(facts.directories).map(([path, dir]) => (dir ? `dir\t${path}\t${dir.mode}\t${dir.owner}\t${dir.group}` : `dir\t${path}\t-`)),
    ...Object.entries(facts.sysctl ?? {}).map(([key, value]) => (value ? `sysctl\t${key}\t${value.writable ? 'w' : 'r'}\t${value.value}` : `sysctl\t${key}\t-`)),
    ...Object.entries(facts.openFiles ?? {}).map(([name, limit]) => (limit ? `nofile\t${name}\t${limit.soft}\t${limit.hard}` : `nofile\t${name}\t-`)),
    'svc\temqx\tactive\tenabled',
    `emqx\tstatus\t0\t${facts.emqx!.status!.text}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** What the API fact script prints on a converged node. */
function apiText(settings: Settings): string {
  const api = convergedApi(settings);
  const users = Buffer.from(JSON.stringify({ data: api.mqttUsers!.map(({ name, superuser }) => ({ user_id: name, is_superuser: superuser })), meta: { page: 1, limit: 1000, hasnext: false } })).toString('base64');
  const acl = Buffer.from(JSON.stringify({ type: 'file', enable: true, rules: api.acl!.rules })).toString('base64');
  return `api\treachable\nservice\tok\nlogin\t0\tok\nusers\t200\t${users}\nacl\t200\t${acl}\n`;
}

/** How a command shows in the log: its script label when it has one, else the argv. */
function label(argv: readonly string[]): string {
  if (argv[0] === 'sh' && (argv[1] === '-c' || argv[1] === '-s')) return argv[3]!;
  return argv.join(' ');
}

function cluster(failRejoinOn: number | null) {
  const log: string[] = [];
  const connected: string[] = [];
  const targets: HostTarget[] = seeds.map((seed, index) => {
    const address = seed.slice(seed.indexOf('@') + 1);
    const base = emqxFacts('rocky9');
    const facts = convergedEmqxFacts({ ...base, hostNames: [`mq${index}`, address] }, before);
    const host = `node${index + 1}`;
    return {
      label: host,
      connect: async (): Promise<Transport> => {
        connected.push(host);
        const exec = async (argv: readonly string[]): Promise<ExecResult> => {
            if (argv[3]?.startsWith('pkg:')) return { code: 0, stdout: probeText(facts, address, index), stderr: '' };
            if (argv[3] === 'mqtt-provision-emqx-facts') return { code: 0, stdout: apiText(after), stderr: '' };
            const shown = label(argv);
            log.push(`${host}: ${shown}`);
            if (argv.join(' ') === 'emqx ctl cluster status --json') return { code: 0, stdout: JSON.stringify({ running_nodes: [...seeds], stopped_nodes: [] }), stderr: '' };
            if (shown === 'mqtt-provision-wait-cluster' && index === failRejoinOn) return { code: 1, stdout: '', stderr: 'the node is not back in the cluster within 120 s' };
            return { code: 0, stdout: '', stderr: '' };
        };
        return { label: host, exec, start: lockGrantedBy(exec), close: async () => {} };
      },
    };
  });
  return { targets, log, connected };
}

/** One node's rolling restart, as the log shows it. */
const restartOf = (host: string) => [
  `${host}: emqx ctl cluster status --json`,
  `${host}: mqtt-provision-mark`,
  `${host}: mqtt-provision-backup`,
  `${host}: mqtt-provision-write`,
  `${host}: mqtt-provision-check-config`,
  `${host}: mqtt-provision-reset-failed`,
  `${host}: systemctl restart emqx`,
  `${host}: systemctl is-active --quiet emqx`,
  `${host}: mqtt-provision-wait-emqx`,
  `${host}: mqtt-provision-wait-cluster`,
  `${host}: rm -f /etc/emqx/emqx.conf.mqtt-provision.bak`,
  `${host}: rm -f /var/lib/mqtt-provision/restart-pending-emqx`,
];

describe('rolling changes across a static EMQX cluster', () => {
  it('restarts one node at a time, each back in the cluster before the next starts, even with --concurrency 10', async () => {
    const { targets, log } = cluster(null);
    const reports = await convergeAll(targets, after, { concurrency: 10 });
    assert.deepEqual(reports.map((report) => [report.host, report.status]), [['node1', 'changed'], ['node2', 'changed'], ['node3', 'changed']]);
    assert.deepEqual(log, [...restartOf('node1'), ...restartOf('node2'), ...restartOf('node3')]);
  });

  it('stops at the first node that does not rejoin: it is rolled back, the rest stay untouched, the report says so', async () => {
    const { targets, log, connected } = cluster(1);
    const reports = await convergeAll(targets, after, { concurrency: 3 });
    assert.deepEqual(connected, ['node1', 'node2'], 'node3 is never connected to');
    assert.deepEqual(reports.map((report) => report.status), ['changed', 'failed', 'failed']);
    assert.match(reports[1]!.error!, /not back in the cluster within 120 s/);
    assert.match(reports[2]!.error!, /^not started: the rolling change stopped at node2, which failed \(.*\); this host is untouched$/);
    const node2 = log.filter((line) => line.startsWith('node2: '));
    assert.deepEqual(node2.slice(0, 9), restartOf('node2').slice(0, 9));
    assert.deepEqual(node2.slice(10), [
      'node2: journal-of-the-failed-start',
      'node2: mqtt-provision-restore',
      'node2: systemctl stop emqx',
      'node2: mqtt-provision-reset-failed',
      'node2: systemctl start emqx',
      'node2: rm -f /etc/emqx/emqx.conf.mqtt-provision.bak',
      'node2: rm -f /var/lib/mqtt-provision/restart-pending-emqx',
    ]);
    assert.ok(!log.some((line) => line.startsWith('node3')));
  });

  it('waits for the node itself and the seeds that ran before its restart', () => {
    assert.deepEqual(parseClusterStatus('{"running_nodes":["emqx@10.0.0.6","emqx@10.0.0.7"],"stopped_nodes":[]}'), ['emqx@10.0.0.6', 'emqx@10.0.0.7']);
    assert.equal(parseClusterStatus('Node emqx@10.0.0.7 not responding to pings.'), null);
    const directory = mkdtempSync(join(tmpdir(), 'emqx-cluster-'));
    const stub = (running: string[]) => {
      writeFileSync(join(directory, 'emqx'), `#!/bin/sh\necho '{ "running_nodes": [${running.map((node) => `"${node}"`).join(', ')}],\n  "stopped_nodes": [] }'\n`);
      chmodSync(join(directory, 'emqx'), 0o755);
    };
    const run = (nodes: string[], seconds: number) => {
      const [, ...args] = waitRejoinedCommand(nodes, seconds).argv;
      return spawnSync('dash', args, { env: { PATH: `${directory}:${process.env.PATH}` }, encoding: 'utf8' });
    };
    stub(['emqx@10.0.0.6', 'emqx@10.0.0.7', 'emqx@10.0.0.8']);
    assert.equal(run([...seeds], 5).status, 0);
    stub(['emqx@10.0.0.6', 'emqx@10.0.0.7']);
    const missing = run([...seeds], 1);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /not back in the cluster within 1 s: running nodes \["emqx@10.0.0.6","emqx@10.0.0.7"\], expected emqx@10.0.0.6 emqx@10.0.0.7 emqx@10.0.0.8/);
  });
});
