import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convergeAll } from '../../src/engine/converge-all.ts';
import type { HostTarget } from '../../src/engine/converge-host.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

/** Targets whose connection fails after a tick, recording how many were connecting at once. */
function targets(count: number, failing: (index: number) => boolean) {
  const stats = { inFlight: 0, maxInFlight: 0, started: [] as number[] };
  const list: HostTarget[] = Array.from({ length: count }, (_, index) => ({
    label: `host-${index}`,
    connect: async (): Promise<Transport> => {
      stats.started.push(index);
      stats.inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      stats.inFlight--;
      throw new Error(failing(index) ? `host-${index} unreachable` : 'stop here');
    },
  }));
  return { list, stats };
}

describe('fan-out over many hosts', () => {
  it('never converges more hosts at once than the concurrency limit', async () => {
    const { list, stats } = targets(25, () => true);
    const reports = await convergeAll(list, mosquittoSettings(), { concurrency: 4 });
    assert.equal(stats.maxInFlight, 4);
    assert.equal(reports.length, 25);
    assert.deepEqual(reports.map((report) => report.host), list.map((target) => target.label));
  });

  it('keeps every host isolated: one failure does not stop the others', async () => {
    const { list } = targets(5, (index) => index === 1);
    const reports = await convergeAll(list, mosquittoSettings(), { concurrency: 2 });
    assert.match(reports[1]!.error!, /host-1 unreachable/);
    assert.match(reports[3]!.error!, /stop here/, 'hosts after the failed one still ran');
  });

  it('starts no new host once --max-fail hosts have failed', async () => {
    const { list, stats } = targets(10, () => true);
    const reports = await convergeAll(list, mosquittoSettings(), { concurrency: 1, maxFail: 3 });
    assert.deepEqual(stats.started, [0, 1, 2]);
    assert.equal(reports.filter((report) => report.error?.includes('--max-fail')).length, 7);
  });
});
