import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkHostKey, keyTypeOf, knownHostsName } from '../../src/transport/known-hosts.ts';

/** An SSH public key blob: string "ssh-ed25519" then 32 key bytes, as a host presents it. */
function ed25519Blob(seed = randomBytes(32)): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const lengths = Buffer.alloc(8);
  lengths.writeUInt32BE(type.length, 0);
  lengths.writeUInt32BE(seed.length, 4);
  return Buffer.concat([lengths.subarray(0, 4), type, lengths.subarray(4), seed]);
}

const fileIn = () => join(mkdtempSync(join(tmpdir(), 'mp-known-')), 'known_hosts');

describe('host key checking', () => {
  it('names hosts the way OpenSSH does', () => {
    assert.equal(knownHostsName('broker1', 22), 'broker1');
    assert.equal(knownHostsName('127.0.0.1', 2222), '[127.0.0.1]:2222');
    assert.equal(keyTypeOf(ed25519Blob()), 'ssh-ed25519');
  });

  it('records a new host under accept-new, then accepts the same key', () => {
    const file = fileIn();
    const key = ed25519Blob();
    assert.deepEqual(checkHostKey({ check: 'accept-new', file }, 'broker1', 22, key), { ok: true, recorded: true });
    assert.equal(readFileSync(file, 'utf8'), `broker1 ssh-ed25519 ${key.toString('base64')}\n`);
    assert.deepEqual(checkHostKey({ check: 'accept-new', file }, 'broker1', 22, key), { ok: true, recorded: false });
  });

  it('refuses a changed key under every checking mode but off, naming the line', () => {
    const file = fileIn();
    writeFileSync(file, `# comment\nother ssh-ed25519 ${ed25519Blob().toString('base64')}\n[broker1]:2222 ssh-ed25519 ${ed25519Blob().toString('base64')}\n`);
    for (const check of ['accept-new', 'strict'] as const) {
      const verdict = checkHostKey({ check, file }, 'broker1', 2222, ed25519Blob());
      assert.equal(verdict.ok, false);
      assert.match((verdict as { reason: string }).reason, /host key of \[broker1\]:2222 differs from line 3 .*someone may be intercepting/);
    }
    assert.equal(checkHostKey({ check: 'off', file }, 'broker1', 2222, ed25519Blob()).ok, true);
  });

  it('reads hashed host names', () => {
    const file = fileIn();
    const key = ed25519Blob();
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('broker1').digest('base64');
    writeFileSync(file, `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${key.toString('base64')}\n`);
    assert.deepEqual(checkHostKey({ check: 'strict', file }, 'broker1', 22, key), { ok: true, recorded: false });
    assert.equal(checkHostKey({ check: 'strict', file }, 'broker1', 22, ed25519Blob()).ok, false);
  });

  it('refuses an unknown host under strict and records nothing', () => {
    const file = fileIn();
    const verdict = checkHostKey({ check: 'strict', file }, 'broker1', 22, ed25519Blob());
    assert.match((verdict as { reason: string }).reason, /broker1 is not in .* strict/);
    assert.equal(existsSync(file), false);
  });
});
