// End to end: a Mosquitto provisioned by mqtt-provision keeps every QoS 1 message for an offline
// subscriber (also across a restart), while a stock Mosquitto keeps 1000 of 5000, as in the field report.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runInstall, type InstallEnvironment, type InstallTarget } from '../../src/cli/install-command.ts';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { loadSettings } from '../../src/brokers/load-settings.ts';
import { SshTransport } from '../../src/transport/ssh.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { verifyAfterInstall, verifyInstalledBroker } from '../../src/verify/install-hook.ts';
import { attemptConnect, describeOutcome } from '../../src/verify/mqtt-client.ts';
import { verifyBroker, type VerifyReport } from '../../src/verify/verify-broker.ts';
import { formatVerifyReport, verifyJsonDocument } from '../../src/verify/verify-report.ts';
import { validate } from '../unit/support/json-schema.ts';

// The first run builds the lab image with debootstrap; later runs hit the cache.
const SETUP_TIMEOUT = 15 * 60_000;
const TEST_TIMEOUT = 10 * 60_000;

function statuses(report: VerifyReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((check) => [check.name, check.status]));
}

function check(report: VerifyReport, name: string) {
  const found = report.checks.find((entry) => entry.name === name);
  assert.ok(found, `no "${name}" check in:\n${formatVerifyReport(report)}`);
  return found;
}

async function sshRoot(host: LabHost, keyPath: string): Promise<Transport> {
  return SshTransport.connect({ user: 'root', host: host.address, port: host.sshPort, identityFile: keyPath, connectTimeoutMs: 15_000 });
}

