/** How the engine reaches a host: it only executes argument lists; it never plans. */
export interface ExecOptions {
  /** Bytes for the command's standard input: the only way secrets and file contents travel. */
  stdin?: string | Buffer;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Transport {
  /** Human name of the host, e.g. "deploy@10.0.0.5:22". */
  readonly label: string;
  /** The host name or address connected to, when the transport has one (SSH). */
  readonly address?: string;
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * Starts a command that keeps running beside the others (the host lock): its stdin stays open
   * until release(), and it ends with the connection, so nothing it holds outlives the run.
   */
  start(argv: readonly string[]): HeldCommand;
  close(): Promise<void>;
}

/** A command started with Transport.start. */
export interface HeldCommand {
  /** The first line it prints, or how it ended when it ends before printing one. */
  firstLine: Promise<{ line: string } | { ended: ExecResult }>;
  /** Closes its stdin and waits for it to end. */
  release(): Promise<void>;
}

/** Collects a child's output until its first line, for the start() implementations. */
export function firstLineReader(): {
  stdout(chunk: Buffer | string): void;
  stderr(chunk: Buffer | string): void;
  ended(code: number): void;
  firstLine: Promise<{ line: string } | { ended: ExecResult }>;
} {
  let out = '';
  let err = '';
  let settle!: (value: { line: string } | { ended: ExecResult }) => void;
  const firstLine = new Promise<{ line: string } | { ended: ExecResult }>((resolveLine) => (settle = resolveLine));
  return {
    stdout(chunk) {
      out += chunk.toString();
      const end = out.indexOf('\n');
      if (end >= 0) settle({ line: out.slice(0, end) });
    },
    stderr(chunk) {
      err += chunk.toString();
    },
    ended(code) {
      settle({ ended: { code, stdout: out, stderr: err } });
    },
    firstLine,
  };
}

/** Raised when the host cannot be reached or the connection drops; the run reports it as a failed host. */
export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}
