import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { runInstall, type InstallEnvironment } from '../../src/cli/install-command.ts';
import { badSettings } from '../fixtures/bad-settings.ts';
import { ensureCa } from '../../src/tls/ca-store.ts';

const directory = mkdtempSync(join(tmpdir(), 'mp-cli-'));
const passwordFile = join(directory, 'pw');
writeFileSync(passwordFile, 'hunter2-secret\n');
const inventoryWithMissingKey = join(directory, 'inventory.json');
writeFileSync(inventoryWithMissingKey, JSON.stringify({ hosts: [{ address: '127.0.0.1', sshPort: 2222, identity: '/nonexistent/key' }] }));
function settingsWithTemplate(template: string): string {
  const templatePath = join(directory, `t-${Math.random().toString(36).slice(2)}.hbs`);
  writeFileSync(templatePath, template);
  const path = `${templatePath}.yaml`;
  writeFileSync(path, `broker: mosquitto\ntemplates:\n  mosquitto.conf: ${templatePath}\n`);
  return path;
}
const settingsWithTemplateDirectory = join(directory, 'dir-template.yaml');
writeFileSync(settingsWithTemplateDirectory, `broker: mosquitto\ntemplates:\n  mosquitto.conf: ${directory}\n`);
const goodSettings = join(directory, 'good.yaml');
writeFileSync(goodSettings, 'broker: mosquitto\n');

function recordingEnvironment(): InstallEnvironment & { out: string[]; err: string[]; connections: number } {
  const recorder = {
    out: [] as string[],
    err: [] as string[],
    connections: 0,
    env: {},
    print: (text: string) => recorder.out.push(text),
    printError: (text: string) => recorder.err.push(text),
    connect: async () => {
      recorder.connections++;
      throw new Error('no host in unit tests');
    },
  };
  return recorder;
}

const admin = ['--admin-user', 'admin', '--admin-password-file', passwordFile];
const badInvocations: Array<[string, string[], RegExp]> = [
  ['no target', [...admin], /--host: give at least one --host/],
  ['unknown flag', ['--host', 'h', '--colour', ...admin], /Unknown option '--colour'/],
  ['host with shell characters', ['--host', 'h;reboot', ...admin], /--host: "h;reboot" is not a host name/],
  ['host port out of range', ['--host', 'h:70000', ...admin], /--host: port "70000" must be 1-65535/],
  ['missing identity file', ['--host', 'h', '--identity', '/nonexistent/key', ...admin], /--identity: cannot read/],
  ['missing admin password', ['--host', 'h', '--admin-user', 'admin'], /--admin-password-file: is required/],
  ['admin name with shell characters', ['--host', 'h', '--admin-user', 'x`id`', '--admin-password-file', passwordFile], /--admin-user: must start with a letter/],
  ['missing settings file', ['--host', 'h', '--settings', '/nonexistent.yaml', ...admin], /--settings: cannot read/],
  ['concurrency zero', ['--host', 'h', '--concurrency', '0', ...admin], /--concurrency: must be a whole number/],
  ['lock timeout not a number', ['--host', 'h', '--lock-timeout', 'soon', ...admin], /--lock-timeout: must be a whole number ≥ 0, got "soon"/],
  ['negative lock timeout', ['--host', 'h', '--lock-timeout=-5', ...admin], /--lock-timeout: must be a whole number ≥ 0/],
  ['missing inventory', ['--inventory', '/nonexistent.json', ...admin], /--inventory: cannot read/],
  ['render-to together with a host', ['--render-to', '/tmp/x', '--host', 'h', ...admin], /--render-to: only renders and contacts no host/],
  ['inventory naming a key that does not exist', ['--inventory', inventoryWithMissingKey, ...admin], /--inventory identity: cannot read \/nonexistent\/key/],
  ['template that does not render', ['--host', 'h', '--settings', settingsWithTemplate('{{no_such_value}}\n'), ...admin], /settings\.templates: template .*"no_such_value" not defined/],
  ['template path that is a directory', ['--host', 'h', '--settings', settingsWithTemplateDirectory, ...admin], /settings\.templates\.mosquitto\.conf: .* is not a regular file \(a directory\)/],
];

