import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABEL_CONFIG_HASH, LABEL_SPEC, type ContainerOptions, type DesiredContainer } from '../../src/container/desired.ts';
import { desiredMosquittoContainer, HEALTH_USER } from '../../src/container/mosquitto-container.ts';
import { parseContainerInspect, parseMountIdentities, type ContainerFacts } from '../../src/container/facts.ts';
import { planContainerAbsent } from '../../src/container/plan-absent.ts';
import { planContainer, reloadPendingMarker, restartPendingMarker } from '../../src/container/plan.ts';
import { waitHealthy } from '../../src/container/wait-healthy.ts';
import type { Step } from '../../src/operations/step.ts';
import { fixedSalt } from '../fixtures/facts.ts';
import { seededSalt } from '../../src/brokers/prepared.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

/** A fixed health password: the planner is fed what a converged config directory would hold. */
const healthPassword = 'ab'.repeat(16);
const desiredContainer = (settings: Parameters<typeof desiredMosquittoContainer>[0], containerOptions: ContainerOptions, passwd: string | null, salt: (name: string) => Buffer = seededSalt()) =>
  desiredMosquittoContainer(settings, containerOptions, passwd, salt, { stored: null, generate: () => healthPassword });

const options: ContainerOptions = {
  name: 'broker', image: 'mqtt-provision/mosquitto-local:2.0-aaa', bind: '127.0.0.1',
  configDir: '/srv/broker/config', memory: '512m', cpus: '1',
};

const absent: ContainerFacts = {
  container: null,
  volumes: { 'broker-data': null, 'broker-log': null },
  files: { '/srv/broker/config/mosquitto.conf': null, '/srv/broker/config/passwd': null, '/srv/broker/config/acl': null, [reloadPendingMarker('/srv/broker/config')]: null },
  directories: {},
  replacedMounts: [],
  hostCpus: 2,
};

