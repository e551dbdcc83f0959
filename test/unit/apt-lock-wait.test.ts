// The apt/dpkg lock wait runs under a real shell with a stand-in for apt-get or dpkg: each of
// their lock messages is waited out, any other failure is reported at once.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { whileLockedScript } from '../../src/os/debian.ts';
import { LocalTransport } from '../../src/transport/local.ts';

/** A command that fails once with `message`, then succeeds: what a lock released after a second looks like. */
function failsOnceWith(message: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mp-apt-lock-'));
  const script = path.join(dir, 'fake-apt');
  writeFileSync(script, `#!/bin/sh\nif [ -e "${dir}/tried" ]; then echo installed; exit 0; fi\ntouch "${dir}/tried"\necho '${message}' >&2\nexit 2\n`, { mode: 0o755 });
  return script;
}

const run = (command: string) => new LocalTransport().exec(['sh', '-c', whileLockedScript, 'mqtt-provision-apt', command]);

describe('waiting for the apt/dpkg lock', () => {
  for (const message of [
    'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 235 (apt-get)',
    // dpkg itself, as an orphaned install left it (seen in the SSH-kill fault test).
    'dpkg: error: dpkg frontend lock was locked by another process with pid 235',
    'dpkg: error: dpkg frontend lock is locked by another process',
  ]) {
    it(`waits out "${message.slice(0, 48)}…" and then succeeds`, async () => {
      const result = await run(failsOnceWith(message));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), 'installed');
    });
  }

  it('reports any other failure at once, with its text', async () => {
    const result = await run(failsOnceWith('E: Unable to locate package mosquitto'));
    assert.equal(result.code, 100);
    assert.match(result.stderr, /Unable to locate package mosquitto/);
  });
});
