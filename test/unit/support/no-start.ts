import type { HeldCommand } from '../../../src/transport/transport.ts';

/** Transport.start for test doubles of code that never takes the host lock: a call is a bug. */
export function noStart(): HeldCommand {
  throw new Error('this test transport holds no long-running command');
}

/** Transport.start for test doubles of a converge: the host lock is granted at once. */
export function lockGranted(): HeldCommand {
  return { firstLine: Promise.resolve({ line: 'LOCKED' }), release: async () => {} };
}
