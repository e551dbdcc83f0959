import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inotifyNeeds, mapLimit } from '../../src/lab/hosts.ts';

test('mapLimit keeps input order and never runs more than the limit at once', async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < n; i++) await Promise.resolve();
    inFlight--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30, 0]);
  assert.equal(peak, 2);
});

test('mapLimit starts nothing new after a failure and rejects once the started ones settled', async () => {
  const started: number[] = [];
  const settled: number[] = [];
  await assert.rejects(
    mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      if (n === 2) throw new Error('boom 2');
      await new Promise((r) => setImmediate(r));
      settled.push(n);
      return n;
    }),
    /boom 2/,
  );
  assert.deepEqual(started, [1, 2]);
  // 1 was in flight when 2 failed: it finished before the rejection.
  assert.deepEqual(settled, [1]);
});

test('inotifyNeeds grows with the host count and never asks for less than 1024 instances', () => {
  assert.equal(inotifyNeeds(1).max_user_instances, 1024);
  assert.ok(inotifyNeeds(100).max_user_instances > 1024);
  assert.ok(inotifyNeeds(100).max_user_watches > inotifyNeeds(20).max_user_watches);
});
