import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import { runInstall, type InstallEnvironment } from '../../src/cli/install-command.ts';
import { runStatus } from '../../src/cli/status-command.ts';
import { emptyFacts } from '../../src/facts/empty-facts.ts';
import { sha256 } from '../../src/operations/files.ts';
import { loadSettings } from '../../src/brokers/load-settings.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { runVerifyCommand } from '../../src/verify/verify-command.ts';
import { buildReport } from '../../src/verify/verify-report.ts';
import { capacityProbeLines, osReleases } from '../fixtures/facts.ts';
import { validate } from './support/json-schema.ts';
import { lockGrantedBy } from './support/no-start.ts';

// Issue 23 item 1: one documented --json shape (docs/json-schema/) for install, verify and status.

const directory = mkdtempSync(join(tmpdir(), 'mp-json-schema-'));
const passwordFile = join(directory, 'pw');
writeFileSync(passwordFile, 'hunter2-secret\n');
const settingsFile = join(directory, 'settings.yaml');
writeFileSync(settingsFile, 'broker: mosquitto\nlisteners: { mqtt: 1883 }\n');
const args = ['--host', 'root@broker.example', '--admin-user', 'admin', '--admin-password-file', passwordFile, '--json'];

/** Checks as the verifier builds them (src/verify/*.ts), figures under their camelCase keys. */
const verifyReport = buildReport('a1b2c3', [
  { name: 'reachability mqtt', status: 'pass', detail: 'mqtt://broker.example:1883 answered', figures: { connectMs: 12, roundTripMs: 3 } },
  { name: 'offline retention', status: 'pass', detail: 'all 5000 arrived', figures: { published: 5000, receivedDistinct: 5000, duplicates: 0, missing: 0, publishPerSecond: 41234.5, drainPerSecond: 50210.2, wallMs: 1729 } },
  { name: 'restart survival', status: 'skip', detail: 'no restart: nothing changed' },
]);

/** A Debian host: converged (the probe reports every managed file in place) or bare. */
function host(converged: boolean): Transport {
  const settings = loadSettings(undefined, { broker: 'mosquitto', adminUser: 'admin', adminPasswordFile: passwordFile });
  const files = converged ? mosquittoFiles(settings, emptyFacts()) : [];
  const probe = [
    osReleases.debian12.trimEnd(),
    ...(converged ? ['pkg\tmosquitto\t2.0.11-1.2+deb12u2', 'dir\t/var/lib/mosquitto\t750\tmosquitto\tmosquitto', 'svc\tmosquitto\tactive\tenabled', ...capacityProbeLines('mosquitto')] : []),
    ...files.map((file) => `file\t${file.path}\t${sha256(file.content)}\t${file.mode.replace(/^0/, '')}\t${file.owner}\t${file.group}\t${Buffer.from(file.content).toString('base64')}`),
  ].join('\n');
  const exec: Transport['exec'] = async (argv) => (argv[0] === 'sh' && argv[1] === '-s' ? { code: 0, stdout: `${probe}\n`, stderr: '' } : { code: 1, stdout: '', stderr: `unexpected ${argv.join(' ')}` });
  return {
    label: 'broker.example',
    exec,
    start: lockGrantedBy(exec),
    close: async () => {},
  };
}

function installEnvironment(converged: boolean, passes = true) {
  const out: string[] = [];
  const err: string[] = [];
  const environment: InstallEnvironment = {
    env: {},
    print: (text) => out.push(text),
    printError: (text) => err.push(text),
    connect: async () => host(converged),
    verify: async (_target, _settings, print, _mayRestart, _signal, onReport) => {
      const report = passes ? verifyReport : buildReport('d4e5f6', [{ name: 'offline retention', status: 'fail', detail: 'received 1000 of 5000', figures: { published: 5000, receivedDistinct: 1000 } }]);
      print('PASS  reachability mqtt: …');
      onReport?.(report);
      return report.passed;
    },
  };
  return { environment, out, err };
}

function conforms(file: string, document: unknown): void {
  assert.deepEqual(validate(file, document), [], JSON.stringify(document, null, 2));
}