async function run(transport: Transport, argv: string[], stdin?: string): Promise<string> {
  const result = await transport.exec(argv, stdin === undefined ? {} : { stdin });
  assert.equal(result.code, 0, `${argv.join(' ')} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

describe('verify-broker against lab hosts', () => {
  const prefix = `e2e-verify-${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), 'mp-verify-e2e-'));
  const passwordFile = join(work, 'admin-password');
  const settingsFile = join(work, 'settings.yaml');
  let provisioned: LabHost;
  let stock: LabHost;
  let keyPath: string;

  before(async () => {
    // A space in the password: it must travel intact to the password file and the CONNECT.
    writeFileSync(passwordFile, 'e2e pass word\n', { mode: 0o600 });
    writeFileSync(settingsFile, 'broker: mosquitto\nlisteners:\n  mqtt: 1883\n  websocket: 8083\n');
    keyPath = await ensureLabKey();
    [provisioned, stock] = (await startLabHosts({ count: 2, variant: 'base', prefix, publish: [1883, 8083] })) as [LabHost, LabHost];
  }, { timeout: SETUP_TIMEOUT });

  after(async () => {
    // The started names, which carry MQTT_LAB_SUFFIX when it is set.
    await stopLabHosts([provisioned, stock].filter(Boolean).map((host) => host.name));
    rmSync(work, { recursive: true, force: true });
  });

  it('a Mosquitto provisioned by runInstall keeps all 5000 queued messages, across a restart too', { timeout: TEST_TIMEOUT }, async (t) => {
    const output: string[] = [];
    const environment: InstallEnvironment = {
      env: {},
      print: (text) => output.push(text),
      printError: (text) => output.push(text),
      connect: (options) => SshTransport.connect(options),
    };
    const code = await runInstall('mosquitto', [
      '--host', `root@127.0.0.1:${provisioned.sshPort}`, '--identity', keyPath, '--known-hosts', join(tmpdir(), `mp-verify-known-hosts-${process.pid}`), '--settings', settingsFile,
      '--admin-user', 'admin', '--admin-password-file', passwordFile, '--no-verify',
    ], environment);
    assert.equal(code, 0, output.join('\n'));

    const settings = loadSettings(settingsFile, { broker: 'mosquitto', adminUser: 'admin', adminPasswordFile: passwordFile });
    const target: InstallTarget = {
      label: provisioned.name,
      address: provisioned.address,
      ports: provisioned.ports,
      connect: () => sshRoot(provisioned, keyPath),
    };
    const report = await verifyInstalledBroker(target, settings, { messages: 5000 });
    const text = formatVerifyReport(report);
    for (const line of text.split('\n')) t.diagnostic(line);
    assert.deepEqual(statuses(report), {
      'reachability mqtt': 'pass',
      'reachability ws': 'pass',
      auth: 'pass',
      'offline retention': 'pass',
      'restart survival': 'pass',
      'client-id trap': 'warn',
      cleanup: 'pass',
    }, text);
    assert.equal(report.passed, true, text);
    for (const name of ['offline retention', 'restart survival']) {
      const figures = check(report, name).figures ?? {};
      assert.equal(figures.published, 5000, text);
      assert.equal(figures.receivedDistinct, 5000, text);
      assert.equal(figures.missing, 0, text);
    }
    assert.ok((check(report, 'restart survival').figures?.restartMs ?? 0) > 0, text);
    assert.match(check(report, 'auth').detail, /anonymous refused \(CONNACK 5/, text);
    assert.match(check(report, 'auth').detail, /wrong password refused \(CONNACK 5/, text);
    assert.equal(check(report, 'client-id trap').figures?.newIdReceived, 0, text);
    assert.equal(check(report, 'client-id trap').figures?.fixedIdReceived, 10, text);
    assert.doesNotMatch(JSON.stringify(report), /e2e pass word/);
    // A real report, as verify-broker.mts --json prints it, has the documented shape (docs/json-schema/verify.json).
    assert.deepEqual(validate('verify.json', verifyJsonDocument(report)), []);

    // Cleanup left no session: the subscriber's id comes back to a broker that does not know it.
    const login = { url: `mqtt://127.0.0.1:${provisioned.ports[1883]}`, username: 'admin', password: settings.admins[0]!.password, connectTimeoutMs: 10_000 };
    for (const role of ['sub', 'sub-restart', 'sub-trap']) {
      const clientId = `mp-verify-${report.runId}-${role}`;
      const probe = await attemptConnect(login, { clientId, clean: false });
      assert.equal(probe.kind, 'accepted', describeOutcome(probe));
      assert.equal(probe.connection.sessionPresent, false, `${clientId} still had a session after the cleanup`);
      await probe.connection.end();
      const wipe = await attemptConnect(login, { clientId, clean: true });
      if (wipe.kind === 'accepted') await wipe.connection.end();
    }

    // The install hook prints the same report under the host's label and returns whether it passed.
    const printed: string[] = [];
    const handed: VerifyReport[] = [];
    assert.equal(await verifyAfterInstall(target, settings, { messages: 500, print: (line) => printed.push(line), onReport: (found) => handed.push(found) }), true, printed.join('\n'));
    assert.ok(printed.some((line) => line.startsWith(`${provisioned.name}: PASS  restart survival: all 500 `)), printed.join('\n'));
    // The same report goes to install --json (structured, per host).
    assert.equal(handed.length, 1);
    assert.equal(handed[0]!.passed, true);
    assert.equal(handed[0]!.checks.find((found) => found.name === 'restart survival')?.figures?.published, 500);
    assert.doesNotMatch(printed.join('\n'), /e2e pass word/);
  });

  it('a stock Mosquitto fails offline retention: it keeps 1000 of 5000', { timeout: TEST_TIMEOUT }, async (t) => {
    const root = await sshRoot(stock, keyPath);
    try {
      await run(root, ['apt-get', 'update', '--error-on=any']);
      await run(root, ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', 'mosquitto']);
      await run(root, ['tee', '/etc/mosquitto/conf.d/lab.conf'], 'listener 1883\nallow_anonymous true\n');
      await run(root, ['systemctl', 'restart', 'mosquitto']);
    } finally {
      await root.close();
    }

    const report = await verifyBroker({ mqttUrl: `mqtt://127.0.0.1:${stock.ports[1883]}`, messages: 5000 });
    const text = formatVerifyReport(report);
    for (const line of text.split('\n')) t.diagnostic(line);
    assert.equal(report.passed, false, text);
    assert.deepEqual(statuses(report), {
      'reachability mqtt': 'pass',
      auth: 'skip',
      'offline retention': 'fail',
      'restart survival': 'skip',
      'client-id trap': 'warn',
      cleanup: 'pass',
    }, text);
    const retention = check(report, 'offline retention');
    assert.match(retention.detail, /^received 1000 of 5000, missing 1000-4999 — the broker dropped messages for the offline subscriber; raise max_queued_messages/, text);
    assert.equal(retention.figures?.published, 5000, text);
    assert.equal(retention.figures?.receivedDistinct, 1000, text);
    assert.equal(retention.figures?.missing, 4000, text);
    assert.equal(retention.figures?.duplicates, 0, text);
  });
});
