import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gatherEmqxApiFacts, parseApiFacts } from '../../src/brokers/emqx/api-facts.ts';
import { renderAclRules } from '../../src/brokers/emqx/acl.ts';
import { servicePassword } from '../../src/brokers/emqx/identity.ts';
import { planEmqx } from '../fixtures/plan.ts';
import { aclScript, adminsScript, apiFactScript, curlConfigString, mqttUsersScript, serviceAccountScript } from '../../src/brokers/emqx/rest-scripts.ts';
import type { EmqxApiFact } from '../../src/brokers/emqx/facts.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import type { Command } from '../../src/operations/step.ts';
import { Secret } from '../../src/secret.ts';
import type { Settings } from '../../src/settings/load.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { respond } from '../fixtures/emqx-fake-api.ts';
import { parseCurlConfig, type FakeEmqxState } from '../fixtures/emqx-fake-curl.ts';
import { fakeHost, shells, type Host } from '../fixtures/emqx-fake-host.ts';
import { convergedEmqxFacts, emqxFacts, fixtureCookie, planOptions } from '../fixtures/emqx-facts.ts';
import { emqxSettings } from '../fixtures/emqx-settings.ts';
import { noStart } from './support/no-start.ts';

/**
 * The REST scripts run for real here, under dash (Debian's sh) and bash (RHEL's sh), against a
 * fake `curl` that answers like EMQX's API (test/fixtures/emqx-fake-curl.ts). That checks the
 * shell, the curl config quoting and the call sequence; it does not prove EMQX itself agrees.
 */

const cookie = new Secret(fixtureCookie);
const service = servicePassword(cookie);
const target = { port: 18083, servicePassword: service };


/** A Transport that runs commands on the fake host, as the engine would over SSH. */
function transportOf(host: Host, shell: (typeof shells)[number]): Transport {
  return {
    label: 'fake',
    exec: async (argv, options) => host.run({ argv: [...argv], stdin: String(options?.stdin ?? '') }, shell),
    start: noStart, close: async () => {},
  };
}

function restCommands(facts: HostFacts, settings: Settings): Command[] {
  return planEmqx(facts, settings, planOptions())
    .filter((step) => step.change)
    .flatMap((step) => step.commands)
    .filter((command) => command.argv[1] === '-s');
}

function apiFacts(host: Host, settings: Settings, shell: (typeof shells)[number]): EmqxApiFact {
  const result = host.run(apiFactScript({ port: 18083, servicePassword: service }, settings.admins), shell);
  assert.equal(result.code, 0, result.stderr);
  return parseApiFacts(result.stdout, settings.admins.map((admin) => admin.name));
}

/** A converged host whose REST facts come from the fake API instead of the fixture. */
function hostFacts(settings: Settings, api: EmqxApiFact): HostFacts {
  const facts = convergedEmqxFacts(emqxFacts('rocky9'), settings);
  return { ...facts, emqx: { status: facts.emqx!.status, api } };
}

const settings = emqxSettings({
  admins: [{ name: 'admin', password: 'correct-horse-1' }],
  users: [{ name: 'sensor', password: `it's "quoted" \\ $HOME`, acl: [{ topic: 'sensors/#', access: 'write' }] }],
});

