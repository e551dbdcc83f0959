import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runInstall, type InstallEnvironment } from '../../src/cli/install-command.ts';
import { readInputText, readSecretFile } from '../../src/settings/input-file.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { runVerifyCommand } from '../../src/verify/verify-command.ts';

// Issue 21 items 4 and 8: every file a user names goes through one reader that refuses devices,
// FIFOs and oversized files, and refuses invalid UTF-8 instead of turning it into U+FFFD.
// Each case has a guard timeout: on the old code /dev/zero grew without bound and a FIFO hung.

const directory = mkdtempSync(join(tmpdir(), 'mp-input-'));
const passwordFile = join(directory, 'pw');
writeFileSync(passwordFile, 'hunter2-secret\n');
const fifo = join(directory, 'fifo');
execFileSync('mkfifo', [fifo]);
const latin1Password = join(directory, 'latin1.pw');
writeFileSync(latin1Password, Buffer.from([0x70, 0xe4, 0x73, 0x73, 0x0a])); // "päss" in Latin-1: not UTF-8
const huge = join(directory, 'huge.yaml');
writeFileSync(huge, `broker: mosquitto\n# ${'x'.repeat(1024 * 1024)}\n`);
const admin = ['--admin-user', 'admin', '--admin-password-file', passwordFile];

