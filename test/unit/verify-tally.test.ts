import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeRanges, SequenceTally } from '../../src/verify/sequence-tally.ts';

describe('sequence tally', () => {
  it('counts distinct numbers and reports redeliveries separately', () => {
    const tally = new SequenceTally(5);
    for (const payload of ['0', '1', '1', '2', '4', '4', '4']) tally.addPayload(Buffer.from(payload));
    assert.equal(tally.distinct, 4);
    assert.equal(tally.duplicates, 3);
    assert.equal(tally.missing, 1);
    assert.equal(tally.complete, false);
    assert.deepEqual(tally.missingRanges(), [[3, 3]]);
    tally.add(3);
    assert.equal(tally.complete, true);
    assert.deepEqual(tally.missingRanges(), []);
  });

  it('treats anything outside 0..expected-1 as foreign, not as received', () => {
    const tally = new SequenceTally(3);
    for (const payload of ['3', '-1', 'x', '1.5', '', '00000000001']) tally.addPayload(payload);
    assert.equal(tally.distinct, 0);
    assert.equal(tally.foreign, 6);
    tally.addPayload('01');
    assert.equal(tally.distinct, 1, 'a leading zero still names sequence 1');
  });

  it('describes what a stock broker drops: everything after its queue of 1000', () => {
    const tally = new SequenceTally(5000);
    for (let sequence = 0; sequence < 1000; sequence++) tally.add(sequence);
    assert.equal(tally.missing, 4000);
    assert.equal(describeRanges(tally.missingRanges()), '1000-4999');
  });

  it('shortens many gaps', () => {
    const ranges: Array<[number, number]> = [[1, 1], [3, 5], [7, 7], [9, 10], [12, 12]];
    assert.equal(describeRanges(ranges), '1, 3-5, 7 and 2 more ranges');
    assert.equal(describeRanges(ranges.slice(0, 4)), '1, 3-5, 7 and 1 more range');
  });

  it('handles large runs in a fixed-size bitmap', () => {
    const tally = new SequenceTally(50_000);
    for (let sequence = 0; sequence < 50_000; sequence += 2) tally.add(sequence);
    assert.equal(tally.distinct, 25_000);
    assert.equal(tally.missingRanges().length, 25_000);
  });

  it('rejects a negative expectation', () => {
    assert.throws(() => new SequenceTally(-1), RangeError);
  });
});
