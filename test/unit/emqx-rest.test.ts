import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gatherEmqxApiFacts, parseApiFacts } from '../../src/brokers/emqx/api-facts.ts';
import { renderAclRules } from '../../src/brokers/emqx/acl.ts';
import { servicePassword } from '../../src/brokers/emqx/identity.ts';
import { planEmqx } from '../../src/brokers/emqx/plan.ts';
import { aclScript, adminsScript, apiFactScript, curlConfigString, mqttUsersScript, serviceAccountScript } from '../../src/brokers/emqx/rest-scripts.ts';
import type { EmqxApiFact, HostFacts } from '../../src/facts/host-facts.ts';
import type { Command } from '../../src/operations/step.ts';
import { Secret } from '../../src/secret.ts';
import type { Settings } from '../../src/settings/load.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { parseCurlConfig, type FakeEmqxState } from '../fixtures/emqx-fake-curl.ts';
import { convergedEmqxFacts, emqxFacts, fixtureCookie, planOptions } from '../fixtures/emqx-facts.ts';
import { emqxSettings } from '../fixtures/emqx-settings.ts';
import { noStart } from './support/no-start.ts';

/**
 * The REST scripts run for real here, under dash (Debian's sh) and bash (RHEL's sh), against a
 * fake `curl` that answers like EMQX's API (test/fixtures/emqx-fake-curl.ts). That checks the
 * shell, the curl config quoting and the call sequence; it does not prove EMQX itself agrees.
 */

const shells = ['dash', 'bash'] as const;
const cookie = new Secret(fixtureCookie);
const service = servicePassword(cookie);
const target = { port: 18083, servicePassword: service };

interface Host {
  run(command: Command, shell: (typeof shells)[number]): { code: number; stdout: string; stderr: string };
  state(): FakeEmqxState;
  setState(state: FakeEmqxState): void;
  curlArguments(): string[][];
}

function fakeHost(initial: Partial<FakeEmqxState> = {}): Host {
  const directory = mkdtempSync(join(tmpdir(), 'emqx-fake-'));
  const statePath = join(directory, 'state.json');
  const logPath = join(directory, 'curl.log');
  const fakeCurl = fileURLToPath(new URL('../fixtures/emqx-fake-curl.ts', import.meta.url));
  writeFileSync(join(directory, 'curl'), `#!/bin/sh\nexec "${process.execPath}" "${fakeCurl}" "$@"\n`);
  chmodSync(join(directory, 'curl'), 0o755);
  writeFileSync(logPath, '');
  const state: FakeEmqxState = { running: true, dashboardUsers: { admin: 'public' }, mqttUsers: {}, acl: { present: true, rules: '{allow, all}.\n' }, tokens: {}, ...initial };
  writeFileSync(statePath, JSON.stringify(state));
  const env = { PATH: `${directory}:${process.env.PATH}`, FAKE_EMQX_STATE: statePath, FAKE_EMQX_LOG: logPath };
  return {
    run(command, shell) {
      assert.deepEqual(command.argv.slice(0, 3), ['sh', '-s', '--']);
      const result = spawnSync(shell, command.argv.slice(1), { input: command.stdin, env, encoding: 'utf8' });
      return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    },
    state: () => JSON.parse(readFileSync(statePath, 'utf8')) as FakeEmqxState,
    setState: (next) => writeFileSync(statePath, JSON.stringify(next)),
    curlArguments: () =>
      readFileSync(logPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]),
  };
}

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

  it('hold secrets only in here-document lines that curl reads as its config', () => {
    const secrets = ['correct-horse-1', `it's "quoted"`, service.reveal()];
    const commands = restCommands(emqxFacts('rocky9'), settings);
    assert.equal(commands.length, 4);
    for (const command of commands) {
      assert.ok(!command.argv.some((argument) => secrets.some((secret) => argument.includes(secret))));
      for (const line of command.stdin!.split('\n')) {
        const encoded = secrets.map((secret) => JSON.stringify(secret).slice(1, -1)).map((json) => curlConfigString(json).slice(1, -1));
        if (encoded.some((secret) => line.includes(secret))) assert.match(line, /^data-binary = "/, `${command.argv[3]}: ${line}`);
      }
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
