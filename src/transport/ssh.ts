import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import type { NodeSSH } from 'node-ssh';
import type { Secret } from '../secret.ts';
import { formatHostSpec, type HostSpec } from './host-spec.ts';
import { checkHostKey, hostKeyAlgorithms, type HostKeyPolicy } from './known-hosts.ts';
import { quoteCommand } from './shell-quote.ts';
import { ConnectionError, heldOutput, type ExecOptions, type ExecResult, type HeldCommand, type Transport } from './transport.ts';

export interface SshOptions extends HostSpec {
  /** Private key file; without it (and without a password) the ssh-agent and ~/.ssh/id_* are tried, as OpenSSH does. */
  identityFile?: string;
  /** Host key checking against a known_hosts file; absent means none (the CLI always sets it). */
  hostKeys?: HostKeyPolicy;
  password?: Secret;
  /** Milliseconds for one connection attempt (TCP + SSH handshake). */
  connectTimeoutMs?: number;
  /** Extra attempts after the first one fails; waits double each time, starting at 500 ms. */
  retries?: number;
}

/**
 * One SSH connection per host for the whole run (facts, commands, handlers). A non-root user runs
 * every command through `sudo -n`, so a missing sudo rule fails at once instead of hanging on a prompt.
 */
export class SshTransport implements Transport {
  readonly label: string;
  readonly address: string;
  readonly #ssh: NodeSSH;
  readonly #sudo: boolean;
  /** Set when the connection fails or closes: ssh2 would otherwise throw it as an uncaught error. */
  #lost: Error | undefined;

