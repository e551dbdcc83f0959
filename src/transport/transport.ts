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
  close(): Promise<void>;
}

/** Raised when the host cannot be reached or the connection drops; the run reports it as a failed host. */
export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}
