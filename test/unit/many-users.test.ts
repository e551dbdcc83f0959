import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderPasswordFile } from '../../src/brokers/mosquitto/password-file.ts';
import { gatherFacts } from '../../src/facts/gather.ts';
import { maxUsers } from '../../src/settings/schema.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { Secret } from '../../src/secret.ts';
import { LocalTransport } from '../../src/transport/local.ts';

// Issue 21 item 7: the probe sent no content for files over 256 KiB, so with more than ~2100 users
// the kept hashes were lost and every run rewrote the password file and reloaded the broker.

const longName = (index: number) => `u${String(index).padStart(63, '0')}`; // the longest name allowed: the largest file

describe('as many users as settings allow', () => {
  it('the probe sends the whole password file of the most users allowed, so every hash is kept', async () => {
    const credentials = Array.from({ length: maxUsers }, (_, index) => ({ name: longName(index), password: new Secret(`pw-${index}`) }));
    const first = renderPasswordFile(credentials, null);
    assert.ok(Buffer.byteLength(first) > 1024 * 1024, `${Buffer.byteLength(first)} bytes: well past the old 256 KiB`);
    const file = join(mkdtempSync(join(tmpdir(), 'mp-many-')), 'passwd');
    writeFileSync(file, first);
    const facts = await gatherFacts(new LocalTransport(), { packages: [], files: [file], directories: [], services: [] });
    assert.equal(facts.files[file]!.content, first, 'the content arrived whole');
    assert.equal(renderPasswordFile(credentials, facts.files[file]!.content), first, 'a second run keeps every hash');
  });

  it(`refuses more than ${maxUsers} admins and users together, naming the field`, () => {
    const users = Array.from({ length: maxUsers }, (_, index) => ({ name: `u${index}`, password: 'p' }));
    assert.throws(() => resolveSettings({ broker: 'mosquitto', admins: [{ name: 'admin', password: 'p' }], users }), /settings\.users: 10001 admins, users and consumers; at most 10000/);
    assert.doesNotThrow(() => resolveSettings({ broker: 'mosquitto', admins: [{ name: 'admin', password: 'p' }], users: users.slice(1) }));
  });
});
