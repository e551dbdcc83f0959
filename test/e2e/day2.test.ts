import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { runStatus } from '../../src/cli/status-command.ts';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { pollUntil } from '../../src/container/docker-engine.ts';
import { SshTransport } from '../../src/transport/ssh.ts';
import { hostArgs, install, knownHostsFile, onHost, writeSecretFile } from './support/lab-fixture.ts';

const password = 'day2-admin-secret';
const passwordFile = writeSecretFile(`${password}\n`);
const admin = ['--admin-user', 'admin', '--admin-password-file', passwordFile];
const settingsFile = new URL('../../examples/lab-mosquitto.yaml', import.meta.url).pathname;

for (const [variant, os] of [['base', 'Debian 12'], ['rhel', 'Rocky 9 (real dnf)']] as const)
describe(`day-2 operations on a ${os} lab host: --check and status`, () => {
  let host: LabHost;
  let inventory: string;

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant, prefix: `mp-e2e-day2-${variant}` })) as [LabHost];
    inventory = writeSecretFile('');
    writeFileSync(inventory, JSON.stringify({ hosts: [{ name: host.name, address: '127.0.0.1', sshPort: host.sshPort, identity: await ensureLabKey(), ports: host.ports }] }));
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  /** Each test starts from a converged host: converging is a no-op after the first time. */
  async function converge(): Promise<void> {
    const run = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output + run.errors);
  }

  async function status(json = true): Promise<{ code: number; output: string; document: any }> {
    const output: string[] = [];
    const code = await runStatus(['--inventory', inventory, '--settings', settingsFile, ...admin, '--known-hosts', knownHostsFile, ...(json ? ['--json'] : [])], {
      env: {},
      print: (text) => output.push(text),
      printError: (text) => output.push(text),
      connect: (options) => SshTransport.connect(options),
    });
    return { code, output: output.join('\n'), document: json ? JSON.parse(output.join('\n')) : null };
  }

  it('--check exits 0 on a converged host, 3 with the diff after a hand edit, and changes nothing', async () => {
    await converge();
    const clean = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--check']);
    assert.equal(clean.code, 0, clean.output);
    assert.match(clean.output, /check: in sync/);

    await onHost(host, ['sed', '-i', 's/^max_queued_messages .*/max_queued_messages 100/', '/etc/mosquitto/mosquitto.conf']);
    const before = await onHost(host, ['sha256sum', '/etc/mosquitto/mosquitto.conf']);
    const drifted = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--check']);
    assert.equal(drifted.code, 3, drifted.output);
    assert.match(drifted.output, /would change\s+file \/etc\/mosquitto\/mosquitto\.conf/);
    assert.match(drifted.output, /-max_queued_messages 100\n\s+\+max_queued_messages 100000/);
    assert.match(drifted.output, /check: drift on root@127\.0\.0\.1:\d+ \(exit 3\)/);
    const json = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--check', '--json']);
    assert.equal(json.code, 3);
    const document = JSON.parse(json.output);
    assert.equal(document.check.inSync, false);
    assert.ok(Object.values(document.check.drift as Record<string, string[]>)[0]!.some((id) => id.includes('/etc/mosquitto/mosquitto.conf')), json.output);
    assert.equal(await onHost(host, ['sha256sum', '/etc/mosquitto/mosquitto.conf']), before, '--check wrote nothing');
    await converge();
  });

  // the same on every OS: defined once.
  if (variant === 'base') it('--check exits 1 when a host cannot be reached: an unchecked host is not "in sync"', async () => {
    const run = await install(['--host', 'root@127.0.0.1:1', '--identity', await ensureLabKey(), '--settings', settingsFile, ...admin, '--check', '--retries', '0', '--connect-timeout', '2']);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /could not check every host/);
  });

  it('status reports a healthy broker with its own figures, counting messages queued for an offline subscriber', async () => {
    await converge();
    const url = `mqtt://127.0.0.1:${host.ports[1883]}`;
    const clientId = `mp-e2e-day2-${process.pid}`;
    const subscriber = await mqtt.connectAsync(url, { username: 'admin', password, clientId, clean: false, reconnectPeriod: 0 });
    await subscriber.subscribeAsync('day2/queued', { qos: 1 });
    await subscriber.endAsync();
    const publisher = await mqtt.connectAsync(url, { username: 'admin', password, reconnectPeriod: 0 });
    for (let i = 0; i < 200; i++) await publisher.publishAsync('day2/queued', String(i), { qos: 1 });
    await publisher.endAsync();
    try {
      // Mosquitto refreshes $SYS every sys_interval (10 s): poll until the figures catch up.
      let last: Awaited<ReturnType<typeof status>> | undefined;
      await pollUntil(
        async () => {
          last = await status();
          // Both figures come from $SYS topics published on the interval, not at the same instant: wait for both.
          const figures = last.document.targets[0].figures;
          return (figures?.queuedMessages ?? 0) >= 200 && (figures?.disconnectedSessions ?? 0) >= 1 ? true : undefined;
        },
        { what: 'status to count the 200 queued messages and the offline session', timeoutMs: 30_000, intervalMs: 1_000 },
      );
      const target = last!.document.targets[0];
      assert.equal(last!.code, 0, last!.output);
      assert.deepEqual(target.problems, []);
      assert.equal(target.service.state, 'active');
      assert.deepEqual(target.listeners.missing, []);
      assert.deepEqual(target.drift, []);
      assert.ok(target.figures.disconnectedSessions >= 1, last!.output);
      assert.match(target.version.installed, /^2\./);
      const table = await status(false);
      assert.match(table.output, /^TARGET\s+BROKER/);
      assert.match(table.output, /mosquitto\s+2\.\S+\s+up /);
    } finally {
      const cleanup = await mqtt.connectAsync(url, { username: 'admin', password, clientId, clean: true, reconnectPeriod: 0 });
      await cleanup.endAsync();
    }
  });

  it('status exits 1 naming a stopped broker and the listeners it no longer serves', async () => {
    await converge();
    await onHost(host, ['systemctl', 'stop', 'mosquitto']);
    try {
      const stopped = await status();
      assert.equal(stopped.code, 1);
      const problems: string[] = stopped.document.targets[0].problems;
      assert.ok(problems.includes('the mosquitto service is inactive (dead)'), problems.join('\n'));
      assert.ok(problems.some((problem) => problem.startsWith('drift: a converge would change') && problem.includes('service')), problems.join('\n'));
      assert.deepEqual(stopped.document.targets[0].listeners.missing, [1883, 8083]);
    } finally {
      await converge();
    }
    assert.equal((await status()).code, 0);
  });
});
