import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/settings/input-error.ts';
import { parseVerifyArguments } from '../../src/verify/verify-arguments.ts';
import { derivedClientId } from '../../src/settings/consumers.ts';
import { runVerifyCommand, type VerifyCommandEnvironment } from '../../src/verify/verify-command.ts';
import type { VerifyOptions } from '../../src/verify/verify-context.ts';
import { buildReport, type VerifyReport } from '../../src/verify/verify-report.ts';
import { noStart } from './support/no-start.ts';

function inputErrorOn(flag: string) {
  return (error: unknown) => error instanceof InputError && error.field === flag;
}

describe('verify-broker flags', () => {
  it('parses a full command line', () => {
    const parsed = parseVerifyArguments([
      '--url', 'mqtt://127.0.0.1:1883', '--ws-url', 'ws://127.0.0.1:8083/mqtt', '--user', 'admin', '--password-file', '/tmp/pw',
      '--messages', '50000', '--restart-host', 'deploy@127.0.0.1:2222', '--identity', '/tmp/key', '--service', 'mosquitto', '--json',
    ]);
    assert.deepEqual(parsed, {
      mqttUrl: 'mqtt://127.0.0.1:1883',
      wsUrl: 'ws://127.0.0.1:8083/mqtt',
      user: 'admin',
      passwordFile: '/tmp/pw',
      messages: 50000,
      restartHost: { user: 'deploy', host: '127.0.0.1', port: 2222 },
      identity: '/tmp/key',
      service: 'mosquitto',
      json: true,
      help: false,
    });
  });

  it('defaults to 5000 messages, anonymous, no restart', () => {
    const parsed = parseVerifyArguments(['--url', 'mqtt://127.0.0.1:1883']);
    assert.equal(parsed.messages, 5000);
    assert.equal(parsed.user, undefined);
    assert.equal(parsed.restartHost, undefined);
  });

  it('names the flag that is wrong', () => {
    const url = ['--url', 'mqtt://127.0.0.1:1883'];
    assert.throws(() => parseVerifyArguments([...url, '--mesages', '5']), inputErrorOn('--mesages'));
    assert.throws(() => parseVerifyArguments([...url, '--messages']), inputErrorOn('--messages'));
    assert.throws(() => parseVerifyArguments([...url, '--messages', '0']), inputErrorOn('--messages'));
    assert.throws(() => parseVerifyArguments([...url, '--messages', '1e3']), inputErrorOn('--messages'));
    assert.throws(() => parseVerifyArguments([]), inputErrorOn('--url'));
    // MQTT over TCP has no path or query: refused rather than silently ignored.
    assert.throws(() => parseVerifyArguments(['--url', 'mqtt://127.0.0.1:1883/mqtt']), inputErrorOn('--url'));
    assert.throws(() => parseVerifyArguments(['--url', 'mqtt://127.0.0.1:1883?x=1']), inputErrorOn('--url'));
    assert.equal(parseVerifyArguments(['--url', 'mqtt://127.0.0.1:1883/']).mqttUrl, 'mqtt://127.0.0.1:1883/');
    assert.throws(() => parseVerifyArguments(['--url', 'http://127.0.0.1']), inputErrorOn('--url'));
    assert.throws(() => parseVerifyArguments(['--url', 'mqtt://u:p@127.0.0.1']), inputErrorOn('--url'));
    assert.throws(() => parseVerifyArguments([...url, '--ws-url', 'mqtt://127.0.0.1']), inputErrorOn('--ws-url'));
    assert.throws(() => parseVerifyArguments([...url, '--user', 'admin']), inputErrorOn('--password-file'));
    assert.throws(() => parseVerifyArguments([...url, '--password-file', '/tmp/pw']), inputErrorOn('--password-file'));
    assert.throws(() => parseVerifyArguments([...url, '--restart-host', 'root@127.0.0.1:22']), inputErrorOn('--identity'));
    assert.throws(() => parseVerifyArguments([...url, '--restart-host', 'root@bad host']), inputErrorOn('--restart-host'));
    assert.throws(() => parseVerifyArguments([...url, '--service', 'mosquitto']), inputErrorOn('--service'));
    assert.throws(
      () => parseVerifyArguments([...url, '--restart-host', 'root@127.0.0.1', '--identity', 'k', '--service', 'a;b']),
      inputErrorOn('--service'),
    );
    assert.throws(() => parseVerifyArguments([...url, 'extra']), InputError);
  });

  it('reads the password without its final line break', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'verify-args-'));
    writeFileSync(join(directory, 'pw'), 'x y\n');
    writeFileSync(join(directory, 'empty'), '\n');
    const run = async (file: string) => {
      const err: string[] = [];
      const passwords: string[] = [];
      const code = await runVerifyCommand(['--url', 'mqtt://127.0.0.1:1883', '--user', 'u', '--password-file', join(directory, file)], {
        print: () => {},
        printError: (text) => err.push(text),
        connect: async () => {
          throw new Error('must not connect');
        },
        verify: async (options) => {
          passwords.push(options.password?.reveal() ?? '');
          return buildReport('r', [{ name: 'offline retention', status: 'pass', detail: 'all arrived' }]);
        },
      });
      return { code, err: err.join('\n'), passwords };
    };
    assert.deepEqual((await run('pw')).passwords, ['x y']);
    for (const file of ['empty', 'absent']) {
      const refused = await run(file);
      assert.equal(refused.code, 2);
      assert.match(refused.err, /invalid input: --password-file: /);
      assert.deepEqual(refused.passwords, []);
    }
  });
});

