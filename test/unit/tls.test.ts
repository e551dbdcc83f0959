import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { emqxConfig } from '../../src/brokers/emqx/files.ts';
import { planEmqx } from '../fixtures/plan.ts';
import { mosquittoConfig, mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import { planMosquitto } from '../fixtures/plan.ts';
import { servedPorts } from '../../src/brokers/served-ports.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import type { Step } from '../../src/operations/step.ts';
import { Secret } from '../../src/secret.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { ensureCa, readCa } from '../../src/tls/ca-store.ts';
import { certificateSans, createCa, issueServerCertificate, reissueReasons, type KeyPairPem } from '../../src/tls/certificates.ts';
import { dryRunIssuer, withStandInCertificates, type TlsIssuer } from '../../src/tls/server-files.ts';
import { convergedFacts, fixedSalt, mosquittoFacts } from '../fixtures/facts.ts';
import { emqxFacts, fixtureCookie, leafKeys, parseHocon, planOptions } from '../fixtures/emqx-facts.ts';
import { emqxSettings, knownKeys } from '../fixtures/emqx-settings.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

// One CA for the whole file: RSA 3072 generation is the slow part.
const ca = createCa('test CA');
const otherCa = createCa('another CA');
const day = 24 * 60 * 60 * 1000;

/** A deterministic issuer: the fixture CA, a counting issue(), and a settable clock. */
function testIssuer(now = new Date()): TlsIssuer & { issued: number } {
  const issuer = {
    issued: 0,
    ca: () => ca,
    issue: (authority: KeyPairPem, sans: string[], validDays: number) => {
      issuer.issued += 1;
      return issueServerCertificate(authority, sans, validDays, now);
    },
    now: () => now,
  };
  return issuer;
}

const tlsSettings = (extra: Record<string, unknown> = {}) =>
  mosquittoSettings({
    listeners: { mqtt: 1883, mqtts: 8883, wss: 8084 },
    tls: { generate: { caDir: '/nonexistent/ca', subjectAltNames: ['broker1.example.com', '10.0.0.5'] }, ...extra },
  });

const changedIds = (steps: Step[]) => steps.filter((step) => step.change).map((step) => step.id);
const commandsOf = (steps: Step[]) => steps.filter((step) => step.change).flatMap((step) => step.commands.map((command) => command.argv.join(' ')));
const tlsDir = '/etc/mosquitto/tls';

function withSsh(facts: HostFacts, address = '192.0.2.10'): HostFacts {
  return { ...facts, sshAddress: address };
}

/** A host on which these settings already converged (issuing through `issuer`). */
function convergedTls(settings = tlsSettings(), issuer = testIssuer()): HostFacts {
  const base = withSsh(mosquittoFacts('debian12'));
  const facts = convergedFacts(base, mosquittoFiles(settings, base, fixedSalt(), issuer));
  return { ...facts, directories: { ...facts.directories, [tlsDir]: { mode: '0750', owner: 'root', group: 'mosquitto' } } };
}

describe('certificates', () => {
  it('issues a server certificate for the SANs, signed by the CA, that needs no re-issue', () => {
    const server = issueServerCertificate(ca, ['broker1', '10.0.0.5', '::1'], 365);
    assert.deepEqual(certificateSans(server.certPem), ['DNS:broker1', 'IP:10.0.0.5', 'IP:::1']);
    const cert = new X509Certificate(server.certPem);
    assert.ok(cert.checkIssued(new X509Certificate(ca.certPem)));
    assert.deepEqual(reissueReasons(server, ca.certPem, ['10.0.0.5', 'BROKER1', '0:0:0:0:0:0:0:1']), []);
  });

  it('names every reason to re-issue: other CA, expiry within 30 days, other SANs, no certificate', () => {
    const foreign = issueServerCertificate(otherCa, ['broker1'], 365);
    assert.deepEqual(reissueReasons(foreign, ca.certPem, ['broker1']), ['not signed by the current CA']);
    const mine = issueServerCertificate(ca, ['broker1'], 365);
    const late = new Date(Date.now() + 340 * day);
    assert.match(reissueReasons(mine, ca.certPem, ['broker1'], late).join(), /^expires \d{4}-\d\d-\d\d \(within 30 days\)$/);
    assert.deepEqual(reissueReasons(mine, ca.certPem, ['broker1', 'broker2']), ['SANs differ: has DNS:broker1, wants DNS:broker1 DNS:broker2']);
    assert.deepEqual(reissueReasons({}, ca.certPem, ['broker1']), ['no certificate on the host']);
    const otherKey = issueServerCertificate(ca, ['broker1'], 365).keyPem;
    assert.deepEqual(reissueReasons({ certPem: mine.certPem, keyPem: otherKey }, ca.certPem, ['broker1']), ['the private key does not match the certificate']);
  });

  it('creates the CA once in caDir with a 0600 key and reads it afterwards', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mp-ca-')), 'env');
    assert.equal(readCa(dir), null, 'reading creates nothing');
    assert.equal(existsSync(dir), false);
    const first = ensureCa(dir);
    assert.equal(first.created, true);
    assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(dir).sort(), ['ca.crt', 'ca.key'], 'no temp or guard file left');
    assert.equal(ensureCa(dir).created, false);
    assert.equal(readCa(dir)!.certPem, first.ca.certPem);
  });
});

