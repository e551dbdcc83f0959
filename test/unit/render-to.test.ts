import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runInstall } from '../../src/cli/install-command.ts';

// Issue 21 item 6: writeFileSync's mode applies only to a file it creates, so a rendered file that
// now holds a secret kept the loose mode of the file it replaced.

const directory = mkdtempSync(join(tmpdir(), 'mp-render-'));
const passwordFile = join(directory, 'pw');
writeFileSync(passwordFile, 'hunter2-secret\n');
const environment = { env: {}, print: () => {}, printError: () => {}, connect: async () => { throw new Error('no host'); } };

function settings(extraConfig: string): string {
  const path = join(directory, `s-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, `broker: mosquitto\nextraConfig: ${JSON.stringify(extraConfig)}\n`);
  return path;
}

describe('--render-to into an existing directory', () => {
  it('makes a file that now holds a secret 0600, and one that no longer does 0644', async () => {
    const target = join(directory, 'out');
    mkdirSync(target);
    for (const name of ['mosquitto.conf', 'passwd', 'acl']) {
      writeFileSync(join(target, name), 'old\n');
      chmodSync(join(target, name), 0o666);
    }
    const admin = ['--admin-user', 'admin', '--admin-password-file', passwordFile];
    assert.equal(await runInstall('mosquitto', ['--render-to', target, '--settings', settings('remote_password Br1dge'), ...admin], environment), 0);
    const modeOf = (name: string) => statSync(join(target, name)).mode & 0o777;
    assert.equal(modeOf('mosquitto.conf'), 0o600, 'holds the bridge password');
    assert.equal(modeOf('passwd'), 0o600);
    assert.equal(modeOf('acl'), 0o644);
    assert.match(readFileSync(join(target, 'mosquitto.conf'), 'utf8'), /remote_password Br1dge/);

    assert.equal(await runInstall('mosquitto', ['--render-to', target, '--settings', settings(''), ...admin], environment), 0);
    assert.equal(modeOf('mosquitto.conf'), 0o644, 'no secret any more');
    assert.equal(modeOf('passwd'), 0o600);
  });
});

describe('--render-to for EMQX', () => {
  it('writes the review file of users and ACL rules, and warns that EMQX 5.6 cannot keep queues across a restart', async () => {
    const target = join(directory, 'emqx-out');
    const path = join(directory, 'emqx.yaml');
    writeFileSync(path, 'broker: emqx\nversion: 5.6.1\nusers:\n  - {name: ingest, password: ingest-secret-1, acl: [{topic: "telemetry/#", access: write}]}\n');
    const errors: string[] = [];
    const code = await runInstall('emqx', ['--render-to', target, '--settings', path, '--admin-user', 'admin', '--admin-password-file', passwordFile], { ...environment, printError: (line: string) => errors.push(line) });
    assert.equal(code, 0, errors.join('\n'));
    const review = readFileSync(join(target, 'emqx-api-objects.review.txt'), 'utf8');
    assert.match(review, /^user ingest: write telemetry\/#$/m);
    assert.match(review, /\{allow, \{username, "ingest"\}, publish, \["telemetry\/#"\]\}\./);
    assert.ok(!review.includes('ingest-secret-1') && !review.includes('hunter2-secret'));
    assert.match(errors.join('\n'), /warning: settings\.persistence\.enabled: EMQX 5\.6\.1 has no durable sessions/);
  });
});
