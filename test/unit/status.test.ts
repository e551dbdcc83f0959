import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import forge from 'node-forge';
import { runStatus, type StatusEnvironment } from '../../src/cli/status-command.ts';
import { change, noChange } from '../../src/operations/step.ts';
import { evaluateStatus, statusProbeQuery } from '../../src/status/evaluate.ts';
import { formatDuration, formatStatusTable } from '../../src/status/format.ts';
import { parseStatusProbe } from '../../src/status/status-facts.ts';
import { mosquittoFacts } from '../fixtures/facts.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

/** Status probe output of a lab host running Mosquitto (as src/status/probe.sh prints it). */
const healthyProbe = 'active\tactive\nsub\trunning\nrestarts\t0\nuptime\t93784\nlistening\t22 1883 8083\ndisk\t79848956 264212084\n';
const now = new Date('2026-11-29T12:00:00Z');

function installedFacts() {
  const facts = mosquittoFacts('debian12');
  return { ...facts, packages: { ...facts.packages, mosquitto: '2.0.11-1.2+deb12u2' } };
}

function evaluate(overrides: Partial<Parameters<typeof evaluateStatus>[0]> = {}) {
  return evaluateStatus({
    target: 'broker1',
    settings: mosquittoSettings({ listeners: { mqtt: 1883, websocket: 8083 } }),
    facts: installedFacts(),
    steps: [noChange('file', 'file:/etc/mosquitto/mosquitto.conf', 'file', 'up to date')],
    status: parseStatusProbe(healthyProbe),
    figures: { connectedClients: 3, disconnectedSessions: 2, queuedMessages: 120 },
    now,
    ...overrides,
  });
}

