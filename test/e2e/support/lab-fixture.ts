import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInstall } from '../../../src/cli/install-command.ts';
import { SshTransport } from '../../../src/transport/ssh.ts';
import type { Transport } from '../../../src/transport/transport.ts';
import { ensureLabKey } from '../../../src/lab/hosts.ts';
import type { LabHost } from '../../../src/lab/hosts.ts';

/** A password with every character a shell treats specially, plus one that would run a command. */
export const hostilePassword = `it's "a" $HOME; \`touch /tmp/pwned\` $(touch /tmp/pwned) \\ back slash`;

export interface InstallRun {
  code: number;
  output: string;
  errors: string;
}

/** Runs the real install front door in-process against lab hosts and captures what it prints. */
/** One known_hosts file per test process: lab hosts are fresh, and their ports get reused. */
export const knownHostsFile = join(mkdtempSync(join(tmpdir(), 'mp-known-hosts-')), 'known_hosts');

export async function install(args: string[]): Promise<InstallRun> {
  const output: string[] = [];
  const errors: string[] = [];
  const withKnownHosts = args.includes('--known-hosts') ? args : [...args, '--known-hosts', knownHostsFile];
  const code = await runInstall('mosquitto', withKnownHosts, {
    env: {},
    print: (text) => output.push(text),
    printError: (text) => errors.push(text),
    connect: (options) => SshTransport.connect(options),
  });
  return { code, output: output.join('\n'), errors: errors.join('\n') };
}

export function writeSecretFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mp-e2e-')), 'secret');
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

export async function hostArgs(host: LabHost, user = 'root'): Promise<string[]> {
  return ['--host', `${user}@127.0.0.1:${host.sshPort}`, '--identity', await ensureLabKey()];
}

export async function sshTo(host: LabHost): Promise<Transport> {
  return SshTransport.connect({ user: 'root', host: '127.0.0.1', port: host.sshPort, identityFile: await ensureLabKey() });
}

/** Runs a command on the lab host as root and returns its stdout; throws on a non-zero exit. */
export async function onHost(host: LabHost, argv: string[], stdin?: string): Promise<string> {
  const transport = await sshTo(host);
  try {
    const result = await transport.exec(argv, stdin === undefined ? {} : { stdin });
    if (result.code !== 0) throw new Error(`${argv.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  } finally {
    await transport.close();
  }
}

export function changedCount(jsonOutput: string): number {
  const report = JSON.parse(jsonOutput) as { hosts: Array<{ steps: Array<{ status: string }> }> };
  return report.hosts.flatMap((host) => host.steps).filter((step) => step.status === 'changed').length;
}
