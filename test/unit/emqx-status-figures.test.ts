import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { servicePassword } from '../../src/brokers/emqx/identity.ts';
import { clientsPageSize, emqxStatusFigures, parseStatusFigures, statusFiguresScript } from '../../src/brokers/emqx/status-figures.ts';
import { Secret } from '../../src/secret.ts';
import { evaluateStatus } from '../../src/status/evaluate.ts';
import { parseStatusProbe } from '../../src/status/status-facts.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { convergedEmqxFacts, emqxFacts, fixtureCookie } from '../fixtures/emqx-facts.ts';
import { fakeHost, shells } from '../fixtures/emqx-fake-host.ts';
import { emqxSettings } from '../fixtures/emqx-settings.ts';

/**
 * status.mts's EMQX figures: the script runs for real under dash and bash against the fake
 * `curl` and `emqx` (test/fixtures/emqx-fake-api.ts answers /stats and /clients as
 * emqx_mgmt_api_stats.erl and emqx_mgmt_api_clients.erl do at v5.7.2/v5.8.6). Fixture-level only:
 * no EMQX node answered these tests.
 */

const service = servicePassword(new Secret(fixtureCookie));
const target = { port: 18083, servicePassword: service };
const settings = emqxSettings();
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Two offline sessions holding 7 and 5 messages, one connected client with 1, one offline durable session. */
const sessions = [
  { clientid: 'sub-offline-1', connected: false, mqueue_len: 7 },
  { clientid: 'sub-offline-2', connected: false, mqueue_len: 5 },
  { clientid: 'pub-online', connected: true, mqueue_len: 1 },
  { clientid: 'durable-offline', connected: false, mqueue_len: 40, durable: true },
];

describe('EMQX status figures', () => {
  for (const shell of shells) {
    it(`reads emqx ctl status, /stats and every /clients page under ${shell}`, () => {
      const host = fakeHost({ dashboardUsers: { admin: 'correct-horse-1', mqtt_provision: service.reveal() }, clients: sessions, retained: 2 });
      const result = host.run(statusFiguresScript(target, settings.admins), shell);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(parseStatusFigures(result.stdout), {
        version: '5.8.6',
        nodeStatus: 'started',
        connectedClients: 1,
        sessions: 4,
        retainedMessages: 2,
        disconnectedSessions: 3,
        // The durable session's row says 0 (emqx_mgmt_api_clients.erl): its 40 are not counted.
        queuedMessages: 13,
      });
      const calls = host.curlArguments();
      assert.ok(calls.some((argv) => argv.join(' ') === 'emqx ctl status'));
      for (const argv of calls) {
        for (const secret of [service.reveal(), 'correct-horse-1', 'token-']) assert.ok(!argv.join(' ').includes(secret), argv.join(' '));
      }
    });
  }

  it('walks the pages until meta.hasnext is false', () => {
    const many = Array.from({ length: clientsPageSize + 3 }, (_, index) => ({ clientid: `c${index}`, connected: index % 2 === 0, mqueue_len: 1 }));
    const host = fakeHost({ dashboardUsers: { mqtt_provision: service.reveal() }, clients: many });
    const result = host.run(statusFiguresScript(target, []), 'dash');
    assert.equal(result.stdout.split('\n').filter((line) => line.startsWith('clients\t')).length, 2);
    const figures = parseStatusFigures(result.stdout);
    assert.equal(figures.queuedMessages, clientsPageSize + 3);
    assert.equal(figures.disconnectedSessions, many.filter((client) => !client.connected).length);
  });

  it('falls back to an admin of the settings when the service account does not log in', () => {
    const host = fakeHost({ dashboardUsers: { admin: 'correct-horse-1' }, clients: sessions });
    const figures = parseStatusFigures(host.run(statusFiguresScript(target, settings.admins), 'bash').stdout);
    assert.equal(figures.sessions, 4);
  });

  it('says no login works rather than reporting zeros', () => {
    const host = fakeHost({ dashboardUsers: { admin: 'someone-else-1' }, clients: sessions });
    const output = host.run(statusFiguresScript(target, settings.admins), 'dash').stdout;
    assert.throws(() => parseStatusFigures(output), /no dashboard login works for the figures/);
  });

  it('reports a stopped node from emqx ctl status alone', () => {
    const host = fakeHost({ running: false });
    const figures = parseStatusFigures(host.run(statusFiguresScript(target, settings.admins), 'dash').stdout);
    assert.deepEqual(figures, { nodeStatus: 'emqx ctl status exited 1' });
  });

  it('leaves the queue figures out when a /clients page cannot be read', () => {
    const output = `ctl\t0\t${b64("Node 'emqx@10.0.0.7' 5.7.2 is started\n")}\napi\treachable\nlogin\tok\nstats\t200\t${b64('{"live_connections.count":2,"sessions.count":9}')}\nclients\t200\t${b64('{"data":[{"connected":false,"mqueue_len":3}],"meta":{"hasnext":true}}')}\nclients\t500\t${b64('{"code":"INTERNAL_ERROR"}')}\n`;
    assert.deepEqual(parseStatusFigures(output), { version: '5.7.2', nodeStatus: 'started', connectedClients: 2, sessions: 9 });
  });

  it('runs the script through the transport with the credentials on stdin only', async () => {
    const facts = convergedEmqxFacts(emqxFacts('rocky9'), settings);
    const seen: Array<{ argv: string[]; stdin: string | undefined }> = [];
    const transport = {
      exec: async (argv: string[], options?: { stdin?: string }) => {
        seen.push({ argv, stdin: options?.stdin });
        return { code: 0, stdout: `ctl\t0\t${b64("Node 'emqx@10.0.0.7' 5.8.6 is started")}\napi\treachable\nlogin\tok\n`, stderr: '' };
      },
    } as unknown as Transport;
    assert.deepEqual(await emqxStatusFigures(transport, facts, settings), { version: '5.8.6', nodeStatus: 'started' });
    assert.deepEqual(seen[0]!.argv, ['sh', '-s', '--', 'mqtt-provision-emqx-status']);
    assert.ok(seen[0]!.stdin!.includes(service.reveal()), 'the service password derives from the host cookie and travels on stdin');
  });

  it('makes a node that is not started a problem of status.mts', () => {
    const facts = convergedEmqxFacts(emqxFacts('rocky9'), settings);
    const status = evaluateStatus({
      target: 'mq1',
      settings,
      facts,
      steps: [],
      status: parseStatusProbe('active\tactive\nsub\trunning\nlistening\t1883 8083 18083\n'),
      figures: { nodeStatus: 'starting', connectedClients: 0 },
      now: new Date('2026-11-29T12:00:00Z'),
    });
    assert.deepEqual(status.problems, ['emqx ctl status: starting']);
  });
});
