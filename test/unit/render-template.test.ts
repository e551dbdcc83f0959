import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, mock } from 'node:test';
import Handlebars from 'handlebars';
import { renderTemplate, templateWarmUp } from '../../src/render/render-template.ts';

// Issue 20: a template is compiled once per process, not once per host. The cache must never hand
// back another template's output, an edited file's old text, or hide a template's error.

const directory = mkdtempSync(join(tmpdir(), 'mp-template-'));

describe('renderTemplate compiles each template once and stays correct', () => {
  it('compiles a template once for any number of renders (one per host of a run)', () => {
    const path = join(directory, `once-${process.pid}.hbs`);
    writeFileSync(path, `# once ${Date.now()}\nlistener {{port}}\n`);
    const compile = mock.method(Handlebars, 'compile');
    try {
      const rendered = [1883, 1884, 1885].map((port) => renderTemplate('mosquitto.conf', { port }, { 'mosquitto.conf': path }));
      assert.deepEqual(rendered.map((text) => text.split('\n')[1]), ['listener 1883', 'listener 1884', 'listener 1885']);
      assert.equal(compile.mock.callCount(), 1);
    } finally {
      compile.mock.restore();
    }
  });

  it('renders the same template again with other values, each time from its own context', () => {
    const path = join(directory, 'listeners.hbs');
    writeFileSync(path, 'listener {{port}}\n');
    const overrides = { 'mosquitto.conf': path };
    assert.equal(renderTemplate('mosquitto.conf', { port: 1883 }, overrides), 'listener 1883\n');
    assert.equal(renderTemplate('mosquitto.conf', { port: 8883 }, overrides), 'listener 8883\n');
  });

  it('reads a user template on every call: an edit between two renders is what the second one shows', () => {
    const path = join(directory, 'edited.hbs');
    const overrides = { 'mosquitto-acl': path };
    writeFileSync(path, 'user {{name}}\n');
    assert.equal(renderTemplate('mosquitto-acl', { name: 'a' }, overrides), 'user a\n');
    writeFileSync(path, 'user {{name}} # edited\n');
    assert.equal(renderTemplate('mosquitto-acl', { name: 'a' }, overrides), 'user a # edited\n');
  });

  it('two files with the same text but different names render alike, and a shipped template is unaffected by an override of it', () => {
    const first = join(directory, 'one.hbs');
    const second = join(directory, 'two.hbs');
    writeFileSync(first, 'x={{x}}\n');
    writeFileSync(second, 'x={{x}}\n');
    assert.equal(renderTemplate('mosquitto.conf', { x: 1 }, { 'mosquitto.conf': first }), 'x=1\n');
    assert.equal(renderTemplate('mosquitto.conf', { x: 2 }, { 'mosquitto.conf': second }), 'x=2\n');
    const context = { admins: [{ name: 'admin' }], users: [], metrics: null };
    const shipped = renderTemplate('mosquitto-acl', context);
    assert.match(shipped, /user admin/);
    assert.equal(renderTemplate('mosquitto-acl', context), shipped);
  });

  it('a template that does not compile or render fails on every call, naming its file', () => {
    const broken = join(directory, 'broken.hbs');
    writeFileSync(broken, '{{#if x}}never closed\n');
    for (let call = 0; call < 2; call++) assert.throws(() => renderTemplate('mosquitto.conf', { x: true }, { 'mosquitto.conf': broken }), /template .*broken\.hbs/);
    const strict = join(directory, 'strict.hbs');
    writeFileSync(strict, '{{missing}}\n');
    for (let call = 0; call < 2; call++) assert.throws(() => renderTemplate('mosquitto.conf', {}, { 'mosquitto.conf': strict }), /"missing" not defined/);
  });

  it('the warm-up pieces compile ahead, so the render after them compiles nothing, and none throws', () => {
    const path = join(directory, `warm-${process.pid}.hbs`);
    writeFileSync(path, `# warm ${Date.now()}\n{{#each users}}user {{name}}\n{{/each}}`);
    const overrides = { 'mosquitto.conf': path, 'mosquitto-acl': join(directory, 'missing.hbs') };
    const compile = mock.method(Handlebars, 'compile');
    try {
      for (const piece of templateWarmUp(['mosquitto.conf', 'mosquitto-acl'], overrides)) piece();
      const warmed = compile.mock.callCount();
      assert.equal(renderTemplate('mosquitto.conf', { users: [{ name: 'a' }] }, overrides).split('\n')[1], 'user a');
      assert.equal(compile.mock.callCount(), warmed, 'the render used the warmed template');
    } finally {
      compile.mock.restore();
    }
    // The missing file is reported where it is rendered, as before.
    assert.throws(() => renderTemplate('mosquitto-acl', {}, overrides), /settings\.templates\.mosquitto-acl/);
  });
});
