// Settings crossing into the MqttBrokerHost provider: what the program stores (toPlainSettings) must
// come back as the same Settings in the provider's process (fromPlainSettings), TLS and EMQX included,
// and paths inside the project must be stored relative so a moved checkout still resolves them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mqttBrokerHostProvider, type HostProviderInputs } from '../../src/pulumi/host-provider.ts';
import { configHash, fromPlainSettings, projectRelative, toPlainSettings } from '../../src/pulumi/plain-settings.ts';
import { type Settings } from '../../src/settings/load.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { createCa, issueServerCertificate } from '../../src/tls/certificates.ts';

const provider = mqttBrokerHostProvider as Required<typeof mqttBrokerHostProvider>;
const admins = [{ name: 'admin', password: 'long enough password' }];

/** Settings with every Secret revealed, so two resolutions can be compared with deepEqual. */
function revealed(settings: Settings): unknown {
  return toPlainSettings(settings);
}

function hostInputs(settings: Settings, keyPath: string): HostProviderInputs {
  return { address: '10.0.0.5', port: 22, user: 'root', privateKeyPath: keyPath, knownHostsPath: join(tmpdir(), 'known_hosts'), broker: settings.broker, settings: toPlainSettings(settings), purgeDataOnDelete: false };
}

describe('plain settings round trip', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pulumi-plain-'));
  const keyPath = join(dir, 'id_ed25519');
  writeFileSync(keyPath, 'only has to be readable\n');

  it('carries TLS with a generated CA: same settings, same config hash, accepted by the provider check', async () => {
    const settings = resolveSettings({ broker: 'mosquitto', listeners: { mqtt: 1883, mqtts: 8883 }, admins, tls: { generate: { caDir: 'ca', subjectAltNames: ['broker-1'], validDays: 90 } } }, {}, dir);
    const back = fromPlainSettings(toPlainSettings(settings), dir);
    assert.deepEqual(revealed(back), revealed(settings));
    assert.equal(configHash(back), configHash(settings));
    assert.deepEqual((await provider.check({} as HostProviderInputs, hostInputs(settings, keyPath))).failures, []);
  });

  it('carries supplied certificates as PEM text, the key still a secret', async () => {
    const ca = createCa('round-trip CA');
    const server = issueServerCertificate(ca, ['broker-1'], 90);
    mkdirSync(join(dir, 'pem'), { recursive: true });
    writeFileSync(join(dir, 'pem/ca.crt'), ca.certPem);
    writeFileSync(join(dir, 'pem/server.crt'), server.certPem);
    writeFileSync(join(dir, 'pem/server.key'), server.keyPem);
    const settings = resolveSettings({ broker: 'mosquitto', listeners: { mqtts: 8883 }, admins, tls: { ca: 'pem/ca.crt', cert: 'pem/server.crt', key: 'pem/server.key', requireClientCertificate: true } }, {}, dir);
    // Read elsewhere: the PEM files are not needed any more, only the plain settings.
    const back = fromPlainSettings(toPlainSettings(settings), mkdtempSync(join(tmpdir(), 'pulumi-plain-other-')));
    assert.deepEqual(revealed(back), revealed(settings));
    assert.equal(back.tls?.source === 'supplied' && back.tls.keyPem.reveal(), server.keyPem);
    assert.equal(configHash(back), configHash(settings));
    assert.deepEqual((await provider.check({} as HostProviderInputs, hostInputs(settings, keyPath))).failures, []);
  });

  it('carries EMQX settings (cookie, dashboard listener) through check and an unchanged diff', async () => {
    const settings = resolveSettings({ broker: 'emqx', listeners: { mqtt: 1883, dashboard: 18083 }, admins, emqx: { cookie: 'a-cookie-of-sixteen-plus' } }, {}, dir);
    const back = fromPlainSettings(toPlainSettings(settings), dir);
    assert.deepEqual(revealed(back), revealed(settings));
    const inputs = hostInputs(settings, keyPath);
    assert.deepEqual((await provider.check({} as HostProviderInputs, inputs)).failures, []);
    const olds = { ...inputs, host: 'root@10.0.0.5:22', version: '5.8.6', listeners: settings.listeners, configHash: configHash(settings), credentialsHash: '' };
    const diff = await provider.diff('10.0.0.5:22', { ...olds, credentialsHash: (await import('../../src/pulumi/plain-settings.ts')).credentialsHash(settings) }, inputs);
    assert.deepEqual(diff, { changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it('stores paths inside the project relative and resolves them against another directory', () => {
    mkdirSync(join(dir, 'templates'), { recursive: true });
    writeFileSync(join(dir, 'templates/mosquitto.conf'), '# {{listeners.mqtt}}\n');
    const settings = resolveSettings({ broker: 'mosquitto', listeners: { mqtts: 8883 }, admins, templates: { 'mosquitto.conf': 'templates/mosquitto.conf' }, tls: { generate: { caDir: 'ca' } } }, {}, dir);
    const plain = toPlainSettings(settings, dir);
    assert.deepEqual(plain.templates, { 'mosquitto.conf': join('templates', 'mosquitto.conf') });
    assert.equal(plain.tls?.source === 'generate' && plain.tls.caDir, 'ca');
    const moved = mkdtempSync(join(tmpdir(), 'pulumi-plain-moved-'));
    mkdirSync(join(moved, 'templates'));
    writeFileSync(join(moved, 'templates/mosquitto.conf'), '# {{listeners.mqtt}}\n');
    const back = fromPlainSettings(plain, moved);
    assert.equal(back.templates['mosquitto.conf'], join(moved, 'templates/mosquitto.conf'));
    assert.equal(back.tls?.source === 'generate' && back.tls.caDir, join(moved, 'ca'));
  });

  it('projectRelative leaves paths outside the project and relative paths alone', () => {
    assert.equal(projectRelative('/srv/app/.lab/id_ed25519', '/srv/app/'), join('.lab', 'id_ed25519'));
    assert.equal(projectRelative('/srv/application/key', '/srv/app'), '/srv/application/key');
    assert.equal(projectRelative('/srv/key', '/srv/app'), '/srv/key');
    assert.equal(projectRelative('~/.ssh/id', '/srv/app'), '~/.ssh/id');
    assert.equal(projectRelative('/srv/app', '/srv/app'), '/srv/app');
  });
});
