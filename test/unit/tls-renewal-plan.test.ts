import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import { checkedReloadOrRestartCommand } from '../../src/brokers/mosquitto/reload.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import { restoreFile } from '../../src/operations/files.ts';
import type { Step } from '../../src/operations/step.ts';
import { Secret } from '../../src/secret.ts';
import { createCa, issueServerCertificate, type KeyPairPem } from '../../src/tls/certificates.ts';
import type { TlsIssuer } from '../../src/tls/server-files.ts';
import { convergedFacts, fixedSalt, mosquittoFacts } from '../fixtures/facts.ts';
import { planMosquitto } from '../fixtures/plan.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

// Issue 24 item 4: a renewed server certificate and key reach Mosquitto by a checked reload
// (clients stay), the CA or a served wss listener still restarts; renewal can be forced by
// tls.generate.renewBeforeDays.

const ca = createCa('renewal CA');
const day = 24 * 60 * 60 * 1000;
const tlsDir = '/etc/mosquitto/tls';
const crt = `${tlsDir}/server.crt`;
const key = `${tlsDir}/server.key`;

function issuerAt(now: Date): TlsIssuer {
  return { ca: () => ca, issue: (authority: KeyPairPem, sans: string[], validDays: number) => issueServerCertificate(authority, sans, validDays, now), now: () => now };
}

const settingsWith = (listeners: Record<string, number>, generate: Record<string, unknown> = {}) =>
  mosquittoSettings({ listeners, tls: { generate: { caDir: '/nonexistent/ca', subjectAltNames: ['broker1.example.com'], ...generate } } });

function converged(settings: ReturnType<typeof settingsWith>, issuer = issuerAt(new Date())): HostFacts {
  const base = { ...mosquittoFacts('debian12'), sshAddress: '192.0.2.10' };
  const facts = convergedFacts(base, mosquittoFiles(settings, base, fixedSalt(), issuer));
  return { ...facts, directories: { ...facts.directories, [tlsDir]: { mode: '0750', owner: 'root', group: 'mosquitto' } } };
}

const changed = (steps: Step[]) => steps.filter((step) => step.change);
const ids = (steps: Step[]) => changed(steps).map((step) => step.id);

describe('Mosquitto TLS renewal: reload instead of restart', () => {
  it('a re-issued certificate and key on an mqtts-only broker reload it; the rollback restores the pair and reloads again', () => {
    const facts = converged(settingsWith({ mqtts: 8883 }));
    const steps = planMosquitto(facts, settingsWith({ mqtts: 8883 }, { subjectAltNames: ['broker1.example.com', 'broker2.example.com'] }), fixedSalt(), issuerAt(new Date()));
    assert.deepEqual(ids(steps), ['pending:mosquitto', `file:${crt}`, `file:${key}`, 'reload:mosquitto']);
    const reload = steps.find((step) => step.id === 'reload:mosquitto')!;
    assert.equal(reload.kind, 'reload');
    assert.match(reload.reason, /server\.crt, .*server\.key changed: SIGHUP re-reads the server certificate and key, connected clients stay/);
    assert.deepEqual(reload.commands[0]!.argv, ['sh', '-s', '--', 'mosquitto'], 'the checked reload');
    assert.deepEqual(reload.rollback!.slice(0, 3), [restoreFile(crt), restoreFile(key), checkedReloadOrRestartCommand('mosquitto')]);
    assert.ok(!reload.rollback!.some((command) => command.argv.join(' ') === 'systemctl restart mosquitto'), 'no plain restart in the rollback');
  });

  it('still restarts when a wss listener is served (libwebsockets keeps its certificate across SIGHUP)', () => {
    const listeners = { mqtts: 8883, wss: 8084 };
    const steps = planMosquitto(converged(settingsWith(listeners)), settingsWith(listeners, { subjectAltNames: ['broker2.example.com'] }), fixedSalt(), issuerAt(new Date()));
    assert.deepEqual(ids(steps), ['pending:mosquitto', `file:${crt}`, `file:${key}`, 'restart:mosquitto']);
  });

  it('restarts when the CA changes: cafile is read only when a listener starts', () => {
    const other = createCa('other CA');
    const facts = converged(settingsWith({ mqtts: 8883 }), { ...issuerAt(new Date()), ca: () => other });
    const steps = planMosquitto(facts, settingsWith({ mqtts: 8883 }), fixedSalt(), issuerAt(new Date()));
    assert.deepEqual(ids(steps), ['pending:mosquitto', `file:${tlsDir}/ca.crt`, `file:${crt}`, `file:${key}`, 'restart:mosquitto']);
  });

  it('renewBeforeDays above the days left forces a renewal by reload; the run after it changes nothing', () => {
    const first = settingsWith({ mqtts: 8883 }, { validDays: 60 });
    const facts = converged(first);
    assert.deepEqual(ids(planMosquitto(facts, first, fixedSalt(), issuerAt(new Date()))), [], 'a 60-day certificate is kept under the default 30-day window');
    const renew = settingsWith({ mqtts: 8883 }, { validDays: 120, renewBeforeDays: 90 });
    const steps = planMosquitto(facts, renew, fixedSalt(), issuerAt(new Date()));
    assert.deepEqual(ids(steps), ['pending:mosquitto', `file:${crt}`, `file:${key}`, 'reload:mosquitto']);
    assert.match(steps.find((step) => step.id === `file:${crt}`)!.reason, /^re-issued: expires \d{4}-\d\d-\d\d \(within 90 days\)$/);
    assert.deepEqual(ids(planMosquitto(converged(renew), renew, fixedSalt(), issuerAt(new Date()))), [], 'a 120-day certificate is outside the 90-day window');
  });

  it('replaced supplied certificate and key (same CA) reload; a stopped broker is started instead', () => {
    const supplied = (pair: KeyPairPem) => ({ ...settingsWith({ mqtts: 8883 }), tls: { source: 'supplied' as const, caPem: ca.certPem, certPem: pair.certPem, keyPem: new Secret(pair.keyPem), requireClientCertificate: false } });
    const old = supplied(issueServerCertificate(ca, ['broker1'], 365));
    const renewed = supplied(issueServerCertificate(ca, ['broker1'], 365));
    const facts = converged(old);
    assert.deepEqual(ids(planMosquitto(facts, renewed, fixedSalt())), ['pending:mosquitto', `file:${crt}`, `file:${key}`, 'reload:mosquitto']);
    const stopped = { ...facts, services: { ...facts.services, mosquitto: { ...facts.services.mosquitto!, active: 'inactive' } } };
    assert.deepEqual(ids(planMosquitto(stopped, renewed, fixedSalt())), ['pending:mosquitto', `file:${crt}`, `file:${key}`, 'start:mosquitto']);
  });

  it('a renewal together with a user change reloads once, and rolls back by restart (the users may have broken the broker)', () => {
    const first = settingsWith({ mqtts: 8883 });
    const facts = converged(first);
    const next = { ...settingsWith({ mqtts: 8883 }, { subjectAltNames: ['broker2.example.com'] }), users: [{ name: 'sensor', password: new Secret('sensor-password'), acl: [] }] } as typeof first;
    const steps = planMosquitto(facts, next, fixedSalt(), issuerAt(new Date()));
    assert.deepEqual(ids(steps), ['pending:mosquitto', `file:${crt}`, `file:${key}`, 'file:/etc/mosquitto/passwd', 'file:/etc/mosquitto/acl', 'reload:mosquitto']);
    assert.ok(steps.find((step) => step.id === 'reload:mosquitto')!.rollback!.some((command) => command.argv.join(' ') === 'systemctl restart mosquitto'));
  });
});

