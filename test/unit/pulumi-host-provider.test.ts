// The MqttBrokerHost dynamic provider without a host: check and diff, and the round trip through
// Pulumi's closure serialization that `pulumi up` puts it through.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { mqttBrokerHostProvider, type HostProviderInputs, type HostProviderOutputs } from '../../src/pulumi/host-provider.ts';
import { configHash, credentialsHash, publicConfigFiles, toPlainSettings } from '../../src/pulumi/plain-settings.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';

const keyPath = join(mkdtempSync(join(tmpdir(), 'pulumi-provider-')), 'id_ed25519');
writeFileSync(keyPath, 'not a real key, only has to be readable\n');

function inputs(extra: Record<string, unknown> = {}, connection: Partial<HostProviderInputs> = {}): HostProviderInputs {
  const settings = resolveSettings({ broker: 'mosquitto', admins: [{ name: 'admin', password: 'first password' }], ...extra });
  return { address: '10.0.0.5', port: 22, user: 'deploy', privateKeyPath: keyPath, knownHostsPath: join(tmpdir(), 'known_hosts'), broker: 'mosquitto', settings: toPlainSettings(settings), purgeDataOnDelete: false, ...connection };
}

/** The outputs create would have returned for these inputs, without touching a host. */
function outputsOf(input: HostProviderInputs): HostProviderOutputs {
  const settings = resolveSettings(input.settings);
  return {
    ...input,
    host: `${input.user}@${input.address}:${input.port}`,
    version: '2.0.11-1.2+deb12u2',
    listeners: settings.listeners,
    configHash: configHash(settings),
    credentialsHash: credentialsHash(settings),
  };
}

const provider = mqttBrokerHostProvider as Required<typeof mqttBrokerHostProvider>;

describe('MqttBrokerHost provider: check', () => {
  it('accepts valid inputs unchanged', async () => {
    const news = inputs();
    assert.deepEqual(await provider.check({} as HostProviderInputs, news), { inputs: news, failures: [] });
  });

  it('reports settings errors with the messages of the settings schema', async () => {
    const news = inputs();
    news.settings = { ...news.settings, session: { ...news.settings.session, maxQueuedMessages: 0 } };
    const { failures } = await provider.check({} as HostProviderInputs, news);
    assert.deepEqual(failures, [{ property: 'settings', reason: 'settings.session.maxQueuedMessages: Too small: expected number to be >=1' }]);
  });

  it('reports an unreadable key, a bad address and a broker that disagrees with the settings', async () => {
    const news = inputs({}, { privateKeyPath: join(tmpdir(), 'no-such-key'), address: 'bad host!', broker: 'emqx' });
    const { failures } = await provider.check({} as HostProviderInputs, news);
    assert.deepEqual(
      failures?.map((failure) => failure.property),
      ['address', 'privateKeyPath', 'broker'],
    );
    assert.match(failures![1]!.reason, /cannot read the SSH key .*no-such-key/);
  });
});

describe('MqttBrokerHost provider: diff', () => {
  it('reports no change for the same inputs', async () => {
    const news = inputs();
    assert.deepEqual(await provider.diff('10.0.0.5:22', outputsOf(news), news), { changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it('reports a change, in place, for a new queue length', async () => {
    const olds = outputsOf(inputs());
    assert.deepEqual(await provider.diff('10.0.0.5:22', olds, inputs({ session: { maxQueuedMessages: 200000 } })), {
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it('gives preview the changed config lines of a new queue length, and never a password', () => {
    const before = publicConfigFiles(resolveSettings(inputs().settings));
    const after = publicConfigFiles(resolveSettings(inputs({ session: { maxQueuedMessages: 200000 } }).settings));
    const path = '/etc/mosquitto/mosquitto.conf';
    const changed = (text: string | undefined) => (text ?? '').split('\n').filter((line) => line.startsWith('max_queued_messages'));
    assert.notDeepEqual(changed(before[path]), changed(after[path]));
    assert.deepEqual(changed(after[path]), ['max_queued_messages 200000']);
    for (const text of [...Object.values(before), ...Object.values(after)]) assert.ok(!text.includes('first password'));
    assert.ok(!Object.keys(after).some((file) => file.endsWith('passwd')), 'the password file is secret, so it is left out');
  });

  it('reports a change for a new password, though no password is in any public output', async () => {
    const olds = outputsOf(inputs());
    const news = inputs({ admins: [{ name: 'admin', password: 'second password' }] });
    assert.equal(olds.configHash, configHash(resolveSettings(news.settings)));
    assert.equal((await provider.diff('10.0.0.5:22', olds, news)).changes, true);
  });

  it('reports a change for a new SSH user or key, without a replacement', async () => {
    const olds = outputsOf(inputs());
    assert.deepEqual(await provider.diff('10.0.0.5:22', olds, inputs({}, { user: 'root' })), { changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it('replaces the installation when it moves to another host', async () => {
    const olds = outputsOf(inputs());
    assert.deepEqual(await provider.diff('10.0.0.5:22', olds, inputs({}, { address: '10.0.0.6' })), {
      changes: true,
      replaces: ['address'],
      deleteBeforeReplace: false,
    });
    assert.deepEqual((await provider.diff('10.0.0.5:22', olds, inputs({}, { port: 2222 }))).replaces, ['port']);
  });

  it('removes the old broker first when another broker kind replaces it on the same host', async () => {
    const olds = outputsOf(inputs());
    const emqx = inputs({ broker: 'emqx', admins: [{ name: 'admin', password: 'long enough password' }] }, { broker: 'emqx' });
    // Decided before anything is rendered: the old broker's ports and data directory must be freed first.
    assert.deepEqual(await provider.diff('10.0.0.5:22', olds, emqx), { changes: true, replaces: ['broker'], deleteBeforeReplace: true });
  });
});

describe('MqttBrokerHost provider: serialization', () => {
  it('survives Pulumi closure serialization, capturing only the operations module URL', async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => mqttBrokerHostProvider, { allowSecrets: true });
    assert.match(serialized.text, /file:\/\/\/[^"]*\/src\/pulumi\/host-operations\.ts/);
    assert.doesNotMatch(serialized.text, /convergeHost|SshTransport|resolveSettings/, 'no engine code is captured into the state');
    // What the dynamic provider process does with the text from the state.
    const requireFromString = createRequire(import.meta.url)('require-from-string') as (source: string) => { handler: () => typeof provider };
    const revived = requireFromString(serialized.text).handler();
    const news = inputs();
    news.settings = { ...news.settings, listeners: {} };
    const { failures } = await revived.check({} as HostProviderInputs, news);
    assert.deepEqual(failures, [{ property: 'settings', reason: 'settings.listeners: needs at least an "mqtt", "websocket", "mqtts" or "wss" port for clients' }]);
  });
});
