import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { acquireHostLock } from '../../src/engine/host-lock.ts';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { SshTransport } from '../../src/transport/ssh.ts';
import { hostArgs, install, knownHostsFile, onHost, writeSecretFile } from './support/lab-fixture.ts';
import { brokerRejection, rejectedConfigSettings } from './support/rejected-config.ts';

/**
 * Issue 16: runs started at once against one host (operators, CI jobs and `pulumi up` overlap)
 * take turns through the host lock: the host ends on exactly one good config with the broker up,
 * a rejected config fails with the broker's error, and no temp or backup file is left behind.
 */
const admin = ['--admin-user', 'admin', '--admin-password-file', writeSecretFile('concurrent-runs\n')];
const queueSettings = (queue: number) => writeSecretFile(`broker: mosquitto\nlisteners: { mqtt: 1883, websocket: 8083 }\nsession:\n  maxQueuedMessages: ${queue}\n`);
const script = new URL('../../scripts/install-mosquitto.mts', import.meta.url).pathname;

interface ChildRun {
  pid: number;
  code: number;
  output: string;
}

/** The install front door as its own process, as two operators would start it: each has its own pid. */
function startRun(args: string[]): { pid: number; done: Promise<ChildRun> } {
  const child = spawn(process.execPath, [script, ...args, '--known-hosts', knownHostsFile, '--no-verify'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const done = new Promise<ChildRun>((resolveRun) => child.on('close', (code) => resolveRun({ pid: child.pid!, code: code ?? 1, output })));
  return { pid: child.pid!, done };
}

describe('several runs at once against one host', () => {
  let host: LabHost;

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-e2e-concurrent' })) as [LabHost];
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  it('take turns: one good config ends up in place, the rejected one fails with the broker error, every other run converged or named the lock holder', async (t) => {
    const ssh = await hostArgs(host);
    const first = await install([...ssh, '--settings', queueSettings(1000), ...admin, '--no-verify']);
    assert.equal(first.code, 0, first.output);

    const good = [1111, 2222, 3333];
    const runs = [
      ...good.slice(0, 2).map((queue) => ({ queue, ...startRun([...ssh, '--settings', queueSettings(queue), ...admin]) })),
      { queue: 0, ...startRun([...ssh, '--settings', rejectedConfigSettings(), ...admin]) },
    ];
    // One more once the lock is held, with no patience: it must fail naming a holder, or get the lock in a gap and converge.
    await onHost(host, ['sh', '-c', 'for i in $(seq 300); do [ -s /run/lock/mqtt-provision-host.lock.holder ] && exit 0; sleep 0.1; done; exit 1']);
    runs.push({ queue: good[2]!, ...startRun([...ssh, '--settings', queueSettings(good[2]!), ...admin, '--lock-timeout', '0']) });
    const results = await Promise.all(runs.map(async (run) => ({ ...run, ...(await run.done) })));
    const pids = results.map((run) => run.pid);

    const converged: number[] = [];
    for (const run of results) {
      if (run.queue === 0) {
        assert.equal(run.code, 1, run.output);
        assert.match(run.output, brokerRejection, 'the rejected config fails with the broker\'s own error');
        assert.match(run.output, /rolled back/);
        continue;
      }
      if (run.code === 0) {
        converged.push(run.queue);
        continue;
      }
      const holder = /locked by another mqtt-provision run: \S+ on \S+ \(pid (\d+)\) since \S+; gave up after \d+ s \(--lock-timeout\)/.exec(run.output);
      assert.ok(holder, `run ${run.queue} neither converged nor named the lock holder:\n${run.output}`);
      assert.ok(pids.includes(Number(holder[1])) && Number(holder[1]) !== run.pid, `the holder is one of the other runs (${holder[1]})`);
      assert.doesNotMatch(run.output, /changed /, 'a run that did not get the lock changed nothing');
    }
    t.diagnostic(`outcomes: ${results.map((run) => `${run.queue || 'rejected'}→${run.code === 0 ? 'converged' : /locked by another/.test(run.output) ? 'named the holder' : 'failed'}`).join(', ')}`);
    assert.ok(converged.length >= 2, `the patient good runs converged (${converged.join(', ')})`);

    assert.equal((await onHost(host, ['systemctl', 'is-active', 'mosquitto'])).trim(), 'active');
    const queues = [...(await onHost(host, ['cat', '/etc/mosquitto/mosquitto.conf'])).matchAll(/^max_queued_messages (\d+)$/gm)].map((match) => Number(match[1]));
    assert.equal(queues.length, 1);
    assert.ok(converged.includes(queues[0]!), `the config in place (${queues[0]}) is one a converged run wrote (${converged.join(', ')})`);
    assert.equal((await onHost(host, ['sh', '-c', '{ ls -a /etc/mosquitto; ls -a /var/lib/mqtt-provision; } 2>/dev/null | grep -c "mqtt-provision\\.\\|restart-pending" || true'])).trim(), '0', 'no temp, backup or marker file left');
    assert.equal((await onHost(host, ['sh', '-c', 'ls /run/lock/*.holder 2>/dev/null | wc -l'])).trim(), '0', 'no holder left: the lock is free');
  });

  it('waits up to --lock-timeout for a held lock, then fails naming the holder without touching the host', async () => {
    const transport = await SshTransport.connect({ user: 'root', host: '127.0.0.1', port: host.sshPort, identityFile: await ensureLabKey() });
    const lock = await acquireHostLock(transport, 'host', 5, 'operator on laptop-7 (pid 4242) since 2026-01-01T00:00:00Z');
    try {
      const started = performance.now();
      const run = await install([...(await hostArgs(host)), '--settings', queueSettings(4444), ...admin, '--no-verify', '--lock-timeout', '2', '--json']);
      assert.equal(run.code, 1, run.output);
      const [report] = JSON.parse(run.output).hosts;
      assert.match(report.error, /locked by another mqtt-provision run: operator on laptop-7 \(pid 4242\) since 2026-01-01T00:00:00Z; gave up after 2 s/);
      assert.deepEqual(report.steps, [], 'no step ran');
      assert.ok(performance.now() - started >= 2000, 'it waited');
    } finally {
      await lock.release();
      await transport.close();
    }
    assert.doesNotMatch(await onHost(host, ['sh', '-c', 'cat /etc/mosquitto/mosquitto.conf 2>/dev/null || true']), /max_queued_messages 4444/);
  });

  it('is freed when the SSH session holding it is lost', async () => {
    const transport = await SshTransport.connect({ user: 'root', host: '127.0.0.1', port: host.sshPort, identityFile: await ensureLabKey() });
    await acquireHostLock(transport, 'host', 5, 'a run whose connection drops');
    // Dropped without releasing, as a killed controller's connection is.
    await transport.close();
    const started = performance.now();
    const again = await SshTransport.connect({ user: 'root', host: '127.0.0.1', port: host.sshPort, identityFile: await ensureLabKey() });
    try {
      const lock = await acquireHostLock(again, 'host', 30, 'the next run');
      await lock.release();
      assert.ok(performance.now() - started < 15000, 'the lock came free with the session, not after the timeout');
    } finally {
      await again.close();
    }
  });
});
