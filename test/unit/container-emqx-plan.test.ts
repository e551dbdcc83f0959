// The EMQX container target as fixtures: facts + settings → the exact docker commands. No EMQX
// image can be pulled here, so this is the whole of its coverage (docs/containers.md says so).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABEL_CONFIG_HASH, LABEL_MANAGED, LABEL_SPEC, type ContainerOptions, type DesiredContainer } from '../../src/container/desired.ts';
import { desiredEmqxContainer, emqxImageShipsCurl, emqxVersionOf, gatherEmqxContainerApi, inContainer, NO_CURL_EXIT } from '../../src/container/emqx-container.ts';
import type { ContainerFacts } from '../../src/container/facts.ts';
import { planContainer, reloadPendingMarker } from '../../src/container/plan.ts';
import type { Step } from '../../src/operations/step.ts';
import type { ExecResult, Transport } from '../../src/transport/transport.ts';
import { convergedApi, fixtureCookie } from '../fixtures/emqx-facts.ts';
import { emqxSettings } from '../fixtures/emqx-settings.ts';
import { fixedSalt } from '../fixtures/facts.ts';
import { noStart } from './support/no-start.ts';

const options: ContainerOptions = { name: 'emqx1', image: 'emqx:5.8.8', bind: '127.0.0.1', configDir: '/srv/emqx1/config', memory: '2g', cpus: '1' };
const seeds = () => ({ generateCookie: () => fixtureCookie, salt: fixedSalt() });
const settings = () => emqxSettings({ listeners: { mqtt: 1883, dashboard: 18083 }, users: [{ name: 'sensor', password: 'sensor-pass' }] });

const absent: ContainerFacts = {
  container: null,
  volumes: { 'emqx1-data': null, 'emqx1-log': null },
  files: { '/srv/emqx1/config/emqx.conf': null, '/srv/emqx1/config/mqtt-provision-users': null, [reloadPendingMarker('/srv/emqx1/config')]: null },
  directories: {},
  replacedMounts: [],
  hostCpus: 2,
};

const changed = (steps: Step[]) => steps.filter((step) => step.change).map((step) => step.id);
const step = (steps: Step[], id: string) => steps.find((candidate) => candidate.id === id)!;

/** What the config directory and Docker hold after `desired` was applied; the users state comes from the REST step. */
function convergedFacts(desired: DesiredContainer): ContainerFacts {
  const users = step(desired.afterSteps, 'emqx-mqtt-users').commands.find((command) => command.argv.includes('mqtt-provision-write'))!.stdin!;
  return {
    container: { image: desired.spec.image, labels: { [LABEL_MANAGED]: 'true', [LABEL_CONFIG_HASH]: desired.configHash, [LABEL_SPEC]: JSON.stringify(desired.spec) }, status: 'running', health: 'healthy', pid: 4242, binds: [] },
    volumes: { 'emqx1-data': { managed: true }, 'emqx1-log': { managed: true } },
    files: { '/srv/emqx1/config/emqx.conf': desired.files[0]!.content, '/srv/emqx1/config/mqtt-provision-users': users, [reloadPendingMarker('/srv/emqx1/config')]: null },
    directories: { '/srv/emqx1/config': true },
    replacedMounts: [],
    hostCpus: 2,
  };
}

