import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkHostKey, hostKeyAlgorithms, keyTypeOf, knownHostsName, matchesHostField, matchesPattern, parseKnownHosts } from '../../src/transport/known-hosts.ts';

/** An SSH public key blob: string "ssh-ed25519" then 32 key bytes, as a host presents it. */
function ed25519Blob(seed = randomBytes(32)): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const lengths = Buffer.alloc(8);
  lengths.writeUInt32BE(type.length, 0);
  lengths.writeUInt32BE(seed.length, 4);
  return Buffer.concat([lengths.subarray(0, 4), type, lengths.subarray(4), seed]);
}

const fileIn = () => join(mkdtempSync(join(tmpdir(), 'mp-known-')), 'known_hosts');

/** An ECDSA-looking blob: only its type string matters to the checker. */
function ecdsaBlob(): Buffer {
  const type = Buffer.from('ecdsa-sha2-nistp256');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(type.length, 0);
  return Buffer.concat([length, type, randomBytes(72)]);
}

const fileWith = (text: string) => {
  const file = fileIn();
  writeFileSync(file, text);
  return file;
};
const line = (hosts: string, blob: Buffer, marker = '') => `${marker ? `${marker} ` : ''}${hosts} ${keyTypeOf(blob)} ${blob.toString('base64')}\n`;

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

  it('refuses a key of another type when the host has a recorded key (issue 21: a MITM with an ECDSA key)', () => {
    const known = ed25519Blob();
    const file = fileWith(line('[broker1]:2222', known));
    for (const check of ['accept-new', 'strict'] as const) {
      const verdict = checkHostKey({ check, file }, 'broker1', 2222, ecdsaBlob());
      assert.equal(verdict.ok, false);
      assert.match((verdict as { reason: string }).reason, /ecdsa-sha2-nistp256 host key of \[broker1\]:2222 differs from line 1 .*recorded: ssh-ed25519.*REMOTE HOST IDENTIFICATION HAS CHANGED/);
    }
    assert.equal(readFileSync(file, 'utf8'), line('[broker1]:2222', known), 'nothing appended');
  });

  it('accepts any one of several recorded keys, and offers the recorded types first', () => {
    const ed = ed25519Blob();
    const ec = ecdsaBlob();
    const file = fileWith(line('broker1', ec) + line('broker1', ed));
    assert.deepEqual(checkHostKey({ check: 'strict', file }, 'broker1', 22, ed), { ok: true, recorded: false });
    assert.deepEqual(checkHostKey({ check: 'strict', file }, 'broker1', 22, ec), { ok: true, recorded: false });
    assert.deepEqual(hostKeyAlgorithms({ check: 'strict', file }, 'broker1', 22).slice(0, 2), ['ecdsa-sha2-nistp256', 'ssh-ed25519']);
    assert.equal(hostKeyAlgorithms({ check: 'strict', file: fileWith(line('other', ed) + line('broker1', ec)) }, 'broker1', 22)[0], 'ecdsa-sha2-nistp256');
    assert.deepEqual(hostKeyAlgorithms({ check: 'strict', file: fileIn() }, 'broker1', 22)[0], 'ssh-ed25519');
  });

  it('refuses a key marked @revoked, even one also listed as known, under every mode but off', () => {
    const key = ed25519Blob();
    const file = fileWith(line('broker1', key) + line('*', key, '@revoked'));
    for (const check of ['accept-new', 'strict'] as const) {
      const verdict = checkHostKey({ check, file }, 'broker1', 22, key);
      assert.match((verdict as { reason: string }).reason, /marked @revoked on line 2/);
    }
    // An unknown host whose key is revoked is not trusted on first use either.
    const unknownHost = checkHostKey({ check: 'accept-new', file }, 'broker2', 22, key);
    assert.equal(unknownHost.ok, false);
    assert.equal(readFileSync(file, 'utf8'), line('broker1', key) + line('*', key, '@revoked'), 'nothing appended');
    // A revoked line for other hosts only does not apply.
    assert.equal(checkHostKey({ check: 'strict', file: fileWith(line('broker1', key) + line('other', key, '@revoked')) }, 'broker1', 22, key).ok, true);
  });

  it('refuses a host covered by @cert-authority with a clear message, instead of trusting it on first use', () => {
    const file = fileWith(line('*.example.net', ed25519Blob(), '@cert-authority'));
    const verdict = checkHostKey({ check: 'accept-new', file }, 'broker1.example.net', 22, ed25519Blob());
    assert.equal(verdict.ok, false);
    assert.match((verdict as { reason: string }).reason, /line 1 .* @cert-authority for broker1\.example\.net.*cannot check host certificates.*ssh-keyscan/);
    // A host outside the authority's patterns is unaffected.
    assert.deepEqual(checkHostKey({ check: 'accept-new', file }, 'elsewhere.org', 22, ed25519Blob()), { ok: true, recorded: true });
  });

  it('reads markers, comments and short lines as OpenSSH does', () => {
    const key = ed25519Blob().toString('base64');
    const entries = parseKnownHosts(`# comment\n\n@revoked * ssh-ed25519 ${key} old\n@cert-authority *.lan ssh-ed25519 ${key}\n@unknown h ssh-ed25519 ${key}\nshort line\nh1,h2 ssh-ed25519 ${key} comment\n`);
    assert.deepEqual(entries.map((entry) => [entry.line, entry.marker ?? '', entry.hosts]), [
      [3, 'revoked', '*'],
      [4, 'cert-authority', '*.lan'],
      [7, '', 'h1,h2'],
    ]);
  });

  describe('host patterns', () => {
    const cases: Array<[string, string, boolean]> = [
      ['broker1', 'broker1', true],
      ['BROKER1', 'broker1', true],
      ['broker1', 'broker10', false],
      ['*', 'anything.example', true],
      ['*.example.net', 'a.example.net', true],
      ['*.example.net', 'example.net', false],
      ['broker?', 'broker7', true],
      ['broker?', 'broker77', false],
      ['a,broker1,c', 'broker1', true],
      ['a,b,c', 'broker1', false],
      ['*.lan,!db.lan', 'mq.lan', true],
      ['*.lan,!db.lan', 'db.lan', false],
      ['!db.lan', 'mq.lan', false],
      ['!db.lan,*', 'db.lan', false],
      ['[10.0.0.5]:2222', '[10.0.0.5]:2222', true],
      ['[10.0.0.5]:2222', '10.0.0.5', false],
      ['10.0.0.5', '[10.0.0.5]:2222', false],
      ['[10.0.0.?]:2222', '[10.0.0.7]:2222', true],
      ['[*]:2222', '[broker1]:2222', true],
      ['[*]:2222', '[broker1]:22', false],
      ['10.0.0.*', '10.0.0.12', true],
      ['10.0.0.*', '10.0.1.12', false],
      ['a+b', 'a+b', true],
      ['a.b', 'axb', false],
    ];
    for (const [pattern, name, expected] of cases) {
      it(`"${pattern}" ${expected ? 'matches' : 'does not match'} ${name}`, () => {
        assert.equal(matchesHostField(pattern, name), expected);
      });
    }

    it('matches hashed names, with and without a port, and nothing else', () => {
      const hashed = (name: string) => {
        const salt = randomBytes(20);
        return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
      };
      assert.equal(matchesHostField(hashed('[10.0.0.5]:2222'), '[10.0.0.5]:2222'), true);
      assert.equal(matchesHostField(hashed('[10.0.0.5]:2222'), '10.0.0.5'), false);
      assert.equal(matchesHostField(hashed('broker1'), 'broker2'), false);
      assert.equal(matchesHostField('|1|broken', 'broker1'), false);
    });

    it('uses a pattern line for the checking, with the port form off port 22', () => {
      const key = ed25519Blob();
      const file = fileWith(line('[*.lan]:2222,!db.lan', key));
      assert.deepEqual(checkHostKey({ check: 'strict', file }, 'mq.lan', 2222, key), { ok: true, recorded: false });
      assert.equal(checkHostKey({ check: 'strict', file }, 'mq.lan', 2222, ed25519Blob()).ok, false);
      assert.equal(checkHostKey({ check: 'strict', file }, 'mq.lan', 22, key).ok, false, 'port 22 is the bare name, not [mq.lan]:2222');
      assert.equal(matchesPattern('x', '*'), true);
    });
  });
});