describe('EMQX REST scripts', () => {
  it('are valid sh for dash and bash', () => {
    const users = [{ name: 'sensor', password: new Secret('p'), superuser: false }];
    const commands = [
      apiFactScript(target, settings.admins),
      apiFactScript({ port: 18083, servicePassword: null }, []),
      serviceAccountScript(target, settings.admins),
      adminsScript(target, settings.admins, true),
      mqttUsersScript(target, users, ['old']),
      aclScript(target, renderAclRules(settings)),
    ];
    for (const shell of shells) {
      for (const command of commands) {
        const result = spawnSync(shell, ['-n'], { input: command.stdin, encoding: 'utf8' });
        assert.equal(result.status, 0, `${shell} -n ${command.argv[3]}: ${result.stderr}`);
      }
    }
  });

  it('hold secrets only in here-document lines that curl or the CLI password file reads', () => {
    const secrets = ['correct-horse-1', `it's "quoted"`, service.reveal()];
    const commands = restCommands(emqxFacts('rocky9'), settings);
    assert.equal(commands.length, 4);
    for (const command of commands) {
      assert.ok(!command.argv.some((argument) => secrets.some((secret) => argument.includes(secret))));
      const lines = command.stdin!.split('\n');
      lines.forEach((line, index) => {
        const encoded = secrets.map((secret) => JSON.stringify(secret).slice(1, -1)).map((json) => curlConfigString(json).slice(1, -1));
        if (!encoded.some((secret) => line.includes(secret))) return;
        // The one raw line: the body of `cli_passwd NAME <<'MQTT_PROVISION_EOF'`, read by `cat` from stdin.
        if (/^\s*cli_passwd \w+ <<'MQTT_PROVISION_EOF'$/.test(lines[index - 1] ?? '')) assert.ok(secrets.includes(line), line);
        else assert.match(line, /^data-binary = "/, `${command.argv[3]}: ${line}`);
      });
    }
  });

  it('quote JSON for a curl config so that curl reads back the exact bytes', () => {
    const body = JSON.stringify({ password: `a"b\\c\nd$e'f` });
    assert.deepEqual(parseCurlConfig(`data-binary = ${curlConfigString(body)}`), [['data-binary', body]]);
  });

  for (const shell of shells) {
    it(`bootstrap a fresh EMQX and leave it converged (${shell})`, async () => {
      const host = fakeHost();
      for (const command of restCommands(emqxFacts('rocky9'), settings)) {
        const result = host.run(command, shell);
        assert.equal(result.code, 0, `${command.argv[3]}: ${result.stderr}`);
      }
      const state = host.state();
      assert.deepEqual(state.dashboardUsers, { admin: 'correct-horse-1', mqtt_provision: service.reveal() });
      assert.deepEqual(state.mqttUsers, {
        admin: { password: 'correct-horse-1', superuser: true },
        sensor: { password: `it's "quoted" \\ $HOME`, superuser: false },
      });
      assert.deepEqual(state.acl, { present: true, rules: renderAclRules(settings) });

      // The fact round trip through the engine's hook, then a second plan: nothing left to do.
      const probed = { ...convergedEmqxFacts(emqxFacts('rocky9'), settings), emqx: { status: null, api: null } };
      const facts = await gatherEmqxApiFacts(transportOf(host, shell), probed, settings);
      assert.deepEqual(facts.emqx!.api, {
        reachable: true,
        serviceLogin: true,
        logins: { admin: true },
        defaultAdmin: null,
        mqttUsers: [
          { name: 'admin', superuser: true },
          { name: 'sensor', superuser: false },
        ],
        acl: { present: true, rules: renderAclRules(settings) },
      });
      assert.deepEqual(restCommands(facts, settings), []);

      for (const argv of host.curlArguments()) {
        for (const secret of ['correct-horse-1', 'quoted', service.reveal(), 'token-']) assert.ok(!argv.join(' ').includes(secret), argv.join(' '));
      }
    });
  }

  // The remaining scenarios under one shell each: every fake curl is a process start, and they add up.
  {
    const shell = 'bash';
    it(`change an admin password without knowing the old one (${shell})`, () => {
      const host = fakeHost({ dashboardUsers: { admin: 'old-password-1', mqtt_provision: service.reveal() } });
      const changed = emqxSettings({ admins: [{ name: 'admin', password: 'a-new-password-2' }] });
      const api = apiFacts(host, changed, shell);
      assert.deepEqual({ logins: api.logins, defaultAdmin: api.defaultAdmin, serviceLogin: api.serviceLogin }, { logins: { admin: false }, defaultAdmin: false, serviceLogin: true });
      const commands = restCommands(hostFacts(changed, api), changed);
      assert.deepEqual(commands.map((command) => command.argv[3]), ['mqtt-provision-emqx-admins', 'mqtt-provision-emqx-acl', 'mqtt-provision-emqx-mqtt-users']);
      for (const command of commands) assert.equal(host.run(command, shell).code, 0);
      assert.equal(host.state().dashboardUsers.admin, 'a-new-password-2');
      assert.deepEqual(apiFacts(host, changed, shell).logins, { admin: true });
    });
  }
  {
    const shell = 'dash';
    it(`retire admin/public when the wanted admin has another name (${shell})`, () => {
      const host = fakeHost();
      const ops = emqxSettings({ admins: [{ name: 'ops', password: 'ops-password-1' }] });
      for (const command of restCommands(emqxFacts('rocky9'), ops)) assert.equal(host.run(command, shell).code, 0, command.argv[3]);
      const users = host.state().dashboardUsers;
      assert.equal(users.ops, 'ops-password-1');
      assert.match(users.admin!, /^Mp-[0-9a-f]{48}$/, 'a random password nobody stores');
      assert.equal(apiFacts(host, ops, shell).defaultAdmin, false);
    });
  }

  {
    const shell = 'dash';
    it(`set the password of a wanted "admin" that a run gave a random password, through the CLI, with no secret in any argument (${shell})`, () => {
      // EMQX refuses DELETE /users/admin (emqx_dashboard_api.erl) and change_pwd needs the old password.
      const host = fakeHost({ dashboardUsers: { admin: 'Mp-0123456789abcdef0123456789abcdef0123456789abcdef', ops: 'ops-password-1', mqtt_provision: service.reveal() } });
      const both = emqxSettings({ admins: [{ name: 'ops', password: 'ops-password-1' }, { name: 'admin', password: `new "admin" pass 2 \\` }] });
      const api = apiFacts(host, both, shell);
      const commands = restCommands(hostFacts(both, api), both);
      assert.equal(commands[0]!.argv[3], 'mqtt-provision-emqx-admins');
      for (const command of commands) {
        const result = host.run(command, shell);
        assert.equal(result.code, 0, `${command.argv[3]}: ${result.stderr}`);
      }
      assert.equal(host.state().dashboardUsers.admin, `new "admin" pass 2 \\`);
      assert.deepEqual(apiFacts(host, both, shell).logins, { ops: true, admin: true });
      const calls = host.curlArguments();
      assert.ok(calls.some((argv) => argv[0] === 'emqx' && argv[1] === 'eval'), 'the reset went through emqx eval');
      for (const argv of calls) assert.ok(!argv.join(' ').includes('new "admin"') && !argv.join(' ').includes('pass 2'), argv.join(' '));
      assert.deepEqual(readdirSync(host.directory).filter((name) => name.startsWith('.mqtt-provision')), [], 'the password file is gone');
    });
  }

  it('page through more built-in database users than one page holds', () => {
    const many = Object.fromEntries(Array.from({ length: 10_050 }, (_, index) => [`u${index}`, { password: 'x', superuser: false }]));
    const host = fakeHost({ dashboardUsers: { admin: 'correct-horse-1', mqtt_provision: service.reveal() }, mqttUsers: many });
    const api = apiFacts(host, settings, 'dash');
    assert.equal(api.mqttUsers!.length, 10_050);
    assert.equal(api.mqttUsers!.at(-1)!.name, 'u10049');
  });

  it('are answered by a fake that refuses what EMQX refuses', () => {
    const state = (): FakeEmqxState => ({ running: true, dashboardUsers: { admin: 'public', ops: 'ops-password-1' }, mqttUsers: {}, acl: { present: true, rules: '' }, tokens: {} });
    const node = state();
    const [, login] = respond(node, { url: 'http://127.0.0.1:18083/api/v5/login', method: 'POST', headers: [], body: JSON.stringify({ username: 'ops', password: 'ops-password-1' }) }) as [number, { token: string }];
    const call = (method: string, path: string, body = '') => respond(node, { url: `http://127.0.0.1:18083/api/v5${path}`, method, headers: [`Authorization: Bearer ${login.token}`], body });
    assert.deepEqual(call('DELETE', '/users/admin'), [400, { code: 'NOT_ALLOWED', message: 'Cannot delete user "admin"' }]);
    assert.deepEqual(call('DELETE', '/users/ops'), [400, { code: 'NOT_ALLOWED', message: 'Cannot delete self' }]);
    assert.equal(call('POST', '/users/admin/change_pwd', JSON.stringify({ old_pwd: 'wrong-pass-1', new_pwd: 'next-pass-1' }))[0], 400);
    assert.equal(call('GET', '/authentication/password_based:built_in_database/users?page=1&limit=10001')[0], 400);
    assert.equal(call('POST', '/users', JSON.stringify({ username: 'x', password: 'abcdefgh\\' }))[0], 400, 'a backslash is no special character');
    assert.deepEqual(respond(node, { url: 'http://127.0.0.1:18083/api/v5/users', method: 'GET', headers: [], body: '' })[0], 401);
  });

  it('stop with a clear message when no login works', () => {
    const host = fakeHost({ dashboardUsers: { admin: 'someone-changed-it-1' } });
    const result = host.run(serviceAccountScript(target, settings.admins), 'dash');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no dashboard login works.*emqx ctl admins passwd NAME/);
  });

  it('report an unreachable API without trying to log in', () => {
    const host = fakeHost({ running: false });
    assert.deepEqual(apiFacts(host, settings, 'dash'), { reachable: false, serviceLogin: false, logins: {}, defaultAdmin: null, mqttUsers: null, acl: null });
  });

  it('parse fact lines, including a missing file source', () => {
    const users = Buffer.from(JSON.stringify({ data: [{ user_id: 'a', is_superuser: false }] })).toString('base64');
    const output = `api\treachable\nservice\tdenied\nlogin\t0\tok\nlogin\t1\tdenied\ndefault\tdenied\nusers\t200\t${users}\nacl\t404\t\n`;
    assert.deepEqual(parseApiFacts(output, ['admin', 'ops']), {
      reachable: true,
      serviceLogin: false,
      logins: { admin: true, ops: false },
      defaultAdmin: false,
      mqttUsers: [{ name: 'a', superuser: false }],
      acl: { present: false, rules: '' },
    });
  });
});