describe('verify-broker command', () => {
  function environment(report: VerifyReport) {
    const out: string[] = [];
    const err: string[] = [];
    const calls: VerifyOptions[] = [];
    const env: VerifyCommandEnvironment = {
      print: (text) => out.push(text),
      printError: (text) => err.push(text),
      connect: async () => {
        throw new Error('must not connect');
      },
      verify: async (options) => {
        calls.push(options);
        return report;
      },
    };
    return { env, out, err, calls };
  }
  const passing = buildReport('r', [{ name: 'offline retention', status: 'pass', detail: 'all arrived' }]);
  const failing = buildReport('r', [{ name: 'offline retention', status: 'fail', detail: 'received 1000 of 5000' }]);

  it('exits 2 naming the bad flag, without verifying anything', async () => {
    const { env, err, calls } = environment(passing);
    assert.equal(await runVerifyCommand(['--url', 'mqtt://127.0.0.1:1883', '--bogus'], env), 2);
    assert.match(err.join('\n'), /--bogus/);
    assert.equal(calls.length, 0);
  });

  it('exits 0 when every check passed and 1 when one failed', async () => {
    assert.equal(await runVerifyCommand(['--url', 'mqtt://127.0.0.1:1883'], environment(passing).env), 0);
    const failed = environment(failing);
    assert.equal(await runVerifyCommand(['--url', 'mqtt://127.0.0.1:1883'], failed.env), 1);
    assert.match(failed.out.join('\n'), /^FAIL {2}offline retention: received 1000 of 5000/m);
  });

  it('aborts the verify on SIGINT, removes its handler afterwards, and exits 130', async () => {
    const { env, out } = environment(passing);
    let fire: ((signal: NodeJS.Signals) => void) | undefined;
    let removed = false;
    env.onInterrupt = (handler) => {
      fire = handler;
      return () => {
        removed = true;
      };
    };
    let aborted = false;
    env.verify = async (options) => {
      fire!('SIGINT');
      aborted = options.signal?.aborted === true;
      return buildReport('r', [{ name: 'interrupted', status: 'fail', detail: 'stopped by SIGINT' }, { name: 'cleanup', status: 'pass', detail: 'ended 3 sessions' }]);
    };
    assert.equal(await runVerifyCommand(['--url', 'mqtt://127.0.0.1:1883'], env), 130);
    assert.equal(aborted, true);
    assert.equal(removed, true);
    assert.match(out.join('\n'), /^PASS {2}cleanup/m);
  });

  it('prints JSON with --json and never the password', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'verify-cmd-'));
    writeFileSync(join(directory, 'pw'), 'hunter2 secret\n');
    const { env, out, calls } = environment(passing);
    const args = ['--url', 'mqtt://127.0.0.1:1883', '--user', 'admin', '--password-file', join(directory, 'pw'), '--json'];
    assert.equal(await runVerifyCommand(args, env), 0);
    assert.equal(JSON.parse(out.join('\n')).passed, true);
    assert.equal(calls[0]?.username, 'admin');
    assert.equal(calls[0]?.password?.reveal(), 'hunter2 secret');
    assert.equal(calls[0]?.restartBroker, undefined);
    assert.doesNotMatch(JSON.stringify(calls[0]), /hunter2/);
  });

  it('turns --restart-host into a restartBroker that runs systemctl restart over SSH', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'verify-cmd-'));
    writeFileSync(join(directory, 'key'), 'not really a key');
    const { env, calls } = environment(passing);
    const executed: string[][] = [];
    let closed = 0;
    env.connect = async (options) => {
      assert.deepEqual([options.user, options.host, options.port, options.identityFile], ['root', '127.0.0.1', 2301, join(directory, 'key')]);
      return {
        label: 'root@127.0.0.1:2301',
        exec: async (argv) => {
          executed.push([...argv]);
          return { code: 0, stdout: '', stderr: '' };
        },
        start: noStart, close: async () => {
          closed++;
        },
      };
    };
    const args = ['--url', 'mqtt://127.0.0.1:2302', '--restart-host', 'root@127.0.0.1:2301', '--identity', join(directory, 'key'), '--service', 'mosquitto'];
    assert.equal(await runVerifyCommand(args, env), 0);
    await calls[0]?.restartBroker?.();
    assert.deepEqual(executed, [['systemctl', 'restart', 'mosquitto']]);
    assert.equal(closed, 1);
  });

  it('exits 2 when the identity file cannot be read', async () => {
    const { env, err } = environment(passing);
    const args = ['--url', 'mqtt://127.0.0.1:2302', '--restart-host', 'root@127.0.0.1:2301', '--identity', '/nonexistent/key'];
    assert.equal(await runVerifyCommand(args, env), 2);
    assert.match(err.join('\n'), /--identity/);
  });
  it('checks the consumers of --consumers FILE as themselves, and refuses it without --user', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'verify-cmd-'));
    writeFileSync(join(directory, 'pw'), 'admin secret\n');
    writeFileSync(join(directory, 'settings.yaml'), 'broker: mosquitto\nconsumers:\n  - { name: flume-ingest, kind: flume, topics: [flume-demo], password: fl-pass }\n');
    const { env, calls } = environment(passing);
    const args = ['--url', 'mqtt://127.0.0.1:1883', '--user', 'admin', '--password-file', join(directory, 'pw'), '--consumers', join(directory, 'settings.yaml')];
    assert.equal(await runVerifyCommand(args, env), 0);
    assert.deepEqual(calls[0]?.consumers?.map(({ name, clientId, username, topics }) => ({ name, clientId, username, topics })), [
      { name: 'flume-ingest', clientId: derivedClientId('mosquitto', 'flume-ingest'), username: 'flume-ingest', topics: [{ topic: 'flume-demo', qos: 1 }] },
    ]);
    const refused = environment(passing);
    assert.equal(await runVerifyCommand(['--url', 'mqtt://127.0.0.1:1883', '--consumers', join(directory, 'settings.yaml')], refused.env), 2);
    assert.match(refused.err.join('\n'), /--consumers: needs --user/);
    assert.equal(refused.calls.length, 0);
  });
});
