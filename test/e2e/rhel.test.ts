// End to end on the Rocky-9-like lab hosts (src/container/rhel-recipe.ts): every dnf, rpm, systemctl and
// firewall-cmd command the RHEL family plans runs for real; only the repositories' content and the
// release files are the lab's. Each test starts from what it sets up itself.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import mqtt from 'mqtt';
import { loadSettings } from '../../src/brokers/load-settings.ts';
import { LAB_MOSQUITTO_VERSIONS } from '../../src/container/rhel-recipe.ts';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { ensureLabImage } from '../../src/container/host-image.ts';
import { SshTransport } from '../../src/transport/ssh.ts';
import { verifyInstalledBroker } from '../../src/verify/install-hook.ts';
import { formatVerifyReport } from '../../src/verify/verify-report.ts';
import { changedCount, hostArgs, hostilePassword, install, onHost, writeSecretFile } from './support/lab-fixture.ts';
import { connectOutcome, roundTrip } from './support/mqtt-roundtrip.ts';

const SETUP_TIMEOUT = 20 * 60_000;
const TEST_TIMEOUT = 5 * 60_000;
const passwordFile = writeSecretFile(`${hostilePassword}\n`);
const admin = ['--admin-user', 'admin', '--admin-password-file', passwordFile];
const settingsFile = new URL('../../examples/lab-mosquitto.yaml', import.meta.url).pathname;
const [olderVersion, newerVersion] = LAB_MOSQUITTO_VERSIONS as unknown as [string, string];
const pinned = (version: string) => writeSecretFile(`broker: mosquitto\nversion: ${version}\nlisteners: { mqtt: 1883, websocket: 8083 }\n`);

async function converge(host: LabHost, options: { user?: string; settings?: string; extra?: string[] } = {}) {
  const started = Date.now();
  const run = await install([...(await hostArgs(host, options.user)), '--settings', options.settings ?? settingsFile, ...admin, '--no-verify', '--json', ...(options.extra ?? [])]);
  assert.equal(run.code, 0, run.output + run.errors);
  const steps = (JSON.parse(run.output) as { hosts: Array<{ steps: Array<{ id: string; status: string }> }> }).hosts[0]!.steps;
  return { ms: Date.now() - started, changed: steps.filter((step) => step.status === 'changed').map((step) => step.id), output: run.output };
}

const rpmQuery = async (host: LabHost, name: string) =>
  (await onHost(host, ['sh', '-c', `rpm -q --qf '%{VERSION}-%{RELEASE}' ${name} || true`])).trim();
const exists = async (host: LabHost, path: string) => (await onHost(host, ['sh', '-c', `test -e ${path} && echo yes || echo no`])).trim() === 'yes';

/** A persistent subscriber that goes offline, then QoS 1 messages published for it. */
async function queueForOfflineSubscriber(url: string, clientId: string, topic: string, count: number): Promise<void> {
  const login = { username: 'admin', password: hostilePassword, reconnectPeriod: 0, connectTimeout: 10_000 };
  const subscriber = await mqtt.connectAsync(url, { ...login, clientId, clean: false });
  await subscriber.subscribeAsync(topic, { qos: 1 });
  await subscriber.endAsync();
  const publisher = await mqtt.connectAsync(url, { ...login, clientId: `${clientId}-pub` });
  for (let i = 0; i < count; i++) await publisher.publishAsync(topic, String(i), { qos: 1 });
  await publisher.endAsync();
}

/** Reconnects the persistent subscriber and collects what the broker kept for it (bounded wait). */
async function drainQueue(url: string, clientId: string, expected: number): Promise<Set<string>> {
  const received = new Set<string>();
  const subscriber = mqtt.connect(url, { username: 'admin', password: hostilePassword, clientId, clean: false, reconnectPeriod: 0, connectTimeout: 10_000 });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => resolve(), 15_000);
      subscriber.on('error', reject);
      subscriber.on('message', (_topic, payload) => {
        received.add(payload.toString());
        if (received.size >= expected) { clearTimeout(timer); resolve(); }
      });
    });
  } finally {
    await subscriber.endAsync();
  }
  return received;
}

