import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { convergeContainer, removeContainerTarget, resolveImage } from '../../src/container/converge.ts';
import type { ContainerOptions } from '../../src/container/desired.ts';
import { acquireHostLock, lockName } from '../../src/engine/host-lock.ts';
import { type Settings } from '../../src/settings/load.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { LocalTransport } from '../../src/transport/local.ts';
import { freePort } from './support/free-port.ts';
import { roundTrip } from './support/mqtt-roundtrip.ts';

const name = `mp-e2e-clock-${process.pid}`;
const password = 'container-lock-secret';
let port = 0;
let options: ContainerOptions;
const settingsWith = (maxQueuedMessages: number): Settings =>
  resolveSettings({ broker: 'mosquitto', listeners: { mqtt: port }, session: { maxQueuedMessages }, admins: [{ name: 'admin', password }] });

async function runningConfig(): Promise<string> {
  const result = await new LocalTransport().exec(['docker', 'exec', name, 'grep', '^max_queued_messages', '/mosquitto/config/mosquitto.conf']);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

describe('concurrent --docker runs against one container take turns', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    port = await freePort();
    options = { name, image: await resolveImage(settingsWith(1000), 'local', false), bind: '127.0.0.1', configDir: `/var/tmp/${name}/config`, memory: '256m', cpus: '1' };
  });
  after(async () => {
    await removeContainerTarget(name, { volumes: true, configDir: `/var/tmp/${name}` });
  });

  it('two runs with different settings started at once both finish; the container serves the last one, healthy, no temp file left', async () => {
    assert.notEqual((await convergeContainer(settingsWith(1000), options)).status, 'failed');
    const [first, second] = await Promise.all([convergeContainer(settingsWith(2000), options), convergeContainer(settingsWith(3000), options)]);
    assert.equal(first.status, 'changed', first.error);
    assert.equal(second.status, 'changed', second.error);
    // Each run saw the other's result as its starting point: both recreated, neither half-wrote.
    const running = await runningConfig();
    assert.ok(['max_queued_messages 2000', 'max_queued_messages 3000'].includes(running), running);
    const health = await new LocalTransport().exec(['docker', 'inspect', '-f', '{{.State.Health.Status}}', name]);
    assert.equal(health.stdout.trim(), 'healthy');
    assert.deepEqual(readdirSync(options.configDir).filter((file) => /tmp|bak/.test(file)), []);
    assert.equal(await roundTrip(`mqtt://127.0.0.1:${port}`, { username: 'admin', password }), 'hello from mqtt-provision');
    const again = await convergeContainer(settingsWith(Number(running.split(' ')[1])), options);
    assert.equal(again.status, 'ok', 'the winner converged fully: a re-run changes nothing');
  });

  it('a run that finds the container locked waits --lock-timeout, then fails naming the holder, touching nothing', async () => {
    assert.notEqual((await convergeContainer(settingsWith(1000), options)).status, 'failed');
    const before = await new LocalTransport().exec(['docker', 'inspect', '-f', '{{.State.StartedAt}}', name]);
    const lock = await acquireHostLock(new LocalTransport(), lockName(name), 5, 'tester on the-lab (pid 4242) since 2026-11-29T00:00:00Z');
    try {
      const report = await convergeContainer(settingsWith(4000), options, { lockTimeoutSeconds: 2 });
      assert.equal(report.status, 'failed');
      assert.match(report.error ?? '', /locked by another mqtt-provision run: tester on the-lab \(pid 4242\)/);
    } finally {
      await lock.release();
    }
    const afterwards = await new LocalTransport().exec(['docker', 'inspect', '-f', '{{.State.StartedAt}}', name]);
    assert.equal(afterwards.stdout, before.stdout, 'the container was not touched');
    assert.equal(await runningConfig(), 'max_queued_messages 1000');
  });
});