  private constructor(ssh: NodeSSH, options: SshOptions) {
    this.#ssh = ssh;
    this.#sudo = options.user !== 'root';
    this.label = formatHostSpec(options);
    this.address = options.host;
    // node-ssh drops its own error listener once connected; without ours a reset socket
    // (ECONNRESET) would crash the whole run instead of failing this host.
    ssh.connection?.on('error', (error: Error) => (this.#lost ??= error));
    ssh.connection?.on('close', () => (this.#lost ??= new Error('the connection closed')));
  }

  static async connect(options: SshOptions): Promise<SshTransport> {
    const { NodeSSH } = await import('node-ssh');
    const attempts = 1 + (options.retries ?? 2);
    let lastError: unknown;
    let hostKeyProblem: string | undefined;
    const policy = options.hostKeys;
    const hostVerifier = policy
      ? (key: Buffer) => {
          const verdict = checkHostKey(policy, options.host, options.port, key);
          if (!verdict.ok) hostKeyProblem = verdict.reason;
          return verdict.ok;
        }
      : undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const ssh = new NodeSSH();
      try {
        // Our own socket with Nagle off from the first byte: SSH's small request/reply packets
        // otherwise wait on delayed ACKs, ~40 ms each, in the handshake and in every exec.
        const sock = createConnection({ host: options.host, port: options.port }).setNoDelay(true);
        await ssh.connect({
          sock,
          host: options.host,
          port: options.port,
          username: options.user,
          ...credentialsFor(options),
          // The recorded key types first, as OpenSSH orders them, so a host with several keys shows the known one.
          ...(hostVerifier && policy ? { hostVerifier, algorithms: { serverHostKey: hostKeyAlgorithms(policy, options.host, options.port) as never } } : {}),
          readyTimeout: options.connectTimeoutMs ?? 10_000,
          // A host that vanishes without a reset is noticed within ~45 s instead of never.
          keepaliveInterval: 15_000,
          keepaliveCountMax: 3,
          tryKeyboard: false,
        });
        return new SshTransport(ssh, options);
      } catch (error) {
        lastError = hostKeyProblem ? new Error(hostKeyProblem) : error;
        ssh.dispose();
        if (hostKeyProblem || isAuthenticationFailure(error) || attempt === attempts) break;
        await new Promise((resolveWait) => setTimeout(resolveWait, 500 * 2 ** (attempt - 1)));
      }
    }
    throw new ConnectionError(`cannot connect to ${formatHostSpec(options)}: ${describe(lastError)}`);
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const command = quoteCommand(this.#sudo ? ['sudo', '-n', '--', ...argv] : argv);
    const lost = (cause: unknown) => new ConnectionError(`${this.label}: connection lost while running ${argv[0]}: ${describe(cause)}`);
    if (this.#lost) throw lost(this.#lost);
    let result;
    try {
      result = await this.#ssh.execCommand(command, {
        stdin: options.stdin === undefined ? undefined : options.stdin.toString(),
        // Byte-exact output, like the local transport: node-ssh would trim it otherwise.
        noTrim: true,
      });
    } catch (error) {
      throw lost(this.#lost ?? error);
    }
    if (result.code === null) {
      // No exit status: either the connection went away, or the command was killed by a
      // signal, which is an ordinary failure of that command (and its step's rollback runs).
      // The connection's own error or close event may trail the channel's close by a tick.
      await new Promise((resolveTick) => setImmediate(resolveTick));
      if (this.#lost) throw lost(this.#lost);
      return { code: 128, stdout: result.stdout, stderr: `${result.stderr}${argv[0]} ended by signal ${result.signal ?? 'unknown'}`.trim() };
    }
    return { code: result.code, stdout: result.stdout, stderr: result.stderr };
  }

  /**
   * A channel of its own beside the exec ones; no pty, so the remote command sees EOF on stdin
   * when we release it and also when the connection goes away (sshd closes the pipe).
   */
  start(argv: readonly string[], options: ExecOptions = {}): HeldCommand {
    const command = quoteCommand(this.#sudo ? ['sudo', '-n', '--', ...argv] : argv);
    const reader = heldOutput();
    let closed: Promise<void> = Promise.resolve();
    let channelEnd: (() => void) | undefined;
    let released = false;
    const connection = this.#ssh.connection;
    if (!connection || this.#lost) {
      reader.stderr(`${this.label}: connection lost`);
      reader.ended(255);
    } else {
      closed = new Promise<void>((resolveClose) => {
        connection.exec(command, (error, channel) => {
          if (error) {
            reader.stderr(error.message);
            reader.ended(255);
            resolveClose();
            return;
          }
          let code = 255;
          channel.on('data', reader.stdout);
          channel.stderr.on('data', reader.stderr);
          channel.on('exit', (exitCode: number | null) => (code = exitCode ?? 255));
          channel.on('close', () => {
            reader.ended(code);
            resolveClose();
          });
          if (options.stdin !== undefined) channel.write(options.stdin);
          channelEnd = () => channel.end();
          if (released) channelEnd();
        });
      });
    }
    return {
      firstLine: reader.firstLine,
      until: reader.until,
      release: async () => {
        released = true;
        channelEnd?.();
        await closed;
      },
    };
  }

  async close(): Promise<void> {
    this.#ssh.dispose();
  }
}

/** What to authenticate with: the given key or password, else the agent and the usual key files. */
function credentialsFor(options: SshOptions): { privateKey?: string; password?: string; agent?: string } {
  if (options.identityFile) return { privateKey: readFileSync(options.identityFile, 'utf8') };
  if (options.password) return { password: options.password.reveal() };
  const agent = process.env.SSH_AUTH_SOCK;
  const home = process.env.HOME ?? '';
  const keyFile = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(home, '.ssh', name)).find((path) => existsSync(path));
  return { ...(agent ? { agent } : {}), ...(keyFile ? { privateKey: readFileSync(keyFile, 'utf8') } : {}) };
}

/** A wrong key or password will not get better with retries, so it fails at once. */
function isAuthenticationFailure(error: unknown): boolean {
  return error instanceof Error && /authentication methods failed|All configured authentication/i.test(error.message);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
