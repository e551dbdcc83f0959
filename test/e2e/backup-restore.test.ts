import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { runBackup } from '../../src/cli/backup-command.ts';
import { runRestore } from '../../src/cli/restore-command.ts';
import { ensureLabKey, startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { SshTransport } from '../../src/transport/ssh.ts';
import { hostArgs, install, knownHostsFile, onHost, writeSecretFile } from './support/lab-fixture.ts';
import { drainDistinct, queueForOfflineSubscriber } from './support/offline-queue.ts';

const password = 'backup-admin-secret-4711';
const passwordFile = writeSecretFile(`${password}\n`);
const admin = ['--admin-user', 'admin', '--admin-password-file', passwordFile];
const settingsFile = new URL('../../examples/lab-mosquitto.yaml', import.meta.url).pathname;
const messages = 1000;
const login = { username: 'admin', password };

async function run(command: typeof runBackup, args: string[]): Promise<{ code: number; output: string }> {
  const output: string[] = [];
  const code = await command([...args, '--known-hosts', knownHostsFile], {
    env: {},
    print: (text) => output.push(text),
    printError: (text) => output.push(text),
    connect: (options) => SshTransport.connect(options),
  });
  return { code, output: output.join('\n') };
}

for (const [variant, os] of [['base', 'Debian 12'], ['rhel', 'Rocky 9 (real dnf)']] as const)
describe(`backup and restore keep queued messages on ${os} lab hosts`, () => {
  let hosts: LabHost[];

  before(async () => {
    hosts = await startLabHosts({ count: 2, variant, prefix: `mp-e2e-backup-${variant}` });
  });
  after(async () => {
    if (hosts) await stopLabHosts(hosts.map((host) => host.name));
  });

  it('restores 1000 messages queued for an offline subscriber onto a fresh host', async () => {
    const [source, fresh] = hosts as [LabHost, LabHost];
    const converged = await install([...(await hostArgs(source)), '--settings', settingsFile, ...admin, '--no-verify']);
    assert.equal(converged.code, 0, converged.output);
    const clientId = `mp-e2e-backup-${process.pid}`;
    await queueForOfflineSubscriber(`mqtt://127.0.0.1:${source.ports[1883]}`, login, clientId, 'backup/queued', messages);

    const directory = join(mkdtempSync(join(tmpdir(), 'mp-backup-')), 'backups');
    const backup = await run(runBackup, [...(await hostArgs(source)), '--to', directory]);
    assert.equal(backup.code, 0, backup.output);
    const archives = readdirSync(directory).filter((name) => name.endsWith('.tar.gz'));
    assert.equal(archives.length, 1, backup.output);
    const archive = join(directory, archives[0]!);
    assert.equal(statSync(archive).mode & 0o777, 0o600);
    assert.equal(statSync(directory).mode & 0o777, 0o700);
    const manifest = JSON.parse(readFileSync(archive.replace(/\.tar\.gz$/, '.json'), 'utf8'));
    assert.deepEqual(manifest.paths, ['etc/mosquitto', 'var/lib/mosquitto']);
    assert.match(manifest.packageVersion, /^2\./);
    const tar = gunzipSync(readFileSync(archive));
    assert.ok(tar.includes('var/lib/mosquitto/mosquitto.db'), 'the archive holds the persistence file');
    assert.ok(!tar.includes(password), 'the archive holds password hashes, never the password');

    // The source host goes away: the restore targets a host that has never had Mosquitto.
    await stopLabHosts([source.name]);
    const restore = await run(runRestore, ['--from', archive, '--settings', settingsFile, ...admin, ...(await hostArgs(fresh))]);
    assert.equal(restore.code, 0, restore.output);
    assert.match(restore.output, /restored the data directory/);
    assert.equal(await drainDistinct(`mqtt://127.0.0.1:${fresh.ports[1883]}`, login, clientId, messages), messages);
  });

  // no host is involved: defined once.
  if (variant === 'base') it('refuses an archive that does not match its manifest, touching no host (exit 2)', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mp-backup-bad-'));
    const archive = join(directory, 'x.tar.gz');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(archive, 'not the archive');
    writeFileSync(join(directory, 'x.json'), JSON.stringify({ sha256: '0'.repeat(64) }));
    let connections = 0;
    const code = await runRestore(['--from', archive, '--settings', settingsFile, ...admin, '--host', 'root@127.0.0.1:1', '--identity', await ensureLabKey()], {
      env: {},
      print: () => {},
      printError: () => {},
      connect: async () => {
        connections++;
        throw new Error('no');
      },
    });
    assert.equal(code, 2);
    assert.equal(connections, 0);
  });

  it('a backup of a host without Mosquitto fails naming what is missing (exit 1)', async () => {
    const [, fresh] = hosts as [LabHost, LabHost];
    // Runs alone too: a host whose data directory is gone has nothing to back up.
    await onHost(fresh, ['sh', '-c', 'test -d /var/lib/mosquitto && mv /var/lib/mosquitto /var/lib/mosquitto.aside || true']);
    try {
      const backup = await run(runBackup, [...(await hostArgs(fresh)), '--to', mkdtempSync(join(tmpdir(), 'mp-backup-none-'))]);
      assert.equal(backup.code, 1);
      assert.match(backup.output, /\/var\/lib\/mosquitto does not exist/);
    } finally {
      await onHost(fresh, ['sh', '-c', 'test -d /var/lib/mosquitto.aside && mv /var/lib/mosquitto.aside /var/lib/mosquitto || true']);
    }
  });
});