describe('EMQX container planner', () => {
  it('creates volumes, emqx.conf (checked by the image before use), the container, then admins, users and ACL through docker exec', () => {
    const desired = desiredEmqxContainer(settings(), options, { config: null, usersState: null }, null, seeds());
    const steps = planContainer(absent, desired);
    assert.deepEqual(changed(steps), [
      'volume:emqx1-data', 'volume:emqx1-log', 'directory:/srv/emqx1/config', 'file:/srv/emqx1/config/emqx.conf', 'container:emqx1',
      'emqx-account:mqtt_provision', 'emqx-admins', 'emqx-acl', 'emqx-mqtt-users',
    ]);
    const conf = step(steps, 'file:/srv/emqx1/config/emqx.conf');
    assert.deepEqual(conf.commands.map((command) => command.argv[3] ?? command.argv[0]), ['mqtt-provision-backup', 'mqtt-provision-write', '--entrypoint']);
    assert.deepEqual(conf.commands[2]!.argv, [
      'docker', 'run', '--rm', '--entrypoint', '/opt/emqx/bin/emqx', '--volume', '/srv/emqx1/config/emqx.conf:/opt/emqx/etc/emqx.conf:ro',
      '--env', 'EMQX_NODE_NAME=emqx@127.0.0.1', '--env', 'EMQX_NODE__NAME=emqx@127.0.0.1', 'emqx:5.8.8', 'check_config',
    ]);
    assert.equal(conf.rollback![0]!.argv[3], 'mqtt-provision-restore');
    assert.match(conf.diff!, /content not shown/, 'emqx.conf holds the cookie');

    const file = desired.files[0]!;
    assert.deepEqual([file.owner, file.group, file.mode], ['0', '1000', '0640']);
    assert.match(file.content, /data_dir = "\/opt\/emqx\/data"/);
    assert.match(file.content, /name = "emqx@127.0.0.1"/);
    assert.match(file.content, /max_mqueue_len = 100000/);

    const run = desired.runArgv;
    for (const expected of ['127.0.0.1:1883:1883/tcp', '127.0.0.1:18083:18083/tcp', 'emqx1-data:/opt/emqx/data', 'emqx1-log:/opt/emqx/log', '/srv/emqx1/config/emqx.conf:/opt/emqx/etc/emqx.conf:ro', 'EMQX_NODE_NAME=emqx@127.0.0.1', '2g']) {
      assert.ok(run.includes(expected), `docker run has ${expected}`);
    }
    assert.equal(run[run.indexOf('--health-cmd') + 1], '/opt/emqx/bin/emqx ctl status');
    assert.deepEqual(step(steps, 'container:emqx1').commands[1]!.argv.slice(-2), ['emqx1', '120']);

    // Secrets travel on stdin only: neither the cookie nor a password is in any argument list.
    const argvText = JSON.stringify(steps.flatMap((candidate) => candidate.commands.map((command) => command.argv)));
    for (const secret of [fixtureCookie, 'correct-horse-1', 'sensor-pass']) assert.ok(!argvText.includes(secret), `${secret} not in argv`);
    const users = step(steps, 'emqx-mqtt-users');
    assert.deepEqual(users.commands[0]!.argv.slice(0, 5), ['docker', 'exec', '-i', 'emqx1', 'sh']);
    assert.match(users.commands[0]!.stdin!, /sensor-pass/);
    assert.equal(users.commands[1]!.argv[4], '/srv/emqx1/config/mqtt-provision-users', 'the users state stays on the Docker host');
  });

  it('changes nothing when the container, config, cookie, users and REST state all match', () => {
    const first = desiredEmqxContainer(settings(), options, { config: null, usersState: null }, null, seeds());
    const facts = convergedFacts(first);
    const again = desiredEmqxContainer(
      settings(),
      options,
      { config: facts.files['/srv/emqx1/config/emqx.conf']!, usersState: facts.files['/srv/emqx1/config/mqtt-provision-users']! },
      convergedApi(settings()),
      // Another cookie source: only keeping the stored cookie makes emqx.conf identical.
      { generateCookie: () => 'a-different-cookie-000000000', salt: () => Buffer.alloc(12, 7) },
    );
    assert.equal(again.configHash, first.configHash);
    assert.deepEqual(changed(planContainer(facts, again)), []);
  });

  it('recreates on a config change only after the new emqx.conf passed check_config, keeping the volumes', () => {
    const first = desiredEmqxContainer(settings(), options, { config: null, usersState: null }, null, seeds());
    const facts = convergedFacts(first);
    const stored = { config: facts.files['/srv/emqx1/config/emqx.conf']!, usersState: facts.files['/srv/emqx1/config/mqtt-provision-users']! };
    const desired = desiredEmqxContainer(emqxSettings({ listeners: { mqtt: 1883, dashboard: 18083 }, session: { maxQueuedMessages: 5000 }, users: [{ name: 'sensor', password: 'sensor-pass' }] }), options, stored, convergedApi(settings()), seeds());
    const steps = planContainer(facts, desired);
    assert.deepEqual(changed(steps), ['file:/srv/emqx1/config/emqx.conf', 'container:emqx1']);
    const order = steps.map((candidate) => candidate.id);
    assert.ok(order.indexOf('file:/srv/emqx1/config/emqx.conf') < order.indexOf('container:emqx1'));
    const commands = step(steps, 'container:emqx1').commands;
    // The replacement is created (image, limits) and removed before the running one is stopped.
    assert.deepEqual(commands[0]!.argv.slice(0, 2), ['sh', '-c']);
    assert.deepEqual(commands[0]!.argv.slice(4, 6), ['--label', 'mqtt-provision.managed=true']);
    assert.ok(!commands[0]!.argv.includes('--name'));
    assert.deepEqual(commands.slice(1, 3).map((command) => command.argv.join(' ')), ['docker stop --time 30 emqx1', 'docker rm emqx1']);
    assert.ok(!steps.some((candidate) => candidate.commands.some((command) => command.argv.includes('volume') && command.argv.includes('rm'))));
  });

  it('takes the EMQX release from the image tag, else settings.version, and says which field to set', () => {
    assert.equal(emqxVersionOf('emqx:5.8.8', emqxSettings()), '5.8.8');
    assert.equal(emqxVersionOf('registry.example/emqx:custom', emqxSettings({ version: '5.7.2' })), '5.7.2');
    assert.throws(() => emqxVersionOf('registry.example/emqx:custom', emqxSettings()), /set version in the settings/);
  });

  it('refuses a cluster, TLS and BSL-era settings it cannot honour in a container', () => {
    const cluster = emqxSettings({ emqx: { cookie: 'a-shared-cookie-0123456789', cluster: { seeds: ['emqx@a.example', 'emqx@b.example'] } } });
    assert.throws(() => desiredEmqxContainer(cluster, options, { config: null, usersState: null }, null, seeds()), /cluster is supported on SSH hosts only/);
    const tls = emqxSettings({ listeners: { mqtt: 1883, mqtts: 8883 }, tls: { generate: { caDir: '/tmp/mp-unused-ca' } } });
    assert.throws(() => desiredEmqxContainer(tls, options, { config: null, usersState: null }, null, seeds()), /TLS listeners/);
    const durable = emqxSettings({ emqx: { durableSessions: true } });
    assert.throws(() => desiredEmqxContainer(durable, { ...options, image: 'emqx:5.6.1' }, { config: null, usersState: null }, null, seeds()), /durable sessions need EMQX 5.7/);
    assert.throws(() => desiredEmqxContainer(settings(), { ...options, image: 'emqx:5.9.0' }, { config: null, usersState: null }, null, seeds()), /emqx-enterprise/);
  });

  it('knows which EMQX images ship curl, and refuses emqx/emqx before 5.8.5 before anything runs', () => {
    // emqx/emqx is built from deploy/docker/Dockerfile, which installs curl from v5.8.5 ("feat: add
    // cURL to docker image"); Docker's official emqx image downloads EMQX with curl and keeps it.
    assert.equal(emqxImageShipsCurl('emqx/emqx:5.8.6'), true);
    assert.equal(emqxImageShipsCurl('docker.io/emqx/emqx:5.8.5'), true);
    assert.equal(emqxImageShipsCurl('emqx/emqx:5.8.4'), false);
    assert.equal(emqxImageShipsCurl('emqx/emqx:5.7.2'), false);
    assert.equal(emqxImageShipsCurl('emqx:5.7.2'), true);
    assert.equal(emqxImageShipsCurl('registry.example/emqx:custom'), null);
    assert.throws(() => desiredEmqxContainer(settings(), { ...options, image: 'emqx/emqx:5.8.4' }, { config: null, usersState: null }, null, seeds()), /emqx\/emqx:5\.8\.4 has no curl.*5\.8\.5/);
    assert.equal(desiredEmqxContainer(settings(), { ...options, image: 'emqx/emqx:5.8.6' }, { config: null, usersState: null }, null, seeds()).spec.image, 'emqx/emqx:5.8.6');
  });

  it('runs REST scripts only where curl exists, with a message naming the fix', () => {
    const wrapped = inContainer('emqx1', { argv: ['sh', '-s'], stdin: 'echo hi' });
    assert.deepEqual(wrapped.argv.slice(0, 5), ['docker', 'exec', '-i', 'emqx1', 'sh']);
    assert.deepEqual(wrapped.argv.slice(-2), ['sh', '-s']);
    assert.match(wrapped.argv[6]!, /this image has no curl.*emqx:5\.8\.8/);
    assert.equal(wrapped.stdin, 'echo hi');
  });

  it('reads the API facts through one docker exec, and plans every REST step when the image has no curl', async () => {
    const calls: string[][] = [];
    const transport = (curl: boolean): Transport => ({
      label: 'local',
      exec: async (argv): Promise<ExecResult> => {
        calls.push([...argv]);
        // The guard of inContainer, as the image's shell would run it.
        if (!curl) return { code: NO_CURL_EXIT, stdout: '', stderr: 'this image has no curl' };
        return { code: 0, stdout: 'api\treachable\nservice\tok\nlogin\t0\tok\n', stderr: '' };
      },
      start: noStart, close: async () => {},
    });
    assert.equal(await gatherEmqxContainerApi(transport(false), 'emqx1', settings(), null), null);
    assert.equal(calls.length, 1);
    const api = await gatherEmqxContainerApi(transport(true), 'emqx1', settings(), null);
    assert.deepEqual([api!.reachable, api!.serviceLogin, api!.logins], [true, true, { admin: true }]);
    assert.equal(calls.length, 2);
    assert.deepEqual(calls.at(-1)!.slice(0, 5), ['docker', 'exec', '-i', 'emqx1', 'sh']);
    const script = calls.at(-1)!.indexOf('mqtt-provision-exec') + 1;
    assert.deepEqual(calls.at(-1)!.slice(script, script + 2), ['sh', '-s'], 'the fact script runs as sh -s, reading itself from stdin');
  });
});
