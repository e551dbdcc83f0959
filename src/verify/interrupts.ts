/**
 * SIGINT and SIGTERM during a verify: the front doors abort the run, which ends every session it
 * opened (a session holding 100000 messages would otherwise wait for its subscriber for a week).
 */

/** Exit codes of a run stopped by a signal, as a shell reports them (128 + signal number). */
export const interruptExitCodes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Listens for SIGINT and SIGTERM once each (a second Ctrl-C during the cleanup still stops the process); returns the remover. */
export function processInterrupts(handler: (signal: NodeJS.Signals) => void): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const signal of signals) process.once(signal, handler);
  return () => {
    for (const signal of signals) process.off(signal, handler);
  };
}

/** An AbortController fed by `onInterrupt` while `run` runs: which signal stopped it, if one did. */
export async function withInterrupts<T>(
  onInterrupt: ((handler: (signal: NodeJS.Signals) => void) => () => void) | undefined,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<{ result: T; stoppedBy: NodeJS.Signals | undefined }> {
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const remove = onInterrupt?.((signal) => {
    stoppedBy = signal;
    controller.abort(signal);
  });
  try {
    return { result: await run(controller.signal), stoppedBy };
  } finally {
    remove?.();
  }
}
