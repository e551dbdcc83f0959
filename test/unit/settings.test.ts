import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { InputError, InputErrors } from '../../src/settings/input-error.ts';
import { loadSettings, resolveSettings } from '../../src/brokers/load-settings.ts';
import { badSettings } from '../fixtures/bad-settings.ts';

const admin = [{ name: 'admin', password: 'secret-1' }];
const directory = mkdtempSync(join(tmpdir(), 'mp-settings-'));

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof InputError || error instanceof InputErrors, `expected an input error, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected an input error');
}

describe('settings defaults', () => {
  it('chooses the no-loss defaults when only the broker and an admin are given', () => {
    const settings = resolveSettings({ broker: 'mosquitto', admins: admin });
    assert.deepEqual(settings.listeners, { mqtt: 1883 });
    assert.equal(settings.session.persistent, true);
    assert.equal(settings.session.maxQueuedMessages, 100000);
    assert.equal(settings.session.expirySeconds, 604800);
    assert.equal(settings.persistence.enabled, true);
    assert.equal(settings.persistence.autosaveIntervalSeconds, 60);
    assert.deepEqual(settings.forceShutdown, { enabled: true, maxMailboxSize: 100000, maxHeapSize: '1024MB' });
    assert.equal(settings.firewall, 'auto');
  });

  it('never prints a password, whatever prints the settings', () => {
    const settings = resolveSettings({ broker: 'mosquitto', admins: admin });
    assert.doesNotMatch(JSON.stringify(settings), /secret-1/);
    assert.doesNotMatch(inspect(settings, { depth: 10 }), /secret-1/);
    assert.doesNotMatch(`${settings.admins[0]!.password}`, /secret-1/);
    assert.equal(settings.admins[0]!.password.reveal(), 'secret-1');
  });

  it('reads the admin password from a file without its final newline, or from MQTT_ADMIN_PASSWORD', () => {
    const file = join(directory, 'admin.pw');
    writeFileSync(file, `it's "quoted" $(x); \`y\` \\ z\n`);
    const fromFile = resolveSettings({ broker: 'mosquitto' }, { adminUser: 'ops', adminPasswordFile: file });
    assert.equal(fromFile.admins[0]!.name, 'ops');
    assert.equal(fromFile.admins[0]!.password.reveal(), `it's "quoted" $(x); \`y\` \\ z`);
    const fromEnv = resolveSettings({ broker: 'mosquitto' }, { adminUser: 'ops', env: { MQTT_ADMIN_PASSWORD: 'from-env' } });
    assert.equal(fromEnv.admins[0]!.password.reveal(), 'from-env');
  });

  it('loads a YAML file and resolves password files relative to it', () => {
    writeFileSync(join(directory, 'pw'), 'from-file\n');
    const path = join(directory, 'settings.yaml');
    writeFileSync(path, 'broker: mosquitto\nadmins:\n  - name: admin\n    passwordFile: pw\nsession:\n  maxQueuedMessages: 5000\n');
    const settings = loadSettings(path);
    assert.equal(settings.session.maxQueuedMessages, 5000);
    assert.equal(settings.admins[0]!.password.reveal(), 'from-file');
  });
});

describe('bad settings are refused with the field named', () => {
  for (const [name, raw, expected] of badSettings) {
    it(name, () => assert.match(errorOf(() => resolveSettings(raw)), expected));
  }

  it('refuses a settings file that is not YAML, naming the file', () => {
    const path = join(directory, 'broken.yaml');
    writeFileSync(path, 'broker: [mosquitto\n');
    assert.match(errorOf(() => loadSettings(path)), /--settings: .*broken\.yaml is not valid YAML/);
  });

  it('refuses a YAML alias bomb instead of expanding it', () => {
    const path = join(directory, 'bomb.yaml');
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 10; level++) lines.push(`${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(9).fill(`*${String.fromCharCode(96 + level)}`).join(',')}]`);
    writeFileSync(path, `${lines.join('\n')}\nbroker: mosquitto\n`);
    assert.match(errorOf(() => loadSettings(path)), /--settings: .*not valid YAML/);
  });

  it('refuses duplicate keys in YAML', () => {
    const path = join(directory, 'dup.yaml');
    writeFileSync(path, 'broker: mosquitto\nbroker: emqx\n');
    assert.match(errorOf(() => loadSettings(path)), /--settings: .*not valid YAML/);
  });

  it('refuses a missing settings file', () => {
    assert.match(errorOf(() => loadSettings(join(directory, 'nope.yaml'))), /--settings: cannot read .*nope\.yaml: ENOENT/);
  });

  it('refuses a front door for another broker than the file names', () => {
    assert.match(errorOf(() => resolveSettings({ broker: 'emqx', admins: admin }, { broker: 'mosquitto' })), /broker: the settings say "emqx"/);
  });

  it('lists every error of a file at once', () => {
    const message = errorOf(() => resolveSettings({ broker: 'mosquitto', admins: admin, listeners: { mqtt: 0 }, session: { maxQueuedMessages: -1 } }));
    assert.match(message, /listeners\.mqtt/);
    assert.match(message, /session\.maxQueuedMessages/);
  });
});
