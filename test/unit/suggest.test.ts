import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { settingsSchema } from '../../src/settings/schema.ts';
import { closestKey, editDistance, knownKeysAt } from '../../src/settings/suggest.ts';

function loadError(raw: unknown): string {
  try {
    resolveSettings(raw);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the settings to be refused');
}

describe('suggestions for misspelt settings keys', () => {
  it('counts a missing letter and a swapped pair as one edit', () => {
    assert.equal(editDistance('maxQueueMessages', 'maxQueuedMessages'), 1);
    assert.equal(editDistance('lsiteners', 'listeners'), 1);
    assert.equal(editDistance('', 'abc'), 3);
  });

  it('suggests only a key that is close enough to be what was meant', () => {
    assert.equal(closestKey('maxQueueMessages', ['persistent', 'maxQueuedMessages']), 'maxQueuedMessages');
    assert.equal(closestKey('ExpirySeconds', ['expirySeconds']), 'expirySeconds');
    assert.equal(closestKey('colour', ['persistent', 'maxQueuedMessages']), undefined);
  });

  it('finds the allowed keys at a path through defaults, optionals and arrays', () => {
    assert.ok(knownKeysAt(settingsSchema, ['session']).includes('maxQueuedMessages'));
    assert.deepEqual(knownKeysAt(settingsSchema, ['admins', 0]).sort(), ['name', 'password', 'passwordFile']);
    assert.ok(knownKeysAt(settingsSchema, []).includes('listeners'));
  });

  it('names the misspelt key, the likely one and what is allowed there (exit 2 path)', () => {
    const message = loadError({ broker: 'mosquitto', admins: [{ name: 'a', password: 'b' }], session: { maxQueueMessages: 5 } });
    assert.match(message, /settings\.session: unknown key "maxQueueMessages" \(did you mean "maxQueuedMessages"\?\); allowed here: .*maxQueuedMessages/);
  });

  it('suggests nothing for a key unlike any allowed one', () => {
    const message = loadError({ broker: 'mosquitto', admins: [{ name: 'a', password: 'b' }], colour: 'red' });
    assert.match(message, /settings: unknown key "colour"; see the README's settings table/);
  });
});