describe('TLS files in a dry run', () => {
  it('draw no key: a certificate to issue shows as a placeholder, and a missing CA as a CA to create', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'mp-ca-dry-')), 'env');
    const settings = tlsSettings({ generate: { caDir: dir, subjectAltNames: ['broker1.example.com'] } });
    const absent = mosquittoFiles(settings, withSsh(mosquittoFacts('debian12')), fixedSalt(), dryRunIssuer).filter((file) => file.path.startsWith(tlsDir));
    assert.equal(absent.length, 3);
    for (const file of absent) assert.match(file.content, /^\(not issued yet: a run that applies creates the CA in .*env first/);
    assert.equal(existsSync(dir), false, 'no CA created');
    const created = ensureCa(dir).ca;
    const files = mosquittoFiles(settings, withSsh(mosquittoFacts('debian12')), fixedSalt(), dryRunIssuer);
    assert.equal(files.find((file) => file.path === `${tlsDir}/ca.crt`)!.content, created.certPem);
    assert.match(files.find((file) => file.path === `${tlsDir}/server.key`)!.content, /^\(a run that applies issues a new server key and certificate here\)/);
    assert.match(files.find((file) => file.path === `${tlsDir}/server.crt`)!.content, /^\(a run that applies issues/);
  });
});

describe('stand-in certificates (rendering for the files\' shape)', () => {
  it('replace a generated CA\'s issued material by fixed text and leave other settings as they are', () => {
    const admins = [{ name: 'admin', password: 'admin-pass-1' }];
    const generated = resolveSettings({ broker: 'mosquitto', listeners: { mqtt: 1883, mqtts: 8883 }, admins, tls: { generate: { caDir: '/nonexistent/ca', subjectAltNames: ['b.example'] }, requireClientCertificate: true } });
    const standIn = withStandInCertificates(generated);
    assert.equal(standIn.tls?.source, 'supplied');
    assert.ok(standIn.tls?.source === 'supplied' && standIn.tls.certPem.includes('/nonexistent/ca') && standIn.tls.requireClientCertificate);
    assert.deepEqual({ ...standIn, tls: undefined }, { ...generated, tls: undefined });
    const plain = resolveSettings({ broker: 'mosquitto', admins });
    assert.equal(withStandInCertificates(plain), plain);
  });
});

