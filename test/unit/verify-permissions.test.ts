// The pure parts of verify's per-user permissions check (issue 23 item 2): which topics to try for a
// user's configured ACL, what the broker must answer, how outcomes are judged; the topic prefix and
// the scheme labels. The MQTT half runs on a lab host in test/e2e/verify-permissions.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret } from '../../src/secret.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { InputError } from '../../src/settings/input-error.ts';
import { maxPermissionUsers, permissionUsers } from '../../src/verify/install-hook.ts';
import { concreteTopic, expectedAccess, judgePermissions, permissionProbes, topicMatches, type PermissionOutcome, type PermissionUser } from '../../src/verify/permission-plan.ts';
import { parseVerifyArguments } from '../../src/verify/verify-arguments.ts';
import { urlScheme } from '../../src/verify/verify-broker.ts';
import { createContext } from '../../src/verify/verify-context.ts';

const ingest: PermissionUser = { name: 'ingest', password: new Secret('i'), acl: [{ topic: 'telemetry/#', access: 'write' }] };
const grafana: PermissionUser = { name: 'grafana', password: new Secret('g'), acl: [{ topic: 'telemetry/#', access: 'read' }] };

/** What a broker that enforces exactly the probes' expectations would answer. */
function faithful(probes: ReturnType<typeof permissionProbes>): PermissionOutcome[] {
  return probes.map((probe) => ({
    topic: probe.topic,
    delivered: probe.publish,
    ...(probe.publish ? {} : { pubackCode: 0x87 }),
    subackCode: probe.subscribe ? 1 : 0x80,
    received: probe.subscribe,
  }));
}

