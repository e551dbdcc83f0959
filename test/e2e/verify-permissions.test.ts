// End to end (issue 23 item 2): verify checks what was configured, not only the admin. A Debian lab
// host gets Mosquitto with `ingest` (may write telemetry/#) and `grafana` (may only read it); verify's
// per-user permissions checks pass. Then grafana's rule is widened by hand in /etc/mosquitto/acl (and
// Mosquitto re-reads it on SIGHUP): the check fails, naming grafana and the topic it could publish to.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { InstallTarget } from '../../src/cli/install-command.ts';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { loadSettings } from '../../src/brokers/load-settings.ts';
import { verifyInstalledBroker } from '../../src/verify/install-hook.ts';
import { Secret } from '../../src/secret.ts';
import { verifyBroker } from '../../src/verify/verify-broker.ts';
import { formatVerifyReport, type VerifyReport } from '../../src/verify/verify-report.ts';
import { hostArgs, install, onHost, sshTo, writeSecretFile } from './support/lab-fixture.ts';

const SETUP_TIMEOUT = 15 * 60_000;
const TEST_TIMEOUT = 10 * 60_000;

function check(report: VerifyReport, name: string) {
  const found = report.checks.find((entry) => entry.name === name);
  assert.ok(found, `no "${name}" check in:\n${formatVerifyReport(report)}`);
  return found;
}

describe('verify: permissions of the configured users on a lab host', () => {
  const work = mkdtempSync(join(tmpdir(), 'mp-verify-acl-'));
  const settingsFile = join(work, 'settings.yaml');
  const adminPasswordFile = writeSecretFile('admin pass word\n');
  let host: LabHost;

  before(async () => {
    writeFileSync(join(work, 'ingest.pw'), 'ingest-secret-1\n', { mode: 0o600 });
    writeFileSync(join(work, 'grafana.pw'), 'grafana-secret-1\n', { mode: 0o600 });
    writeFileSync(
      settingsFile,
      [
        'broker: mosquitto',
        'listeners: {mqtt: 1883}',
        'users:',
        '  - {name: ingest, passwordFile: ingest.pw, acl: [{topic: "telemetry/#", access: write}]}',
        '  - {name: grafana, passwordFile: grafana.pw, acl: [{topic: "telemetry/#", access: read}]}',
        '',
      ].join('\n'),
    );
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: `e2e-verify-acl-${process.pid}`, publish: [1883] })) as [LabHost];
  }, { timeout: SETUP_TIMEOUT });

  after(async () => {
    if (host) await stopLabHosts([host.name]);
    rmSync(work, { recursive: true, force: true });
  });

  it('passes for a writer and a reader of telemetry/#, and fails naming grafana when its ACL is widened by hand', { timeout: TEST_TIMEOUT }, async (t) => {
    const run = await install([...(await hostArgs(host)), '--settings', settingsFile, '--admin-user', 'admin', '--admin-password-file', adminPasswordFile, '--no-verify']);
    assert.equal(run.code, 0, `${run.output}\n${run.errors}`);
    const settings = loadSettings(settingsFile, { broker: 'mosquitto', adminUser: 'admin', adminPasswordFile });
    const target: InstallTarget = { label: host.name, address: host.address, ports: host.ports, connect: () => sshTo(host) };

    const report = await verifyInstalledBroker(target, settings, { messages: 20, mayRestart: false });
    const text = formatVerifyReport(report);
    for (const line of text.split('\n')) t.diagnostic(line);
    assert.equal(check(report, 'permissions ingest').status, 'pass', text);
    assert.equal(check(report, 'permissions grafana').status, 'pass', text);
    assert.equal(report.passed, true, text);
    // Mosquitto 2.0 names a refused publish for an MQTT 5 client (PUBACK 0x87). It grants a denied
    // subscription (SUBACK 0x01, measured here on Debian 12's 2.0.11) and delivers nothing on it.
    assert.match(check(report, 'permissions grafana').detail, /grafana's publish to telemetry\/mp-verify-\w+ refused \(PUBACK 0x87\)/, text);
    assert.match(check(report, 'permissions grafana').detail, /grafana reads telemetry\/mp-verify-\w+/, text);
    assert.match(check(report, 'permissions ingest').detail, /ingest publishes to telemetry\/mp-verify-\w+/, text);
    assert.match(check(report, 'permissions ingest').detail, /ingest may subscribe to telemetry\/mp-verify-\w+ \(SUBACK 0x01\) but receives nothing published there/, text);
    assert.doesNotMatch(JSON.stringify(report), /secret-1|admin pass word/);

    // Verifying as grafana, whose ACL does not cover the default verify prefix: the report says so.
    const asGrafana = await verifyBroker({ mqttUrl: `mqtt://127.0.0.1:${host.ports[1883]}`, username: 'grafana', password: new Secret('grafana-secret-1'), messages: 10 });
    const asGrafanaText = formatVerifyReport(asGrafana);
    for (const line of asGrafanaText.split('\n')) t.diagnostic(line);
    assert.equal(check(asGrafana, 'reachability mqtt').status, 'fail', asGrafanaText);
    assert.match(check(asGrafana, 'reachability mqtt').detail, /grafana's ACL may not allow publishing under mqtt-provision\/verify .*--topic-prefix/, asGrafanaText);
    assert.match(check(asGrafana, 'offline retention').detail, /verify topics under mqtt-provision\/verify are not open to grafana/, asGrafanaText);

    // A hand edit on the host: grafana may now write telemetry/# as well. SIGHUP re-reads the ACL.
    await onHost(host, ['sed', '-i', 's|^topic read telemetry/#$|topic readwrite telemetry/#|', '/etc/mosquitto/acl']);
    assert.match(await onHost(host, ['cat', '/etc/mosquitto/acl']), /^topic readwrite telemetry\/#$/m);
    await onHost(host, ['systemctl', 'kill', '--signal=HUP', 'mosquitto']);

    const widened = await verifyInstalledBroker(target, settings, { messages: 20, mayRestart: false });
    const widenedText = formatVerifyReport(widened);
    for (const line of widenedText.split('\n')) t.diagnostic(line);
    assert.equal(check(widened, 'permissions ingest').status, 'pass', widenedText);
    const grafana = check(widened, 'permissions grafana');
    assert.equal(grafana.status, 'fail', widenedText);
    assert.match(grafana.detail, /grafana published to telemetry\/mp-verify-\w+ and it was delivered, though the settings deny it \(settings: read telemetry\/#\)/, widenedText);
    assert.equal(widened.passed, false);
  });
});
