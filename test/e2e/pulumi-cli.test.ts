// End to end through the real Pulumi engine: `pulumi preview/up/refresh/destroy` (the CLI from
// scripts/pulumi-cli.sh) run index.ts on the `lab` stack over two lab hosts, with a file backend in a
// temp directory. The stack file is a copy of stacks/Pulumi.lab.yaml: what docs/pulumi.md's quick
// start runs. Host checks use `docker exec`, so they never count as an SSH login.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { parse, stringify } from 'yaml';
import { $ } from 'zx';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { writeInventory } from '../../src/settings/lab-inventory.ts';
import { InputErrors } from '../../src/settings/input-error.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { connectOutcome, roundTrip } from './support/mqtt-roundtrip.ts';
import { createProject, pulumiPath, repoRoot, tempRoot, type PulumiProject } from './support/pulumi-project.ts';

// The first run may build the CLI (Go) and the lab image (debootstrap); later runs hit both caches.
const LIFECYCLE_TIMEOUT = 90 * 60_000;
const passphrase = `e2e ${randomBytes(12).toString('base64url')}`;

/** Runs a shell command in a lab container (not over SSH) and returns stdout; `nothrow` keeps failures. */
async function onHost(host: LabHost, script: string): Promise<{ code: number; stdout: string }> {
  const result = await $({ nothrow: true, quiet: true })`docker exec ${host.container} sh -c ${script}`;
  return { code: result.exitCode ?? 1, stdout: result.stdout };
}

async function sshLogins(host: LabHost): Promise<number> {
  return Number((await onHost(host, 'journalctl --no-pager -o cat | grep -c "Accepted publickey" || true')).stdout.trim());
}

async function installed(host: LabHost): Promise<boolean> {
  return (await onHost(host, "dpkg-query -W -f '${Status}' mosquitto")).stdout.includes('install ok installed');
}

async function sha256On(host: LabHost, path: string): Promise<string> {
  return (await onHost(host, `sha256sum ${path} | cut -d' ' -f1`)).stdout.trim();
}

interface ExportedResource {
  type: string;
  urn: string;
  outputs?: Record<string, unknown>;
}

async function installations(project: PulumiProject): Promise<ExportedResource[]> {
  const exported = JSON.parse((await project.ok(['stack', 'export'])).stdout) as { deployment: { resources?: ExportedResource[] } };
  return (exported.deployment.resources ?? []).filter((resource) => resource.urn.endsWith('-installation'));
}

/** Subscribes with a persistent session (clean: false), then goes offline: the broker queues for it. */
async function persistentSubscriber(url: string, credentials: { username: string; password: string }, clientId: string, topic: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { ...credentials, clientId, clean: false, reconnectPeriod: 0, connectTimeout: 10_000 });
  await client.subscribeAsync(topic, { qos: 1 });
  await client.endAsync();
}

async function publish(url: string, credentials: { username: string; password: string }, topic: string, payloads: string[]): Promise<void> {
  const client = await mqtt.connectAsync(url, { ...credentials, reconnectPeriod: 0, connectTimeout: 10_000 });
  for (const payload of payloads) await client.publishAsync(topic, payload, { qos: 1 });
  await client.endAsync();
}

