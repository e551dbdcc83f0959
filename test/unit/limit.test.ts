import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildTargets } from '../../src/cli/ssh-targets.ts';
import { limitTargets } from '../../src/cli/limit.ts';

const hosts = [
  { label: 'broker-1', host: '10.0.0.1' },
  { label: 'broker-2', host: '10.0.0.2' },
  { label: 'broker-3', host: '10.0.0.3' },
  { label: 'root@edge.example:22', host: 'edge.example' },
];
const labels = (list: typeof hosts) => list.map((host) => host.label);

describe('--limit', () => {
  it('keeps hosts named exactly, by address, or by pattern', () => {
    assert.deepEqual(labels(limitTargets(hosts, 'broker-2')), ['broker-2']);
    assert.deepEqual(labels(limitTargets(hosts, '10.0.0.3,edge.example')), ['broker-3', 'root@edge.example:22']);
    assert.deepEqual(labels(limitTargets(hosts, 'broker-*')), ['broker-1', 'broker-2', 'broker-3']);
    assert.deepEqual(labels(limitTargets(hosts, 'broker-?')), ['broker-1', 'broker-2', 'broker-3']);
  });

  it('leaves out what "!" names, alone or after an inclusion', () => {
    assert.deepEqual(labels(limitTargets(hosts, 'broker-*,!broker-3')), ['broker-1', 'broker-2']);
    assert.deepEqual(labels(limitTargets(hosts, '!broker-*')), ['root@edge.example:22']);
  });

  it('treats regular-expression characters in a pattern as plain text', () => {
    assert.throws(() => limitTargets(hosts, 'broker.1'), /--limit: "broker\.1" matches none of the hosts/);
  });

  it('refuses a name that matches no host, and a limit that leaves none (exit 2)', () => {
    assert.throws(() => limitTargets(hosts, 'broker-9'), /--limit: "broker-9" matches none of the hosts \(broker-1, broker-2, broker-3, root@edge\.example:22\)/);
    assert.throws(() => limitTargets(hosts, '!*'), /--limit: "!\*" leaves no host to run on/);
    assert.throws(() => limitTargets(hosts, ' , '), /--limit: give at least one host name/);
  });
});

describe('inventory names in output', () => {
  it("labels inventory hosts by the inventory's own names, others by user@host:port", () => {
    const directory = mkdtempSync(join(tmpdir(), 'mp-limit-'));
    const inventory = join(directory, 'inventory.json');
    writeFileSync(inventory, JSON.stringify({ hosts: [{ name: 'mqtt-lab-1', address: '127.0.0.1', sshPort: 2201 }, { address: '127.0.0.1', sshPort: 2202 }] }));
    const environment = { env: {}, connect: async () => { throw new Error('no host'); } };
    const options = { hosts: ['deploy@broker.example'], inventory, connectTimeoutSeconds: 1, retries: 0, hostKeyCheck: 'off' as const, knownHosts: '/dev/null' };
    assert.deepEqual(buildTargets(options, environment).map((target) => target.label), ['deploy@broker.example:22', 'mqtt-lab-1', 'root@127.0.0.1:2202']);
    assert.deepEqual(buildTargets({ ...options, limit: 'mqtt-lab-*' }, environment).map((target) => target.label), ['mqtt-lab-1']);
  });
});
