import type { HeldCommand } from '../../../src/transport/transport.ts';

/** Transport.start for test doubles of code that never takes the host lock: a call is a bug. */
export function noStart(): HeldCommand {
  throw new Error('this test transport holds no long-running command');
}
