import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { desiredContainer, LABEL_CONFIG_HASH, LABEL_SPEC, type ContainerOptions, type DesiredContainer } from '../../src/container/desired.ts';
import { parseContainerInspect, type ContainerFacts } from '../../src/container/facts.ts';
import { planContainer } from '../../src/container/plan.ts';
import type { Step } from '../../src/operations/step.ts';
import { fixedSalt } from '../fixtures/facts.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

const options: ContainerOptions = {
  name: 'broker', image: 'mqtt-provision/mosquitto-local:2.0-aaa', bind: '127.0.0.1',
  configDir: '/srv/broker/config', memory: '512m', cpus: '1',
};

const absent: ContainerFacts = {
  container: null,
  volumes: { 'broker-data': false, 'broker-log': false },
  files: { '/srv/broker/config/mosquitto.conf': null, '/srv/broker/config/passwd': null, '/srv/broker/config/acl': null },
};

/** The facts Docker would report right after converging `desired`. */
function convergedFacts(desired: DesiredContainer, status = 'running'): ContainerFacts {
  return {
    container: {
      image: desired.spec.image,
      labels: { 'mqtt-provision.managed': 'true', [LABEL_CONFIG_HASH]: desired.configHash, [LABEL_SPEC]: JSON.stringify(desired.spec) },
      status,
      health: 'healthy',
    },
    volumes: { 'broker-data': true, 'broker-log': true },
    files: Object.fromEntries(desired.files.map((file) => [file.path, file.content])),
  };
}

const changed = (steps: Step[]) => steps.filter((step) => step.change).map((step) => step.id);
const argvOf = (steps: Step[], id: string) => steps.find((step) => step.id === id)!.commands.map((command) => command.argv.slice(0, 3).join(' '));

describe('container planner', () => {
  it('refuses to touch a container of that name that mqtt-provision did not create', () => {
    const desired = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const foreign = convergedFacts(desired);
    foreign.container!.labels = { 'com.example.app': 'redis' };
    assert.throws(() => planContainer(foreign, desired), /exists and mqtt-provision did not create it; choose another --container-name/);
  });

  it('creates volumes, config files and the container when nothing exists', () => {
    const desired = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const steps = planContainer(absent, desired);
    assert.deepEqual(changed(steps), [
      'volume:broker-data', 'volume:broker-log', 'directory:/srv/broker/config',
      'file:/srv/broker/config/mosquitto.conf', 'file:/srv/broker/config/passwd', 'file:/srv/broker/config/acl',
      'container:broker',
    ]);
    assert.deepEqual(argvOf(steps, 'container:broker'), ['docker run --detach', 'sh -c i=0; while [ "$i" -lt 60 ]; do s=$(docker inspect -f "{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}" "$1") || exit 1; case "$s" in healthy|running) exit 0;; unhealthy|exited|dead) echo "container $1 is $s" >&2; exit 1;; esac; sleep 1; i=$((i+1)); done; echo "container $1 is not healthy after 60 s" >&2; exit 1']);
    const run = desired.runArgv;
    for (const expected of ['127.0.0.1:1883:1883/tcp', 'broker-data:/var/lib/mosquitto', 'broker-log:/var/log/mosquitto', '/srv/broker/config:/etc/mosquitto:ro', 'unless-stopped', '512m']) {
      assert.ok(run.includes(expected), `docker run has ${expected}: ${run.join(' ')}`);
    }
    assert.ok(run.includes(`${LABEL_CONFIG_HASH}=${desired.configHash}`));
    assert.equal(run.at(-1), options.image);
    // The password file is never shown, even in a dry-run diff.
    const passwd = steps.find((step) => step.id === 'file:/srv/broker/config/passwd')!;
    assert.match(passwd.diff!, /content not shown/);
    assert.doesNotMatch(JSON.stringify(steps.map((step) => step.diff)), /correct horse/);
  });

  it('changes nothing for the same settings, keeping the stored password hashes', () => {
    const first = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const facts = convergedFacts(first);
    // A fresh salt source: only reusing the stored hash makes the file identical.
    const second = desiredContainer(mosquittoSettings(), options, facts.files['/srv/broker/config/passwd']!, () => Buffer.alloc(12, 99));
    assert.equal(second.configHash, first.configHash);
    assert.deepEqual(changed(planContainer(facts, second)), []);
  });

  it('recreates the container, keeping the volumes, when the config changes', () => {
    const first = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const facts = convergedFacts(first);
    const settings = mosquittoSettings({ session: { maxQueuedMessages: 5000 } });
    const steps = planContainer(facts, desiredContainer(settings, options, facts.files['/srv/broker/config/passwd']!, fixedSalt()));
    assert.deepEqual(changed(steps), ['file:/srv/broker/config/mosquitto.conf', 'container:broker']);
    const container = steps.find((step) => step.id === 'container:broker')!;
    assert.match(container.reason, /config changed/);
    assert.deepEqual(argvOf(steps, 'container:broker').slice(0, 3), ['docker stop --time', 'docker rm broker', 'docker run --detach']);
    assert.match(steps.find((step) => step.id === 'file:/srv/broker/config/mosquitto.conf')!.diff!, /-max_queued_messages 100000\n\+max_queued_messages 5000/);
    assert.ok(!steps.some((step) => step.commands.some((command) => command.argv.includes('volume') && command.argv.includes('rm'))));
  });

  it('recreates with the same volumes when only the image tag changes', () => {
    const first = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const facts = convergedFacts(first);
    const desired = desiredContainer(mosquittoSettings(), { ...options, image: 'mqtt-provision/mosquitto-local:2.0-bbb' }, facts.files['/srv/broker/config/passwd']!, fixedSalt());
    const steps = planContainer(facts, desired);
    assert.deepEqual(changed(steps), ['container:broker']);
    const container = steps.find((step) => step.id === 'container:broker')!;
    assert.equal(container.reason, 'recreate: image mqtt-provision/mosquitto-local:2.0-aaa → mqtt-provision/mosquitto-local:2.0-bbb (volumes kept)');
    assert.match(container.diff!, /-  "image": "mqtt-provision\/mosquitto-local:2.0-aaa"/);
    assert.ok(desired.runArgv.includes('broker-data:/var/lib/mosquitto'));
  });

  it('recreates when run options change (bind address) and starts a stopped container', () => {
    const first = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const facts = convergedFacts(first);
    const rebound = desiredContainer(mosquittoSettings(), { ...options, bind: '0.0.0.0' }, facts.files['/srv/broker/config/passwd']!, fixedSalt());
    assert.match(planContainer(facts, rebound).at(-1)!.reason, /run options changed/);
    const stopped = planContainer(convergedFacts(first, 'exited'), first);
    assert.deepEqual(changed(stopped), ['container:broker']);
    assert.deepEqual(argvOf(stopped, 'container:broker')[0], 'docker start broker');
  });

  it('reads the container facts from docker inspect output', () => {
    const state = parseContainerInspect(JSON.stringify([{ Config: { Image: 'img:1', Labels: { a: 'b' } }, State: { Status: 'running', Health: { Status: 'starting' } } }]));
    assert.deepEqual(state, { image: 'img:1', labels: { a: 'b' }, status: 'running', health: 'starting' });
    assert.equal(parseContainerInspect(JSON.stringify([{ Config: { Image: 'x', Labels: null }, State: { Status: 'exited' } }])).health, null);
  });

  it('refuses EMQX: the container target is Mosquitto only', () => {
    assert.throws(() => desiredContainer(mosquittoSettings({ broker: 'emqx' }), options, null), /Mosquitto only/);
  });
});
