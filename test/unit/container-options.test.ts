import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInstallOptions } from '../../src/cli/install-options.ts';

describe('install flags for the container target', () => {
  it('parses --docker with image, name and bind', () => {
    const options = parseInstallOptions(['--docker', '--image', 'mqtt-provision/mosquitto-local:2.0-abc', '--container-name', 'broker1', '--bind', '127.0.0.1']);
    assert.equal(options.docker, true);
    assert.equal(options.image, 'mqtt-provision/mosquitto-local:2.0-abc');
    assert.equal(options.containerName, 'broker1');
    assert.equal(options.bind, '127.0.0.1');
  });

  it('needs no --host with --docker and binds every interface by default', () => {
    const options = parseInstallOptions(['--docker']);
    assert.equal(options.bind, '0.0.0.0');
    assert.deepEqual(options.hosts, []);
  });

  it('rejects container flags without --docker, hosts with --docker, and bad names', () => {
    assert.throws(() => parseInstallOptions(['--host', 'a', '--bind', '127.0.0.1']), /only apply with --docker/);
    assert.throws(() => parseInstallOptions(['--docker', '--host', 'a']), /leave out --host/);
    assert.throws(() => parseInstallOptions(['--docker', '--container-name', 'bad name']), /--container-name/);
    assert.throws(() => parseInstallOptions(['--docker', '--bind', 'localhost; rm']), /--bind/);
  });

  it('takes memory and CPU limits, and refuses malformed ones naming the flag', () => {
    const options = parseInstallOptions(['--docker', '--memory', '2g', '--cpus', '0.5']);
    assert.equal(options.memory, '2g');
    assert.equal(options.cpus, '0.5');
    assert.throws(() => parseInstallOptions(['--docker', '--memory', '2 GB']), /--memory: must be a size/);
    assert.throws(() => parseInstallOptions(['--docker', '--memory', '4m']), /--memory: must be at least 6m/);
    assert.equal(parseInstallOptions(['--docker', '--memory', '6m']).memory, '6m');
    assert.throws(() => parseInstallOptions(['--docker', '--cpus', '0']), /--cpus: must be a positive number/);
    assert.throws(() => parseInstallOptions(['--host', 'a', '--memory', '1g']), /only apply with --docker/);
  });

  it('keeps the SSH path unchanged', () => {
    const options = parseInstallOptions(['--host', 'root@broker1']);
    assert.equal(options.docker, false);
    assert.deepEqual(options.hosts, ['root@broker1']);
  });
});

describe('--docker-host', () => {
  it('takes a unix socket or ssh://, and refuses tcp:// and anything else naming the allowed forms', async () => {
    const { parseDockerHost } = await import('../../src/container/docker-host.ts');
    assert.deepEqual(parseDockerHost(undefined), { kind: 'local' });
    assert.deepEqual(parseDockerHost('unix:///run/user/1000/docker.sock'), { kind: 'local', socket: '/run/user/1000/docker.sock' });
    assert.deepEqual(parseDockerHost('ssh://deploy@docker1.example:2222'), { kind: 'ssh', spec: { user: 'deploy', host: 'docker1.example', port: 2222 } });
    assert.deepEqual(parseDockerHost('ssh://docker1.example'), { kind: 'ssh', spec: { user: 'root', host: 'docker1.example', port: 22 } });
    assert.throws(() => parseDockerHost('tcp://10.0.0.5:2375'), /--docker-host: must be unix:\/\/\/path\/to\/docker.sock or ssh:\/\/\[user@\]host\[:port\], got "tcp:\/\/10.0.0.5:2375"/);
    assert.throws(() => parseDockerHost('ssh://bad host'), /--docker-host/);
    assert.throws(() => parseInstallOptions(['--host', 'a', '--docker-host', 'unix:///x.sock']), /only apply with --docker/);
    assert.throws(() => parseInstallOptions(['--docker', '--image', 'Bad Image;rm']), /--image: must be an image reference/);
  });
});