describe('TLS settings', () => {
  it('reads supplied certificates and refuses a key that is not the certificate\'s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mp-tls-'));
    const server = issueServerCertificate(ca, ['broker1'], 365);
    writeFileSync(join(dir, 'ca.crt'), ca.certPem);
    writeFileSync(join(dir, 'server.crt'), server.certPem);
    writeFileSync(join(dir, 'server.key'), server.keyPem);
    writeFileSync(join(dir, 'other.key'), issueServerCertificate(ca, ['x'], 365).keyPem);
    const base = { broker: 'mosquitto', admins: [{ name: 'admin', password: 'pw' }], listeners: { mqtts: 8883 } };
    const settings = resolveSettings({ ...base, tls: { ca: 'ca.crt', cert: 'server.crt', key: 'server.key' } }, {}, dir);
    assert.equal(settings.tls?.source, 'supplied');
    assert.equal(String(settings.tls?.source === 'supplied' && settings.tls.keyPem), '[secret]');
    assert.throws(() => resolveSettings({ ...base, tls: { ca: 'ca.crt', cert: 'server.crt', key: 'other.key' } }, {}, dir), /settings\.tls\.key: other\.key is not the private key of server\.crt/);
    assert.throws(() => resolveSettings({ ...base, tls: { ca: 'ca.crt', cert: 'server.crt', key: 'missing.key' } }, {}, dir), /settings\.tls\.key: cannot read missing\.key: ENOENT/);
  });

  it('the firewall serves 8883 and the wss port only when TLS listeners are set', () => {
    assert.deepEqual(servedPorts(tlsSettings()), [1883, 8084, 8883]);
    assert.deepEqual(servedPorts(mosquittoSettings()), [1883]);
  });
});

