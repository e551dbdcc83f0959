import assert from 'node:assert/strict';
import { Secret } from '../../src/secret.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseInstallOptions } from '../../src/cli/install-options.ts';
import { chooseCookie, chooseNodeName, cookieInConfig, generateCookie } from '../../src/brokers/emqx/identity.ts';
import { dashboardAdminProblems, dashboardPasswordProblem } from '../../src/brokers/emqx/settings.ts';
import { emqxFeatures, isInstalledVersion } from '../../src/brokers/emqx/version.ts';
import { versionFromPackageName } from '../../src/brokers/emqx/package-source.ts';
import { emptyFacts } from '../../src/facts/empty-facts.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { emqxCookiePattern } from '../../src/settings/schema.ts';
import { clusterSettings, emqxSettings } from '../fixtures/emqx-settings.ts';

const admins = [{ name: 'admin', password: 'correct-horse-1' }];

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected an input error');
}

function scratch(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'emqx-settings-')), name);
  writeFileSync(path, content);
  return path;
}

describe('EMQX settings', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a cluster of one', { emqx: { cookie: 'a-shared-cookie-0123456789', cluster: { seeds: ['emqx@10.0.0.1'] } } }, /at least two nodes/],
    ['a cluster without a shared cookie', { emqx: { cluster: { seeds: ['emqx@10.0.0.1', 'emqx@10.0.0.2'] } } }, /every node of a cluster needs the same cookie/],
    ['nodeName in a cluster', { emqx: { ...clusterSettings.emqx, nodeName: 'emqx@10.0.0.1' } }, /takes its name from emqx\.cluster\.seeds/],
    ['durable sessions in a cluster', { emqx: { ...clusterSettings.emqx, durableSessions: true } }, /cannot|refuses them in a cluster/],
    ['a seed twice', { emqx: { cookie: 'a-shared-cookie-0123456789', cluster: { seeds: ['emqx@10.0.0.1', 'emqx@10.0.0.1'] } } }, /lists a node twice/],
    ['a bad node name', { emqx: { nodeName: 'emqx' } }, /Erlang node name like emqx@10\.0\.0\.1/],
    ['a short cookie', { emqx: { cookie: 'short' } }, /16–255 characters/],
    ['a quote in the cookie', { emqx: { cookie: 'has"a-quote-0123456789' } }, /16–255 characters/],
    ['cookie and cookieFile', { emqx: { cookie: 'a-shared-cookie-0123456789', cookieFile: 'x' } }, /either "cookie" or "cookieFile"/],
    ['a version before 5.0.23', { version: '5.0.20' }, /dashboard edits override emqx\.conf/],
    ['not a version', { version: 'latest' }, /not an EMQX version/],
    ['durable sessions before 5.7', { version: '5.6.1', emqx: { durableSessions: true } }, /needs EMQX 5\.7/],
    ['a cluster on the BSL line', { ...clusterSettings, version: '5.9.0' }, /emqx-enterprise/],
    // e5.9.0's deploy/packages: the package, service and file are emqx-enterprise; the open-source emqx ends with 5.8.x.
    ['a single node on 5.9', { version: '5.9.0' }, /settings\.version: EMQX 5\.9\.0 .*emqx-enterprise.*5\.8/],
    ['a 5.10 pin', { version: '5.10.1' }, /emqx-enterprise/],
    ['a non-ASCII admin password', { admins: [{ name: 'admin', password: 'pässwort-1' }] }, /ASCII/],
    ['an unknown emqx key', { emqx: { clustr: {} } }, /unknown key "clustr"/],
    ['a package that does not exist', { emqx: { package: '/no/such/emqx-5.8.6-el9-amd64.rpm' } }, /cannot read/],
  ];
  for (const [name, extra, expected] of cases) {
    it(`refuses ${name} before touching any host`, () => {
      assert.match(errorOf(() => resolveSettings({ broker: 'emqx', admins, ...extra })), expected);
    });
  }

  it('accepts a cluster with a shared cookie and keeps the cookie a Secret', () => {
    const settings = resolveSettings(clusterSettings);
    assert.equal(settings.emqx.cookie?.reveal(), 'a-shared-cookie-0123456789');
    assert.equal(JSON.stringify(settings.emqx.cookie), '"[secret]"');
  });

  it('reads the cookie from cookieFile, relative to the settings file', () => {
    const path = scratch('cookie', 'cookie-from-a-file-0123456789\n');
    const settings = resolveSettings({ broker: 'emqx', admins, emqx: { cookieFile: 'cookie' } }, {}, join(path, '..'));
    assert.equal(settings.emqx.cookie?.reveal(), 'cookie-from-a-file-0123456789');
    assert.equal(settings.emqx.cookieFile, undefined);
  });

  it('takes --package (relative to the working directory) over MQTT_EMQX_PACKAGE and the settings file', () => {
    const flag = scratch('emqx-5.8.6-el9-amd64.rpm', 'x');
    const env = scratch('emqx-5.8.5-el9-amd64.rpm', 'x');
    assert.equal(resolveSettings({ broker: 'emqx', admins }, { emqxPackage: flag, env: { MQTT_EMQX_PACKAGE: env } }).emqx.package, flag);
    assert.equal(resolveSettings({ broker: 'emqx', admins }, { env: { MQTT_EMQX_PACKAGE: env } }).emqx.package, env);
    assert.equal(parseInstallOptions(['--host', 'h', '--package', 'emqx.rpm']).package, 'emqx.rpm');
  });

  it('refuses an emqx-enterprise package or a 5.9+ package, which the open-source role cannot install', () => {
    const enterprise = scratch('emqx-enterprise-5.9.0-el9-amd64.rpm', 'x');
    assert.match(errorOf(() => resolveSettings({ broker: 'emqx', admins }, { emqxPackage: enterprise })), /settings\.emqx\.package: .*emqx-enterprise/);
    const late = scratch('emqx-5.9.1-el9-amd64.rpm', 'x');
    assert.match(errorOf(() => resolveSettings({ broker: 'emqx', admins }, { emqxPackage: late })), /emqx-enterprise/);
  });

  it('needs a version when the package name does not say it', () => {
    const odd = scratch('broker.rpm', 'x');
    assert.match(errorOf(() => resolveSettings({ broker: 'emqx', admins }, { emqxPackage: odd })), /set "version" too/);
    assert.equal(resolveSettings({ broker: 'emqx', admins, version: '5.8.6' }, { emqxPackage: odd }).emqx.package, odd);
  });

  it('leaves Mosquitto settings alone, emqx block included', () => {
    const settings = resolveSettings({ broker: 'mosquitto', admins: [{ name: 'admin', password: 'x' }], emqx: { cluster: { seeds: ['emqx@a'] } } });
    assert.deepEqual(settings.emqx.cluster.seeds, ['emqx@a']);
  });

  it('checks admins against the dashboard rules', () => {
    const problems = dashboardAdminProblems([
      { name: 'ops-1', password: new Secret('onlyletters') },
      { name: 'mqtt_provision', password: new Secret('12345678') },
    ]);
    assert.deepEqual(problems, [
      'admins[0] "ops-1": EMQX dashboard user names hold only letters, digits and "_"',
      'admins[0] "ops-1": EMQX dashboard passwords need at least two kinds of letters, digits and the special characters !@#$%^&*()_+-=[]{}"|;\':,./<>?`~ or space (a backslash or tab counts for none)',
      'admins[1]: "mqtt_provision" is the account mqtt-provision itself uses',
      'admins[1] "mqtt_provision": EMQX dashboard passwords need at least two kinds of letters, digits and the special characters !@#$%^&*()_+-=[]{}"|;\':,./<>?`~ or space (a backslash or tab counts for none)',
    ]);
    assert.deepEqual(dashboardAdminProblems(emqxSettings().admins), []);
  });

  it('counts only the special characters emqx_dashboard_admin.erl lists, and refuses non-ASCII', () => {
    const problem = (password: string) => dashboardPasswordProblem(password);
    // ?SPECIAL_CHARS (v5.7.2–v5.8.8): !@#$%^&*()_+-=[]{}"|;':,./<>?`~ and space; backslash and tab are not in it.
    assert.match(problem('abcdefgh\\')!, /two kinds/);
    assert.match(problem('abcdefgh\t')!, /two kinds/);
    assert.match(problem('abcdefgh€')!, /ASCII/);
    assert.match(problem('passwörd1')!, /ASCII/);
    assert.match(problem('abcdefg1\nx')!, /line break/);
    for (const ok of ['abcdefg!', 'abc def gh', 'ABCDEFG~', '1234567`', 'abcdefg1', 'a\\bcdefg1']) assert.equal(problem(ok), null, ok);
    assert.match(problem('a1!')!, /8–64/);
    assert.match(problem(`a1${'x'.repeat(63)}`)!, /8–64/);
  });
});

