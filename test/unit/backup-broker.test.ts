import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { brokerBackup } from '../../src/brokers/backup.ts';
import { backupBroker, parseBackupOptions, runBackup } from '../../src/cli/backup-command.ts';
import { runRestore } from '../../src/cli/restore-command.ts';
import { InputError } from '../../src/settings/input-error.ts';

/** backup.mts and restore.mts pick the broker's backup; what they cannot do is refused with exit 2, before any host. */

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'backup-broker-'));
}

function environment() {
  const printed: string[] = [];
  let connects = 0;
  return {
    printed,
    connects: () => connects,
    env: { MQTT_ADMIN_PASSWORD: 'correct-horse-1' },
    print: (text: string) => printed.push(text),
    printError: (text: string) => printed.push(text),
    connect: async () => {
      connects++;
      throw new Error('no host in a unit test');
    },
  };
}

describe('backup and restore pick the broker', () => {
  it('takes the broker from --broker or the settings file, Mosquitto when neither says', () => {
    const directory = scratch();
    const settings = join(directory, 'emqx.yaml');
    writeFileSync(settings, 'broker: emqx\n');
    assert.equal(backupBroker(undefined, undefined), 'mosquitto');
    assert.equal(backupBroker('emqx', undefined), 'emqx');
    assert.equal(backupBroker(undefined, settings), 'emqx');
    assert.equal(parseBackupOptions(['--host', 'mq1', '--settings', settings]).broker, 'emqx');
    assert.throws(() => backupBroker('mosquitto', settings), (error: Error) => error instanceof InputError && /--broker.*says mosquitto but .* says emqx/s.test(error.message));
    assert.throws(() => backupBroker('hivemq', undefined), (error: Error) => error instanceof InputError && /--broker.*mosquitto or emqx/s.test(error.message));
  });

  it("backs up EMQX's /etc/emqx and /var/lib/emqx, Mosquitto's own paths", () => {
    assert.deepEqual(brokerBackup('emqx').paths, ['etc/emqx', 'var/lib/emqx']);
    assert.deepEqual(brokerBackup('mosquitto').paths, ['etc/mosquitto', 'var/lib/mosquitto']);
    assert.equal(brokerBackup('emqx').backupCommand().argv.at(3), 'mqtt-provision-archive');
    assert.deepEqual(brokerBackup('emqx').restoreCommand('QUJD').argv.slice(3), ['mqtt-provision-restore', 'emqx', '/var/lib/emqx', 'emqx']);
  });

  it('exits 2 on an unknown broker before connecting to any host', async () => {
    const env = environment();
    assert.equal(await runBackup(['--host', 'mq1', '--broker', 'hivemq', '--to', scratch()], env), 2);
    assert.equal(env.connects(), 0);
  });

  it('refuses to restore a Mosquitto archive onto EMQX settings, and an EMQX archive into a static cluster (exit 2)', async () => {
    const directory = scratch();
    const archive = join(directory, 'mq1-20261129T120000Z.tar.gz');
    const bytes = Buffer.from('not really a tar.gz');
    writeFileSync(archive, bytes);
    const manifest = (broker: string) =>
      writeFileSync(archive.replace(/\.tar\.gz$/, '.json'), JSON.stringify({ formatVersion: 1, broker, source: 'mq1', createdAt: '', packageVersion: null, paths: [], sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length }));
    const single = join(directory, 'single.yaml');
    writeFileSync(single, 'broker: emqx\n');
    const cluster = join(directory, 'cluster.yaml');
    writeFileSync(cluster, 'broker: emqx\nemqx:\n  cookie: a-shared-cookie-0123456789\n  cluster:\n    seeds: [emqx@10.0.0.6, emqx@10.0.0.7]\n');
    const args = (settings: string) => ['--from', archive, '--settings', settings, '--admin-user', 'admin', '--host', 'root@10.0.0.7'];

    manifest('mosquitto');
    let env = environment();
    assert.equal(await runRestore(args(single), env), 2);
    assert.match(env.printed.join('\n'), /is a mosquitto backup, the settings install emqx/);

    manifest('emqx');
    env = environment();
    assert.equal(await runRestore(args(cluster), env), 2);
    assert.match(env.printed.join('\n'), /restoring into a static cluster is not supported/);
    assert.equal(env.connects(), 0);
  });
});
