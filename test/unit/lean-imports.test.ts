import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Issue 20: the install scripts load zod's locale index as English alone. In a process of its own
// (the hook is process-wide): zod still works, reports in English, and the 62 other locales are
// not loaded. Fails when a zod upgrade moves its files (then the hook quietly stops applying).

const root = fileURLToPath(new URL('../../', import.meta.url));
const probe = `
import { skipUnusedLocales } from './scripts/lib/lean-imports.mts';
const endLocaleHook = skipUnusedLocales();
const { z } = await import('zod');
const { settingsSchema } = await import('./src/settings/schema.ts');
endLocaleHook();
await import('yaml');
const bad = settingsSchema.safeParse({ broker: 'mosquitto', listeners: { mqtt: 'not a port' } });
const good = z.object({ port: z.number().int() }).safeParse({ port: 1883 });
console.log(JSON.stringify({ locales: Object.keys(z.locales), coreLocales: Object.keys(z.core.locales), badOk: bad.success, message: bad.success ? '' : bad.error.issues[0].message, goodOk: good.success }));
`;

describe('scripts/lib/lean-imports.mts', () => {
  it('leaves zod working, in English, with only the English locale loaded', () => {
    const output = execFileSync(process.execPath, ['--input-type=module', '--eval', probe], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(output) as { locales: string[]; coreLocales: string[]; badOk: boolean; message: string; goodOk: boolean };
    assert.deepEqual(result.locales, ['en']);
    assert.deepEqual(result.coreLocales, ['en']);
    assert.equal(result.goodOk, true);
    assert.equal(result.badOk, false);
    assert.match(result.message, /^Invalid input: expected number, received string$/);
  });
});