describe('--json documents against docs/json-schema', () => {
  it('install: header, summary counts and the verify report per host', async () => {
    const run = installEnvironment(true);
    assert.equal(await runInstall('mosquitto', args, run.environment), 0, run.err.join('\n'));
    const document = JSON.parse(run.out.join('\n'));
    conforms('install.json', document);
    assert.equal(document.formatVersion, 1);
    assert.equal(document.command, 'install');
    assert.deepEqual(document.summary.hosts, { total: 1, ok: 1, changed: 0, failed: 0 });
    assert.equal(document.summary.steps.ok, document.hosts[0].steps.length);
    assert.deepEqual(document.hosts[0].verify, verifyReport);
    // The human text stays on stderr; stdout is the document alone.
    assert.match(run.err.join('\n'), /PASS {2}reachability/);
  });

  it('install: a failed verification is counted and its report kept', async () => {
    const run = installEnvironment(true, false);
    assert.equal(await runInstall('mosquitto', args, run.environment), 1);
    const document = JSON.parse(run.out.join('\n'));
    conforms('install.json', document);
    assert.deepEqual(document.summary.hosts, { total: 1, ok: 0, changed: 0, failed: 1 });
    assert.equal(document.summary.steps.failed, 1);
    assert.equal(document.hosts[0].verify.passed, false);
  });

  it('install --dry-run on a bare host: changed steps with diffs, durations whole milliseconds', async () => {
    const run = installEnvironment(false);
    assert.equal(await runInstall('mosquitto', [...args, '--dry-run'], run.environment), 0, run.err.join('\n'));
    const document = JSON.parse(run.out.join('\n'));
    conforms('install.json', document);
    assert.equal(document.summary.hosts.changed, 1);
    assert.ok(document.summary.steps.changed > 0);
    assert.equal(document.hosts[0].verify, undefined);
  });

  it('install --check adds the drift object', async () => {
    const run = installEnvironment(false);
    assert.equal(await runInstall('mosquitto', [...args, '--check'], run.environment), 3);
    const document = JSON.parse(run.out.join('\n'));
    conforms('install.json', document);
    assert.equal(document.check.inSync, false);
  });

  it('install, verify and status: bad input (exit 2) prints an error document', async () => {
    const install = installEnvironment(true);
    assert.equal(await runInstall('mosquitto', ['--host', 'root@broker.example', '--json'], install.environment), 2);
    const installError = JSON.parse(install.out.join('\n'));
    conforms('error.json', installError);
    assert.equal(installError.command, 'install');

    const out: string[] = [];
    const verifyEnvironment = { print: (text: string) => out.push(text), printError: () => {}, connect: async () => host(true), verify: async () => verifyReport };
    assert.equal(await runVerifyCommand(['--messages', 'many', '--json'], verifyEnvironment), 2);
    const verifyError = JSON.parse(out.join('\n'));
    conforms('error.json', verifyError);
    assert.equal(verifyError.command, 'verify');

    const statusOut: string[] = [];
    assert.equal(await runStatus(['--host', 'h', '--json'], { env: {}, print: (text) => statusOut.push(text), printError: () => {}, connect: async () => host(true) }), 2);
    conforms('error.json', JSON.parse(statusOut.join('\n')));
  });

  it('verify: camelCase figures under the family header', async () => {
    const out: string[] = [];
    const code = await runVerifyCommand(['--url', 'mqtt://127.0.0.1:1883', '--json'], { print: (text) => out.push(text), printError: () => {}, connect: async () => host(true), verify: async () => verifyReport });
    assert.equal(code, 0);
    const document = JSON.parse(out.join('\n'));
    conforms('verify.json', document);
    assert.equal(document.command, 'verify');
  });

  it('status: a healthy host with figures and an unreachable one, under the family header', async () => {
    const out: string[] = [];
    const healthy = host(true);
    const statusProbe = 'active\tactive\nsub\trunning\nrestarts\t0\nuptime\t3600\nlistening\t22 1883\ndisk\t900000 1000000\n';
    const withStatusProbe: Transport = {
      ...healthy,
      // The status probe gets the service and data directory; the fact probe gets pkg:/file: queries.
      exec: async (argv, options) => (argv[3] === 'mosquitto' ? { code: 0, stdout: statusProbe, stderr: '' } : healthy.exec(argv, options)),
    };
    let connections = 0;
    const code = await runStatus(['--host', 'root@broker.example', '--host', 'root@gone.example', '--admin-user', 'admin', '--admin-password-file', passwordFile, '--settings', settingsFile, '--json'], {
      env: {},
      print: (text) => out.push(text),
      printError: () => {},
      connect: async () => {
        if (connections++ === 1) throw new Error('connection refused');
        return withStatusProbe;
      },
      figures: async () => ({ version: '2.0.11', connectedClients: 3, disconnectedSessions: 1, storedMessages: 140, retainedMessages: 40, queuedMessages: 100 }),
    });
    const document = JSON.parse(out.join('\n'));
    conforms('status.json', document);
    assert.equal(code, 1, 'the unreachable host is a problem');
    assert.deepEqual(document.targets[0].problems, []);
    assert.equal(document.targets[0].figures.queuedMessages, 100);
    assert.match(document.targets[1].problems[0], /could not look at the host: connection refused/);
    assert.match(validate('status.json', { ...document, targets: [{ ...document.targets[0], service: { ...document.targets[0].service, uptimeSeconds: 1.5 } }] }).join('\n'), /uptimeSeconds: number, expected integer\|null/);
  });

  it('the schemas refuse the old shapes: spaced figure keys, fractional durations, no header', () => {
    assert.notDeepEqual(validate('verify.json', { formatVersion: 1, command: 'verify', passed: true, runId: 'r', checks: [{ name: 'n', status: 'pass', detail: 'd', figures: { 'connect ms': 12 } }] }), []);
    const step = { id: 'x', title: 'x', status: 'ok', reason: 'r', durationMs: 1728.5236009999999 };
    const document = { formatVersion: 1, command: 'install', broker: 'mosquitto', dryRun: false, summary: { hosts: { total: 1, ok: 1, changed: 0, failed: 0 }, steps: { ok: 1, changed: 0, failed: 0, skipped: 0 } }, hosts: [{ host: 'h', status: 'ok', dryRun: false, steps: [step], durationMs: 2 }] };
    assert.match(validate('install.json', document).join('\n'), /durationMs: number, expected integer/);
    assert.deepEqual(validate('install.json', { ...document, hosts: [{ ...document.hosts[0], steps: [{ ...step, durationMs: 1729 }] }] }), []);
    assert.match(validate('install.json', { broker: 'mosquitto', dryRun: false, hosts: [] }).join('\n'), /missing formatVersion/);
  });
});