describe('Mosquitto planner with TLS', () => {
  it('writes CA, certificate and key (0640 root:mosquitto, secret) before mosquitto.conf on a fresh host', () => {
    const issuer = testIssuer();
    const steps = planMosquitto(withSsh(mosquittoFacts('debian12')), tlsSettings(), fixedSalt(), issuer);
    assert.equal(issuer.issued, 1);
    const commands = commandsOf(steps);
    const index = (fragment: string) => commands.findIndex((command) => command.includes(fragment));
    assert.ok(commands.includes(`install -d -o root -g mosquitto -m 0750 ${tlsDir}`));
    assert.ok(index(`mqtt-provision-write ${tlsDir}/ca.crt root:mosquitto 0644`) >= 0);
    assert.ok(index(`mqtt-provision-write ${tlsDir}/server.crt root:mosquitto 0644`) >= 0);
    assert.ok(index(`mqtt-provision-write ${tlsDir}/server.key root:mosquitto 0640`) >= 0);
    assert.ok(index(`mqtt-provision-write ${tlsDir}/server.key`) < index('mqtt-provision-write /etc/mosquitto/mosquitto.conf'));
    const keyStep = steps.find((step) => step.id === `file:${tlsDir}/server.key`)!;
    assert.match(keyStep.diff ?? '', /content not shown: it holds secrets/);
    assert.ok(!commands.join('\n').includes('PRIVATE KEY'), 'the key travels on stdin, never in argv');
    assert.match(keyStep.commands.find((command) => command.stdin)!.stdin!, /BEGIN PRIVATE KEY/);
    assert.deepEqual(certificateSans(steps.find((step) => step.id === `file:${tlsDir}/server.crt`)!.commands[1]!.stdin!), [
      'DNS:broker1.example.com',
      'IP:10.0.0.5',
      'IP:192.0.2.10',
    ]);
  });

  it('keeps a certificate that is still right: nothing to do, nothing issued', () => {
    const facts = convergedTls();
    const issuer = testIssuer();
    const steps = planMosquitto(facts, tlsSettings(), fixedSalt(), issuer);
    assert.deepEqual(changedIds(steps), []);
    assert.equal(issuer.issued, 0);
  });

  it('re-issues when the SANs change, and restarts Mosquitto', () => {
    const facts = convergedTls();
    const settings = tlsSettings({ generate: { caDir: '/nonexistent/ca', subjectAltNames: ['broker1.example.com', '10.0.0.5', 'broker2.example.com'] } });
    const steps = planMosquitto(facts, settings, fixedSalt(), testIssuer());
    assert.deepEqual(changedIds(steps), ['pending:mosquitto', `file:${tlsDir}/server.crt`, `file:${tlsDir}/server.key`, 'restart:mosquitto']);
    assert.match(steps.find((step) => step.id === `file:${tlsDir}/server.crt`)!.reason, /^re-issued: SANs differ: .* wants DNS:broker1\.example\.com DNS:broker2\.example\.com IP:10\.0\.0\.5 IP:192\.0\.2\.10$/);
  });

  it('shows a re-issued certificate as its summary (SANs, issuer, serial, expiry before → after), never base64', () => {
    const facts = convergedTls();
    const settings = tlsSettings({ generate: { caDir: '/nonexistent/ca', subjectAltNames: ['broker1.example.com', '10.0.0.5', 'broker2.example.com'] } });
    // Issued two days later, so the expiry moves too.
    const diff = planMosquitto(facts, settings, fixedSalt(), testIssuer(new Date(Date.now() + 2 * day))).find((step) => step.id === `file:${tlsDir}/server.crt`)!.diff!;
    const before = new X509Certificate(facts.files[`${tlsDir}/server.crt`]!.content!);
    assert.ok(diff.includes(`-  SANs: DNS:broker1.example.com, IP:10.0.0.5, IP:192.0.2.10\n`), diff);
    assert.ok(diff.includes(`+  SANs: DNS:broker1.example.com, DNS:broker2.example.com, IP:10.0.0.5, IP:192.0.2.10\n`), diff);
    assert.ok(diff.includes(`-  serial: ${before.serialNumber}\n`), diff);
    assert.ok(diff.includes(`-  expires: ${new Date(before.validTo).toISOString()}\n`), diff);
    assert.match(diff, /^\+  expires: \d{4}-\d\d-\d\dT/m);
    assert.match(diff, /^ {3}issuer: CN=test CA, O=mqtt-provision$/m, 'the unchanged issuer shows as context');
    assert.doesNotMatch(diff, /BEGIN CERTIFICATE|[A-Za-z0-9+/]{60}/);
  });

  it('a dry run of a re-issue shows the summary of the certificate on the host against what would be issued', () => {
    const facts = convergedTls();
    const settings = tlsSettings({ generate: { caDir: '/nonexistent/ca', subjectAltNames: ['broker1.example.com', '10.0.0.5', 'broker2.example.com'] } });
    const issuer = { ...dryRunIssuer, ca: () => ca };
    const step = planMosquitto(facts, settings, fixedSalt(), issuer).find((found) => found.id === `file:${tlsDir}/server.crt`)!;
    const diff = step.diff!;
    assert.match(diff, /^-  SANs: DNS:broker1\.example\.com, IP:10\.0\.0\.5, IP:192\.0\.2\.10$/m, diff);
    assert.match(diff, /^\+  SANs: DNS:broker1\.example\.com, DNS:broker2\.example\.com, IP:10\.0\.0\.5, IP:192\.0\.2\.10$/m);
    assert.match(diff, /^\+  serial: \(drawn when issued\)$/m);
    assert.match(diff, /^\+  expires: \d{4}-\d\d-\d\d \(\d+ days from the run\)$/m);
    assert.match(diff, /^ {3}(issuer|subject): /m);
    assert.doesNotMatch(diff, /BEGIN CERTIFICATE|[A-Za-z0-9+/]{60}/);
    assert.match(planMosquitto(facts, settings, fixedSalt(), issuer).find((found) => found.id === `file:${tlsDir}/server.key`)!.diff!, /content not shown: it holds secrets/);
  });

  it('re-issues a certificate that expires within 30 days', () => {
    const facts = convergedTls();
    const steps = planMosquitto(facts, tlsSettings(), fixedSalt(), testIssuer(new Date(Date.now() + 340 * day)));
    assert.match(steps.find((step) => step.id === `file:${tlsDir}/server.crt`)!.reason, /^re-issued: expires .* \(within 30 days\)$/);
  });

  it('re-issues a certificate another CA signed (new caDir), and ships the new CA', () => {
    const facts = convergedTls(tlsSettings(), { ...testIssuer(), ca: () => otherCa });
    const steps = planMosquitto(facts, tlsSettings(), fixedSalt(), testIssuer());
    assert.deepEqual(changedIds(steps), ['pending:mosquitto', `file:${tlsDir}/ca.crt`, `file:${tlsDir}/server.crt`, `file:${tlsDir}/server.key`, 'restart:mosquitto']);
    assert.match(steps.find((step) => step.id === `file:${tlsDir}/server.crt`)!.reason, /not signed by the current CA/);
  });

  it('renders the mqtts and wss listeners with the TLS files, and client certificates when required', () => {
    const conf = mosquittoConfig(tlsSettings());
    const block = (port: number, protocol: string) =>
      `listener ${port}\nprotocol ${protocol}\ncafile ${tlsDir}/ca.crt\ncertfile ${tlsDir}/server.crt\nkeyfile ${tlsDir}/server.key\nrequire_certificate false\n`;
    assert.ok(conf.includes(block(8883, 'mqtt')), conf);
    assert.ok(conf.includes(block(8084, 'websockets')), conf);
    assert.match(mosquittoConfig(tlsSettings({ requireClientCertificate: true })), /^require_certificate true$/m);
    assert.doesNotMatch(mosquittoConfig(mosquittoSettings()), /certfile|8883/);
  });

  it('supplied certificates are deployed as given', () => {
    const server = issueServerCertificate(ca, ['broker1'], 365);
    const settings = { ...tlsSettings(), tls: { source: 'supplied' as const, caPem: ca.certPem, certPem: server.certPem, keyPem: new Secret(server.keyPem), requireClientCertificate: false } };
    const files = mosquittoFiles(settings, mosquittoFacts('debian12'), fixedSalt());
    assert.deepEqual(files.slice(0, 3).map((file) => [file.path, file.content === ca.certPem || file.content === server.certPem || file.content === server.keyPem]), [
      [`${tlsDir}/ca.crt`, true],
      [`${tlsDir}/server.crt`, true],
      [`${tlsDir}/server.key`, true],
    ]);
  });
});

