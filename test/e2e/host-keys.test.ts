import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { hostArgs, install, onHost, writeSecretFile } from './support/lab-fixture.ts';

/**
 * Issue 21 item 1: a host with any recorded key must present one of its recorded keys. A man in
 * the middle with a key of another type (ECDSA where ed25519 is recorded) used to be trusted
 * under accept-new and appended; OpenSSH refuses it, and so does mqtt-provision now, before any step.
 */
const admin = ['--admin-user', 'admin', '--admin-password-file', writeSecretFile('host-keys\n')];
const settings = writeSecretFile('broker: mosquitto\n');
const knownHostsIn = () => join(mkdtempSync(join(tmpdir(), 'mp-host-keys-')), 'known_hosts');

describe('SSH host keys of another type', () => {
  let host: LabHost;

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-e2e-hostkeys' })) as [LabHost];
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  /** sshd offering only the given host key types (new connections; ours through onHost stay up). */
  const offerOnly = async (types: string[]) => {
    const lines = types.map((type) => `HostKey /etc/ssh/ssh_host_${type}_key\n`).join('');
    await onHost(host, ['sh', '-c', 'printf "%s" "$1" > /etc/ssh/sshd_config.d/00-host-keys.conf && systemctl restart ssh', 'offer', lines]);
  };
  const recordedLine = async (type: string) => {
    const [keyType, key] = (await onHost(host, ['cat', `/etc/ssh/ssh_host_${type}_key.pub`])).trim().split(/\s+/);
    return `[127.0.0.1]:${host.sshPort} ${keyType} ${key}\n`;
  };

  it('refuses a host that now presents an ECDSA key where only its ed25519 key is recorded, before any step and without recording it', async () => {
    await offerOnly(['ecdsa']);
    try {
      const knownHosts = knownHostsIn();
      const recorded = await recordedLine('ed25519');
      writeFileSync(knownHosts, recorded);
      const run = await install([...(await hostArgs(host)), '--known-hosts', knownHosts, '--settings', settings, ...admin, '--no-verify', '--json']);
      assert.equal(run.code, 1, run.output);
      const [report] = JSON.parse(run.output).hosts;
      assert.match(report.error, /ecdsa-sha2-nistp256 host key of \[127\.0\.0\.1\]:\d+ differs from line 1 .*recorded: ssh-ed25519.*REMOTE HOST IDENTIFICATION HAS CHANGED/);
      assert.deepEqual(report.steps, [], 'no step ran');
      assert.equal(readFileSync(knownHosts, 'utf8'), recorded, 'the new key was not appended');
      assert.equal((await onHost(host, ['sh', '-c', 'test -e /etc/mosquitto && echo present || echo absent'])).trim(), 'absent', 'nothing was installed');
    } finally {
      await offerOnly(['ed25519', 'ecdsa', 'rsa']);
    }
  });

  it('connects to a host offering several key types through the one that is recorded, as OpenSSH does', async () => {
    await offerOnly(['ed25519', 'ecdsa', 'rsa']);
    const knownHosts = knownHostsIn();
    // ssh2 would pick ed25519 first; only the ECDSA key is known, so ECDSA must be asked for.
    const recorded = await recordedLine('ecdsa');
    writeFileSync(knownHosts, recorded);
    const run = await install([...(await hostArgs(host)), '--known-hosts', knownHosts, '--settings', settings, ...admin, '--no-verify', '--dry-run', '--json']);
    const [report] = JSON.parse(run.output).hosts;
    assert.equal(report.status, 'changed', run.output);
    assert.ok(report.steps.length > 0, 'it connected, gathered facts and planned');
    assert.equal(readFileSync(knownHosts, 'utf8'), recorded, 'nothing appended');
  });
});