function certificate(notAfter: Date): string {
  const keys = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(notAfter.getTime() - 365 * 86_400_000);
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: 'broker1' }]);
  cert.setIssuer([{ name: 'commonName', value: 'broker1' }]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

describe('status probe parsing', () => {
  it('reads the service state, uptime, listening ports and disk of a running broker', () => {
    const status = parseStatusProbe(healthyProbe);
    assert.equal(status.active, 'active');
    assert.equal(status.uptimeSeconds, 93784);
    assert.deepEqual(status.listening, [22, 1883, 8083]);
    assert.deepEqual(status.disk, { freeBytes: 79848956 * 1024, totalBytes: 264212084 * 1024 });
    assert.equal(status.certPem, null);
  });

  it('gives no uptime for a failed service and no disk when the data directory is missing', () => {
    const status = parseStatusProbe('active\tfailed\nsub\tfailed\nrestarts\t4\nuptime\t12\nlistening\t22\n');
    assert.equal(status.uptimeSeconds, null);
    assert.equal(status.restarts, 4);
    assert.equal(status.disk, null);
  });

  it('decodes the served certificate', () => {
    const pem = certificate(new Date('2027-01-01T00:00:00Z'));
    assert.equal(parseStatusProbe(`active\tactive\ncert\t${Buffer.from(pem).toString('base64')}\n`).certPem, pem);
  });

  it('asks for the certificate only when a TLS listener is served', () => {
    assert.equal(statusProbeQuery(mosquittoSettings()).certFile, undefined);
    assert.equal(statusProbeQuery(mosquittoSettings({ listeners: { mqtt: 1883, mqtts: 8883 }, tls: { generate: { caDir: '/tmp/ca' } } })).certFile, '/etc/mosquitto/tls/server.crt');
  });
});

describe('status evaluation', () => {
  it('finds nothing wrong with a converged, running broker', () => {
    const status = evaluate();
    assert.deepEqual(status.problems, []);
    assert.deepEqual(status.listeners, { wanted: [1883, 8083], listening: [1883, 8083], missing: [] });
    assert.equal(status.figures?.queuedMessages, 120);
  });

  it('reports a stopped service, the listeners it no longer serves and no figures', () => {
    const status = evaluate({ status: parseStatusProbe('active\tinactive\nsub\tdead\nlistening\t22\n'), figures: null });
    assert.deepEqual(status.problems, ['the mosquitto service is inactive (dead)']);
    assert.deepEqual(status.listeners.missing, [1883, 8083]);
  });

  it('reports a wanted listener that is not listening on a running broker', () => {
    const status = evaluate({ status: parseStatusProbe('active\tactive\nlistening\t22 1883\n') });
    assert.deepEqual(status.problems, ['not listening on 8083']);
  });

  it('reports a missing package and a version other than the pinned one', () => {
    assert.deepEqual(evaluate({ facts: mosquittoFacts('debian12') }).problems, ['mosquitto is not installed']);
    const pinned = evaluate({ settings: mosquittoSettings({ version: '2.0.18', listeners: { mqtt: 1883, websocket: 8083 } }) });
    assert.deepEqual(pinned.problems, ['version 2.0.11-1.2+deb12u2 is installed, 2.0.18 is wanted']);
  });

  it('reports config drift as the steps a converge would change', () => {
    const steps = [change('file', 'file:/etc/mosquitto/mosquitto.conf', 'file', 'content differs', []), noChange('firewall', 'firewall', 'firewall', 'ok')];
    const status = evaluate({ steps });
    assert.deepEqual(status.drift, ['file:/etc/mosquitto/mosquitto.conf']);
    assert.deepEqual(status.problems, ['drift: a converge would change file:/etc/mosquitto/mosquitto.conf']);
  });

  it('reports firewalld ports the settings serve but the firewall does not open', () => {
    const facts = { ...installedFacts(), firewalld: { running: true, runtimePorts: ['1883/tcp', '22/tcp'], permanentPorts: ['1883/tcp'] } };
    const status = evaluate({ facts });
    assert.deepEqual(status.firewall, { kind: 'firewalld', open: [1883, 22], missing: [8083] });
    assert.deepEqual(status.problems, ['firewalld does not open 8083']);
  });

  it('counts the days a certificate has left and warns within 30 days', () => {
    const withCert = (days: number) => parseStatusProbe(`${healthyProbe}cert\t${Buffer.from(certificate(new Date(now.getTime() + days * 86_400_000 + 3_600_000))).toString('base64')}\n`);
    assert.equal(evaluate({ status: withCert(200) }).tls?.daysLeft, 200);
    assert.deepEqual(evaluate({ status: withCert(200) }).problems, []);
    assert.deepEqual(evaluate({ status: withCert(12) }).problems, ['the TLS certificate expires in 12 days']);
    assert.match(evaluate({ status: withCert(-3) }).problems[0]!, /^the TLS certificate expired on /);
  });

  it('reports a data disk with less than a tenth free', () => {
    const status = evaluate({ status: parseStatusProbe('active\tactive\nlistening\t1883 8083\ndisk\t900 10000\n') });
    assert.deepEqual(status.problems, ['only 900.0 KiB free on the data directory\'s disk']);
  });

  it('reports why the broker\'s own figures could not be read', () => {
    assert.deepEqual(evaluate({ figures: new Error('refused with CONNACK code 5') }).problems, ["the broker's own figures: refused with CONNACK code 5"]);
  });
});

describe('status output', () => {
  it('prints one row per target and one line per problem', () => {
    const table = formatStatusTable([evaluate(), evaluate({ target: 'broker2', status: parseStatusProbe('active\tfailed\nsub\tfailed\n'), figures: null })]);
    const lines = table.split('\n');
    assert.match(lines[0]!, /^TARGET\s+BROKER\s+VERSION\s+SERVICE/);
    assert.match(lines[1]!, /^broker1\s+mosquitto\s+2\.0\.11-1\.2\+deb12u2\s+up 1d 2h\s+1883,8083\s+-\s+none\s+-\s+76\.1 GiB \(30%\)\s+3\s+2\s+120\s+OK$/);
    assert.match(lines[2]!, /^broker2 .* failed .*!1883,!8083 .*PROBLEM$/);
    assert.equal(lines[3], 'broker2: the mosquitto service is failed (failed)');
  });

  it('formats durations at the scale that matters', () => {
    assert.equal(formatDuration(42), '42s');
    assert.equal(formatDuration(125), '2m 5s');
    assert.equal(formatDuration(3 * 3600 + 120), '3h 2m');
    assert.equal(formatDuration(2 * 86400 + 5 * 3600), '2d 5h');
  });
});

describe('status front door', () => {
  const directory = mkdtempSync(join(tmpdir(), 'mp-status-'));
  const passwordFile = join(directory, 'pw');
  writeFileSync(passwordFile, 'status-secret\n');
  const settingsFile = join(directory, 'settings.yaml');
  writeFileSync(settingsFile, 'broker: mosquitto\n');

  function environment(): StatusEnvironment & { out: string[]; err: string[]; connections: number } {
    const recorder = {
      out: [] as string[],
      err: [] as string[],
      connections: 0,
      env: {},
      print: (text: string) => recorder.out.push(text),
      printError: (text: string) => recorder.err.push(text),
      connect: async () => {
        recorder.connections++;
        throw new Error('connection refused');
      },
    };
    return recorder;
  }

  for (const [name, args, message] of [
    ['no settings', ['--host', 'h'], /--settings: is required/],
    ['no target', ['--settings', settingsFile, '--admin-user', 'admin', '--admin-password-file', passwordFile], /--host: give at least one/],
    ['an install-only flag', ['--settings', settingsFile, '--host', 'h', '--dry-run'], /Unknown option '--dry-run'/],
    ['a bad host-key mode', ['--settings', settingsFile, '--host', 'h', '--host-key-check', 'maybe'], /--host-key-check: must be strict/],
  ] as const) {
    it(`exits 2 naming the field for ${name}, contacting no host`, async () => {
      const env = environment();
      assert.equal(await runStatus([...args], env), 2);
      assert.match(env.err.join('\n'), message);
      assert.equal(env.connections, 0);
    });
  }

  it('prints bad input as JSON with --json', async () => {
    const env = environment();
    assert.equal(await runStatus(['--host', 'h', '--json'], env), 2);
    const document = JSON.parse(env.out.join('\n'));
    assert.equal(document.formatVersion, 1);
    assert.match(document.error.message, /--settings/);
  });

  it('exits 1 and names an unreachable host', async () => {
    const env = environment();
    const code = await runStatus(['--settings', settingsFile, '--admin-user', 'admin', '--admin-password-file', passwordFile, '--host', 'h1', '--host', 'h2', '--retries', '0'], env);
    assert.equal(code, 1);
    assert.equal(env.connections, 2);
    assert.match(env.out.join('\n'), /root@h1:22: could not look at the host: connection refused/);
  });
});
