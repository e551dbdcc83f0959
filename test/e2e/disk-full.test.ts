import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { hostArgs, install, onHost, writeSecretFile } from './support/lab-fixture.ts';

const admin = ['--admin-user', 'admin', '--admin-password-file', writeSecretFile('disk-full-test\n')];
const settingsWithQueue = (queue: number) => writeSecretFile(`broker: mosquitto\nsession:\n  maxQueuedMessages: ${queue}\n`);

describe('a full disk under /etc/mosquitto', () => {
  let host: LabHost;

  before(async () => {
    // A 1 MiB tmpfs as the config directory: small enough to fill in a moment.
    [host] = (await startLabHosts({
      count: 1,
      variant: 'base',
      prefix: 'mp-e2e-diskfull',
      extraRunArgs: ['--mount', 'type=tmpfs,destination=/etc/mosquitto,tmpfs-size=1048576'],
    })) as [LabHost];
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  it('fails with a clear error, keeps the previous config and the broker, and converges once there is room', async () => {
    const first = await install([...(await hostArgs(host)), '--settings', settingsWithQueue(100000), ...admin, '--no-verify', '--json']);
    assert.equal(first.code, 0, first.output);
    const before = await onHost(host, ['sha256sum', '/etc/mosquitto/mosquitto.conf']);
    await onHost(host, ['sh', '-c', 'dd if=/dev/zero of=/etc/mosquitto/filler bs=4096 2>/dev/null; test "$(df --output=avail /etc/mosquitto | tail -1)" -eq 0']);

    const full = await install([...(await hostArgs(host)), '--settings', settingsWithQueue(200000), ...admin, '--no-verify', '--json']);
    assert.equal(full.code, 1, full.output);
    assert.match(JSON.parse(full.output).hosts[0].error, /No space left on device/);
    assert.equal(await onHost(host, ['sha256sum', '/etc/mosquitto/mosquitto.conf']), before, 'the previous config is intact');
    assert.equal((await onHost(host, ['systemctl', 'is-active', 'mosquitto'])).trim(), 'active');
    assert.equal((await onHost(host, ['sh', '-c', 'ls /etc/mosquitto | grep -c "mqtt-provision\\.[0-9]*\\.tmp" || true'])).trim(), '0', 'no temp file left');

    await onHost(host, ['rm', '-f', '/etc/mosquitto/filler']);
    const again = await install([...(await hostArgs(host)), '--settings', settingsWithQueue(200000), ...admin, '--no-verify', '--json']);
    assert.equal(again.code, 0, again.output);
    assert.match(await onHost(host, ['cat', '/etc/mosquitto/mosquitto.conf']), /^max_queued_messages 200000$/m);
  });
});
