import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interruptExitCodes, withInterrupts } from '../../src/verify/interrupts.ts';

describe('verify interrupts', () => {
  it('aborts the signal it hands out when the handler fires, says which signal, and removes the handler', async () => {
    let fire: ((signal: NodeJS.Signals) => void) | undefined;
    let removed = 0;
    const onInterrupt = (handler: (signal: NodeJS.Signals) => void) => {
      fire = handler;
      return () => removed++;
    };
    const { result, stoppedBy } = await withInterrupts(onInterrupt, async (signal) => {
      assert.equal(signal.aborted, false);
      fire!('SIGTERM');
      return signal.aborted;
    });
    assert.deepEqual([result, stoppedBy, removed], [true, 'SIGTERM', 1]);
    assert.equal(interruptExitCodes[stoppedBy!], 143);
  });

  it('runs without a listener and removes it after a failure too', async () => {
    assert.deepEqual(await withInterrupts(undefined, async () => 7), { result: 7, stoppedBy: undefined });
    let removed = false;
    await assert.rejects(withInterrupts(() => () => (removed = true), async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(removed, true);
  });
});
