// Issue 24 item 3, end to end: a listener restricted by source on a Rocky 9 lab host with firewalld
// running (variant rhel-firewalld). The client is always this machine, reaching the broker through
// Docker's published port, so the broker sees the bridge gateway as its source (notes-24-edge.md):
// what varies is the range in `allowFrom`, never the client.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { ensureLabImage } from '../../src/container/host-image.ts';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { parseSourceRange, rangeContains } from '../../src/settings/source-ranges.ts';
import { hostArgs, hostilePassword, install, onHost, writeSecretFile } from './support/lab-fixture.ts';
import { connectOutcome, roundTrip } from './support/mqtt-roundtrip.ts';

const SETUP_TIMEOUT = 20 * 60_000;
const TEST_TIMEOUT = 8 * 60_000;
const login = { username: 'admin', password: hostilePassword };
const admin = ['--admin-user', 'admin', '--admin-password-file', writeSecretFile(`${hostilePassword}\n`)];
/** TEST-NET-2 (RFC 5737): never a Docker bridge, so never where this machine's connections come from. */
const elsewhere = '198.51.100.0/24';

async function converge(host: LabHost, settings: string): Promise<{ changed: string[]; output: string }> {
  const run = await install([...(await hostArgs(host)), '--settings', writeSecretFile(settings), ...admin, '--no-verify', '--json']);
  assert.equal(run.code, 0, run.output + run.errors);
  const steps = (JSON.parse(run.output) as { hosts: Array<{ steps: Array<{ id: string; status: string }> }> }).hosts[0]!.steps;
  return { changed: steps.filter((step) => step.status === 'changed').map((step) => step.id), output: run.output };
}

/** Both of firewalld's views: what is in force now, and what a reload or reboot loads. */
async function firewalld(host: LabHost) {
  const list = async (...args: string[]) => (await onHost(host, ['firewall-cmd', ...args])).trim().split('\n').map((line) => line.trim()).filter(Boolean);
  return {
    runtime: { ports: (await list('--list-ports')).join(' ').split(' ').filter(Boolean), rules: (await list('--list-rich-rules')).sort() },
    permanent: { ports: (await list('--permanent', '--list-ports')).join(' ').split(' ').filter(Boolean), rules: (await list('--permanent', '--list-rich-rules')).sort() },
  };
}

const richRule = (cidr: string) => `rule family="ipv4" source address="${cidr}" port port="1883" protocol="tcp" accept`;

describe('listeners restricted by source (listenerAccess) on a firewalld host', { timeout: SETUP_TIMEOUT + TEST_TIMEOUT }, () => {
  let host: LabHost;
  let gateway: string;
  let hostAddress: string;

  before(async () => {
    await ensureLabKey();
    await ensureLabImage('rhel-firewalld');
    [host] = (await startLabHosts({ count: 1, variant: 'rhel-firewalld', prefix: 'mp-e2e-access', publish: [1883] })) as [LabHost];
    // Where connections through the published port come from, and the host's own address on that network.
    const inspect = (field: string) => execFileSync('docker', ['inspect', '-f', `{{range .NetworkSettings.Networks}}{{.${field}}}{{end}}`, host.name], { encoding: 'utf8' }).trim();
    gateway = inspect('Gateway');
    hostAddress = inspect('IPAddress');
  }, { timeout: SETUP_TIMEOUT });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  it('admits a range holding the client, refuses new clients once the range does not, twice changes nothing, and opens again', { timeout: TEST_TIMEOUT }, async (t) => {
    const url = `mqtt://127.0.0.1:${host.ports[1883]}`;
    const inside = parseSourceRange(gateway);
    assert.ok(!('error' in inside), `the gateway ${gateway} is an address`);
    assert.equal(rangeContains(parseSourceRange(elsewhere) as { family: 'ipv4'; cidr: string }, gateway), false, `${elsewhere} must not hold the gateway ${gateway}`);
    t.diagnostic(`client source (bridge gateway) ${gateway}, host address ${hostAddress}`);

    // 1. Bound to the host's own address, open only to a range holding the client: connects.
    const restricted = (allowFrom: string[]) =>
      `broker: mosquitto\nlisteners: { mqtt: 1883 }\nlistenerAccess:\n  mqtt:\n    bind: ${hostAddress}\n    allowFrom: [${allowFrom.join(', ')}]\n`;
    const first = await converge(host, restricted([elsewhere, gateway]));
    assert.ok(first.changed.includes('firewall'), first.output);
    assert.match(await onHost(host, ['cat', '/etc/mosquitto/mosquitto.conf']), new RegExp(`^listener 1883 ${hostAddress.replaceAll('.', '\\.')}$`, 'm'));
    const wanted = [richRule(elsewhere), richRule(`${gateway}/32`)].sort();
    assert.deepEqual(await firewalld(host), { runtime: { ports: [], rules: wanted }, permanent: { ports: [], rules: wanted } }, 'rich rules, no plain 1883/tcp, in both views');
    assert.equal(await roundTrip(url, login), 'hello from mqtt-provision');
    assert.deepEqual((await converge(host, restricted([gateway, elsewhere]))).changed, [], 'second run (ranges in another order): nothing to change');

    // 2. The range no longer holds the client. A client connected before keeps its connection
    // (both firewalls accept established traffic first); a new one is refused.
    const before = await mqtt.connectAsync(url, { ...login, clientId: `mp-e2e-access-${process.pid}`, reconnectPeriod: 0, connectTimeout: 10_000 });
    try {
      const outside = await converge(host, restricted([elsewhere]));
      assert.deepEqual(outside.changed, ['firewall'], 'only the firewall changes: the config is the same');
      assert.deepEqual(await firewalld(host), { runtime: { ports: [], rules: [richRule(elsewhere)] }, permanent: { ports: [], rules: [richRule(elsewhere)] } });
      // docker-proxy accepts, then its connection to the host is rejected: a reset or a close, never a CONNACK.
      const refused = await connectOutcome(url, login);
      assert.notEqual(refused, 'accepted', `a new client from ${gateway} must not get in`);
      t.diagnostic(`new client from ${gateway} while restricted to ${elsewhere}: ${refused}`);
      const echoed = new Promise<string>((resolve) => before.once('message', (_topic, payload) => resolve(payload.toString())));
      await before.subscribeAsync(`mp-e2e/access/${process.pid}`, { qos: 1 });
      await before.publishAsync(`mp-e2e/access/${process.pid}`, 'still here', { qos: 1 });
      assert.equal(await echoed, 'still here', 'the connection made before the restriction still carries messages');
      assert.deepEqual((await converge(host, restricted([elsewhere]))).changed, [], 'second run: nothing to change');
    } finally {
      await before.endAsync(true);
    }

    // 3. Back to open (no listenerAccess): the plain port returns, the rich rules go, anyone connects.
    const open = await converge(host, 'broker: mosquitto\nlisteners: { mqtt: 1883 }\n');
    assert.ok(open.changed.includes('firewall'), open.output);
    assert.deepEqual(await firewalld(host), { runtime: { ports: ['1883/tcp'], rules: [] }, permanent: { ports: ['1883/tcp'], rules: [] } });
    assert.match(await onHost(host, ['cat', '/etc/mosquitto/mosquitto.conf']), /^listener 1883$/m);
    assert.equal(await roundTrip(url, login), 'hello from mqtt-provision');
    assert.deepEqual((await converge(host, 'broker: mosquitto\nlisteners: { mqtt: 1883 }\n')).changed, []);
  });
});