describe('EMQX with TLS', () => {
  const node = { version: '5.8.6', nodeName: 'emqx@127.0.0.1', cookie: new Secret(fixtureCookie) };
  const settings = (requireClientCertificate = false) =>
    emqxSettings({
      listeners: { mqtt: 1883, mqtts: 8883, wss: 8084 },
      tls: { generate: { caDir: '/nonexistent/ca', subjectAltNames: ['broker1'] }, requireClientCertificate },
    });

  for (const required of [false, true]) {
    it(`emqx.conf parses as HOCON, sets only known keys, and configures ssl and wss (client certificate ${required ? 'required' : 'optional'})`, async () => {
      const parsed = (await parseHocon(emqxConfig(settings(required), node))) as any;
      const unknown = leafKeys(parsed).filter((key) => !knownKeys().has(key));
      assert.deepEqual(unknown, [], `keys missing from test/fixtures/emqx-known-keys.txt: ${unknown.join(', ')}`);
      const sslOptions = {
        cacertfile: '/etc/emqx/tls/ca.crt',
        certfile: '/etc/emqx/tls/server.crt',
        keyfile: '/etc/emqx/tls/server.key',
        verify: required ? 'verify_peer' : 'verify_none',
        fail_if_no_peer_cert: required,
      };
      assert.deepEqual(parsed.listeners.ssl.default, { enable: true, bind: '0.0.0.0:8883', enable_authn: true, ssl_options: sslOptions });
      assert.deepEqual(parsed.listeners.wss.default, {
        enable: true,
        bind: '0.0.0.0:8084',
        enable_authn: true,
        websocket: { mqtt_path: '/mqtt' },
        ssl_options: sslOptions,
      });
    });
  }

  it('keeps ssl and wss off without TLS listeners', async () => {
    const parsed = (await parseHocon(emqxConfig(emqxSettings(), node))) as any;
    assert.deepEqual(parsed.listeners.ssl.default, { enable: false });
    assert.deepEqual(parsed.listeners.wss.default, { enable: false });
  });

  it('the planner writes the TLS files (key 0640 root:emqx) before emqx.conf', () => {
    const facts = { ...emqxFacts('debian12'), sshAddress: '192.0.2.10' };
    const steps = planEmqx(facts, settings(), { ...planOptions(), issuer: testIssuer() });
    const ids = changedIds(steps);
    const at = (id: string) => ids.indexOf(id);
    assert.ok(at('dir:/etc/emqx/tls') >= 0, ids.join(', '));
    assert.ok(at('file:/etc/emqx/tls/server.key') >= 0 && at('file:/etc/emqx/tls/server.key') < at('file:/etc/emqx/emqx.conf'), ids.join(', '));
    assert.ok(commandsOf(steps).includes(
      `sh -c set -e; umask 077; tmp="$1.mqtt-provision.$$.tmp"; trap 'rm -f "$tmp"' EXIT; cat > "$tmp"; chown "$2" "$tmp"; chmod "$3" "$tmp"; mv -f "$tmp" "$1" mqtt-provision-write /etc/emqx/tls/server.key root:emqx 0640`,
    ));
  });
});
