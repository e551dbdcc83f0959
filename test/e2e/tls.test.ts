import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import mqtt from 'mqtt';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { loadSettings } from '../../src/brokers/load-settings.ts';
import { caPaths } from '../../src/tls/ca-store.ts';
import { brokerUrls, tlsVerifyOptions } from '../../src/verify/install-hook.ts';
import { verifyBroker } from '../../src/verify/verify-broker.ts';
import { changedCount, hostArgs, install, onHost, writeSecretFile } from './support/lab-fixture.ts';
import { roundTrip } from './support/mqtt-roundtrip.ts';

const password = 'tls-admin-password';
const passwordFile = writeSecretFile(`${password}\n`);
const admin = ['--admin-user', 'admin', '--admin-password-file', passwordFile];
const caDir = join(dirname(passwordFile), 'ca');
const settingsPath = join(dirname(passwordFile), 'tls.yaml');

function writeSettings(subjectAltNames: string[]): void {
  writeFileSync(
    settingsPath,
    [
      'broker: mosquitto',
      'listeners: { mqtt: 1883, mqtts: 8883, wss: 8084 }',
      'tls:',
      '  generate:',
      `    caDir: ${caDir}`,
      `    subjectAltNames: [${subjectAltNames.join(', ')}]`,
      '',
    ].join('\n'),
  );
}

/** Connects, subscribes, publishes one QoS 1 message to itself and returns it. */
/** The subjectAltName the broker serves on this port, as node:tls reports it. */
function servedSans(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
      const sans = socket.getPeerCertificate().subjectaltname ?? '';
      socket.end();
      resolve(sans);
    });
    socket.on('error', reject);
  });
}

describe('Mosquitto with TLS (mqtts 8883, wss 8084) and a generated CA on a lab host', () => {
  let host: LabHost;
  let mqttsUrl: string;
  let ca: string;

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-e2e-tls', publish: [1883, 8883, 8084] })) as [LabHost];
    mqttsUrl = `mqtts://127.0.0.1:${host.ports[8883]}`;
    writeSettings(['broker.lab.test']);
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  it('converges: creates the CA once on the controller, the key 0640 root:mosquitto on the host', async () => {
    const started = performance.now();
    const run = await install([...(await hostArgs(host)), '--settings', settingsPath, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    console.log(`# first TLS converge: ${Math.round(performance.now() - started)} ms`);
    assert.equal(statSync(caPaths(caDir).key).mode & 0o777, 0o600);
    assert.equal((await onHost(host, ['stat', '-c', '%a %U %G', '/etc/mosquitto/tls/server.key'])).trim(), '640 root mosquitto');
    assert.equal((await onHost(host, ['stat', '-c', '%a %U %G', '/etc/mosquitto/tls'])).trim(), '750 root mosquitto');
    ca = tlsVerifyOptions(loadSettings(settingsPath, { adminUser: 'admin', adminPasswordFile: passwordFile })).ca!;
    assert.match(ca, /BEGIN CERTIFICATE/);
  });

  it('verify passes over mqtts and wss with the generated CA', async () => {
    const settings = loadSettings(settingsPath, { adminUser: 'admin', adminPasswordFile: passwordFile });
    const urls = brokerUrls({ address: '127.0.0.1', ports: host.ports }, settings);
    assert.equal(urls.mqttsUrl, mqttsUrl);
    const report = await verifyBroker({ ...urls, mqttUrl: urls.mqttsUrl!, ...tlsVerifyOptions(settings), username: 'admin', password: settings.admins[0]!.password, messages: 200 });
    const failed = report.checks.filter((check) => check.status === 'fail');
    assert.deepEqual(failed, [], JSON.stringify(report.checks, null, 2));
    const names = report.checks.map((check) => check.name);
    assert.ok(names.includes('reachability wss'), names.join(', '));
  });

  it('pub/sub over TLS works with the CA and is refused without it (certificate not trusted)', async () => {
    assert.equal(await roundTrip(mqttsUrl, { username: 'admin', password, ca }), 'hello from mqtt-provision');
    await assert.rejects(
      mqtt.connectAsync(mqttsUrl, { username: 'admin', password, reconnectPeriod: 0, connectTimeout: 10_000 }),
      (error: Error & { code?: string }) => {
        assert.match(`${error.code} ${error.message}`, /SELF_SIGNED_CERT_IN_CHAIN|self[- ]signed certificate in certificate chain/);
        return true;
      },
    );
  });

  it('changes nothing on the second run', async () => {
    const started = performance.now();
    const run = await install([...(await hostArgs(host)), '--settings', settingsPath, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    console.log(`# second TLS converge: ${Math.round(performance.now() - started)} ms`);
    assert.equal(changedCount(run.output), 0, run.output);
  });

  it('re-issues the certificate when the SANs change, and the broker serves the new one', async () => {
    const before = await servedSans(host.ports[8883]!, ca);
    assert.match(before, /DNS:broker\.lab\.test/);
    assert.match(before, /IP Address:127\.0\.0\.1/);
    assert.doesNotMatch(before, /broker2/);
    const keyBefore = await onHost(host, ['sha256sum', '/etc/mosquitto/tls/server.key']);

    writeSettings(['broker.lab.test', 'broker2.lab.test']);
    const run = await install([...(await hostArgs(host)), '--settings', settingsPath, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output);
    const steps = JSON.parse(run.output).hosts[0].steps as Array<{ id: string; status: string; reason: string }>;
    const changed = steps.filter((step) => step.status === 'changed').map((step) => step.id);
    assert.deepEqual(changed, ['pending:mosquitto', 'file:/etc/mosquitto/tls/server.crt', 'file:/etc/mosquitto/tls/server.key', 'restart:mosquitto']);
    assert.match(steps.find((step) => step.id === 'file:/etc/mosquitto/tls/server.crt')!.reason, /re-issued: SANs differ/);
    assert.notEqual(await onHost(host, ['sha256sum', '/etc/mosquitto/tls/server.key']), keyBefore, 'a new key comes with the new certificate');

    const after = await servedSans(host.ports[8883]!, ca);
    assert.match(after, /DNS:broker2\.lab\.test/);
    assert.equal(await roundTrip(mqttsUrl, { username: 'admin', password, ca }), 'hello from mqtt-provision');

    const again = await install([...(await hostArgs(host)), '--settings', settingsPath, ...admin, '--no-verify', '--json']);
    assert.equal(changedCount(again.output), 0, again.output);
  });
});
