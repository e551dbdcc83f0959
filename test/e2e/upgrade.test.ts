import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { localDebVersions, type DebVersions } from './support/deb-versions.ts';
import { hostArgs, install, onHost, writeSecretFile } from './support/lab-fixture.ts';
import { drainDistinct, queueForOfflineSubscriber } from './support/offline-queue.ts';

const password = 'upgrade-admin-secret';
const admin = ['--admin-user', 'admin', '--admin-password-file', writeSecretFile(`${password}\n`)];
const queued = 300;
const login = { username: 'admin', password };

function settingsFor(version: string): string {
  return writeSecretFile(`broker: mosquitto\nversion: "${version}"\nlisteners: { mqtt: 1883 }\n`);
}

const installed = async (host: LabHost) => (await onHost(host, ['dpkg-query', '-W', '-f', '${Version}', 'mosquitto'])).trim();

describe('package upgrades on a Debian lab host keep queued messages', () => {
  let host: LabHost;
  let versions: DebVersions;
  let url: string;

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-e2e-upgrade' })) as [LabHost];
    versions = await localDebVersions(host);
    url = `mqtt://127.0.0.1:${host.ports[1883]}`;
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  async function converge(version: string) {
    return install([...(await hostArgs(host)), '--settings', settingsFor(version), ...admin, '--no-verify', '--json']);
  }

  it('upgrades a pinned version after backing it up, and every queued message arrives', async () => {
    const first = await converge(versions.archive);
    assert.equal(first.code, 0, first.output);
    assert.equal(await installed(host), versions.archive);
    const clientId = `mp-e2e-upgrade-${process.pid}`;
    await queueForOfflineSubscriber(url, login, clientId, 'upgrade/ok', queued);

    const run = await converge(versions.upgrade);
    assert.equal(run.code, 0, run.output);
    const steps = JSON.parse(run.output).hosts[0].steps as Array<{ id: string; status: string }>;
    assert.deepEqual(steps.filter((step) => step.status === 'changed').map((step) => step.id).slice(0, 2), ['backup:mosquitto', 'packages:mosquitto']);
    assert.equal(await installed(host), versions.upgrade);
    const backups = (await onHost(host, ['sh', '-c', 'stat -c "%a %n" /var/backups/mqtt-provision/mosquitto-*.tar.gz'])).trim().split('\n');
    assert.equal(backups.length, 1);
    assert.match(backups[0]!, /^600 /);
    assert.equal(await drainDistinct(url, login, clientId, queued), queued);
  });

  it('goes back to the running version and its data when the new package does not start, naming the broker error', async () => {
    const start = await converge(versions.upgrade);
    assert.equal(start.code, 0, start.output);
    const clientId = `mp-e2e-broken-${process.pid}`;
    await queueForOfflineSubscriber(url, login, clientId, 'upgrade/broken', queued);

    const run = await converge(versions.broken);
    assert.equal(run.code, 1, run.output);
    const report = JSON.parse(run.output).hosts[0];
    const failed = report.steps.find((step: { status: string }) => step.status === 'failed');
    // Debian's postinst does not fail when its own restart of the broker fails, so the package
    // step passes and the restart after it fails; both roll back to the old package.
    assert.ok(['packages:mosquitto', 'restart:mosquitto'].includes(failed.id), failed.id);
    assert.match(failed.error, /simulated broken build/);
    assert.equal(await installed(host), versions.upgrade);
    assert.equal((await onHost(host, ['systemctl', 'is-active', 'mosquitto'])).trim(), 'active');
    assert.equal(await drainDistinct(url, login, clientId, queued), queued);
  });
});
