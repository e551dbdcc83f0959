import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { InputError, InputErrors } from '../../src/settings/input-error.ts';
import { loadSettings, resolveSettings } from '../../src/settings/load.ts';

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

/** Each bad input, the field its message must name, and a fragment of what is allowed. */
const badInputs: Array<[string, unknown, RegExp]> = [
  ['unknown broker', { broker: 'rabbitmq', admins: admin }, /settings\.broker: must be one of "mosquitto", "emqx"/],
  ['missing broker', { admins: admin }, /settings\.broker/],
  ['port out of range', { broker: 'mosquitto', admins: admin, listeners: { mqtt: 70000 } }, /settings\.listeners\.mqtt: .*65535/],
  ['port zero', { broker: 'mosquitto', admins: admin, listeners: { mqtt: 0 } }, /settings\.listeners\.mqtt: .*>=1/],
  ['port as text', { broker: 'mosquitto', admins: admin, listeners: { mqtt: '1883' } }, /settings\.listeners\.mqtt: expected number/],
  ['fractional port', { broker: 'mosquitto', admins: admin, listeners: { mqtt: 1883.5 } }, /settings\.listeners\.mqtt: .*int/],
  ['duplicate ports', { broker: 'mosquitto', admins: admin, listeners: { mqtt: 1883, websocket: 1883 } }, /settings\.listeners\.websocket: port 1883 is already used by listener "mqtt"/],
  ['unknown listener', { broker: 'mosquitto', admins: admin, listeners: { amqp: 5672 } }, /settings\.listeners: unknown key "amqp"/],
  ['dashboard on mosquitto', { broker: 'mosquitto', admins: admin, listeners: { mqtt: 1883, dashboard: 18083 } }, /settings\.listeners\.dashboard: mosquitto does not serve it; allowed for mosquitto: mqtt, websocket/],
  ['no client listener', { broker: 'mosquitto', admins: admin, listeners: {} }, /settings\.listeners: needs at least an "mqtt" or "websocket" port/],
  ['unknown top-level key', { broker: 'mosquitto', admins: admin, maxQueue: 5 }, /settings: unknown key "maxQueue"/],
  ['unknown session key', { broker: 'mosquitto', admins: admin, session: { maxQueuedMessage: 5 } }, /settings\.session: unknown key "maxQueuedMessage"/],
  ['queue of zero', { broker: 'mosquitto', admins: admin, session: { maxQueuedMessages: 0 } }, /settings\.session\.maxQueuedMessages: .*>=1/],
  ['negative expiry', { broker: 'mosquitto', admins: admin, session: { expirySeconds: -1 } }, /settings\.session\.expirySeconds/],
  ['bad user name', { broker: 'mosquitto', admins: [{ name: 'ad min', password: 'x' }] }, /settings\.admins\[0\]\.name: must start with a letter/],
  ['user name with shell characters', { broker: 'mosquitto', admins: [{ name: 'a$(reboot)', password: 'x' }] }, /settings\.admins\[0\]\.name/],
  ['missing password', { broker: 'mosquitto', admins: [{ name: 'admin' }] }, /settings\.admins\[0\]\.password: is required/],
  ['empty password', { broker: 'mosquitto', admins: [{ name: 'admin', password: '' }] }, /settings\.admins\[0\]\.password: must not be empty/],
  ['password with newline', { broker: 'mosquitto', admins: [{ name: 'admin', password: 'a\nb' }] }, /settings\.admins\[0\]\.password: must not contain NUL or line breaks/],
  ['password and file', { broker: 'mosquitto', admins: [{ name: 'admin', password: 'a', passwordFile: 'b' }] }, /settings\.admins\[0\]: give either/],
  ['missing password file', { broker: 'mosquitto', admins: [{ name: 'admin', passwordFile: '/nonexistent/pw' }] }, /settings\.admins\[0\]\.passwordFile: cannot read \/nonexistent\/pw: ENOENT/],
  ['no admin', { broker: 'mosquitto' }, /admins: at least one admin is required/],
  ['duplicate user names', { broker: 'mosquitto', admins: admin, users: [{ name: 'admin', password: 'y' }] }, /user name "admin" is given twice/],
  ['bad ACL access', { broker: 'mosquitto', admins: admin, users: [{ name: 'u', password: 'y', acl: [{ topic: 'a', access: 'all' }] }] }, /settings\.users\[0\]\.acl\[0\]\.access: must be one of "read", "write", "readwrite"/],
  ['missing template', { broker: 'mosquitto', admins: admin, templates: { 'mosquitto.conf': '/nonexistent.hbs' } }, /settings\.templates\.mosquitto\.conf: template file \/nonexistent\.hbs does not exist/],
  ['unknown template', { broker: 'mosquitto', admins: admin, templates: { 'nginx.conf': '/etc/hosts' } }, /settings\.templates\.nginx\.conf: unknown template; allowed: mosquitto\.conf, mosquitto-acl/],
  ['bad firewall mode', { broker: 'mosquitto', admins: admin, firewall: 'on' }, /settings\.firewall: must be one of "auto", "off"/],
  ['bad heap size', { broker: 'emqx', admins: admin, forceShutdown: { maxHeapSize: '1 GB' } }, /settings\.forceShutdown\.maxHeapSize: must be a size like 1024MB/],
  ['bad version', { broker: 'mosquitto', admins: admin, version: '2.0; rm -rf /' }, /settings\.version: must be a package version/],
  ['TLS listener before TLS support', { broker: 'mosquitto', admins: admin, listeners: { mqtt: 1883, mqtts: 8883 } }, /settings\.listeners\.mqtts: TLS listeners are not supported yet/],
  ['not a mapping', ['broker', 'mosquitto'], /settings: must be a mapping/],
  ['very long extraConfig', { broker: 'mosquitto', admins: admin, extraConfig: 'x'.repeat(70000) }, /settings\.extraConfig/],
];

describe('bad settings are refused with the field named', () => {
  for (const [name, raw, expected] of badInputs) {
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
