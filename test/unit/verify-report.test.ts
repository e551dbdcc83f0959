import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildReport, formatFigure, formatVerifyReport } from '../../src/verify/verify-report.ts';

describe('verify report', () => {
  it('passes unless a check failed; warnings and skips do not fail', () => {
    const report = buildReport('abcd1234', [
      { name: 'reachability mqtt', status: 'pass', detail: 'ok' },
      { name: 'client-id trap', status: 'warn', detail: 'shown' },
      { name: 'restart survival', status: 'skip', detail: 'no restart' },
    ]);
    assert.equal(report.passed, true);
    assert.equal(buildReport('x', [...report.checks, { name: 'offline retention', status: 'fail', detail: 'lost' }]).passed, false);
  });

  it('prints one line per check with its status, name, detail and figures, then a summary', () => {
    const report = buildReport('abcd1234', [
      { name: 'reachability mqtt', status: 'pass', detail: 'mqtt://127.0.0.1:1883 answered', figures: { connectMs: 12 } },
      {
        name: 'offline retention',
        status: 'fail',
        detail: 'received 1000 of 5000 — the broker dropped messages',
        figures: { published: 5000, receivedDistinct: 1000, publishPerSecond: 41234.567 },
      },
      { name: 'client-id trap', status: 'warn', detail: 'use a fixed client id' },
      { name: 'restart survival', status: 'skip', detail: 'no restart' },
    ]);
    assert.deepEqual(formatVerifyReport(report).split('\n'), [
      'PASS  reachability mqtt: mqtt://127.0.0.1:1883 answered [connect ms=12]',
      'FAIL  offline retention: received 1000 of 5000 — the broker dropped messages [published=5000, received distinct=1000, publish msg/s=41234.6]',
      'WARN  client-id trap: use a fixed client id',
      'SKIP  restart survival: no restart',
      'verify abcd1234: FAILED (1 of 4 checks failed)',
    ]);
  });

  it('summarises a passing run with its warnings', () => {
    const text = formatVerifyReport(buildReport('r1', [
      { name: 'a', status: 'pass', detail: 'd' },
      { name: 'b', status: 'warn', detail: 'd' },
    ]));
    assert.match(text, /verify r1: passed \(2 checks, 1 warning\)$/);
  });

  it('rounds figures for people', () => {
    assert.equal(formatFigure(5000), '5000');
    assert.equal(formatFigure(12.345), '12.3');
    assert.equal(formatFigure(Number.NaN), 'NaN');
  });
});
