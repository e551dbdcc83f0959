import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emqxConfig, emqxConfigFile } from '../../src/brokers/emqx/files.ts';
import { renderAclRules } from '../../src/brokers/emqx/acl.ts';
import { emqxRenderFiles } from '../../src/brokers/emqx/render-files.ts';
import { emqxPersistenceWarnings, reviewFileName } from '../../src/brokers/emqx/review.ts';
import { Secret } from '../../src/secret.ts';
import { type Settings } from '../../src/settings/load.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { fixtureCookie, leafKeys, parseHocon } from '../fixtures/emqx-facts.ts';
import { clusterSettings, emqxSettings, knownKeys, maximalSettings } from '../fixtures/emqx-settings.ts';

/**
 * The rendered emqx.conf is checked by parsing, not by running EMQX (no EMQX package can be
 * downloaded here): it must be valid HOCON, set only keys from the research list of EMQX 5 keys,
 * and hold no single-quoted string (EMQX rejects those at boot: emqx/emqx#10727).
 */

const node = (version = '5.8.6', nodeName = 'emqx@127.0.0.1') => ({ version, nodeName, cookie: new Secret(fixtureCookie) });

function render(settings: Settings, version = '5.8.6', nodeName = 'emqx@127.0.0.1'): string {
  return emqxConfig(settings, node(version, nodeName));
}

