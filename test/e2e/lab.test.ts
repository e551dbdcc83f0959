// End-to-end check that lab hosts behave like real servers: key-only SSH, sudo for
// deploy, a booted systemd, a working package mirror, and firewalld in its variant.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { NodeSSH } from 'node-ssh';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';

// The first run builds the image with debootstrap; later runs hit the cache.
const SETUP_TIMEOUT = 15 * 60_000;

async function connect(host: LabHost, username: string, auth: { privateKeyPath: string } | { password: string }): Promise<NodeSSH> {
  return new NodeSSH().connect({ host: host.address, port: host.sshPort, username, readyTimeout: 15_000, ...auth });
}

/** First line of an HTTP reply through a published port, or '' if the connection yields nothing. */
function httpStatusLine(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port }, () => sock.write('GET / HTTP/1.0\r\n\r\n'));
    let buf = '';
    const done = () => { sock.destroy(); resolve(buf.split('\r\n')[0] ?? ''); };
    sock.setTimeout(5000, done);
    sock.on('data', (d) => { buf += d.toString('latin1'); if (buf.includes('\r\n')) done(); });
    sock.on('error', done);
    sock.on('close', done);
  });
}

async function run(ssh: NodeSSH, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return ssh.execCommand(command);
}

describe('lab host (base variant)', () => {
  const prefix = `e2e-lab-base-${process.pid}`;
  let host: LabHost;
  let keyPath: string;
  let root: NodeSSH;

  before(async () => {
    keyPath = await ensureLabKey();
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix })) as [LabHost];
    root = await connect(host, 'root', { privateKeyPath: keyPath });
  }, { timeout: SETUP_TIMEOUT });

  after(async () => {
    root?.dispose();
    // The started name, which carries MQTT_LAB_SUFFIX when it is set.
    if (host) await stopLabHosts([host.name]);
  });

  it('is reachable only through 127.0.0.1 port mappings', () => {
    assert.equal(host.address, '127.0.0.1');
    assert.ok(host.sshPort > 0 && host.ports[22] === host.sshPort);
    for (const p of [1883, 8083, 8883, 18083]) assert.ok(host.ports[p], `container port ${p} is published`);
  });

  it('accepts root with the lab key and reports its hostname', async () => {
    const r = await run(root, 'id -u && hostname');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n'), ['0', host.name]);
  });

  it('refuses password logins', async () => {
    await assert.rejects(connect(host, 'root', { password: 'root' }), /authentication/i);
  });

  it('lets deploy use sudo without a password', async () => {
    const deploy = await connect(host, 'deploy', { privateKeyPath: keyPath });
    try {
      const who = await run(deploy, 'id -un');
      assert.equal(who.stdout.trim(), 'deploy');
      const sudo = await run(deploy, 'sudo -n true && sudo -n id -u');
      assert.equal(sudo.code, 0, sudo.stderr);
      assert.equal(sudo.stdout.trim(), '0');
    } finally {
      deploy.dispose();
    }
  });

  it('has systemd booted as PID 1', async () => {
    const r = await run(root, 'systemctl is-system-running; cat /proc/1/comm');
    const [state, pid1] = r.stdout.split('\n');
    assert.match(state ?? '', /^(running|degraded)$/, `systemd state: ${r.stdout} ${r.stderr}`);
    assert.equal(pid1, 'systemd');
  });

  it('reaches the Debian mirror with apt', { timeout: 180_000 }, async () => {
    // --error-on=any: plain apt-get update exits 0 even when every source failed.
    const update = await run(root, 'DEBIAN_FRONTEND=noninteractive apt-get update --error-on=any');
    assert.equal(update.code, 0, update.stderr || update.stdout);
    const policy = await run(root, 'apt-cache policy mosquitto');
    assert.match(policy.stdout, /Candidate: (?!\(none\))\S+/, policy.stdout);
  });
});

describe('lab host (firewalld variant)', () => {
  const prefix = `e2e-lab-fw-${process.pid}`;
  let host: LabHost;
  let root: NodeSSH;

  before(async () => {
    const keyPath = await ensureLabKey();
    [host] = (await startLabHosts({ count: 1, variant: 'firewalld', prefix, publish: [1883] })) as [LabHost];
    root = await connect(host, 'root', { privateKeyPath: keyPath });
  }, { timeout: SETUP_TIMEOUT });

  after(async () => {
    root?.dispose();
    // The started name, which carries MQTT_LAB_SUFFIX when it is set.
    if (host) await stopLabHosts([host.name]);
  });

  it('runs firewalld', async () => {
    const r = await run(root, 'firewall-cmd --state');
    assert.equal(r.stdout.trim(), 'running', r.stderr);
  });

  it('keeps ssh allowed in the default zone', async () => {
    const zone = (await run(root, 'firewall-cmd --get-default-zone')).stdout.trim();
    const services = (await run(root, `firewall-cmd --zone=${zone} --list-services`)).stdout.trim().split(/\s+/);
    assert.ok(services.includes('ssh'), `services in ${zone}: ${services.join(' ')}`);
  });

  it('blocks a listening port until it is opened', async () => {
    // Behavioural, not a config read: the same request fails, then succeeds once allowed.
    await run(root, 'systemd-run --unit=lab-probe-http python3 -m http.server 1883');
    const listening = await run(root, 'for i in $(seq 50); do ss -ltn | grep -q ":1883 " && exit 0; sleep 0.1; done; exit 1');
    assert.equal(listening.code, 0, 'probe server did not start');
    assert.equal(await httpStatusLine(host.ports[1883]!), '', 'port 1883 answered while closed');
    const add = await run(root, 'firewall-cmd --add-port=1883/tcp');
    assert.equal(add.code, 0, add.stderr);
    assert.match(await httpStatusLine(host.ports[1883]!), /^HTTP\/1\.\d 200/);
  });
});