/** Reconnects the persistent session and collects what was queued for it, until `count` arrive (bounded). */
async function drain(url: string, credentials: { username: string; password: string }, clientId: string, count: number): Promise<string[]> {
  const received: string[] = [];
  const client = mqtt.connect(url, { ...credentials, clientId, clean: false, reconnectPeriod: 0, connectTimeout: 10_000 });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received.length} of ${count} queued messages arrived within 20 s`)), 20_000);
      client.on('message', (_topic, payload) => {
        received.push(payload.toString());
        if (received.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      });
      client.on('error', reject);
    });
    return received;
  } finally {
    await client.endAsync();
  }
}

describe('pulumi CLI on the lab stack', () => {
  const hosts: LabHost[] = [];
  after(async () => {
    await stopLabHosts(hosts.map((host) => host.container));
  });

  it('preview, up, no-op up, settings update, drift, secrets in the state, a moved checkout and destroy, on two lab hosts', { timeout: LIFECYCLE_TIMEOUT }, async (t) => {
    const log = (message: string) => t.diagnostic(message);
    pulumiPath();
    const root = tempRoot('pulumi-cli');
    const project = await createProject(root, passphrase);
    const started = await startLabHosts({ count: 2, variant: 'base', prefix: `e2e-pulumi-cli-${process.pid}`, keyDir: join(project.dir, '.lab') });
    hosts.push(...started);
    await writeInventory({ keyPath: join(project.dir, '.lab', 'id_ed25519'), hosts: started }, join(project.dir, '.lab', 'inventory.json'));
    const adminPassword = `adm ${randomBytes(12).toString('base64url')}`;
    writeFileSync(join(project.dir, '.lab', 'admin.pw'), `${adminPassword}\n`, { mode: 0o600 });
    const admin = { username: 'admin', password: adminPassword };
    copyFileSync(join(repoRoot, 'stacks', 'Pulumi.lab.yaml'), join(project.dir, 'stacks', 'Pulumi.lab.yaml'));
    await project.ok(['stack', 'init', 'lab']);
    const names = started.map((host) => host.name);
    const url = (host: LabHost) => `mqtt://127.0.0.1:${host.ports[1883]}`;

    // preview --diff: both creates listed, no host contacted, nothing installed.
    const loginsBefore = await Promise.all(started.map(sshLogins));
    const preview = await project.ok(['preview', '--diff']);
    for (const name of names) {
      assert.match(preview.stdout, new RegExp(`\\+ mqtt-provision:index:MqttBrokerHost: \\(create\\)[\\s\\S]*${name}`), preview.stdout);
      assert.match(preview.stdout, new RegExp(`\\+ pulumi-nodejs:dynamic:MqttBrokerHostInstallation: \\(create\\)[\\s\\S]*${name}-installation`), preview.stdout);
    }
    assert.match(preview.stdout, /\+ 5 to create/);
    // Paths inside the project go into the state relative to it (see the moved-checkout step).
    assert.match(preview.stdout, /privateKeyPath\s*: "\.lab\/id_ed25519"/);
    assert.match(preview.stdout, /knownHostsPath\s*: "\.lab\/known_hosts"/);
    assert.deepEqual(await Promise.all(started.map(sshLogins)), loginsBefore, 'preview logged in to a host');
    for (const host of started) assert.equal(await installed(host), false, `${host.name}: preview installed mosquitto`);

    // up: both converge; authenticated publish/subscribe on each, anonymous refused.
    const cold = await project.ok(['up', '--yes']);
    log(`pulumi up (cold, two hosts): ${(cold.ms / 1000).toFixed(1)} s`);
    for (const host of started) {
      assert.equal(await installed(host), true, `${host.name}: mosquitto not installed`);
      assert.equal(await roundTrip(url(host), admin), 'hello from mqtt-provision');
      assert.equal(await connectOutcome(url(host), {}), 'refused 5');
    }
    const outputs = JSON.parse((await project.ok(['stack', 'output', 'brokers', '--json'])).stdout) as Record<string, { version: string; listeners: Record<string, number> }>;
    assert.deepEqual(Object.keys(outputs).sort(), [...names].sort());
    for (const name of names) {
      assert.match(outputs[name]!.version, /^2\.0\.\d+/);
      assert.deepEqual(outputs[name]!.listeners, { mqtt: 1883, websocket: 8083 });
    }

    // A second up has nothing to do.
    const noop = await project.ok(['up', '--yes', '--expect-no-changes']);
    log(`pulumi up (no changes, two hosts): ${(noop.ms / 1000).toFixed(1)} s`);

    // The state holds the admin password only encrypted.
    const exported = (await project.ok(['stack', 'export'])).stdout;
    for (const form of [adminPassword, Buffer.from(adminPassword).toString('base64'), Buffer.from(adminPassword).toString('base64url')]) {
      assert.equal(exported.includes(form), false, 'the admin password is readable in the state');
    }
    assert.match(exported, /"ciphertext"/);

    // A settings change updates only the installations, and only the file it concerns; messages
    // queued for an offline persistent subscriber before the update arrive after it.
    const stackFile = join(project.dir, 'stacks', 'Pulumi.lab.yaml');
    const stack = parse(readFileSync(stackFile, 'utf8')) as { config: Record<string, { session: { maxQueuedMessages: number } }> };
    stack.config['mqtt-provision:settings']!.session.maxQueuedMessages = 150000;
    writeFileSync(stackFile, stringify(stack));
    const topic = `e2e/pulumi/${process.pid}`;
    const queued = Array.from({ length: 20 }, (_, index) => `queued ${index}`);
    for (const host of started) {
      await persistentSubscriber(url(host), admin, `offline-${process.pid}`, topic);
      await publish(url(host), admin, topic, queued);
    }
    const passwdBefore = await Promise.all(started.map((host) => sha256On(host, '/etc/mosquitto/passwd')));
    const plan = JSON.parse((await project.ok(['preview', '--json'])).stdout) as { steps: Array<{ op: string; urn: string }> };
    const changing = plan.steps.filter((step) => step.op !== 'same');
    assert.deepEqual(changing.map((step) => step.op), ['update', 'update'], JSON.stringify(changing));
    assert.ok(changing.every((step) => step.urn.endsWith('-installation')), JSON.stringify(changing));
    await project.ok(['up', '--yes']);
    for (const [index, host] of started.entries()) {
      assert.match((await onHost(host, 'cat /etc/mosquitto/mosquitto.conf')).stdout, /^max_queued_messages 150000$/m);
      assert.equal(await sha256On(host, '/etc/mosquitto/passwd'), passwdBefore[index], `${host.name}: passwd rewritten`);
      assert.deepEqual((await drain(url(host), admin, `offline-${process.pid}`, queued.length)).sort(), [...queued].sort());
    }

    // A config file edited by hand shows as drift in refresh; the next up repairs it.
    const [edited, untouched] = started as [LabHost, LabHost];
    await onHost(edited, "echo '# edited by hand' >> /etc/mosquitto/mosquitto.conf");
    await project.ok(['refresh', '--yes']);
    const refreshed = await installations(project);
    const hashOf = (name: string) => String(refreshed.find((resource) => resource.urn.endsWith(`${name}-installation`))?.outputs?.configHash);
    assert.match(hashOf(edited.name), /^drifted: .*file:\/etc\/mosquitto\/mosquitto\.conf/);
    assert.match(hashOf(untouched.name), /^[0-9a-f]{64}$/);
    await project.ok(['up', '--yes']);
    assert.doesNotMatch((await onHost(edited, 'cat /etc/mosquitto/mosquitto.conf')).stdout, /edited by hand/);
    await project.ok(['preview', '--expect-no-changes']);

    // The checkout moves: the state's provider and paths follow the project, not the old directory.
    project.moveTo(join(root, 'moved-project'));
    await project.ok(['stack', 'select', 'lab']);
    await project.ok(['refresh', '--yes', '--expect-no-changes']);
    await project.ok(['destroy', '--yes']);
    for (const host of started) {
      assert.equal(await installed(host), false, `${host.name}: mosquitto still installed after destroy`);
      assert.notEqual((await onHost(host, 'systemctl is-active mosquitto')).stdout.trim(), 'active');
    }
    assert.deepEqual(await installations(project), []);
    // Kept when a step fails: the state and the project copy are what one looks at then.
    rmSync(root, { recursive: true, force: true });
  });

  it('bad stack config fails preview with the settings file message, before any host is contacted', { timeout: 30 * 60_000 }, async () => {
    pulumiPath();
    const root = tempRoot('pulumi-bad');
    const project = await createProject(root, passphrase);
    // A listener standing in for a host: any SSH attempt would show up as a connection.
    let connections = 0;
    const listener = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const port = (listener.address() as net.AddressInfo).port;
      writeFileSync(join(project.dir, 'id_ed25519'), 'only has to exist\n');
      const settings = { broker: 'mosquitto', listeners: { mqtt: 1883 }, session: { maxQueuedMessages: 0 }, colour: 'blue', admins: [{ name: 'admin', password: 'long enough password' }] };
      const stackFile = { config: { 'mqtt-provision:deployment': 'hosts', 'mqtt-provision:hosts': [{ name: 'broker-1', address: '127.0.0.1', port, privateKeyPath: 'id_ed25519' }], 'mqtt-provision:settings': settings } };
      writeFileSync(join(project.dir, 'stacks', 'Pulumi.lab.yaml'), stringify(stackFile));
      await project.ok(['stack', 'init', 'lab']);
      const expected = (() => {
        try {
          resolveSettings(settings);
        } catch (error) {
          assert.ok(error instanceof InputErrors);
          return error.errors.map((entry) => entry.message);
        }
        return assert.fail('the settings were meant to be invalid');
      })();
      assert.ok(expected.length >= 2, expected.join('\n'));
      const preview = await project.run(['preview']);
      assert.notEqual(preview.code, 0);
      const output = preview.stdout + preview.stderr;
      assert.match(output, /invalid config in stacks\/Pulumi\.lab\.yaml/);
      for (const message of expected) assert.ok(output.includes(message), `missing "${message}" in:\n${output}`);
      assert.equal(connections, 0);
      rmSync(root, { recursive: true, force: true });
    } finally {
      listener.close();
    }
  });
});

