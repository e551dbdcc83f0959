import type { HeldCommand, Transport } from '../../../src/transport/transport.ts';

/** Transport.start for test doubles of code that never takes the host lock: a call is a bug. */
export function noStart(): HeldCommand {
  throw new Error('this test transport holds no long-running command');
}

/**
 * Transport.start for test doubles of a converge: the host lock is granted at once, and the
 * script it runs under the lock (the fact probe: `sh -c lockScript … N marker args…`) is answered
 * by the double's own exec as `sh -s -- args…` with the same stdin, as a separate exec would be.
 */
export function lockGrantedBy(exec: Transport['exec']): Transport['start'] {
  return (argv, options) => {
    const ran = argv.length > 8 ? exec(['sh', '-s', '--', ...argv.slice(9)], options?.stdin === undefined ? {} : { stdin: options.stdin }) : undefined;
    return {
      firstLine: Promise.resolve({ line: 'LOCKED' }),
      until: async () => {
        if (!ran) throw new Error('the lock was asked to run nothing');
        const result = await ran;
        return { text: result.stdout, status: String(result.code), stderr: result.stderr };
      },
      release: async () => {},
    };
  };
}
