import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { describe, it } from 'node:test';
import { renderPasswordFile } from '../../src/brokers/mosquitto/password-file.ts';
import { hashPassword, verifyPassword } from '../../src/brokers/password-hash.ts';
import { Secret } from '../../src/secret.ts';

describe('Mosquitto $7$ password hashes', () => {
  it('writes the layout mosquitto_passwd writes: 101 iterations, 12-byte salt, 64-byte hash', () => {
    const hash = hashPassword('pw', Buffer.alloc(12, 1));
    const [, kind, iterations, salt, digest] = hash.split('$');
    assert.equal(kind, '7');
    assert.equal(iterations, '101');
    assert.equal(Buffer.from(salt!, 'base64').length, 12);
    assert.equal(Buffer.from(digest!, 'base64').length, 64);
  });

  it('verifies the right password and refuses a wrong one or a foreign format', () => {
    const hash = hashPassword(`p'w "$(x)"`);
    assert.equal(verifyPassword(`p'w "$(x)"`, hash), true);
    assert.equal(verifyPassword('other', hash), false);
    assert.equal(verifyPassword('pw', '$6$abc$def'), false);
  });

  // Issue 20: answers are remembered per (password, line) for a run's many hosts; never across pairs.
  it('answers a repeated check the same, and a remembered match never vouches for another password or line', () => {
    const line = hashPassword('right-pw');
    const other = hashPassword('right-pw');
    for (let call = 0; call < 3; call++) {
      assert.equal(verifyPassword('right-pw', line), true);
      assert.equal(verifyPassword('wrong-pw', line), false);
      assert.equal(verifyPassword('right-pw', other), true);
      assert.equal(verifyPassword('right-pw ', line), false);
    }
    const tampered = `${line.slice(0, -4)}${line.slice(-4, -3) === 'A' ? 'B' : 'A'}${line.slice(-3)}`;
    assert.equal(verifyPassword('right-pw', tampered), false);
  });

  it('keeps a matching line, re-hashes a changed one and drops removed users', () => {
    const first = renderPasswordFile([{ name: 'a', password: new Secret('1') }, { name: 'b', password: new Secret('2') }], null);
    const again = renderPasswordFile([{ name: 'a', password: new Secret('1') }, { name: 'b', password: new Secret('2') }], first);
    assert.equal(again, first);
    const changed = renderPasswordFile([{ name: 'a', password: new Secret('new') }], first);
    assert.equal(changed.split('\n').length, 2);
    assert.notEqual(changed.split('\n')[0], first.split('\n')[0]);
  });

  // Issue 21 item 5: the host's password file is not trusted. A guard timeout turns a CPU pin into a failure.
  it('treats a line with a hostile iteration count as not matching and rewrites it, without hashing it', { timeout: 10_000 }, () => {
    const salt = Buffer.alloc(12, 7).toString('base64');
    const digest = Buffer.alloc(64, 9).toString('base64');
    for (const count of ['999999999', '99999999999', '0']) {
      const hostile = `admin:$7$${count}$${salt}$${digest}\n`;
      assert.equal(verifyPassword('pw', `$7$${count}$${salt}$${digest}`), false);
      const rendered = renderPasswordFile([{ name: 'admin', password: new Secret('pw') }], hostile);
      assert.match(rendered, /^admin:\$7\$101\$/, `iterations ${count} are rewritten`);
      assert.equal(verifyPassword('pw', rendered.trim().slice('admin:'.length)), true);
    }
  });

  it('rewrites a correct hash whose parameters this tool does not write (1 iteration, short salt)', () => {
    const weakSalt = Buffer.alloc(12, 3);
    const weak = `$7$1$${weakSalt.toString('base64')}$${pbkdf2Sync('pw', weakSalt, 1, 64, 'sha512').toString('base64')}`;
    assert.equal(verifyPassword('pw', weak), false);
    const shortSalt = Buffer.alloc(4, 3);
    const short = `$7$101$${shortSalt.toString('base64')}$${pbkdf2Sync('pw', shortSalt, 101, 64, 'sha512').toString('base64')}`;
    assert.equal(verifyPassword('pw', short), false);
    const kept = hashPassword('pw');
    assert.equal(renderPasswordFile([{ name: 'a', password: new Secret('pw') }], `a:${kept}\n`), `a:${kept}\n`);
  });
});
