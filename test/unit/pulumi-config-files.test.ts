// The config-files provider behind MqttBrokerContainer, called directly on a temp directory: the
// files are really written; docker commands are recorded and answered, since no container runs here.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import type { ManagedFile } from '../../src/operations/managed-file.ts';
import { createFiles, deleteFiles, diffFiles, readFiles, updateFiles } from '../../src/pulumi/config-files-operations.ts';
import { configFilesProvider, type ConfigFilesInputs } from '../../src/pulumi/config-files-provider.ts';
import { LocalTransport } from '../../src/transport/local.ts';
import type { ExecOptions, Transport } from '../../src/transport/transport.ts';

/** Runs file commands on this machine; records docker commands and answers `docker inspect` with `running`. */
function transport(running: boolean) {
  const local = new LocalTransport();
  const docker: string[][] = [];
  const value: Transport = {
    label: 'local',
    exec(argv: readonly string[], options?: ExecOptions) {
      if (argv[0] !== 'docker') return local.exec(argv, options);
      docker.push([...argv]);
      const inspect = argv[1] === 'inspect';
      return Promise.resolve({ code: inspect && !running ? 1 : 0, stdout: inspect ? `${running}\n` : '', stderr: '' });
    },
    start: (argv) => local.start(argv),
    close: () => local.close(),
  };
  return { value, docker };
}

const owner = String(process.getuid!());
const group = String(process.getgid!());

function inputs(dir: string, contents: { conf?: string; passwd?: string } = {}, configHash = 'hash-1'): ConfigFilesInputs {
  const configDir = join(dir, 'broker', 'config');
  const file = (name: string, content: string, mode: string, apply: ManagedFile['apply']): ManagedFile => ({ path: join(configDir, name), content, mode, owner, group, apply, secret: mode === '0600' });
  return {
    configDir,
    containerName: 'broker',
    files: [file('mosquitto.conf', contents.conf ?? 'listener 1883\n', '0644', 'restart'), file('passwd', contents.passwd ?? 'admin:hash\n', '0600', 'reload')],
    configHash,
    reload: ['docker', 'kill', '--signal', 'HUP', 'broker'],
  };
}

describe('the config-files provider', () => {
  it('creates the config directory with each file, its mode and content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulumi-files-'));
    const news = inputs(dir);
    const { docker, value } = transport(false);
    const result = await createFiles(news, value);
    assert.equal(result.id, news.configDir);
    assert.equal(readFileSync(join(news.configDir, 'mosquitto.conf'), 'utf8'), 'listener 1883\n');
    assert.equal(statSync(join(news.configDir, 'passwd')).mode & 0o777, 0o600);
    assert.equal(statSync(join(news.configDir, 'mosquitto.conf')).mode & 0o777, 0o644);
    assert.deepEqual(docker, [], 'creating touches no container');
  });

  it('signals a running broker when only a reload file changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulumi-files-'));
    const olds = inputs(dir);
    await createFiles(olds, transport(false).value);
    const { docker, value } = transport(true);
    await updateFiles(olds.configDir, olds, inputs(dir, { passwd: 'admin:new\n' }), value);
    assert.equal(readFileSync(join(olds.configDir, 'passwd'), 'utf8'), 'admin:new\n');
    assert.deepEqual(docker.slice(1), [['docker', 'kill', '--signal', 'HUP', 'broker']]);
  });

  it('restarts the container for a repaired mosquitto.conf under the same config hash, and leaves a replaced one alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulumi-files-'));
    const olds = inputs(dir);
    await createFiles(olds, transport(false).value);
    const drifted = inputs(dir, { conf: 'listener 1883\nallow_anonymous true\n' });
    const repaired = transport(true);
    await updateFiles(olds.configDir, drifted, olds, repaired.value);
    assert.deepEqual(repaired.docker.slice(1), [['docker', 'restart', '--time', '30', 'broker']]);

    const replaced = transport(true);
    await updateFiles(olds.configDir, olds, inputs(dir, { conf: 'listener 1884\n' }, 'hash-2'), replaced.value);
    assert.deepEqual(replaced.docker.slice(1), [], 'the container is replaced after this and reads the new file');
  });

  it('reads the files back, so a hand edit is a diff that the next update writes over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulumi-files-'));
    const olds = inputs(dir);
    await createFiles(olds, transport(false).value);
    writeFileSync(join(olds.configDir, 'mosquitto.conf'), 'listener 1883\nallow_anonymous true\n');
    const read = await readFiles(olds.configDir, olds);
    assert.equal(read.props!.files[0]!.content, 'listener 1883\nallow_anonymous true\n');
    assert.deepEqual(await diffFiles(olds.configDir, read.props!, olds), { changes: true, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await diffFiles(olds.configDir, olds, inputs(dir)), { changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it('replaces the directory when it moves, and deletes it with the parent named after the container', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulumi-files-'));
    const olds = inputs(dir);
    assert.deepEqual((await diffFiles(olds.configDir, olds, { ...olds, configDir: join(dir, 'elsewhere') })).replaces, ['configDir']);
    await createFiles(olds, transport(false).value);
    await deleteFiles(olds.configDir, olds, transport(false).value);
    assert.ok(!existsSync(join(dir, 'broker')), 'config directory and its empty parent are gone');
  });

  it('survives Pulumi closure serialization, capturing only the operations module URL', async () => {
    const serialized = await pulumi.runtime.serializeFunction(() => configFilesProvider, { allowSecrets: true });
    assert.match(serialized.text, /file:\/\/\/[^"]*\/src\/pulumi\/config-files-operations\.ts/);
    assert.doesNotMatch(serialized.text, /atomicWrite|LocalTransport|desiredMosquittoContainer/, 'no engine code is captured into the state');
    // What the dynamic provider process does with the text from the state.
    const requireFromString = createRequire(import.meta.url)('require-from-string') as (source: string) => { handler: () => typeof configFilesProvider };
    const revived = requireFromString(serialized.text).handler();
    const dir = mkdtempSync(join(tmpdir(), 'pulumi-files-'));
    const olds = inputs(dir);
    assert.deepEqual(await revived.diff!(olds.configDir, olds, inputs(dir, { passwd: 'admin:other\n' })), { changes: true, replaces: [], deleteBeforeReplace: false });
  });
});