/** Lines without comments and without double-quoted strings: what is left must hold no `'`. */
function unquotedText(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s*(#|\/\/)/.test(line))
    .map((line) => line.replace(/"(?:[^"\\]|\\.)*"/g, '""'))
    .join('\n');
}

const variants: Array<[string, () => string]> = [
  ['default settings', () => render(emqxSettings())],
  ['the maximal settings file', () => render(resolveSettings(maximalSettings))],
  ['a three-node cluster', () => render(resolveSettings(clusterSettings), '5.8.6', 'emqx@10.0.0.7')],
  ['EMQX 5.7.2 (CentOS 7)', () => render(emqxSettings({ emqx: { durableSessions: true } }), '5.7.2')],
  ['EMQX 5.0.24', () => render(emqxSettings(), '5.0.24')],
  ['--render-to (no host)', () => emqxRenderFiles(emqxSettings())[0]!.content],
];

describe('emqx.conf', () => {
  for (const [name, rendered] of variants) {
    it(`parses as HOCON and sets only known EMQX keys: ${name}`, async () => {
      const parsed = await parseHocon(rendered());
      const known = knownKeys();
      const unknown = leafKeys(parsed).filter((key) => !known.has(key));
      assert.deepEqual(unknown, [], `keys missing from test/fixtures/emqx-known-keys.txt: ${unknown.join(', ')}`);
    });

    it(`holds no single-quoted string: ${name}`, () => {
      assert.doesNotMatch(unquotedText(rendered()), /'/);
    });
  }

  it('the single-quote check catches a single-quoted value', async () => {
    const bad = emqxSettings({ extraConfig: "node.name = 'emqx@10.0.0.1'" });
    assert.match(unquotedText(render(bad)), /'/);
    // @pushcorn/hocon-parser would accept it as a literal string, which is why the lint exists.
    assert.equal(((await parseHocon("a = 'x'")) as { a: string }).a, "'x'");
  });

  it('maps the shared settings onto EMQX keys with the no-loss defaults', async () => {
    const parsed = (await parseHocon(render(emqxSettings()))) as Record<string, Record<string, unknown>>;
    assert.deepEqual(parsed.mqtt, {
      session_expiry_interval: '604800s',
      max_mqueue_len: 100000,
      mqueue_store_qos0: true,
      max_inflight: 32,
      retry_interval: '30s',
      max_awaiting_rel: 100,
    });
    assert.deepEqual(parsed.force_shutdown, { enable: true, max_mailbox_size: 100000, max_heap_size: '1024MB' });
    assert.deepEqual(parsed.node, { name: 'emqx@127.0.0.1', cookie: fixtureCookie, data_dir: '/var/lib/emqx' });
    // persistence.enabled (default true) makes the promise Mosquitto's persistence makes: durable sessions.
    assert.deepEqual(parsed.durable_sessions, { enable: true });
    assert.deepEqual(parsed.cluster, { discovery_strategy: 'singleton' }, 'EMQX 5.8 CE requires singleton with durable sessions');
  });

  it('turns durable sessions off with persistence off, and keeps the manual discovery default', async () => {
    const parsed = (await parseHocon(render(emqxSettings({ persistence: { enabled: false } })))) as any;
    assert.deepEqual(parsed.durable_sessions, { enable: false });
    assert.equal(parsed.cluster, undefined);
  });

  it('turns durable sessions on for persistence on EMQX 5.7, and not in a cluster (builtin_local is one node)', async () => {
    const el7 = (await parseHocon(render(emqxSettings(), '5.7.2'))) as any;
    assert.deepEqual(el7.durable_sessions, { enable: true });
    const cluster = (await parseHocon(render(resolveSettings(clusterSettings), '5.8.6', 'emqx@10.0.0.7'))) as any;
    assert.deepEqual(cluster.durable_sessions, { enable: false });
  });

  it('warns where persistence cannot survive a restart: before 5.7, and in a cluster', () => {
    assert.deepEqual(emqxPersistenceWarnings(emqxSettings()), []);
    assert.deepEqual(emqxPersistenceWarnings(emqxSettings({ version: '5.7.0' })), []);
    assert.deepEqual(emqxPersistenceWarnings(emqxSettings({ version: '5.6.1', persistence: { enabled: false } })), []);
    const [old, ...more] = emqxPersistenceWarnings(emqxSettings({ version: '5.6.1' }));
    assert.deepEqual(more, []);
    assert.match(old!, /^settings\.persistence\.enabled: EMQX 5\.6\.1 has no durable sessions.*restart.*drops every session and queued message/);
    assert.match(emqxPersistenceWarnings(resolveSettings(clusterSettings)).join('\n'), /refuses them in a cluster/);
    assert.deepEqual(emqxPersistenceWarnings(resolveSettings({ broker: 'mosquitto', admins: [{ name: 'admin', password: 'correct-horse-1' }] })), []);
  });

  it('says next to max_mailbox_size the values it sets, and that deny_action = ignore is silent', () => {
    const text = render(resolveSettings(maximalSettings));
    const before = (key: string) => text.slice(0, text.indexOf(key)).split('\n\n').at(-1)!;
    assert.match(before('force_shutdown {'), /300000 messages \/ 2048MB here/);
    assert.doesNotMatch(before('force_shutdown {'), /100000 \/ 1024MB/);
    assert.match(before('authorization {'), /deny_action = ignore: a refused publish is dropped silently/);
    assert.match(before('durable_sessions {'), /message_retention_period \(1d\)/);
  });

  it('--render-to writes a review file with the admins, users and ACL rules, and no password', () => {
    const settings = resolveSettings(maximalSettings);
    const files = emqxRenderFiles(settings);
    const review = files.find((file) => file.path === reviewFileName);
    assert.ok(review, 'no review file');
    assert.equal(review.secret, undefined);
    assert.match(review.content, /^admin ops$/m);
    assert.match(review.content, /^user sensor: write sensors\/#, read cmd\/"quoted"$/m);
    assert.match(review.content, /^user app: all topics$/m);
    assert.ok(review.content.includes(renderAclRules(settings).trimEnd()), 'the rules as the ACL step sets them');
    for (const password of ['correct-horse-1', 'p4ss', 'app-pass', 'pass"word']) assert.ok(!review.content.includes(password), password);
  });

  it('maps the maximal settings file', async () => {
    const parsed = (await parseHocon(render(resolveSettings(maximalSettings)))) as any;
    assert.deepEqual(parsed.mqtt, {
      session_expiry_interval: '1209600s',
      max_mqueue_len: 250000,
      mqueue_store_qos0: false,
      max_inflight: 64,
      retry_interval: '30s',
      max_awaiting_rel: 100,
    });
    assert.deepEqual(parsed.force_shutdown, { enable: true, max_mailbox_size: 300000, max_heap_size: '2048MB' });
    assert.deepEqual(parsed.listeners.tcp.default, { enable: true, bind: '0.0.0.0:1884', enable_authn: true });
    assert.deepEqual(parsed.listeners.ws.default, { enable: true, bind: '0.0.0.0:8093', enable_authn: true, websocket: { mqtt_path: '/mqtt' } });
    assert.deepEqual(parsed.listeners.ssl.default, { enable: false });
    assert.deepEqual(parsed.listeners.wss.default, { enable: false });
    assert.equal(parsed.dashboard.listeners.http.bind, 18084);
    assert.deepEqual(parsed.durable_sessions, { enable: true });
    assert.deepEqual(parsed.cluster, { discovery_strategy: 'singleton' }, 'EMQX 5.8 CE requires singleton with durable sessions');
  });

  it('refuses anonymous clients and denies what no rule allows', async () => {
    const parsed = (await parseHocon(render(emqxSettings()))) as any;
    assert.deepEqual(parsed.authentication, [
      {
        mechanism: 'password_based',
        backend: 'built_in_database',
        enable: true,
        user_id_type: 'username',
        password_hash_algorithm: { name: 'sha256', salt_position: 'suffix' },
      },
    ]);
    assert.deepEqual(parsed.authorization, { no_match: 'deny', deny_action: 'ignore' });
  });

  it('serves the dashboard on its port when asked, else binds the REST API to loopback only', async () => {
    const served = (await parseHocon(render(emqxSettings({ listeners: { mqtt: 1883, dashboard: 18083 } })))) as any;
    assert.equal(served.dashboard.listeners.http.bind, 18083);
    const local = (await parseHocon(render(emqxSettings()))) as any;
    assert.equal(local.dashboard.listeners.http.bind, '127.0.0.1:18083');
  });

  it('disables the MQTT/TCP listener when only WebSocket is served', async () => {
    const parsed = (await parseHocon(render(emqxSettings({ listeners: { websocket: 8083 } })))) as any;
    assert.deepEqual(parsed.listeners.tcp.default, { enable: false });
    assert.equal(parsed.listeners.ws.default.bind, '0.0.0.0:8083');
  });

  it('lists the static seeds of a cluster', async () => {
    const parsed = (await parseHocon(render(resolveSettings(clusterSettings), '5.8.6', 'emqx@10.0.0.7'))) as any;
    assert.deepEqual(parsed.cluster, { name: 'emqxcl', discovery_strategy: 'static', static: { seeds: ['emqx@10.0.0.6', 'emqx@10.0.0.7', 'emqx@10.0.0.8'] } });
    assert.equal(parsed.node.name, 'emqx@10.0.0.7');
  });

  it('uses the key names of the installed version', async () => {
    const old = (await parseHocon(render(emqxSettings(), '5.0.24'))) as any;
    assert.deepEqual(old.force_shutdown, { enable: true, max_message_queue_len: 100000, max_heap_size: '1024MB' });
    assert.deepEqual(old.listeners.tcp.default, { enabled: true, bind: '0.0.0.0:1883', enable_authn: true });
    assert.equal(old.durable_sessions, undefined, 'durable_sessions exists from 5.7');
    const el7 = (await parseHocon(render(emqxSettings({ emqx: { durableSessions: true } }), '5.7.2'))) as any;
    assert.deepEqual(el7.durable_sessions, { enable: true });
    assert.equal(el7.cluster, undefined, 'singleton discovery exists from 5.8 only');
    assert.ok('max_mailbox_size' in el7.force_shutdown);
  });

  it('appends extraConfig, which overrides what comes before it', async () => {
    const parsed = (await parseHocon(render(emqxSettings({ extraConfig: 'mqtt.max_packet_size = "4MB"\nforce_shutdown.max_heap_size = "4096MB"\n' })))) as any;
    assert.equal(parsed.mqtt.max_packet_size, '4MB');
    assert.equal(parsed.force_shutdown.max_heap_size, '4096MB');
  });

  it('is a secret file readable by the emqx group only, and the cookie is never the packaged default', () => {
    const file = emqxConfigFile(emqxSettings(), node());
    assert.deepEqual({ mode: file.mode, owner: file.owner, group: file.group, secret: file.secret, apply: file.apply }, {
      mode: '0640',
      owner: 'root',
      group: 'emqx',
      secret: true,
      apply: 'restart',
    });
    for (const [, rendered] of variants) assert.doesNotMatch(rendered(), /emqxsecretcookie/);
  });

  it('renders the ACL rules from users[].acl with Erlang string escaping', () => {
    assert.equal(
      renderAclRules(resolveSettings(maximalSettings)),
      [
        '%% Managed by mqtt-provision: replaced on every run. Admins are superusers and skip these rules.',
        '{allow, {username, "sensor"}, publish, ["sensors/#"]}.',
        '{allow, {username, "sensor"}, subscribe, ["cmd/\\"quoted\\""]}.',
        '{allow, {username, "app"}, all, ["#"]}.',
        '%% Everything else is denied (authorization.no_match = deny says the same).',
        '{deny, all}.',
        '',
      ].join('\n'),
    );
  });
});
