import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { convergeContainer } from '../../src/container/converge.ts';
import { defaultContainerOptions } from '../../src/container/desired.ts';
import { acquireHostLock, HostLockBusy, lockName } from '../../src/engine/host-lock.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { LocalTransport } from '../../src/transport/local.ts';

// The lock script run on this machine: flock under /run/lock (or $TMPDIR), exactly as on a host.
const local = new LocalTransport();
const names: string[] = [];
const unique = (what: string) => {
  const name = lockName(`test-${what}-${process.pid}-${Math.random().toString(36).slice(2)}`);
  names.push(name);
  return name;
};
after(() => {
  for (const name of names) for (const dir of ['/run/lock', process.env.TMPDIR ?? '/tmp']) rmSync(`${dir}/mqtt-provision-${name}.lock`, { force: true });
});

describe('host lock', () => {
  it('lets a second run wait, then fails it naming the holder', async () => {
    const name = unique('busy');
    const first = await acquireHostLock(local, name, 5, 'alice on ctl-1 (pid 111) since 2026-01-01T00:00:00Z');
    try {
      const started = performance.now();
      await assert.rejects(acquireHostLock(local, name, 1, 'bob on ctl-2 (pid 222) since now'), (error: Error) => {
        assert.ok(error instanceof HostLockBusy);
        assert.match(error.message, /locked by another mqtt-provision run: alice on ctl-1 \(pid 111\) since 2026-01-01T00:00:00Z/);
        assert.match(error.message, /--lock-timeout/);
        return true;
      });
      assert.ok(performance.now() - started >= 900, 'waited about the timeout before giving up');
    } finally {
      await first.release();
    }
  });

  it('hands the lock to the waiting run as soon as it is released', async () => {
    const name = unique('handover');
    const first = await acquireHostLock(local, name, 5, 'first');
    const second = acquireHostLock(local, name, 30, 'second');
    setTimeout(() => void first.release(), 200);
    const lock = await second;
    await lock.release();
  });

  it('is released when the run holding it is killed', async () => {
    const name = unique('killed');
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { acquireHostLock } = await import(${JSON.stringify(new URL('../../src/engine/host-lock.ts', import.meta.url).href)});
         const { LocalTransport } = await import(${JSON.stringify(new URL('../../src/transport/local.ts', import.meta.url).href)});
         await acquireHostLock(new LocalTransport(), ${JSON.stringify(name)}, 5, 'doomed');
         console.log('held'); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [chunk] = (await once(holder.stdout, 'data')) as [Buffer];
    assert.equal(chunk.toString().trim(), 'held');
    await assert.rejects(acquireHostLock(local, name, 0, 'probe'), /doomed/);
    holder.kill('SIGKILL');
    await once(holder, 'close');
    const lock = await acquireHostLock(local, name, 10, 'next');
    await lock.release();
  });

  it('runs a script in its own session once the lock is held, and keeps holding it afterwards', async () => {
    const name = unique('then');
    // The script's output holds a line that looks like an end marker, and 3 MB of bytes in one line.
    const script = 'echo "args: $*"; echo "mqtt-provision-end-x 0"; head -c 3000000 /dev/zero | tr "\\0" a; echo; echo oops >&2; exit 3\n';
    const lock = await acquireHostLock(local, name, 5, 'then-test', { script, args: ['a b', 'c'] });
    try {
      const lines = lock.output!.stdout.split('\n');
      assert.deepEqual(lines.slice(0, 2), ['args: a b c', 'mqtt-provision-end-x 0']);
      assert.equal(lines[2]!.length, 3_000_000);
      assert.equal(lock.output!.code, 3);
      assert.match(lock.output!.stderr, /oops/);
      await assert.rejects(acquireHostLock(local, name, 0, 'second'), /then-test/, 'still held after the script ended');
    } finally {
      await lock.release();
    }
  });

  it('names a lock per host and per container', () => {
    assert.equal(lockName(), 'host');
    assert.equal(lockName('mqtt-provision-mosquitto'), 'docker-mqtt-provision-mosquitto');
    assert.equal(lockName('a/../b'), 'docker-a_.._b');
  });

  it('--docker takes the lock per container on the Docker host, before any docker command', async () => {
    const container = `mp-lock-test-${process.pid}`;
    names.push(lockName(container));
    const held = await acquireHostLock(local, lockName(container), 5, 'ops on ctl-9 (pid 999) since 2026-01-01T00:00:00Z');
    const commands: string[][] = [];
    const recording = {
      label: 'local',
      exec: (argv: readonly string[], options?: { stdin?: string | Buffer }) => (commands.push([...argv]), local.exec(argv, options)),
      start: (argv: readonly string[]) => local.start(argv),
      close: async () => {},
    };
    try {
      const settings = resolveSettings({ broker: 'mosquitto', admins: [{ name: 'admin', password: 'lock-test' }] });
      const report = await convergeContainer(settings, { ...defaultContainerOptions('mosquitto', container), image: 'eclipse-mosquitto:2.0.22', bind: '127.0.0.1' }, { transport: recording, lockTimeoutSeconds: 0 });
      assert.equal(report.status, 'failed');
      assert.match(report.error!, /ops on ctl-9 \(pid 999\) since 2026-01-01T00:00:00Z; gave up after 0 s/);
      assert.deepEqual(commands, [], 'no docker command ran');
    } finally {
      await held.release();
    }
  });
});
