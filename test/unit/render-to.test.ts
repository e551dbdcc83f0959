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