describe('Mosquitto from EPEL on Rocky 9 lab hosts (real dnf, rpm, systemd)', { timeout: 2 * SETUP_TIMEOUT }, () => {
  const started: string[] = [];
  let serial = 0;
  /** A host nobody has converged yet, removed when the test ends (systemd hosts are not free to keep). */
  async function freshHost(t: TestContext, variant: 'rhel' | 'rhel-firewalld' = 'rhel'): Promise<LabHost> {
    const [host] = (await startLabHosts({ count: 1, variant, prefix: `mp-e2e-rhel${++serial}`, publish: [1883, 8083] })) as [LabHost];
    started.push(host.name);
    t.after(() => stopLabHosts([host.name]));
    return host;
  }

  // The first run on a machine builds the image (minutes, see README): here, not inside a test's timeout.
  before(async () => {
    await ensureLabKey();
    await ensureLabImage('rhel');
  }, { timeout: SETUP_TIMEOUT });
  after(async () => {
    await stopLabHosts(started);
  });

  it('is Rocky 9 to the probe: os-release, rpm and dnf answer, apt and dpkg are gone, firewalld is installed but off', { timeout: TEST_TIMEOUT }, async (t) => {
    const host = await freshHost(t);
    const release = await onHost(host, ['cat', '/etc/os-release']);
    for (const line of ['ID="rocky"', 'ID_LIKE="rhel centos fedora"', 'VERSION_ID="9.4"', 'PLATFORM_ID="platform:el9"']) assert.ok(release.includes(`${line}\n`), line);
    assert.equal(await rpmQuery(host, 'rocky-release'), '9.4-1.7.el9');
    assert.equal((await onHost(host, ['rpm', '-q', '--whatprovides', 'system-release(releasever)'])).trim(), 'rocky-release-9.4-1.7.el9.noarch');
    assert.equal((await onHost(host, ['sh', '-c', 'command -v apt-get dpkg dpkg-query || true'])).trim(), '');
    assert.match(await onHost(host, ['dnf', '-q', 'repolist', 'enabled']), /^extras\s/m);
    assert.equal((await onHost(host, ['sh', '-c', 'firewall-cmd --state 2>&1 || true'])).trim(), 'not running');
  });

  // Everything twice: as root, and as a non-root user whose commands go through sudo.
  for (const user of ['root', 'deploy'] as const) {
    describe(user === 'root' ? 'as root' : 'as deploy, through sudo', () => {
      const run = (host: LabHost, options: { settings?: string } = {}) => converge(host, { user, ...options });

      it('converges a fresh host: EPEL enabled from extras, mosquitto from EPEL, authenticated pub/sub, then nothing to change', { timeout: TEST_TIMEOUT }, async (t) => {
        const host = await freshHost(t);
        assert.equal(await rpmQuery(host, 'mosquitto'), 'package mosquitto is not installed');
        assert.equal(await exists(host, '/etc/yum.repos.d/epel.repo'), false);
        const cold = await run(host);
        t.diagnostic(`cold converge ${cold.ms} ms, no-op converge below`);
        assert.deepEqual(cold.changed.slice(0, 2), ['repository:epel', 'packages:mosquitto'], cold.output);
        assert.equal(await rpmQuery(host, 'epel-release'), '9-8.el9');
        assert.equal(await rpmQuery(host, 'mosquitto'), newerVersion, 'the newest EPEL build');
        assert.match(await onHost(host, ['dnf', '-q', 'repolist', 'enabled']), /^epel\s/m);
        assert.equal((await onHost(host, ['systemctl', 'is-enabled', 'mosquitto'])).trim(), 'enabled');
        const url = `mqtt://127.0.0.1:${host.ports[1883]}`;
        assert.equal(await roundTrip(url, { username: 'admin', password: hostilePassword }), 'hello from mqtt-provision');
        assert.equal(await roundTrip(`ws://127.0.0.1:${host.ports[8083]}`, { username: 'admin', password: hostilePassword }), 'hello from mqtt-provision');
        assert.equal(await connectOutcome(url, {}), 'refused 5');
        const again = await run(host);
        t.diagnostic(`no-op converge ${again.ms} ms`);
        assert.deepEqual(again.changed, [], again.output);
      });

      it('installs from an EPEL an admin turned off without turning it on', { timeout: TEST_TIMEOUT }, async (t) => {
        const host = await freshHost(t);
        await onHost(host, ['sh', '-c', 'dnf install -q -y epel-release && sed -i "s/^enabled=1/enabled=0/" /etc/yum.repos.d/epel.repo']);
        assert.doesNotMatch(await onHost(host, ['dnf', '-q', 'repolist', 'enabled']), /^epel\s/m);
        const first = await run(host);
        assert.equal(first.changed.includes('repository:epel'), false, first.output);
        assert.equal(await rpmQuery(host, 'mosquitto'), newerVersion);
        assert.doesNotMatch(await onHost(host, ['dnf', '-q', 'repolist', 'enabled']), /^epel\s/m, 'EPEL is still off');
        assert.deepEqual((await run(host)).changed, []);
      });

      it('verify passes on the converged host, restart survival included', { timeout: TEST_TIMEOUT }, async (t) => {
        const host = await freshHost(t);
        await run(host);
        const settings = loadSettings(settingsFile, { broker: 'mosquitto', adminUser: 'admin', adminPasswordFile: passwordFile });
        const keyPath = await ensureLabKey();
        const report = await verifyInstalledBroker(
          { label: host.name, address: host.address, ports: host.ports, connect: () => SshTransport.connect({ user: 'root', host: host.address, port: host.sshPort, identityFile: keyPath }) },
          settings,
          { messages: 500 },
        );
        const text = formatVerifyReport(report);
        for (const line of text.split('\n')) t.diagnostic(line);
        assert.equal(report.passed, true, text);
        assert.equal(report.checks.find((check) => check.name === 'restart survival')?.status, 'pass', text);
        assert.equal(report.checks.find((check) => check.name === 'restart survival')?.figures?.missing, 0, text);
      });

      it('installs a pinned version, a newer pin upgrades with dnf keeping the queued messages, an older one downgrades', { timeout: TEST_TIMEOUT }, async (t) => {
        const host = await freshHost(t);
        await run(host, { settings: pinned(olderVersion) });
        assert.equal(await rpmQuery(host, 'mosquitto'), olderVersion);
        const url = `mqtt://127.0.0.1:${host.ports[1883]}`;
        const clientId = `mp-e2e-rhel-upgrade-${process.pid}`;
        await queueForOfflineSubscriber(url, clientId, 'rhel/upgrade', 200);

        const upgrade = await run(host, { settings: pinned(newerVersion) });
        assert.ok(upgrade.changed.includes('packages:mosquitto'), upgrade.output);
        assert.equal(await rpmQuery(host, 'mosquitto'), newerVersion);
        assert.match(await onHost(host, ['dnf', 'history', 'list', 'mosquitto']), /Upgrade/);
        const received = await drainQueue(url, clientId, 200);
        assert.equal(received.size, 200, `got ${received.size} of 200 queued messages after the upgrade`);
        assert.deepEqual((await run(host, { settings: pinned(newerVersion) })).changed, [], 'the upgrade left nothing to redo');

        // dnf 4's `install` of a lower version downgrades; the broker comes back on the old build.
        const downgrade = await run(host, { settings: pinned(olderVersion) });
        assert.ok(downgrade.changed.includes('packages:mosquitto'), downgrade.output);
        assert.equal(await rpmQuery(host, 'mosquitto'), olderVersion);
        assert.equal(await roundTrip(url, { username: 'admin', password: hostilePassword }), 'hello from mqtt-provision');
        assert.deepEqual((await run(host, { settings: pinned(olderVersion) })).changed, []);
      });

      it('state: absent removes the package and our files and keeps the data; purgeData removes it too', { timeout: TEST_TIMEOUT }, async (t) => {
        const host = await freshHost(t);
        await run(host);
        // Something queued, so the broker saves a store on stop that "data kept" can be checked by.
        await queueForOfflineSubscriber(`mqtt://127.0.0.1:${host.ports[1883]}`, `mp-e2e-rhel-absent-${process.pid}`, 'rhel/absent', 5);
        const absent = writeSecretFile('broker: mosquitto\nstate: absent\nlisteners: { mqtt: 1883, websocket: 8083 }\n');
        const removal = await run(host, { settings: absent });
        // The limits drop-in goes with our files (its directory is ours: we created it).
        assert.deepEqual(removal.changed, ['stop:mosquitto', 'files-absent', 'dir-absent:/etc/systemd/system/mosquitto.service.d', 'packages-absent:mosquitto'], removal.output);
        assert.equal(await rpmQuery(host, 'mosquitto'), 'package mosquitto is not installed');
        for (const path of ['/etc/systemd/system/mosquitto.service.d', '/etc/mosquitto/mosquitto.conf', '/etc/mosquitto/mosquitto.conf.rpmsave', '/etc/mosquitto/passwd', '/etc/mosquitto/acl', '/usr/sbin/mosquitto']) {
          assert.equal(await exists(host, path), false, `${path} is gone`);
        }
        assert.equal(await exists(host, '/var/lib/mosquitto/mosquitto.db'), true, 'the data is kept');
        assert.deepEqual((await run(host, { settings: absent })).changed, []);
        const purge = writeSecretFile('broker: mosquitto\nstate: absent\npurgeData: true\nlisteners: { mqtt: 1883 }\n');
        assert.deepEqual((await run(host, { settings: purge })).changed, ['purge:/var/lib/mosquitto']);
        assert.equal(await exists(host, '/var/lib/mosquitto'), false);
      });

      it('--dry-run on a drifted host shows the diff and changes nothing', { timeout: TEST_TIMEOUT }, async (t) => {
        const host = await freshHost(t);
        await run(host);
        await onHost(host, ['sh', '-c', 'sed -i "s/^max_queued_messages .*/max_queued_messages 1000/" /etc/mosquitto/mosquitto.conf && systemctl stop mosquitto']);
        const before = await onHost(host, ['sha256sum', '/etc/mosquitto/mosquitto.conf']);
        {
          const dry = await install([...(await hostArgs(host, user)), '--settings', settingsFile, ...admin, '--dry-run']);
          assert.equal(dry.code, 0, dry.output);
          assert.match(dry.output, /would change +file \/etc\/mosquitto\/mosquitto\.conf \(content differs\)/);
          assert.match(dry.output, /^ +-max_queued_messages 1000$/m);
          assert.match(dry.output, /^ +\+max_queued_messages 100000$/m);
          assert.match(dry.output, /would change +restart mosquitto/);
        }
        assert.equal(await onHost(host, ['sha256sum', '/etc/mosquitto/mosquitto.conf']), before, 'dry-run wrote nothing');
        assert.equal((await onHost(host, ['sh', '-c', 'systemctl is-active mosquitto || true'])).trim(), 'inactive', 'dry-run started nothing');
        const repair = await run(host);
        assert.deepEqual(repair.changed, ['pending:mosquitto', 'file:/etc/mosquitto/mosquitto.conf', 'restart:mosquitto'], repair.output);
      });

      it('opens exactly the served ports in a running firewalld (rhel-firewalld), and closes one no longer served', { timeout: TEST_TIMEOUT }, async (t) => {
        const host = await freshHost(t, 'rhel-firewalld');
        const listPorts = async (permanent: boolean) =>
          (await onHost(host, ['firewall-cmd', ...(permanent ? ['--permanent'] : []), '--list-ports'])).trim().split(/\s+/).filter(Boolean).sort();
        const cold = await run(host);
        assert.ok(cold.changed.includes('firewall'), cold.output);
        assert.deepEqual(await listPorts(false), ['1883/tcp', '8083/tcp']);
        assert.deepEqual(await listPorts(true), ['1883/tcp', '8083/tcp']);
        assert.equal(await roundTrip(`mqtt://127.0.0.1:${host.ports[1883]}`, { username: 'admin', password: hostilePassword }), 'hello from mqtt-provision');
        assert.deepEqual((await run(host)).changed, []);
        await run(host, { settings: writeSecretFile('broker: mosquitto\nlisteners: { mqtt: 1883 }\n') });
        assert.deepEqual(await listPorts(false), ['1883/tcp']);
        assert.deepEqual(await listPorts(true), ['1883/tcp']);
      });
    });
  }
});
