import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderPasswordFile } from '../../src/brokers/mosquitto/password-file.ts';
import { hashPassword, verifyPassword } from '../../src/brokers/mosquitto/password-hash.ts';
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

  it('keeps a matching line, re-hashes a changed one and drops removed users', () => {
    const first = renderPasswordFile([{ name: 'a', password: new Secret('1') }, { name: 'b', password: new Secret('2') }], null);
    const again = renderPasswordFile([{ name: 'a', password: new Secret('1') }, { name: 'b', password: new Secret('2') }], first);
    assert.equal(again, first);
    const changed = renderPasswordFile([{ name: 'a', password: new Secret('new') }], first);
    assert.equal(changed.split('\n').length, 2);
    assert.notEqual(changed.split('\n')[0], first.split('\n')[0]);
  });
});
