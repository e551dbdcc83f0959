import { spawn } from 'node:child_process';
import { heldOutput, type ExecOptions, type ExecResult, type HeldCommand, type Transport } from './transport.ts';

/** Runs commands on this machine, without a shell, so arguments need no quoting at all. */
export class LocalTransport implements Transport {
  readonly label = 'local';
  readonly #prefix: readonly string[];
  readonly #env: NodeJS.ProcessEnv | undefined;

  /**
   * @param sudo prefix commands with `sudo -n` when the local user is not root.
   * @param env variables added to this process's environment (e.g. DOCKER_HOST for another socket).
   */
  constructor(options: { sudo?: boolean; env?: Record<string, string> } = {}) {
    this.#prefix = options.sudo ? ['sudo', '-n', '--'] : [];
    this.#env = options.env ? { ...process.env, ...options.env } : undefined;
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [program, ...args] = [...this.#prefix, ...argv];
    return new Promise((resolvePromise, reject) => {
      const child = spawn(program!, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(this.#env ? { env: this.#env } : {}) });
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

  start(argv: readonly string[], options: ExecOptions = {}): HeldCommand {
    const [program, ...args] = [...this.#prefix, ...argv];
    const reader = heldOutput();
    const child = spawn(program!, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(this.#env ? { env: this.#env } : {}) });
    const closed = new Promise<void>((resolveClose) => {
      child.on('close', (code) => {
        reader.ended(code ?? 1);
        resolveClose();
      });
      child.on('error', (error) => {
        reader.stderr(error.message);
        reader.ended(127);
        resolveClose();
      });
    });
    child.stdout.on('data', reader.stdout);
    child.stderr.on('data', reader.stderr);
    child.stdin.on('error', () => {});
    if (options.stdin !== undefined) child.stdin.write(options.stdin);
    return {
      firstLine: reader.firstLine,
      until: reader.until,
      release: async () => {
        child.stdin.end();
        await closed;
      },
    };
  }

  async close(): Promise<void> {}
}
