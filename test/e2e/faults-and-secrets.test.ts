import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { changedCount, hostArgs, install, onHost, writeSecretFile } from './support/lab-fixture.ts';
import { roundTrip } from './support/mqtt-roundtrip.ts';

const settingsFile = new URL('../../examples/lab-mosquitto.yaml', import.meta.url).pathname;
const firstPassword = 'first-Secret-7f3a';
const secondPassword = 'second-Secret-91bc';

describe('faults and secrets on real lab hosts', () => {
  let hosts: LabHost[];
  let host: LabHost;
  let fresh: LabHost;

  before(async () => {
    hosts = await startLabHosts({ count: 2, variant: 'base', prefix: 'mp-e2e-faults' });
    [host, fresh] = hosts as [LabHost, LabHost];
  });
  after(async () => {
    if (hosts) await stopLabHosts(hosts.map((item) => item.name));
  });

  const adminWith = (password: string) => ['--admin-user', 'admin', '--admin-password-file', writeSecretFile(`${password}\n`)];

  it('recovers from an SSH connection killed mid-run: the failure is reported and a re-run converges', async () => {
    const run = install([...(await hostArgs(fresh)), '--settings', settingsFile, ...adminWith(firstPassword), '--no-verify', '--json', '--retries', '0']);
    // Kill the SSH session while the package install runs; what it ran gets SIGHUP with it.
    // "[a]pt-get": the pattern must not match this very shell's own command line.
    await onHost(fresh, ['sh', '-c', 'for i in $(seq 1 200); do pgrep -f "[a]pt-get install" >/dev/null && break; sleep 0.05; done; pkill -KILL -f "sshd: root@" || true']).catch(() => {});
    const killed = await run;
    assert.equal(killed.code, 1, killed.output);
    assert.match(JSON.parse(killed.output).hosts[0].error, /connection lost while running/);

    const again = await install([...(await hostArgs(fresh)), '--settings', settingsFile, ...adminWith(firstPassword), '--no-verify', '--json']);
    assert.equal(again.code, 0, again.output);
    assert.equal((await onHost(fresh, ['systemctl', 'is-active', 'mosquitto'])).trim(), 'active');
    assert.equal((await onHost(fresh, ['sh', '-c', 'ls /etc/mosquitto | grep -c mqtt-provision || true'])).trim(), '0', 'nothing half-written is left');
    const third = await install([...(await hostArgs(fresh)), '--settings', settingsFile, ...adminWith(firstPassword), '--no-verify', '--json']);
    assert.equal(changedCount(third.output), 0);
  });

  it('starts a broker that was stopped by hand', async () => {
    const first = await install([...(await hostArgs(host)), '--settings', settingsFile, ...adminWith(firstPassword), '--no-verify', '--json']);
    assert.equal(first.code, 0, first.output);
    await onHost(host, ['systemctl', 'stop', 'mosquitto']);
    const run = await install([...(await hostArgs(host)), '--settings', settingsFile, ...adminWith(firstPassword), '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    const changed = JSON.parse(run.output).hosts[0].steps.filter((step: { status: string }) => step.status === 'changed');
    assert.deepEqual(changed.map((step: { id: string }) => step.id), ['service:mosquitto']);
    assert.equal((await onHost(host, ['systemctl', 'is-active', 'mosquitto'])).trim(), 'active');
  });

  it('never shows a password: not in output, JSON, remote command lines or processes, logs, or readable files', async () => {
    // Every command line sshd runs for root goes through this login shell, which records it: a
    // complete, deterministic list of what reached the host's process table as arguments.
    const logShell = '#!/bin/sh\nprintf "%s\\n" "$*" >> /var/log/mp-commands.log\nexec /bin/sh "$@"\n';
    await onHost(host, ['sh', '-c', 'cat > /usr/local/bin/mp-logshell && chmod 755 /usr/local/bin/mp-logshell && usermod -s /usr/local/bin/mp-logshell root'], logShell);
    // And, as a second look, sample every process's arguments on the host for the whole run.
    await onHost(host, ['sh', '-c', 'rm -f /tmp/ps-samples /tmp/ps-stop /var/log/mp-commands.log; nohup sh -c "while [ ! -e /tmp/ps-stop ]; do ps -eo args >> /tmp/ps-samples; done" >/dev/null 2>&1 &']);
    const human = await install([...(await hostArgs(host)), '--settings', settingsFile, ...adminWith(secondPassword), '--dry-run']);
    const json = await install([...(await hostArgs(host)), '--settings', settingsFile, ...adminWith(secondPassword), '--json']);
    await onHost(host, ['touch', '/tmp/ps-stop']);
    assert.equal(json.code, 0, json.output + json.errors);
    assert.ok(JSON.parse(json.output).hosts[0].steps.some((step: { id: string; status: string }) => step.id === 'file:/etc/mosquitto/passwd' && step.status === 'changed'));
    const commandLines = await onHost(host, ['cat', '/var/log/mp-commands.log']);
    await onHost(host, ['usermod', '-s', '/bin/bash', 'root']);
    assert.match(commandLines, /mqtt-provision-write \/etc\/mosquitto\/passwd/, 'the log saw the password file being written');
    const samples = await onHost(host, ['cat', '/tmp/ps-samples']);
    assert.ok(samples.split('\n').length > 100, 'the sampler ran during the converge');
    for (const text of [human.output, human.errors, json.output, json.errors, commandLines, samples]) {
      assert.ok(!text.includes(secondPassword) && !text.includes(firstPassword));
    }
    const onDisk = await onHost(host, ['sh', '-c', `grep -rlF -e '${secondPassword}' /etc /var/log /tmp /root /var/lib/mosquitto 2>/dev/null | grep -v ps-samples || true`]);
    assert.equal(onDisk.trim(), '');
    const journal = await onHost(host, ['journalctl', '--no-pager', '-o', 'cat']);
    assert.ok(!journal.includes(secondPassword));
    assert.equal((await onHost(host, ['stat', '-c', '%a %U:%G', '/etc/mosquitto/passwd'])).trim(), '640 root:mosquitto');
    assert.equal(await roundTrip(`mqtt://127.0.0.1:${host.ports[1883]}`, { username: 'admin', password: secondPassword }), 'hello from mqtt-provision');
  });

  it('fails a host with a wrong key at once and still converges the others in the same run', async () => {
    const otherKeyDir = mkdtempSync(join(tmpdir(), 'mp-wrong-key-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(otherKeyDir, 'key')]);
    const good = await hostArgs(host);
    const args = [
      '--inventory', writeSecretFile(JSON.stringify({ hosts: [
        { address: '127.0.0.1', sshPort: fresh.sshPort, identity: join(otherKeyDir, 'key') },
        { address: '127.0.0.1', sshPort: host.sshPort, identity: good[3] },
      ] })),
      '--settings', settingsFile, ...adminWith(secondPassword), '--no-verify', '--json',
    ];
    const started = performance.now();
    const run = await install(args);
    assert.equal(run.code, 1);
    const [wrong, right] = JSON.parse(run.output).hosts;
    assert.equal(wrong.status, 'failed');
    assert.match(wrong.error, /authentication methods failed/);
    assert.ok(wrong.durationMs < 5000, `a wrong key fails without retrying (${wrong.durationMs} ms)`);
    assert.equal(right.status, 'ok');
    assert.ok(performance.now() - started < 15000);
  });

  it('refuses a host whose SSH host key changed, before sending it anything', async () => {
    const knownHosts = join(mkdtempSync(join(tmpdir(), 'mp-hostkey-')), 'known_hosts');
    const args = async () => [...(await hostArgs(host)), '--known-hosts', knownHosts, '--settings', settingsFile, ...adminWith(secondPassword), '--no-verify', '--json'];
    const first = await install(await args());
    assert.equal(first.code, 0, first.output);
    assert.match(readFileSync(knownHosts, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${host.sshPort} ssh-ed25519 `, 'm'));
    // What a man in the middle (or a reinstalled host) looks like: new host keys on the same address.
    await onHost(host, ['sh', '-c', 'rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && systemctl restart ssh']);
    const changed = await install(await args());
    assert.equal(changed.code, 1);
    assert.match(JSON.parse(changed.output).hosts[0].error, /host key of \[127\.0\.0\.1\]:\d+ differs from line 1 of .*someone may be intercepting/);
    assert.deepEqual(JSON.parse(changed.output).hosts[0].steps, [], 'no step ran');
  });

  it('reports an unreachable host within the connect bound', async () => {
    const started = performance.now();
    const run = await install(['--host', 'root@127.0.0.1:9', '--identity', (await hostArgs(host))[3]!, '--settings', settingsFile, ...adminWith(firstPassword), '--json', '--retries', '2', '--connect-timeout', '2']);
    const elapsed = performance.now() - started;
    assert.equal(run.code, 1);
    assert.match(JSON.parse(run.output).hosts[0].error, /cannot connect to root@127\.0\.0\.1:9: .*ECONNREFUSED/);
    assert.ok(elapsed >= 1400, 'it retried with backoff (0.5 s + 1 s)');
    assert.ok(elapsed < 10000, `bounded: ${Math.round(elapsed)} ms`);
  });
});
