import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { changedCount, hostArgs, hostilePassword, install, onHost, writeSecretFile } from './support/lab-fixture.ts';
import { connectOutcome, roundTrip } from './support/mqtt-roundtrip.ts';
import { runRejectedConfig } from './support/rejected-config.ts';

const passwordFile = writeSecretFile(`${hostilePassword}\n`);
const admin = ['--admin-user', 'admin', '--admin-password-file', passwordFile];
const settingsFile = new URL('../../examples/lab-mosquitto.yaml', import.meta.url).pathname;

describe('Mosquitto over SSH on a fresh Debian lab host', () => {
  let host: LabHost;
  let mqttUrl: string;

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-e2e-install' })) as [LabHost];
    mqttUrl = `mqtt://127.0.0.1:${host.ports[1883]}`;
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  /** Each test starts from the converged lab settings, so it passes alone (--test-name-pattern) and in any order. */
  const converged = async () => {
    const run = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    return run;
  };

  it('converges a fresh host', async () => {
    const run = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    assert.ok(changedCount(run.output) >= 6, 'package, directory, three files, service and restart change');
    assert.equal((await onHost(host, ['systemctl', 'is-active', 'mosquitto'])).trim(), 'active');
  });

  it('changes nothing on the second run', async () => {
    await converged();
    const run = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    assert.equal(changedCount(run.output), 0, run.output);
  });

  it('serves an authenticated publish/subscribe with a password full of shell characters, and nothing of it ran', async () => {
    await converged();
    assert.equal(await roundTrip(mqttUrl, { username: 'admin', password: hostilePassword }), 'hello from mqtt-provision');
    assert.equal(await connectOutcome(mqttUrl, {}), 'refused 5');
    assert.equal(await connectOutcome(mqttUrl, { username: 'admin', password: 'wrong' }), 'refused 5');
    assert.equal((await onHost(host, ['sh', '-c', 'test -e /tmp/pwned && echo present || echo absent'])).trim(), 'absent');
    const passwd = await onHost(host, ['cat', '/etc/mosquitto/passwd']);
    assert.match(passwd, /^admin:\$7\$101\$/);
    assert.ok(!passwd.includes('touch'), 'the password file holds a hash, not the password');
  });

  it('writes hostile topic names into the ACL as plain text, running none of them', async () => {
    const topic = `a/$(touch /tmp/pwned-topic)/\`touch /tmp/pwned-topic\`/'q"; touch /tmp/pwned-topic`;
    const settings = writeSecretFile(`broker: mosquitto\nlisteners: { mqtt: 1883, websocket: 8083 }\nusers:\n  - name: sensor\n    password: sensor-pass\n    acl:\n      - topic: ${JSON.stringify(topic)}\n        access: read\n`);
    const run = await install([...(await hostArgs(host)), '--settings', settings, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    assert.ok((await onHost(host, ['cat', '/etc/mosquitto/acl'])).includes(`topic read ${topic}\n`));
    assert.equal((await onHost(host, ['sh', '-c', 'test -e /tmp/pwned-topic && echo present || echo absent'])).trim(), 'absent');
    const back = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--no-verify', '--json']);
    assert.equal(back.code, 0, back.output);
  });

  it('converges the same host as a non-root user through sudo, changing nothing', async () => {
    await converged();
    const run = await install([...(await hostArgs(host, 'deploy')), '--settings', settingsFile, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    assert.equal(changedCount(run.output), 0);
  });

  it('dry-run on a converged host shows no change', async () => {
    await converged();
    const run = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--dry-run']);
    assert.equal(run.code, 0, run.output);
    assert.doesNotMatch(run.output, /would change/);
    assert.match(run.output, /changed=0 failed=0/);
  });

  it('dry-run on a drifted host prints the diff and changes nothing; a real run repairs it', async () => {
    await converged();
    await onHost(host, ['sh', '-c', 'sed -i "s/^max_queued_messages .*/max_queued_messages 1000/" /etc/mosquitto/mosquitto.conf']);
    const before = await onHost(host, ['sha256sum', '/etc/mosquitto/mosquitto.conf']);
    const dry = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--dry-run']);
    assert.equal(dry.code, 0, dry.output);
    assert.match(dry.output, /would change +file \/etc\/mosquitto\/mosquitto\.conf \(content differs\)/);
    assert.match(dry.output, /^ +-max_queued_messages 1000$/m);
    assert.match(dry.output, /^ +\+max_queued_messages 100000$/m);
    assert.match(dry.output, /would change +restart mosquitto/);
    assert.equal(await onHost(host, ['sha256sum', '/etc/mosquitto/mosquitto.conf']), before, 'dry-run wrote nothing');

    const repair = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--no-verify', '--json']);
    const steps = JSON.parse(repair.output).hosts[0].steps.filter((step: { status: string }) => step.status === 'changed').map((step: { id: string }) => step.id);
    assert.deepEqual(steps, ['pending:mosquitto', 'file:/etc/mosquitto/mosquitto.conf', 'restart:mosquitto']);
    assert.match(await onHost(host, ['cat', '/etc/mosquitto/mosquitto.conf']), /^max_queued_messages 100000$/m);
  });

  it('keeps the broker running on the previous config when a new one is rejected, and shows the broker error', async () => {
    await converged();
    await runRejectedConfig(host, admin);
    assert.equal(await roundTrip(mqttUrl, { username: 'admin', password: hostilePassword }), 'hello from mqtt-provision');
  });
});

describe('Mosquitto behind firewalld on a lab host', () => {
  let host: LabHost;

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant: 'firewalld', prefix: 'mp-e2e-firewalld' })) as [LabHost];
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  const listPorts = async (permanent: boolean) =>
    (await onHost(host, ['firewall-cmd', ...(permanent ? ['--permanent'] : []), '--list-ports'])).trim().split(/\s+/).filter(Boolean).sort();

  it('opens exactly the served ports, and clients get through', async () => {
    const run = await install([...(await hostArgs(host)), '--settings', settingsFile, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(await listPorts(false), ['1883/tcp', '8083/tcp']);
    assert.deepEqual(await listPorts(true), ['1883/tcp', '8083/tcp']);
    assert.equal(await roundTrip(`mqtt://127.0.0.1:${host.ports[1883]}`, { username: 'admin', password: hostilePassword }), 'hello from mqtt-provision');
    assert.equal(await roundTrip(`ws://127.0.0.1:${host.ports[8083]}`, { username: 'admin', password: hostilePassword }), 'hello from mqtt-provision');
  });

  it('closes a port the settings stop serving', async () => {
    const mqttOnly = writeSecretFile('broker: mosquitto\nlisteners: { mqtt: 1883 }\n');
    const run = await install([...(await hostArgs(host)), '--settings', mqttOnly, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(await listPorts(false), ['1883/tcp']);
    assert.deepEqual(await listPorts(true), ['1883/tcp']);
  });
});
