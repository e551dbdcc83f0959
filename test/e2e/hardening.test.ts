import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { maxUsers } from '../../src/settings/schema.ts';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { changedCount, hostArgs, install, onHost, writeSecretFile } from './support/lab-fixture.ts';
import { roundTrip } from './support/mqtt-roundtrip.ts';

// Issue 21: what a hostile user or a careless operator found on a lab host. Each test converges
// the host itself first, so each passes alone and in any order.

const adminPassword = 'hardening-admin-pw';
const admin = ['--admin-user', 'admin', '--admin-password-file', writeSecretFile(`${adminPassword}\n`)];
const shippedAcl = readFileSync(new URL('../../templates/mosquitto-acl.hbs', import.meta.url), 'utf8');
const goodSettings = writeSecretFile('broker: mosquitto\nusers:\n  - name: sensor\n    password: sensor-pw\n    acl:\n      - { topic: "sensors/#", access: write }\n');

describe('hardening on a lab host', () => {
  let host: LabHost;

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-e2e-hardening' })) as [LabHost];
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  it('an ACL line Mosquitto refuses on reload fails the run with its error, and the broker stays up on the previous ACL', async () => {
    const converge = await install([...(await hostArgs(host)), '--settings', goodSettings, ...admin, '--no-verify', '--json']);
    assert.equal(converge.code, 0, converge.output);
    const previousAcl = await onHost(host, ['cat', '/etc/mosquitto/acl']);

    // A custom ACL template passes the settings checks (they see topics, not template lines); only the broker can judge it.
    const template = writeSecretFile(`${shippedAcl}topic write sensors/#/x\n`);
    const badSettings = writeSecretFile(`broker: mosquitto\ntemplates:\n  mosquitto-acl: ${template}\nusers:\n  - name: sensor\n    password: sensor-pw\n    acl:\n      - { topic: "sensors/#", access: write }\n`);
    const run = await install([...(await hostArgs(host)), '--settings', badSettings, ...admin, '--no-verify']);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /FAILED +reload mosquitto/);
    assert.match(run.output, /Error: Invalid ACL topic "sensors\/#\/x"/, "the broker's own error is shown");
    assert.match(run.output, /rolled back/);
    assert.match(run.output, /failed=1/);

    assert.equal(await onHost(host, ['cat', '/etc/mosquitto/acl']), previousAcl, 'the previous ACL is back');
    assert.equal((await onHost(host, ['systemctl', 'is-active', 'mosquitto'])).trim(), 'active');
    const mqttUrl = `mqtt://127.0.0.1:${host.ports[1883]}`;
    assert.equal(await roundTrip(mqttUrl, { username: 'admin', password: adminPassword }), 'hello from mqtt-provision');
    // What took the broker down later before: its next restart. It comes back, on the restored files.
    await onHost(host, ['systemctl', 'restart', 'mosquitto']);
    assert.equal((await onHost(host, ['systemctl', 'is-active', 'mosquitto'])).trim(), 'active');

    const again = await install([...(await hostArgs(host)), '--settings', goodSettings, ...admin, '--no-verify', '--json']);
    assert.equal(again.code, 0, again.output);
    assert.equal(changedCount(again.output), 0, 'nothing of the refused run was left behind');
  });

  it('removing an extraConfig that held a secret shows none of it in --dry-run or --json', async () => {
    // A comment stands in for a bridge's remote_password: the broker ignores it, the diff would not.
    const withSecret = writeSecretFile('broker: mosquitto\nextraConfig: "# remote_password Br1dgeS3cret-e2e"\n');
    const converge = await install([...(await hostArgs(host)), '--settings', withSecret, ...admin, '--no-verify', '--json']);
    assert.equal(converge.code, 0, converge.output);
    assert.equal((await onHost(host, ['stat', '-c', '%a', '/etc/mosquitto/mosquitto.conf'])).trim(), '640');
    const plain = writeSecretFile('broker: mosquitto\n');
    const dry = await install([...(await hostArgs(host)), '--settings', plain, ...admin, '--dry-run']);
    const json = await install([...(await hostArgs(host)), '--settings', plain, ...admin, '--dry-run', '--json']);
    assert.match(dry.output, /would change +file \/etc\/mosquitto\/mosquitto\.conf/);
    for (const text of [dry.output, dry.errors, json.output, json.errors]) assert.doesNotMatch(text, /Br1dgeS3cret/);
    const run = await install([...(await hostArgs(host)), '--settings', plain, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    assert.doesNotMatch(run.output, /Br1dgeS3cret/);
    assert.equal((await onHost(host, ['stat', '-c', '%a', '/etc/mosquitto/mosquitto.conf'])).trim(), '644');
  });

  it(`a second run with ${maxUsers} admins and users changes nothing`, async () => {
    const users = Array.from({ length: maxUsers - 1 }, (_, index) => `  - { name: user${index}, password: pw-${index} }\n`).join('');
    const settings = writeSecretFile(`broker: mosquitto\nusers:\n${users}`);
    const first = await install([...(await hostArgs(host)), '--settings', settings, ...admin, '--no-verify', '--json']);
    assert.equal(first.code, 0, JSON.stringify(JSON.parse(first.output).hosts[0].steps.filter((step: { status: string }) => step.status === "failed")));
    const size = Number((await onHost(host, ['stat', '-c', '%s', '/etc/mosquitto/passwd'])).trim());
    assert.ok(size > 1024 * 1024, `the password file holds ${size} bytes, far past the probe's old 256 KiB`);
    const second = await install([...(await hostArgs(host)), '--settings', settings, ...admin, '--no-verify', '--json']);
    assert.equal(second.code, 0, second.output.slice(0, 2000));
    assert.equal(changedCount(second.output), 0, second.output.slice(0, 2000));
    const mqttUrl = `mqtt://127.0.0.1:${host.ports[1883]}`;
    assert.equal(await roundTrip(mqttUrl, { username: `user${maxUsers - 2}`, password: `pw-${maxUsers - 2}` }), 'hello from mqtt-provision');
  });
});
