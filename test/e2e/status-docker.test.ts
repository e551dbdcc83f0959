import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runInstall } from '../../src/cli/install-command.ts';
import { runStatus } from '../../src/cli/status-command.ts';
import { removeContainerTarget } from '../../src/container/converge.ts';
import { defaultContainerOptions } from '../../src/container/desired.ts';
import { LocalTransport } from '../../src/transport/local.ts';
import { SshTransport } from '../../src/transport/ssh.ts';
import { writeSecretFile } from './support/lab-fixture.ts';

const name = `mp-e2e-status-${process.pid}`;
const admin = ['--admin-user', 'admin', '--admin-password-file', writeSecretFile('status-docker-secret\n')];
const settings = writeSecretFile('broker: mosquitto\nlisteners: { mqtt: 1883 }\n');
const environment = (out: string[]) => ({ env: {}, print: (text: string) => out.push(text), printError: (text: string) => out.push(text), connect: SshTransport.connect });

async function converge(): Promise<void> {
  const out: string[] = [];
  const code = await runInstall('mosquitto', ['--docker', '--image', 'local', '--container-name', name, '--bind', '127.0.0.1', '--settings', settings, ...admin, '--no-verify'], environment(out));
  assert.equal(code, 0, out.join('\n'));
}

async function status(): Promise<{ code: number; target: any; output: string }> {
  const out: string[] = [];
  const code = await runStatus(['--docker', '--container-name', name, '--settings', settings, ...admin, '--json'], environment(out));
  return { code, target: JSON.parse(out.join('\n')).targets[0], output: out.join('\n') };
}

describe('status of a broker container (--docker)', () => {
  after(async () => {
    await removeContainerTarget(name, { volumes: true, configDir: defaultContainerOptions('mosquitto', name).configDir });
  });

  it('reports a converged container as healthy, with its published listener and figures', async () => {
    await converge();
    const { code, target, output } = await status();
    assert.equal(code, 0, output);
    assert.equal(target.target, `docker:${name}`);
    assert.equal(target.service.state, 'running (healthy)');
    assert.deepEqual(target.listeners.missing, []);
    assert.deepEqual(target.drift, []);
    assert.equal(typeof target.figures.connectedClients, 'number');
    assert.ok(target.disk.totalBytes > 0);
  });

  it('reports a hand edit of the mounted config as drift (exit 1)', async () => {
    await converge();
    const configDir = defaultContainerOptions('mosquitto', name).configDir;
    const edit = await new LocalTransport().exec(['sed', '-i', 's/^max_queued_messages .*/max_queued_messages 100/', `${configDir}/mosquitto.conf`]);
    assert.equal(edit.code, 0, edit.stderr);
    const { code, target } = await status();
    assert.equal(code, 1);
    assert.ok(target.drift.length > 0);
    assert.ok(target.problems.some((problem: string) => problem.startsWith('drift:')), target.problems.join('\n'));
  });

  it('reports a stopped container and no figures (exit 1)', async () => {
    await converge();
    await new LocalTransport().exec(['docker', 'stop', '--time', '5', name]);
    const { code, target } = await status();
    assert.equal(code, 1);
    assert.equal(target.service.state, 'exited');
    assert.ok(target.problems.includes('the container is exited'), target.problems.join('\n'));
    assert.equal(target.figures, null);
  });
});
