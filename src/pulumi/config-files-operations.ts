import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as pulumi from '@pulumi/pulumi';
import { atomicWrite } from '../operations/files.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import type { Command } from '../operations/step.ts';
import { LocalTransport } from '../transport/local.ts';
import type { Transport } from '../transport/transport.ts';
import type { ConfigFilesInputs, ConfigFilesOutputs } from './config-files-provider.ts';

/**
 * What the config-files provider does, with the engine's own commands (atomicWrite, the container's
 * reload): the directory is written on the machine that runs Pulumi, which must be the Docker host.
 * The transport is a parameter so tests can run it against a temp directory without root.
 */

async function run(transport: Transport, command: Command): Promise<void> {
  const result = await transport.exec(command.argv, command.stdin !== undefined ? { stdin: command.stdin } : {});
  if (result.code !== 0) throw new Error(`${command.argv.slice(0, 2).join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
}

function changedFiles(olds: ConfigFilesInputs | undefined, news: ConfigFilesInputs): ManagedFile[] {
  const before = new Map((olds?.files ?? []).map((file) => [file.path, file]));
  return news.files.filter((file) => {
    const old = before.get(file.path);
    return old === undefined || old.content !== file.content || old.mode !== file.mode || old.owner !== file.owner || old.group !== file.group;
  });
}

export async function diffFiles(_id: string, olds: ConfigFilesOutputs, news: ConfigFilesInputs): Promise<pulumi.dynamic.DiffResult> {
  const replaces = olds.configDir !== news.configDir ? ['configDir'] : [];
  const changes = replaces.length > 0 || changedFiles(olds, news).length > 0 || olds.files.length !== news.files.length || olds.containerName !== news.containerName;
  return { changes, replaces, deleteBeforeReplace: false };
}

export async function createFiles(inputs: ConfigFilesInputs, transport: Transport = new LocalTransport()): Promise<pulumi.dynamic.CreateResult<ConfigFilesOutputs>> {
  await run(transport, { argv: ['mkdir', '-p', '-m', '0755', inputs.configDir] });
  for (const file of inputs.files) await run(transport, atomicWrite(file));
  return { id: inputs.configDir, outs: inputs };
}

/**
 * Writes what changed. A changed reload file (passwd, acl, the health options) is signalled to a
 * running broker, as `--docker` does. A changed restart file (mosquitto.conf) under an unchanged
 * config hash is a repaired drift: the container stays, so it is restarted to read the file; with a
 * new hash the container is replaced after this, and reads it anyway.
 */
export async function updateFiles(_id: string, olds: ConfigFilesOutputs, news: ConfigFilesInputs, transport: Transport = new LocalTransport()): Promise<pulumi.dynamic.UpdateResult<ConfigFilesOutputs>> {
  const changed = changedFiles(olds, news);
  await run(transport, { argv: ['mkdir', '-p', '-m', '0755', news.configDir] });
  for (const file of changed) await run(transport, atomicWrite(file));
  const state = await transport.exec(['docker', 'inspect', '--format', '{{.State.Running}}', news.containerName]);
  const running = state.code === 0 && state.stdout.trim() === 'true';
  const restartChanged = changed.some((file) => file.apply === 'restart');
  if (running && restartChanged && olds.configHash === news.configHash) {
    await run(transport, { argv: ['docker', 'restart', '--time', '30', news.containerName] });
  } else if (running && !restartChanged && news.reload !== null && changed.some((file) => file.apply === 'reload')) {
    await run(transport, { argv: news.reload });
  }
  return { outs: news };
}

/** `pulumi refresh`: the files as they are on disk, so a hand edit shows as a diff and the next `up` writes them back. */
export async function readFiles(id: string, props?: ConfigFilesOutputs): Promise<pulumi.dynamic.ReadResult<ConfigFilesOutputs>> {
  if (props === undefined) return { id };
  const files = await Promise.all(props.files.map(async (file) => ({ ...file, content: await readFile(file.path, 'utf8').catch(() => '') })));
  return { id, props: { ...props, files } };
}

/** Removes the config directory (it holds password hashes), and the parent named after the container when it is left empty. */
export async function deleteFiles(_id: string, props: ConfigFilesOutputs, transport: Transport = new LocalTransport()): Promise<void> {
  await run(transport, { argv: ['rm', '-rf', '--', props.configDir] });
  const parent = path.dirname(props.configDir);
  if (path.basename(parent) === props.containerName) await run(transport, { argv: ['sh', '-c', 'rmdir -- "$1" 2>/dev/null || true', 'mqtt-provision-rmdir', parent] });
}
