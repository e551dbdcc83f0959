import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { readMarks } from '../../src/timings.ts';

/** A process that marks two phases, as a front door does; returns its stderr. */
function markingProcess(timings: string): string {
  const script = `const { mark } = await import(${JSON.stringify(new URL('../../src/timings.ts', import.meta.url).href)}); mark('connected', 'deploy@10.0.0.5:22'); mark('done');`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, MQTT_PROVISION_TIMINGS: timings }, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stderr;
}

describe('phase marks (MQTT_PROVISION_TIMINGS)', () => {
  it('prints nothing unless asked', () => {
    assert.equal(markingProcess(''), '');
    assert.equal(markingProcess('0'), '');
  });

  it('prints each mark with its time since process start and its host, read back in order', () => {
    const marks = readMarks(`noise\n${markingProcess('1')}other line\n`);
    assert.deepEqual(marks.map(({ phase, host }) => [phase, host]), [['connected', 'deploy@10.0.0.5:22'], ['done', undefined]]);
    assert.ok(marks[0]!.ms > 0 && marks[0]!.ms <= marks[1]!.ms, 'ms since the process started, in order');
  });
});