describe('EMQX identity and versions', () => {
  it('generates cookies the cookie pattern accepts, and reads them back from emqx.conf', () => {
    const cookie = generateCookie();
    assert.match(cookie, emqxCookiePattern);
    assert.notEqual(cookie, generateCookie());
    assert.equal(cookieInConfig(`node {\n  name = "emqx@127.0.0.1"\n  cookie = "${cookie}"\n}\n`), cookie);
    assert.equal(cookieInConfig('node.cookie = "x"'), 'x');
    assert.equal(cookieInConfig(null), null);
  });

  it('never keeps the packaged default cookie', () => {
    assert.equal(chooseCookie(emqxSettings(), 'node.cookie = "emqxsecretcookie"\n', () => 'a-new-cookie-0123456789').reveal(), 'a-new-cookie-0123456789');
  });

  it('names a single node from the settings or emqx@127.0.0.1, a cluster node from its seed', () => {
    assert.equal(chooseNodeName(emqxSettings(), null), 'emqx@127.0.0.1');
    assert.equal(chooseNodeName(emqxSettings({ emqx: { nodeName: 'broker@mq1' } }), null), 'broker@mq1');
    const facts = emptyFacts();
    facts.hostNames = ['mq3', '10.0.0.8'];
    assert.equal(chooseNodeName(resolveSettings(clusterSettings), facts), 'emqx@10.0.0.8');
    assert.equal(chooseNodeName(resolveSettings(clusterSettings), null), 'emqx@10.0.0.6');
  });

  it('switches key names and features at the documented versions', () => {
    assert.deepEqual(
      ['5.0.24', '5.0.25', '5.1.1', '5.1.2', '5.6.1', '5.7.0', '5.7.2', '5.8.0', '5.8.6'].map((version) => {
        const features = emqxFeatures(version);
        return [version, features.mailboxKey, features.listenerEnableKey, features.durableSessions, features.singletonDiscovery];
      }),
      [
        ['5.0.24', 'max_message_queue_len', 'enabled', false, false],
        ['5.0.25', 'max_mailbox_size', 'enabled', false, false],
        ['5.1.1', 'max_mailbox_size', 'enabled', false, false],
        ['5.1.2', 'max_mailbox_size', 'enable', false, false],
        ['5.6.1', 'max_mailbox_size', 'enable', false, false],
        ['5.7.0', 'max_mailbox_size', 'enable', true, false],
        ['5.7.2', 'max_mailbox_size', 'enable', true, false],
        ['5.8.0', 'max_mailbox_size', 'enable', true, true],
        ['5.8.6', 'max_mailbox_size', 'enable', true, true],
      ],
    );
  });

  it('matches installed package versions and reads versions from package names', () => {
    assert.ok(isInstalledVersion('5.8.6', '5.8.6'));
    assert.ok(isInstalledVersion('5.8.6-1.el9', '5.8.6'));
    assert.ok(!isInstalledVersion('5.8.60', '5.8.6'));
    assert.ok(!isInstalledVersion(null, '5.8.6'));
    assert.equal(versionFromPackageName('/x/emqx-5.8.6-ubuntu24.04-arm64.deb'), '5.8.6');
    assert.equal(versionFromPackageName('emqx_5.8.6_amd64.deb'), '5.8.6');
    assert.equal(versionFromPackageName('emqx-5.3.0-1.el8.x86_64.rpm'), '5.3.0');
    assert.equal(versionFromPackageName('broker.rpm'), null);
  });
});