// The same on Debian 12 with ufw (issue 24 item 3, "ufw from"): the lab has no ufw image, so the
// test installs ufw from Debian's mirror on a base lab host and enables it, SSH allowed first.
describe('listeners restricted by source (listenerAccess) on a ufw host', { timeout: SETUP_TIMEOUT + TEST_TIMEOUT }, () => {
  let host: LabHost;
  let gateway: string;

  before(async () => {
    await ensureLabKey();
    await ensureLabImage('base');
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-e2e-access-ufw', publish: [1883] })) as [LabHost];
    gateway = execFileSync('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}', host.name], { encoding: 'utf8' }).trim();
    await onHost(host, ['sh', '-c', 'apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q ufw >/dev/null && ufw allow 22/tcp >/dev/null && ufw --force enable']);
  }, { timeout: SETUP_TIMEOUT });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  it('admits a range holding the client with a from rule, refuses new clients once it does not, and opens again', { timeout: TEST_TIMEOUT }, async (t) => {
    const url = `mqtt://127.0.0.1:${host.ports[1883]}`;
    const ufwRules = async () => (await onHost(host, ['ufw', 'status'])).split('\n').filter((line) => /^1883/.test(line)).map((line) => line.replace(/\s{2,}/g, ' ').trim());
    const restricted = (allowFrom: string[]) => `broker: mosquitto\nlisteners: { mqtt: 1883 }\nlistenerAccess:\n  mqtt:\n    allowFrom: [${allowFrom.join(', ')}]\n`;

    const first = await converge(host, restricted([elsewhere, gateway]));
    assert.ok(first.changed.includes('firewall'), first.output);
    assert.deepEqual((await ufwRules()).sort(), [`1883/tcp ALLOW ${elsewhere}`, `1883/tcp ALLOW ${gateway}`].sort(), 'from rules only, no plain 1883/tcp');
    assert.equal(await roundTrip(url, login), 'hello from mqtt-provision');
    assert.deepEqual((await converge(host, restricted([gateway, elsewhere]))).changed, []);

    assert.deepEqual((await converge(host, restricted([elsewhere]))).changed, ['firewall']);
    assert.deepEqual(await ufwRules(), [`1883/tcp ALLOW ${elsewhere}`]);
    // ufw drops (no reset): the new client gets no answer at all.
    const refused = await connectOutcome(url, login);
    assert.notEqual(refused, 'accepted', `a new client from ${gateway} must not get in`);
    t.diagnostic(`new client from ${gateway} while restricted to ${elsewhere}: ${refused}`);
    assert.deepEqual((await converge(host, restricted([elsewhere]))).changed, []);

    const open = await converge(host, 'broker: mosquitto\nlisteners: { mqtt: 1883 }\n');
    assert.deepEqual(open.changed, ['firewall'], open.output);
    assert.deepEqual(await ufwRules(), ['1883/tcp ALLOW Anywhere', '1883/tcp (v6) ALLOW Anywhere (v6)']);
    assert.equal(await roundTrip(url, login), 'hello from mqtt-provision');
    assert.deepEqual((await converge(host, 'broker: mosquitto\nlisteners: { mqtt: 1883 }\n')).changed, []);
  });
});
