import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { loadSettings } from '../../src/brokers/load-settings.ts';
import { tlsVerifyOptions } from '../../src/verify/install-hook.ts';
import { changedCount, hostArgs, install, onHost, writeSecretFile } from './support/lab-fixture.ts';

/**
 * Issue 24 item 4: a renewed server certificate reaches Mosquitto by reload, not restart. A
 * subscriber connected over mqtts before the renewal stays connected and keeps every QoS 1
 * message; a client that connects afterwards gets the new certificate. Renewal is forced the
 * documented way: raising tls.generate.renewBeforeDays above the days the certificate has left.
 */
const password = 'renewal-admin-password';
const passwordFile = writeSecretFile(`${password}\n`);
const admin = ['--admin-user', 'admin', '--admin-password-file', passwordFile];
const caDir = join(dirname(passwordFile), 'ca');
const settingsPath = join(dirname(passwordFile), 'tls-renewal.yaml');
const topic = 'renewal/tick';

function writeSettings(generate: { validDays: number; renewBeforeDays?: number }): void {
  writeFileSync(
    settingsPath,
    [
      'broker: mosquitto',
      'listeners: { mqtts: 8883 }',
      'tls:',
      '  generate:',
      `    caDir: ${caDir}`,
      '    subjectAltNames: [broker.lab.test]',
      `    validDays: ${generate.validDays}`,
      ...(generate.renewBeforeDays === undefined ? [] : [`    renewBeforeDays: ${generate.renewBeforeDays}`]),
      '',
    ].join('\n'),
  );
}

/** The serial of the certificate a fresh TLS handshake gets on this port. */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'broker.lab.test' }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

/** Resolves once `done()` holds, checked on every message; rejects after `ms` with what was seen. */
function waitUntil(done: () => boolean, describe: () => string, ms: number, client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) => {
    if (done()) return resolve();
    const timer = setTimeout(() => {
      client.off('message', check);
      reject(new Error(`timed out after ${ms} ms: ${describe()}`));
    }, ms);
    function check(): void {
      if (!done()) return;
      clearTimeout(timer);
      client.off('message', check);
      resolve();
    }
    client.on('message', check);
  });
}

describe('TLS renewal on Mosquitto reloads, connected mqtts clients stay (lab host)', () => {
  let host: LabHost;
  let url: string;
  let ca: string;

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-e2e-renew', publish: [8883] })) as [LabHost];
    url = `mqtts://127.0.0.1:${host.ports[8883]}`;
    writeSettings({ validDays: 60 });
    const run = await install([...(await hostArgs(host)), '--settings', settingsPath, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, run.output + run.errors);
    ca = tlsVerifyOptions(loadSettings(settingsPath, { adminUser: 'admin', adminPasswordFile: passwordFile })).ca!;
  });
  after(async () => {
    if (host) await stopLabHosts([host.name]);
  });

  it('renewBeforeDays above the days left re-issues by reload: same pid, the subscriber keeps every message, new clients see the new serial', async () => {
    const options = { username: 'admin', password, ca, servername: 'broker.lab.test', reconnectPeriod: 0, connectTimeout: 10_000, keepalive: 5 };
    const subscriber = await mqtt.connectAsync(url, { ...options, clientId: `renew-sub-${process.pid}` });
    const publisher = await mqtt.connectAsync(url, { ...options, clientId: `renew-pub-${process.pid}` });
    let closes = 0;
    subscriber.on('close', () => (closes += 1));
    const received = new Set<number>();
    subscriber.on('message', (_topic, payload) => received.add(Number(payload.toString())));
    await subscriber.subscribeAsync(topic, { qos: 1 });
    const serialBefore = (subscriber.stream as TLSSocket).getPeerCertificate().serialNumber;
    assert.equal(await servedSerial(host.ports[8883]!, ca), serialBefore);
    const pidBefore = (await onHost(host, ['systemctl', 'show', '-p', 'MainPID', '--value', 'mosquitto'])).trim();

    // Ticks flow through the whole converge: QoS 1, awaited one by one, so `sent` is what the broker acknowledged.
    let sent = 0;
    let publishing = true;
    const ticking = (async () => {
      while (publishing) {
        await publisher.publishAsync(topic, String(sent + 1), { qos: 1 });
        sent += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await waitUntil(() => received.size >= 5, () => `received ${received.size}`, 10_000, subscriber);

    try {
      // The 60-day certificate has fewer than 90 days left: the next run re-issues it (for 120).
      writeSettings({ validDays: 120, renewBeforeDays: 90 });
      const started = performance.now();
      const run = await install([...(await hostArgs(host)), '--settings', settingsPath, ...admin, '--no-verify', '--json']);
      assert.equal(run.code, 0, run.output + run.errors);
      console.log(`# renewal converge (re-issue + checked reload): ${Math.round(performance.now() - started)} ms`);
      const steps = JSON.parse(run.output).hosts[0].steps as Array<{ id: string; kind: string; status: string; reason: string }>;
      const changed = steps.filter((step) => step.status === 'changed');
      assert.deepEqual(changed.map((step) => step.id), ['pending:mosquitto', 'file:/etc/mosquitto/tls/server.crt', 'file:/etc/mosquitto/tls/server.key', 'reload:mosquitto']);
      assert.equal(changed.filter((step) => step.kind === 'restart').length, 0, 'no restart');
      assert.match(changed.find((step) => step.id === 'file:/etc/mosquitto/tls/server.crt')!.reason, /^re-issued: expires \d{4}-\d\d-\d\d \(within 90 days\)$/);
      assert.match(changed.find((step) => step.id === 'reload:mosquitto')!.reason, /SIGHUP re-reads the server certificate and key/);
    } finally {
      // Ten more ticks after the reload, then stop: each must still reach the old session.
      const afterReload = sent + 10;
      await waitUntil(() => sent >= afterReload, () => `sent ${sent}`, 20_000, subscriber).catch(() => undefined);
      publishing = false;
      await ticking;
    }

    await waitUntil(() => received.size >= sent, () => `received ${received.size} of ${sent}`, 20_000, subscriber);
    const missing = Array.from({ length: sent }, (_, index) => index + 1).filter((tick) => !received.has(tick));
    assert.deepEqual(missing, [], `ticks the subscriber missed (of ${sent})`);
    assert.equal(closes, 0, 'the subscriber connected before the renewal was never disconnected');
    assert.ok(subscriber.connected);
    assert.equal((await onHost(host, ['systemctl', 'show', '-p', 'MainPID', '--value', 'mosquitto'])).trim(), pidBefore, 'same broker process');

    const serialAfter = await servedSerial(host.ports[8883]!, ca);
    assert.notEqual(serialAfter, serialBefore, 'a new client sees the renewed certificate');
    const fresh = await mqtt.connectAsync(url, { ...options, clientId: `renew-new-${process.pid}` });
    assert.equal((fresh.stream as TLSSocket).getPeerCertificate().serialNumber, serialAfter);
    await fresh.endAsync();
    console.log(`# renewal by reload: ${sent} QoS 1 ticks published across the converge, ${received.size} received, 0 disconnects; serial ${serialBefore} → ${serialAfter}`);
    await subscriber.endAsync();
    await publisher.endAsync();

    const again = await install([...(await hostArgs(host)), '--settings', settingsPath, ...admin, '--no-verify', '--json']);
    assert.equal(again.code, 0, again.output);
    assert.equal(changedCount(again.output), 0, again.output);
  });
});
