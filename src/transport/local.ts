import { spawn } from 'node:child_process';
import type { ExecOptions, ExecResult, Transport } from './transport.ts';

/** Runs commands on this machine, without a shell, so arguments need no quoting at all. */
export class LocalTransport implements Transport {
  readonly label = 'local';
  readonly #prefix: readonly string[];

  /** @param sudo prefix commands with `sudo -n` when the local user is not root. */
  constructor(options: { sudo?: boolean } = {}) {
    this.#prefix = options.sudo ? ['sudo', '-n', '--'] : [];
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [program, ...args] = [...this.#prefix, ...argv];
    return new Promise((resolvePromise, reject) => {
      const child = spawn(program!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        resolvePromise({ code: code ?? 1, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }),
      );
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin ?? '');
    });
  }

  async close(): Promise<void> {}
}