describe('the rollback reload of a renewal', () => {
  // Stand-ins like test/unit/mosquitto-reload.test.ts: systemctl appends Mosquitto's reload lines to a journal file.
  const journalctl = `#!/bin/sh
log="$STATE/journal"; after=""; last=""
while [ $# -gt 0 ]; do case "$1" in --after-cursor) after=$2; shift ;; -n) last=1; shift ;; esac; shift; done
if [ -n "$last" ]; then n=$(wc -l < "$log"); tail -n 1 "$log"; [ "$n" -gt 0 ] && echo "-- cursor: $n"; exit 0; fi
if [ -n "$after" ]; then tail -n +$((after + 1)) "$log"; else cat "$log"; fi
`;
  const systemctl = `#!/bin/sh
echo "$1" >> "$STATE/calls"
case "$1" in
  reload) [ -e "$STATE/dead" ] && exit 1; echo "1795982874: Reloading config." >> "$STATE/journal" ;;
  restart) rm -f "$STATE/dead" ;;
  is-active) [ -e "$STATE/dead" ] && exit 3; exit 0 ;;
esac
`;

  function run(dead: boolean): { code: number | null; calls: string[]; stderr: string } {
    const state = mkdtempSync(join(tmpdir(), 'mp-renew-'));
    mkdirSync(join(state, 'bin'));
    for (const [name, text] of [['journalctl', journalctl], ['systemctl', systemctl]] as const) {
      writeFileSync(join(state, 'bin', name), text);
      chmodSync(join(state, 'bin', name), 0o755);
    }
    writeFileSync(join(state, 'journal'), '1795982800: mosquitto version 2.0.11 running\n');
    writeFileSync(join(state, 'calls'), '');
    if (dead) writeFileSync(join(state, 'dead'), '');
    const command = checkedReloadOrRestartCommand('mosquitto');
    const env = { ...process.env, PATH: `${join(state, 'bin')}:${process.env.PATH}`, STATE: state };
    const result = spawnSync(command.argv[0]!, command.argv.slice(1), { input: command.stdin, env, encoding: 'utf8', timeout: 20_000 });
    return { code: result.status, calls: readFileSync(join(state, 'calls'), 'utf8').split('\n').filter(Boolean), stderr: result.stderr };
  }

  it('reloads the running broker onto the previous pair, no restart', () => {
    const result = run(false);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.calls.includes('restart'), result.calls.join(' '));
    assert.ok(result.calls.filter((call) => call === 'reload').length >= 2);
  });

  it('restarts a broker the reload cannot reach', () => {
    const result = run(true);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.calls.slice(-2), ['restart', 'is-active']);
    assert.match(result.stderr, /the reload onto the previous files failed: restarting mosquitto/);
  });
});