/** The facts Docker would report right after converging `desired`. */
function convergedFacts(desired: DesiredContainer, status = 'running'): ContainerFacts {
  return {
    container: {
      image: desired.spec.image,
      labels: { 'mqtt-provision.managed': 'true', [LABEL_CONFIG_HASH]: desired.configHash, [LABEL_SPEC]: JSON.stringify(desired.spec) },
      status,
      health: 'healthy',
      pid: status === 'running' ? 4242 : 0,
      binds: [],
    },
    volumes: { 'broker-data': { managed: true }, 'broker-log': { managed: true } },
    files: { ...Object.fromEntries(desired.files.map((file) => [file.path, file.content])), [reloadPendingMarker(desired.configDir)]: null },
    directories: { [desired.configDir]: true },
    replacedMounts: [],
    hostCpus: 2,
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
      'file:/srv/broker/config/mosquitto.conf', 'file:/srv/broker/config/passwd', 'file:/srv/broker/config/acl', 'file:/srv/broker/config/mosquitto_pub',
      'container:broker',
    ]);
    assert.deepEqual(argvOf(steps, 'container:broker'), ['docker run --detach', waitHealthy('broker').argv.slice(0, 3).join(' '), 'rm -f /srv/broker/config/.mqtt-provision-reload-pending']);
    assert.deepEqual(steps.find((step) => step.id === 'container:broker')!.commands[1]!.argv.slice(-2), ['broker', '60']);
    const run = desired.runArgv;
    // The official eclipse-mosquitto layout, which the local test image copies.
    for (const expected of ['127.0.0.1:1883:1883/tcp', 'broker-data:/mosquitto/data', 'broker-log:/mosquitto/log', '/srv/broker/config:/mosquitto/config:ro', 'unless-stopped', '512m']) {
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
    assert.deepEqual(argvOf(steps, 'container:broker').slice(1, 4), ['docker stop --time', 'docker rm broker', 'docker run --detach']);
    const check = steps.find((step) => step.id === 'container:broker')!.commands[0]!.argv;
    assert.match(check[2]!, /^id=\$\(docker create "\$@"\)/);
    assert.equal(check.at(-1), first.spec.image);
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
    assert.ok(desired.runArgv.includes('broker-data:/mosquitto/data'));
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
    assert.deepEqual(state, { image: 'img:1', labels: { a: 'b' }, status: 'running', health: 'starting', pid: 0, binds: [] });
    assert.equal(parseContainerInspect(JSON.stringify([{ Config: { Image: 'x', Labels: null }, State: { Status: 'exited' } }])).health, null);
  });

  it('renders for the image: no pid file, paths under /mosquitto, secrets 0600 owned by uid 1883, an MQTT-level healthcheck', () => {
    const desired = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const conf = desired.files.find((file) => file.path.endsWith('mosquitto.conf'))!;
    assert.doesNotMatch(conf.content, /pid_file/);
    assert.match(conf.content, /^password_file \/mosquitto\/config\/passwd$/m);
    assert.match(conf.content, /^persistence_location \/mosquitto\/data\/$/m);
    const passwd = desired.files.find((file) => file.path.endsWith('passwd'))!;
    assert.deepEqual([passwd.owner, passwd.group, passwd.mode], ['1883', '1883', '0600']);
    const health = desired.runArgv[desired.runArgv.indexOf('--health-cmd') + 1];
    // A real login as the health user, whose password is only in the 0600 options file mosquitto_pub reads.
    assert.equal(health, 'XDG_CONFIG_HOME=/mosquitto/config mosquitto_pub -h 127.0.0.1 -p 1883 -t mqtt-provision/health -m ok -q 1');
    assert.ok(!desired.runArgv.join(' ').includes(healthPassword), 'no password in docker run');
    const options_ = desired.files.find((file) => file.path.endsWith('/mosquitto_pub'))!;
    assert.deepEqual([options_.content, options_.mode, options_.secret], [`-u ${HEALTH_USER}\n-P ${healthPassword}\n`, '0600', true]);
    assert.match(passwd.content, new RegExp(`^${HEALTH_USER}:\\$7\\$`, 'm'));
    assert.match(desired.files.find((file) => file.path.endsWith('/acl'))!.content, new RegExp(`user ${HEALTH_USER}\n$`));
    assert.match(conf.content, /^# Logs go to stderr, which Docker keeps: `docker logs broker`\.$/m);
  });

  it('sends SIGHUP instead of recreating when only users or ACL change, and keeps clients connected', () => {
    const first = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const facts = convergedFacts(first);
    const withUser = mosquittoSettings({ users: [{ name: 'sensor', password: 'sensor pass' }] });
    const desired = desiredContainer(withUser, options, facts.files['/srv/broker/config/passwd']!, fixedSalt());
    assert.equal(desired.configHash, first.configHash, 'users are not part of the recreate hash');
    const steps = planContainer(facts, desired);
    assert.deepEqual(changed(steps), ['reload-pending', 'file:/srv/broker/config/passwd', 'file:/srv/broker/config/acl', 'reload']);
    const reload = steps.find((step) => step.id === 'reload')!.commands;
    assert.deepEqual([reload[0]!.argv.join(' '), reload[2]!.argv.join(' ')], [
      'docker kill --signal HUP broker',
      'rm -f /srv/broker/config/.mqtt-provision-reload-pending /srv/broker/config/.mqtt-provision-restart-pending',
    ]);
    // The healthcheck's login, run at once in the container: a passwd the broker could not re-read fails the step.
    assert.deepEqual(reload[1]!.argv.slice(4), ['docker', 'exec', 'broker', 'sh', '-c', desired.spec.healthcheck![1]!]);
    assert.ok(steps.findIndex((step) => step.id === 'reload-pending') < steps.findIndex((step) => step.id === 'file:/srv/broker/config/passwd'));
  });

  it('signals a broker that an interrupted run left unsignalled, and never a stopped one', () => {
    const desired = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const interrupted = convergedFacts(desired);
    interrupted.files[reloadPendingMarker('/srv/broker/config')] = '';
    const steps = planContainer(interrupted, desired);
    assert.deepEqual(changed(steps), ['reload']);
    assert.match(steps.find((step) => step.id === 'reload')!.reason, /stopped before signalling/);

    const stopped = convergedFacts(desired, 'exited');
    const withUser = desiredContainer(mosquittoSettings({ users: [{ name: 'sensor', password: 'sensor pass' }] }), options, stopped.files['/srv/broker/config/passwd']!, fixedSalt());
    assert.deepEqual(changed(planContainer(stopped, withUser)), ['file:/srv/broker/config/passwd', 'file:/srv/broker/config/acl', 'container:broker']);
  });

  it('refuses TLS listeners with --docker', () => {
    assert.throws(() => desiredContainer(mosquittoSettings({ listeners: { mqtt: 1883, mqtts: 8883 }, tls: { generate: { caDir: '/tmp/mp-unused-ca' } } }), options, null), /TLS listeners/);
  });

  it('state absent: stops and removes the container and its config, keeps the volumes unless purgeData, and refuses a foreign container', () => {
    const desired = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const facts = convergedFacts(desired);
    const target = { name: 'broker', configDir: '/srv/broker/config', volumeNames: ['broker-data', 'broker-log'], purgeData: false };
    const steps = planContainerAbsent(facts, target);
    assert.deepEqual(changed(steps), ['container:broker', 'directory:/srv/broker/config']);
    assert.deepEqual(steps[0]!.commands.map((command) => command.argv.join(' ')), ['docker stop --time 30 broker', 'docker rm broker']);
    assert.match(steps.find((step) => step.id === 'volume:broker-data')!.reason, /kept/);
    assert.deepEqual(changed(planContainerAbsent(facts, { ...target, purgeData: true })), ['container:broker', 'directory:/srv/broker/config', 'volume:broker-data', 'volume:broker-log']);
    assert.deepEqual(changed(planContainerAbsent(absent, target)), []);
    const foreign = convergedFacts(desired);
    foreign.container!.labels = {};
    assert.throws(() => planContainerAbsent(foreign, target), /did not create it; it is left alone/);
  });

  it('restarts a running container whose mosquitto.conf was edited by hand (the label still matches), with a marker for an interrupted run', () => {
    const desired = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const edited = convergedFacts(desired);
    edited.files['/srv/broker/config/mosquitto.conf'] = edited.files['/srv/broker/config/mosquitto.conf']!.replace('max_queued_messages 100000', 'max_queued_messages 100');
    const steps = planContainer(edited, desired);
    assert.deepEqual(changed(steps), ['restart-pending', 'file:/srv/broker/config/mosquitto.conf', 'container:broker']);
    assert.match(steps.find((step) => step.id === 'container:broker')!.reason, /^restart: mosquitto\.conf differs from what it was rendered as$/);
    assert.deepEqual(argvOf(steps, 'container:broker'), ['docker restart --time', waitHealthy('broker').argv.slice(0, 3).join(' '), 'rm -f /srv/broker/config/.mqtt-provision-reload-pending']);
    const interrupted = convergedFacts(desired);
    interrupted.files[restartPendingMarker('/srv/broker/config')] = '';
    assert.deepEqual(changed(planContainer(interrupted, desired)), ['container:broker']);
    // A stopped container reads the files when started: no restart step, no marker.
    const stopped = convergedFacts(desired, 'exited');
    stopped.files['/srv/broker/config/mosquitto.conf'] = 'edited';
    assert.deepEqual(changed(planContainer(stopped, desired)), ['file:/srv/broker/config/mosquitto.conf', 'container:broker']);
  });

  it('restarts instead of signalling when the mounted config directory was replaced, and recreates the directory first', () => {
    const desired = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const replaced = convergedFacts(desired);
    replaced.replacedMounts = ['/mosquitto/config'];
    assert.deepEqual(changed(planContainer(replaced, desired)), ['container:broker']);
    const deleted: ContainerFacts = { ...convergedFacts(desired), replacedMounts: ['/mosquitto/config'], directories: {} };
    for (const file of desired.files) deleted.files[file.path] = null;
    const steps = planContainer(deleted, desired);
    assert.equal(changed(steps)[0], 'directory:/srv/broker/config');
    assert.equal(changed(steps).at(-1), 'container:broker');
    assert.ok(!changed(steps).includes('reload'), 'no SIGHUP into the detached directory');
    assert.match(steps.find((step) => step.id === 'container:broker')!.reason, /the directory mounted at \/mosquitto\/config was replaced/);
  });

  it('tells replaced mounts from device:inode pairs, ignoring ones it could not read', () => {
    const binds = [{ source: '/a', destination: '/x' }, { source: '/b', destination: '/y' }, { source: '/c', destination: '/z' }];
    assert.deepEqual(parseMountIdentities(binds, '64:10 64:10\nmissing 64:11\n64:12 unknown\n'), ['/y']);
    assert.deepEqual(parseMountIdentities(binds, '64:10 64:99\n'), ['/x']);
  });

  it('refuses volumes without our label and --cpus above the Docker host', () => {
    const desired = desiredContainer(mosquittoSettings(), options, null, fixedSalt());
    const foreign = convergedFacts(desired);
    foreign.volumes['broker-data'] = { managed: false };
    assert.throws(() => planContainer(foreign, desired), /volume broker-data exists without the mqtt-provision\.managed label/);
    const target = { name: 'broker', configDir: '/srv/broker/config', volumeNames: ['broker-data', 'broker-log'], purgeData: true };
    assert.throws(() => planContainerAbsent(foreign, target), /purgeData will not remove it/);
    const kept = planContainerAbsent(foreign, { ...target, purgeData: false });
    assert.match(kept.find((step) => step.id === 'volume:broker-data')!.reason, /not created by mqtt-provision; left alone/);
    assert.match(kept.find((step) => step.id === 'volume:broker-log')!.reason, /^kept \(the broker's log directory/);
    const big = desiredContainer(mosquittoSettings(), { ...options, cpus: '4' }, null, fixedSalt());
    assert.throws(() => planContainer(convergedFacts(desired), big), /--cpus 4 is more than the 2 CPUs of the Docker host/);
  });

  it('state absent removes an empty config directory and the parent named after the container', () => {
    const named = { name: 'broker', configDir: '/srv/broker/config', volumeNames: ['broker-data', 'broker-log'], purgeData: false };
    const empty: ContainerFacts = { ...absent, directories: { '/srv/broker/config': true } };
    const steps = planContainerAbsent(empty, named);
    assert.deepEqual(changed(steps), ['directory:/srv/broker/config']);
    assert.deepEqual(steps[1]!.commands.map((command) => command.argv.at(-1)), ['/srv/broker/config', '/srv/broker']);
    const other = planContainerAbsent({ ...absent, directories: { '/srv/shared/config': true } }, { ...named, configDir: '/srv/shared/config' });
    assert.deepEqual(other[1]!.commands.map((command) => command.argv.join(' ')), ['rm -rf -- /srv/shared/config'], 'a parent not named after the container is not ours');
  });
});