describe('install front door', () => {
  for (const [name, args, expected] of badInvocations) {
    it(`exits 2 before connecting anywhere: ${name}`, async () => {
      const environment = recordingEnvironment();
      assert.equal(await runInstall('mosquitto', args, environment), 2);
      assert.equal(environment.connections, 0);
      assert.match(environment.err.join('\n'), expected);
      assert.doesNotMatch(environment.err.join('\n'), /hunter2/);
    });
  }

  // A front door supplies its own broker, so a file without one is valid there; one naming another
  // broker is refused as a conflict.
  const throughFrontDoor = badSettings
    .filter(([name]) => name !== 'missing broker')
    .map(([name, raw, expected]): [string, unknown, RegExp] => [name, raw, name === 'unknown broker' ? /broker: the settings say "rabbitmq"/ : expected]);
  for (const [name, raw, expected] of throughFrontDoor) {
    it(`exits 2 before connecting anywhere on a bad settings file: ${name}`, async () => {
      const file = join(directory, `bad-${name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, stringify(raw));
      const environment = recordingEnvironment();
      const frontDoor = (raw as { broker?: string }).broker === 'emqx' ? 'emqx' : 'mosquitto';
      assert.equal(await runInstall(frontDoor, ['--host', 'broker.example', '--settings', file], environment), 2);
      assert.equal(environment.connections, 0);
      assert.match(environment.err.join('\n'), expected);
    });
  }

  // Issue 20: with a generated CA the template check renders stand-in certificates (no key drawn),
  // and still judges the user's template against the real context.
  it('checks a user template under a generated CA: a broken one exits 2, a good one goes on to the host', async () => {
    const caDir = join(directory, 'template-check-ca');
    ensureCa(caDir);
    const withCa = (template: string) => {
      const templatePath = join(directory, `ca-t-${Math.random().toString(36).slice(2)}.hbs`);
      writeFileSync(templatePath, template);
      const path = `${templatePath}.yaml`;
      writeFileSync(path, stringify({ broker: 'mosquitto', listeners: { mqtt: 1883, mqtts: 8883 }, tls: { generate: { caDir, subjectAltNames: ['broker.example'] } }, templates: { 'mosquitto.conf': templatePath } }));
      return path;
    };
    const broken = recordingEnvironment();
    assert.equal(await runInstall('mosquitto', ['--host', 'h', '--settings', withCa('cafile {{tls.caFile}}\n{{tls.no_such_value}}\n'), ...admin], broken), 2);
    assert.equal(broken.connections, 0);
    assert.match(broken.err.join('\n'), /settings\.templates: template .*"no_such_value" not defined/);
    const good = recordingEnvironment();
    assert.equal(await runInstall('mosquitto', ['--host', 'h', '--settings', withCa('cafile {{tls.caFile}}\ncertfile {{tls.certFile}}\n'), ...admin], good), 1);
    assert.equal(good.connections, 1, 'the check passed and the run went on to the host');
  });

  it('renders config files without contacting a host, the password file private', async () => {
    const environment = recordingEnvironment();
    const target = join(directory, 'rendered');
    assert.equal(await runInstall('mosquitto', ['--render-to', target, '--settings', goodSettings, ...admin], environment), 0);
    assert.equal(environment.connections, 0);
    assert.match(readFileSync(join(target, 'mosquitto.conf'), 'utf8'), /^max_queued_messages 100000$/m);
    assert.equal(statSync(join(target, 'passwd')).mode & 0o777, 0o600);
    assert.doesNotMatch(readFileSync(join(target, 'passwd'), 'utf8'), /hunter2/);
  });

  it('reports an unreachable host as failed with exit 1 and finishes the others', async () => {
    const environment = recordingEnvironment();
    const code = await runInstall('mosquitto', ['--host', 'a.invalid', '--host', 'b.invalid', '--json', ...admin], environment);
    assert.equal(code, 1);
    assert.equal(environment.connections, 2);
    const report = JSON.parse(environment.out.join('\n'));
    assert.deepEqual(report.hosts.map((host: { status: string }) => host.status), ['failed', 'failed']);
    assert.match(report.hosts[0].error, /no host in unit tests/);
  });

  it('prints the usage with --help and exits 0', async () => {
    const environment = recordingEnvironment();
    assert.equal(await runInstall('mosquitto', ['--help'], environment), 0);
    assert.match(environment.out.join('\n'), /--dry-run/);
  });
});