function settingsFile(yaml: string): string {
  const path = join(directory, `s-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

function recordingEnvironment(): InstallEnvironment & { err: string[]; connections: number } {
  const recorder = {
    err: [] as string[],
    connections: 0,
    env: {},
    print: () => {},
    printError: (text: string) => recorder.err.push(text),
    connect: async () => {
      recorder.connections++;
      throw new Error('no host in unit tests');
    },
  };
  return recorder;
}

const cases: Array<[string, string[], RegExp]> = [
  ['--settings /dev/zero', ['--host', 'h', '--settings', '/dev/zero', ...admin], /--settings: \/dev\/zero is not a regular file \(a character device\)/],
  ['--settings a FIFO', ['--host', 'h', '--settings', fifo, ...admin], /--settings: .*fifo is not a regular file \(a FIFO\)/],
  ['--settings over 1 MiB', ['--host', 'h', '--settings', huge, ...admin], /--settings: .*huge\.yaml is larger than 1 MiB/],
  ['--admin-password-file /dev/zero', ['--host', 'h', '--admin-user', 'admin', '--admin-password-file', '/dev/zero'], /--admin-password-file: \/dev\/zero is not a regular file/],
  ['--admin-password-file a FIFO', ['--host', 'h', '--admin-user', 'admin', '--admin-password-file', fifo], /--admin-password-file: .* is not a regular file \(a FIFO\)/],
  ['--admin-password-file not UTF-8', ['--host', 'h', '--admin-user', 'admin', '--admin-password-file', latin1Password], /--admin-password-file: .*latin1\.pw is not valid UTF-8/],
  ['--ssh-password-file /dev/zero', ['--host', 'h', '--ssh-password-file', '/dev/zero', ...admin], /--ssh-password-file: \/dev\/zero is not a regular file/],
  ['--identity /dev/zero', ['--host', 'h', '--identity', '/dev/zero', ...admin], /--identity: \/dev\/zero is not a regular file/],
  ['--inventory /dev/zero', ['--inventory', '/dev/zero', ...admin], /--inventory: \/dev\/zero is not a regular file/],
  ['--inventory a FIFO', ['--inventory', fifo, ...admin], /--inventory: .* is not a regular file \(a FIFO\)/],
  ['a user passwordFile of /dev/zero', ['--host', 'h', '--settings', settingsFile('broker: mosquitto\nusers: [{ name: s, passwordFile: /dev/zero }]\n'), ...admin], /settings\.users\[0\]\.passwordFile: \/dev\/zero is not a regular file/],
  ['an admin passwordFile that is a FIFO', ['--host', 'h', '--settings', settingsFile(`broker: mosquitto\nadmins: [{ name: a, passwordFile: ${fifo} }]\n`)], /settings\.admins\[0\]\.passwordFile: .* is not a regular file \(a FIFO\)/],
  ['a user passwordFile that is not UTF-8', ['--host', 'h', '--settings', settingsFile(`broker: mosquitto\nusers: [{ name: s, passwordFile: ${latin1Password} }]\n`), ...admin], /settings\.users\[0\]\.passwordFile: .* is not valid UTF-8/],
  ['a template of /dev/zero', ['--host', 'h', '--settings', settingsFile('broker: mosquitto\ntemplates: { mosquitto.conf: /dev/zero }\n'), ...admin], /settings\.templates\.mosquitto\.conf: \/dev\/zero is not a regular file/],
  ['a template that is a FIFO', ['--host', 'h', '--settings', settingsFile(`broker: mosquitto\ntemplates: { mosquitto-acl: ${fifo} }\n`), ...admin], /settings\.templates\.mosquitto-acl: .* is not a regular file \(a FIFO\)/],
  ['a TLS CA of /dev/zero', ['--host', 'h', '--settings', settingsFile('broker: mosquitto\nlisteners: { mqtts: 8883 }\ntls: { ca: /dev/zero, cert: /dev/zero, key: /dev/zero }\n'), ...admin], /settings\.tls\.ca: \/dev\/zero is not a regular file/],
];

describe('input files: one capped reader, regular files only', () => {
  for (const [name, args, expected] of cases) {
    it(`exits 2 naming the flag or field, touching no host: ${name}`, { timeout: 10_000 }, async () => {
      const environment = recordingEnvironment();
      assert.equal(await runInstall('mosquitto', args, environment), 2, environment.err.join('\n'));
      assert.equal(environment.connections, 0);
      assert.match(environment.err.join('\n'), expected);
    });
  }

  it('refuses a settings file with invalid UTF-8 bytes', () => {
    const path = join(directory, 'latin1.yaml');
    writeFileSync(path, Buffer.concat([Buffer.from('broker: mosquitto\nextraConfig: "# caf'), Buffer.from([0xe9]), Buffer.from('"\n')]));
    assert.throws(() => readInputText(path, '--settings', 1024), /--settings: .*latin1\.yaml is not valid UTF-8/);
  });

  it('reads a UTF-8 password exactly, the final newline dropped', () => {
    const path = join(directory, 'utf8.pw');
    writeFileSync(path, 'päss wörd €\n');
    assert.equal(readSecretFile(path, 'f').reveal(), 'päss wörd €');
  });

  it('gives two different non-UTF-8 files no common password: both refused', () => {
    const other = join(directory, 'latin1-other.pw');
    writeFileSync(other, Buffer.from([0x70, 0xf6, 0x73, 0x73, 0x0a])); // "pöss" in Latin-1: decoded leniently, both became "p\uFFFDss"
    for (const path of [latin1Password, other]) {
      assert.throws(() => resolveSettings({ broker: 'mosquitto', admins: [{ name: 'a', passwordFile: path }] }), /settings\.admins\[0\]\.passwordFile: .* is not valid UTF-8/);
    }
  });


  it('verify-broker refuses --ca, --identity and --password-file that are not regular files, verifying nothing', { timeout: 10_000 }, async () => {
    for (const [args, expected] of [
      [['--url', 'mqtt://127.0.0.1:1883', '--ca', '/dev/zero'], /--ca: \/dev\/zero is not a regular file/],
      [['--url', 'mqtt://127.0.0.1:1883', '--restart-host', 'root@127.0.0.1', '--identity', fifo], /--identity: .* is not a regular file \(a FIFO\)/],
      // --password-file goes through the same reader as every other secret file.
      [['--url', 'mqtt://127.0.0.1:1883', '--user', 'u', '--password-file', '/dev/zero'], /--password-file: \/dev\/zero is not a regular file/],
      [['--url', 'mqtt://127.0.0.1:1883', '--user', 'u', '--password-file', fifo], /--password-file: .* is not a regular file \(a FIFO\)/],
      [['--url', 'mqtt://127.0.0.1:1883', '--user', 'u', '--password-file', latin1Password], /--password-file: .* is not valid UTF-8/],
    ] as const) {
      const err: string[] = [];
      let calls = 0;
      const code = await runVerifyCommand(args, {
        print: () => {},
        printError: (text) => err.push(text),
        connect: async () => { throw new Error('must not connect'); },
        verify: async () => { calls++; throw new Error('must not verify'); },
      });
      assert.equal(code, 2, err.join('\n'));
      assert.match(err.join('\n'), expected);
      assert.equal(calls, 0);
    }
  });
});
