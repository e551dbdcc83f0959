// --docker-host ssh://: the install front door converges a container on a Docker host it reaches
// over SSH. The Docker host is a lab host (sshd, systemd) given the docker CLI and this machine's
// engine socket; the config directory is mounted at the same path on both sides, as it would be
// one filesystem on a real Docker host, so the engine mounts what the run wrote over SSH.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { resolveImage, removeContainerTarget } from '../../src/container/converge.ts';
import { runInstall, type InstallEnvironment } from '../../src/cli/install-command.ts';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { SshTransport } from '../../src/transport/ssh.ts';
import { verifyAfterInstall } from '../../src/verify/install-hook.ts';
import { knownHostsFile, writeSecretFile } from './support/lab-fixture.ts';
import { freePort } from './support/free-port.ts';
import { roundTrip } from './support/mqtt-roundtrip.ts';

const name = `mp-e2e-dockerhost-${process.pid}`;
const configRoot = `/var/lib/mqtt-provision/containers/${name}`;
const password = 'docker host "admin" $pass';

async function install(args: string[]): Promise<{ code: number; output: string; errors: string }> {
  const output: string[] = [];
  const errors: string[] = [];
  const environment: InstallEnvironment = {
    env: {},
    print: (text) => output.push(text),
    printError: (text) => errors.push(text),
    connect: (options) => SshTransport.connect(options),
    verify: (target, settings, print, mayRestart) => verifyAfterInstall(target, settings, { print, mayRestart }),
  };
  const code = await runInstall('mosquitto', [...args, '--known-hosts', knownHostsFile], environment);
  return { code, output: output.join('\n'), errors: errors.join('\n') };
}

describe('--docker-host ssh:// (a Docker host reached over SSH)', { timeout: 10 * 60_000 }, () => {
  let host: LabHost;
  let port = 0;
  let image = '';
  let args: string[] = [];

  before(async () => {
    port = await freePort();
    mkdirSync(configRoot, { recursive: true });
    image = await resolveImage(resolveSettings({ broker: 'mosquitto', admins: [{ name: 'admin', password }] }), 'local', false);
    [host] = (await startLabHosts({
      count: 1,
      variant: 'base',
      prefix: `mp-e2e-dh${process.pid}`,
      extraRunArgs: ['--volume', '/var/run/docker.sock:/run/docker.sock', '--volume', '/usr/bin/docker:/usr/bin/docker:ro', '--volume', `${configRoot}:${configRoot}`],
    })) as [LabHost];
    const settingsFile = writeSecretFile(`broker: mosquitto\nlisteners:\n  mqtt: ${port}\n`);
    args = [
      '--docker', '--docker-host', `ssh://root@127.0.0.1:${host.sshPort}`, '--identity', await ensureLabKey(),
      '--image', image, '--container-name', name, '--bind', '127.0.0.1',
      '--settings', settingsFile, '--admin-user', 'admin', '--admin-password-file', writeSecretFile(`${password}\n`),
    ];
  });
  after(async () => {
    await removeContainerTarget(name, { volumes: true });
    if (host) await stopLabHosts([host.name]);
    rmSync(configRoot, { recursive: true, force: true });
  });

  it('converges over SSH, verifies the broker (restart survival included), and a second run changes nothing', async () => {
    const first = await install(args);
    assert.equal(first.code, 0, `${first.output}\n${first.errors}`);
    const label = `docker:${name}@root@127.0.0.1:${host.sshPort}`;
    assert.ok(first.output.includes(`[${label}] changed      container ${name} (absent)`), first.output);
    assert.match(first.output, /PASS +restart survival/);
    assert.equal(await roundTrip(`mqtt://127.0.0.1:${port}`, { username: 'admin', password }), 'hello from mqtt-provision');

    const second = await install([...args, '--json']);
    assert.equal(second.code, 0, second.errors);
    const report = JSON.parse(second.output).hosts[0];
    assert.equal(report.status, 'ok');
    assert.equal(report.host, label);
  });

  it('refuses a tcp:// engine and --image local on a remote host before connecting', async () => {
    const tcp = await install(args.map((arg) => (arg.startsWith('ssh://') ? 'tcp://127.0.0.1:2375' : arg)));
    assert.equal(tcp.code, 2);
    assert.match(tcp.errors, /--docker-host: must be unix:\/\/\/path\/to\/docker.sock or ssh:\/\//);
    const local = await install(args.map((arg) => (arg === image ? 'local' : arg)));
    assert.equal(local.code, 2);
    assert.match(local.errors, /--image: "local" builds on this machine's engine only/);
  });
});

describe('--docker on this machine: the EMQX front door and --docker-host unix://', { timeout: 5 * 60_000 }, () => {
  async function installEmqx(args: string[]) {
    const output: string[] = [];
    const errors: string[] = [];
    const code = await runInstall('emqx', args, { env: {}, print: (text) => output.push(text), printError: (text) => errors.push(text), connect: (options) => SshTransport.connect(options) });
    return { code, output: output.join('\n'), errors: errors.join('\n') };
  }
  const emqxArgs = () => ['--docker', '--container-name', `mp-e2e-emqx-${process.pid}`, '--admin-user', 'admin', '--admin-password-file', writeSecretFile('emqx-dashboard-pass-1\n'), '--bind', '127.0.0.1'];

  it('plans an EMQX container with a dry-run against the real engine, touching nothing (no EMQX image can be pulled here)', async () => {
    const run = await installEmqx([...emqxArgs(), '--dry-run', '--json']);
    assert.equal(run.code, 0, run.errors);
    const report = JSON.parse(run.output).hosts[0];
    assert.equal(report.status, 'changed');
    const ids = report.steps.map((step: { id: string }) => step.id);
    assert.deepEqual(ids.slice(-5), [`container:mp-e2e-emqx-${process.pid}`, 'emqx-account:mqtt_provision', 'emqx-admins', 'emqx-acl', 'emqx-mqtt-users']);
    const spec = report.steps.find((step: { id: string }) => step.id.startsWith('container:')).diff as string;
    assert.match(spec, /"image": "emqx:5\.8\.8"/);
    assert.match(spec, /EMQX_NODE_NAME=emqx@127\.0\.0\.1/);
    const inspect = await new (await import('../../src/transport/local.ts')).LocalTransport().exec(['docker', 'volume', 'inspect', `mp-e2e-emqx-${process.pid}-data`]);
    assert.notEqual(inspect.code, 0, 'a dry-run creates no volume');
  });

  it('passes --docker-host unix:// to the docker CLI: a missing socket fails the run with docker\'s own error', async () => {
    const run = await installEmqx([...emqxArgs(), '--docker-host', 'unix:///nonexistent/docker.sock', '--dry-run', '--json']);
    assert.equal(run.code, 1);
    assert.match(JSON.parse(run.output).hosts[0].error, /Cannot connect to the Docker daemon at unix:\/\/\/nonexistent\/docker\.sock/);
  });
});
