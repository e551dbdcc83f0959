import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heldOutput } from '../../src/transport/transport.ts';

describe('a held command\'s output read up to a marker', () => {
  it('finds the marker on both streams however the chunks cut it, even inside a UTF-8 character', async () => {
    const reader = heldOutput();
    const marker = 'mqtt-provision-end-1234';
    const stdout = Buffer.from(`LOCKED\nos\tpretty_name\tDébian\n${'x'.repeat(100_000)}\nnot ${marker} 0\n\n${marker} 3\n`);
    const stderr = Buffer.from(`warning: é\n\n${marker}\n`);
    const reading = reader.until(marker);
    // One byte at a time on stderr, uneven pieces on stdout: the marker and "é" straddle many chunks.
    for (const byte of stderr) reader.stderr(Buffer.from([byte]));
    for (let at = 0; at < stdout.length; at += 7) reader.stdout(stdout.subarray(at, at + 7));
    reader.ended(0); // a marker missed would show as this end instead of a match
    assert.deepEqual(await reading, { text: `os\tpretty_name\tDébian\n${'x'.repeat(100_000)}\nnot ${marker} 0\n`, status: '3', stderr: 'warning: é\n' });
    assert.deepEqual(await reader.firstLine, { line: 'LOCKED' });
  });

  it('says how the command ended when it ends before the marker', async () => {
    const reader = heldOutput();
    const reading = reader.until('end-marker');
    reader.stdout('LOCKED\nhalf');
    reader.stderr('sh: head: not found\n');
    reader.ended(127);
    assert.deepEqual(await reading, { ended: { code: 127, stdout: 'LOCKED\nhalf', stderr: 'sh: head: not found\n' } });
  });
});
