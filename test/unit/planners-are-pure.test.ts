import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { planEmqx } from '../../src/brokers/emqx/plan.ts';
import { prepareEmqx } from '../../src/brokers/emqx/prepare.ts';
import { planMosquitto } from '../../src/brokers/mosquitto/plan.ts';
import { prepareMosquitto } from '../../src/brokers/mosquitto/prepare.ts';
import { seededSalt, type PreparedInputs } from '../../src/brokers/prepared.ts';
import { brokerRole } from '../../src/brokers/registry.ts';
import { prepareHost } from '../../src/engine/prepare.ts';
import type { Step } from '../../src/operations/step.ts';
import { Secret } from '../../src/secret.ts';
import { ensureCa } from '../../src/tls/ca-store.ts';
import { createCa, issueServerCertificate } from '../../src/tls/certificates.ts';
import type { TlsIssuer } from '../../src/tls/server-files.ts';
import { emqxFacts } from '../fixtures/emqx-facts.ts';
import { emqxSettings } from '../fixtures/emqx-settings.ts';
import { mosquittoFacts } from '../fixtures/facts.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

/**
 * Issue 17: a planner is a pure function of facts, settings and what the prepare phase made. Same
 * inputs, same steps; the TLS files, salts, cookie and package bytes are the prepared ones; a dry
 * run's prepare creates no CA and draws no key.
 */

const ca = createCa('purity test CA');
const issuer: TlsIssuer = { ca: () => ca, issue: (authority, sans, days) => issueServerCertificate(authority, sans, days), now: () => new Date() };
const tlsMosquitto = (caDir = '/nonexistent/ca') =>
  mosquittoSettings({ listeners: { mqtt: 1883, mqtts: 8883 }, users: [{ name: 'sensor', password: 's3nsor-pass' }], tls: { generate: { caDir, subjectAltNames: ['broker.example'] } } });
const stdinOf = (steps: Step[], path: string) => steps.find((step) => step.id === `file:${path}`)!.commands.map((command) => command.stdin).find((stdin) => stdin !== undefined);

describe('planners are pure', () => {
  it('Mosquitto: planning twice with the same prepared inputs gives deep-equal steps', () => {
    const facts = { ...mosquittoFacts('debian12'), sshAddress: '192.0.2.10' };
    const settings = tlsMosquitto();
    const prepared = prepareMosquitto(facts, settings, { salt: seededSalt(Buffer.alloc(32, 7)), issuer });
    assert.deepEqual(planMosquitto(facts, settings, prepared), planMosquitto(facts, settings, prepared));
  });

  it('Mosquitto: the TLS files and password hashes are the prepared ones, not drawn while planning', () => {
    const facts = mosquittoFacts('debian12');
    const settings = tlsMosquitto();
    const sentinel = (path: string) => ({ path, content: `prepared ${path}\n`, mode: '0644', owner: 'root', group: 'mosquitto', apply: 'restart' as const });
    const prepared: PreparedInputs = {
      tls: { files: ['/etc/mosquitto/tls/ca.crt', '/etc/mosquitto/tls/server.crt', '/etc/mosquitto/tls/server.key'].map(sentinel) },
      salt: (name) => Buffer.alloc(12, name.length),
    };
    const steps = planMosquitto(facts, settings, prepared);
    assert.equal(stdinOf(steps, '/etc/mosquitto/tls/server.key'), 'prepared /etc/mosquitto/tls/server.key\n');
    const passwd = stdinOf(steps, '/etc/mosquitto/passwd')!;
    // The salt of `sensor` is the prepared one for that name (6 bytes of 6), base64 in the $7$ line.
    assert.match(passwd, new RegExp(`^sensor:\\$7\\$101\\$${Buffer.alloc(12, 6).toString('base64').replace(/[+/]/g, '\\$&')}\\$`, 'm'));
  });

  it('EMQX: planning twice with the same prepared inputs (cookie, salts, uploaded package) gives deep-equal steps', () => {
    const facts = emqxFacts('rocky9');
    const upload = join(mkdtempSync(join(tmpdir(), 'mp-pure-pkg-')), 'emqx-5.8.6-el9-amd64.rpm');
    writeFileSync(upload, 'package bytes\n');
    const settings = emqxSettings({ users: [{ name: 'sensor', password: 's3nsor-pass' }], emqx: { package: upload } });
    let reads = 0;
    const prepared = prepareEmqx(facts, settings, {
      salt: seededSalt(Buffer.alloc(32, 3)),
      generateCookie: () => 'prepared-cookie-0123456789abcdefghijklmnopq',
      readPackage: () => {
        reads += 1;
        return Buffer.from('package bytes\n');
      },
    });
    assert.equal(reads, 1, 'the --package file is read once, by prepare');
    const first = planEmqx(facts, settings, prepared);
    assert.deepEqual(planEmqx(facts, settings, prepared), first);
    assert.equal(reads, 1, 'planning reads no file');
    assert.equal(stdinOf([{ ...first.find((step) => step.id === 'package:emqx')!, id: 'file:pkg' }], 'pkg'), Buffer.from('package bytes\n').toString('base64'));
  });

  it('EMQX: the cookie in emqx.conf is the prepared one', () => {
    const facts = emqxFacts('debian12');
    const settings = emqxSettings();
    const prepared = { ...prepareEmqx(facts, settings, { salt: seededSalt(Buffer.alloc(32)) }), cookie: new Secret('prepared-cookie-for-this-test-0123456789abc') };
    assert.match(stdinOf(planEmqx(facts, settings, prepared), '/etc/emqx/emqx.conf')!, /cookie = "prepared-cookie-for-this-test-0123456789abc"/);
  });

  it("a dry run's prepare creates no CA and draws no key; a run that applies issues from the existing CA", () => {
    const caDir = join(mkdtempSync(join(tmpdir(), 'mp-pure-')), 'ca');
    const facts = mosquittoFacts('debian12');
    const dry = prepareHost(brokerRole('mosquitto'), facts, tlsMosquitto(caDir), true);
    assert.equal(existsSync(caDir), false, 'no CA directory');
    assert.ok(dry.tls.files.every((file) => !file.content.includes('PRIVATE KEY')));
    ensureCa(caDir);
    const key = (prepared: PreparedInputs) => prepared.tls.files.find((file) => file.path.endsWith('server.key'))!.content;
    assert.doesNotMatch(key(prepareHost(brokerRole('mosquitto'), facts, tlsMosquitto(caDir), true)), /PRIVATE KEY/);
    assert.match(key(prepareHost(brokerRole('mosquitto'), facts, tlsMosquitto(caDir), false)), /BEGIN PRIVATE KEY/);
  });

  it('the planner modules reach for no randomness, key generation or controller file', () => {
    const planners = ['src/brokers/mosquitto/plan.ts', 'src/brokers/emqx/plan.ts', 'src/brokers/emqx/package-steps.ts', 'src/brokers/emqx/config-steps.ts', 'src/brokers/emqx/rest-steps.ts', 'src/operations/config-handler.ts', 'src/container/plan.ts', 'src/container/plan-absent.ts', 'src/container/desired.ts', 'src/container/mosquitto-container.ts', 'src/container/emqx-container.ts'];
    for (const path of planners) {
      const source = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
      assert.doesNotMatch(source, /randomBytes|randomUUID|generateKeyPair|from 'node:fs'|ca-store|ensureCa|issueServerCertificate|createCa/, path);
    }
  });
});
