import { StringDecoder } from 'node:string_decoder';

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
  start(argv: readonly string[], options?: ExecOptions): HeldCommand;
  close(): Promise<void>;
}

/**
 * A command started with Transport.start. Its `stdin` option is written at once and the pipe
 * stays open: the command reads what it needs (`head -c N`) and keeps the rest of it, EOF, as its
 * signal to end.
 */
export interface HeldCommand {
  /** The first line it prints, or how it ended when it ends before printing one. */
  firstLine: Promise<{ line: string } | { ended: ExecResult }>;
  /**
   * What it prints after its first line up to a line starting with `marker` and a space: that
   * line's rest is `status`; `stderr` is what it wrote there up to a line `marker` (both streams
   * carry the marker: they arrive independently). Or how it ended first.
   */
  until(marker: string): Promise<{ text: string; status: string; stderr: string } | { ended: ExecResult }>;
  /** Closes its stdin and waits for it to end. */
  release(): Promise<void>;
}

/** Collects a held command's output for the start() implementations: its first line, then up to markers. */
export function heldOutput(): {
  stdout(chunk: Buffer | string): void;
  stderr(chunk: Buffer | string): void;
  ended(code: number): void;
  firstLine: HeldCommand['firstLine'];
  until: HeldCommand['until'];
} {
  let out = '';
  let err = '';
  let end: ExecResult | undefined;
  // A chunk may end inside a UTF-8 character: each stream is decoded as one.
  const outText = new StringDecoder('utf8');
  const errText = new StringDecoder('utf8');
  const waiters = new Set<() => boolean>();
  const settleWaiters = () => {
    for (const attempt of waiters) if (attempt()) waiters.delete(attempt);
  };
  /** Resolves with what `look` finds in the output so far, or with how the command ended. */
  const wait = <T>(look: () => T | undefined): Promise<T | { ended: ExecResult }> =>
    new Promise((resolveWait) => {
      const attempt = (): boolean => {
        const found = look();
        if (found !== undefined) resolveWait(found);
        else if (end) resolveWait({ ended: end });
        return found !== undefined || end !== undefined;
      };
      if (!attempt()) waiters.add(attempt);
    });
  const firstLine = wait(() => {
    const newline = out.indexOf('\n');
    return newline >= 0 ? { line: out.slice(0, newline) } : undefined;
  });
  return {
    stdout(chunk) {
      out += typeof chunk === 'string' ? chunk : outText.write(chunk);
      settleWaiters();
    },
    stderr(chunk) {
      err += typeof chunk === 'string' ? chunk : errText.write(chunk);
      settleWaiters();
    },
    ended(code) {
      end ??= { code, stdout: out, stderr: err };
      settleWaiters();
    },
    firstLine,
    until: (marker) => {
      // Each chunk is searched once (plus a marker's length of overlap): a probe sending a 2 MB
      // password file arrives in ~70 chunks, and rescanning all of it for each would be quadratic.
      let outSeen = 0;
      let errSeen = 0;
      return wait(() => {
        const from = out.indexOf('\n');
        const at = from < 0 ? -1 : out.indexOf(`\n${marker} `, Math.max(from, outSeen - marker.length - 2));
        const lineEnd = at < 0 ? -1 : out.indexOf('\n', at + 1);
        const errAt = err.indexOf(`\n${marker}\n`, Math.max(0, errSeen - marker.length - 2));
        if (lineEnd < 0 || errAt < 0) {
          if (at < 0) outSeen = out.length;
          if (errAt < 0) errSeen = err.length;
          return undefined;
        }
        return { text: out.slice(from + 1, Math.max(from + 1, at)), status: out.slice(at + marker.length + 2, lineEnd), stderr: err.slice(0, errAt) };
      });
    },
  };
}

/** Raised when the host cannot be reached or the connection drops; the run reports it as a failed host. */
export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}