describe('permissions plan', () => {
  it('matches topic filters as MQTT does', () => {
    assert.equal(topicMatches('telemetry/#', 'telemetry/a/b'), true);
    assert.equal(topicMatches('telemetry/#', 'telemetry'), true);
    assert.equal(topicMatches('telemetry/+/temp', 'telemetry/line1/temp'), true);
    assert.equal(topicMatches('telemetry/+/temp', 'telemetry/line1/x/temp'), false);
    assert.equal(topicMatches('telemetry/#', 'commands/a'), false);
    assert.equal(topicMatches('#', '$SYS/broker/uptime'), false);
  });

  it('picks a concrete topic inside each rule, unique to the run', () => {
    assert.equal(concreteTopic('telemetry/#', 'ab12'), 'telemetry/mp-verify-ab12');
    assert.equal(concreteTopic('plant/+/temp', 'ab12'), 'plant/mp-verify/temp');
    assert.equal(concreteTopic('$SYS/#', 'ab12'), null);
  });

  it('expects the union of the matching rules, nothing outside them, everything without rules', () => {
    const acl = [{ topic: 'telemetry/#', access: 'write' as const }, { topic: 'telemetry/line1/#', access: 'read' as const }];
    assert.deepEqual(expectedAccess(acl, 'telemetry/line1/x'), { publish: true, subscribe: true, because: 'write telemetry/#, read telemetry/line1/#' });
    assert.deepEqual(expectedAccess(acl, 'telemetry/line2'), { publish: true, subscribe: false, because: 'write telemetry/#' });
    assert.deepEqual(expectedAccess(acl, 'other'), { publish: false, subscribe: false, because: 'no rule matches' });
    assert.deepEqual(expectedAccess([], 'anything'), { publish: true, subscribe: true, because: 'no rules: every topic' });
  });

  it('tries a writer and a reader of telemetry/# inside the rule and outside every rule', () => {
    assert.deepEqual(permissionProbes(ingest, 'ab12', 'site/verify'), [
      { topic: 'telemetry/mp-verify-ab12', publish: true, subscribe: false, because: 'write telemetry/#' },
      { topic: 'site/verify/ab12/acl-ingest', publish: false, subscribe: false, because: 'no rule matches' },
    ]);
    assert.deepEqual(permissionProbes(grafana, 'ab12', 'site/verify')[0], { topic: 'telemetry/mp-verify-ab12', publish: false, subscribe: true, because: 'read telemetry/#' });
  });

  it('passes a broker that does what the settings say, naming the reason codes it gave', () => {
    const probes = permissionProbes(grafana, 'ab12', 'p');
    const { problems, notes } = judgePermissions('grafana', probes, faithful(probes));
    assert.deepEqual(problems, []);
    assert.ok(notes.includes("grafana's publish to telemetry/mp-verify-ab12 refused (PUBACK 0x87)"), notes.join('\n'));
    assert.ok(notes.includes('grafana reads telemetry/mp-verify-ab12'));
    assert.ok(notes.includes("grafana's subscription to p/ab12/acl-grafana refused (SUBACK 0x80)"));
  });

  it('fails, naming the user and the topic, when the broker lets a read-only user publish', () => {
    const probes = permissionProbes(grafana, 'ab12', 'p');
    const outcomes = faithful(probes).map((outcome) => (outcome.topic === 'telemetry/mp-verify-ab12' ? { topic: outcome.topic, delivered: true, subackCode: 1, received: true } : outcome));
    const { problems } = judgePermissions('grafana', probes, outcomes);
    assert.deepEqual(problems, ['grafana published to telemetry/mp-verify-ab12 and it was delivered, though the settings deny it (settings: read telemetry/#): the broker\'s ACL grants more than configured']);
  });

  it('fails when an allowed publish does not arrive or an allowed subscription is refused', () => {
    const probes = permissionProbes(ingest, 'ab12', 'p');
    const outcomes = faithful(probes).map((outcome, index) => (index === 0 ? { ...outcome, delivered: false, pubackCode: 0x87 } : { ...outcome, subackCode: 0, received: true }));
    const { problems } = judgePermissions('ingest', probes, outcomes);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /^ingest may not publish to telemetry\/mp-verify-ab12 \(PUBACK 0x87\), though the settings allow it/);
    assert.match(problems[1]!, /^ingest subscribed to p\/ab12\/acl-ingest \(SUBACK 0x00\) and received a message published there, though the settings deny it/);
  });

  it('accepts a granted subscription that receives nothing as a denied read (Mosquitto 2.0 filters per message)', () => {
    const probes = permissionProbes(ingest, 'ab12', 'p');
    const outcomes = faithful(probes).map((outcome) => ({ ...outcome, subackCode: 1, received: false }));
    const { problems, notes } = judgePermissions('ingest', probes, outcomes);
    assert.deepEqual(problems, []);
    assert.ok(notes.includes('ingest may subscribe to telemetry/mp-verify-ab12 (SUBACK 0x01) but receives nothing published there'), notes.join('\n'));
  });

  it('checks at most a bounded number of the configured users, consumers included', () => {
    const users = Array.from({ length: maxPermissionUsers + 5 }, (_, index) => ({ name: `u${index}`, password: `password-${index}`, acl: [{ topic: `t/${index}`, access: 'read' }] }));
    const checked = permissionUsers(resolveSettings({ broker: 'mosquitto', admins: [{ name: 'admin', password: 'admin-password' }], users }));
    assert.equal(checked.length, maxPermissionUsers);
    assert.deepEqual(checked[0]!.acl, [{ topic: 't/0', access: 'read' }]);
  });
});

describe('verify topic prefix and labels', () => {
  it('puts every check topic under the prefix given, the default otherwise', () => {
    assert.equal(createContext({ mqttUrl: 'mqtt://h:1883', topicPrefix: 'site-a/verify/' }, 'ab12').topic('sub'), 'site-a/verify/ab12/sub');
    assert.equal(createContext({ mqttUrl: 'mqtt://h:1883' }, 'ab12').topic('sub'), 'mqtt-provision/verify/ab12/sub');
  });

  it('takes --topic-prefix and refuses wildcards and $ topics, naming the flag', () => {
    assert.equal(parseVerifyArguments(['--url', 'mqtt://h:1883', '--topic-prefix', 'telemetry/verify']).topicPrefix, 'telemetry/verify');
    for (const bad of ['telemetry/#', 'a/+/b', '$SYS/x', '/']) {
      assert.throws(() => parseVerifyArguments(['--url', 'mqtt://h:1883', '--topic-prefix', bad]), (error: unknown) => error instanceof InputError && /--topic-prefix/.test(error.message), bad);
    }
  });

  it('labels checks by the URL scheme', () => {
    assert.deepEqual(['mqtt://h:1', 'tcp://h:1', 'mqtts://h:1', 'ws://h:1/mqtt', 'wss://h:1/mqtt'].map(urlScheme), ['mqtt', 'mqtt', 'mqtts', 'ws', 'wss']);
  });
});
