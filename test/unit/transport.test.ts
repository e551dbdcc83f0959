import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseHostSpec } from '../../src/transport/host-spec.ts';
import { LocalTransport } from '../../src/transport/local.ts';
import { quoteCommand } from '../../src/transport/shell-quote.ts';

const hostile = [`it's`, `"double"`, '$(touch /tmp/pwned)', '`id`', 'a; rm -rf /', 'new\nline', 'back\\slash', ' spaces ', '*', '$HOME', '!event'];

describe('shell quoting', () => {
  it('passes hostile arguments through a real shell byte for byte', () => {
    const command = quoteCommand(['printf', '%s\\0', ...hostile]);
    const output = execFileSync('sh', ['-c', command], { encoding: 'utf8' });
    assert.deepEqual(output.split('\0').slice(0, -1), hostile);
  });

  it('refuses NUL, which no shell can carry', () => {
    assert.throws(() => quoteCommand(['echo', 'a\0b']), /NUL/);
  });

  it('leaves plain words readable', () => {
    assert.equal(quoteCommand(['systemctl', 'restart', 'mosquitto']), 'systemctl restart mosquitto');
  });
});

describe('host specs', () => {
  it('defaults to root on port 22', () => assert.deepEqual(parseHostSpec('broker1.example.com'), { user: 'root', host: 'broker1.example.com', port: 22 }));
  it('reads user and port', () => assert.deepEqual(parseHostSpec('deploy@10.0.0.5:2222'), { user: 'deploy', host: '10.0.0.5', port: 2222 }));
  it('reads bracketed IPv6', () => assert.deepEqual(parseHostSpec('[::1]:22'), { user: 'root', host: '::1', port: 22 }));
  for (const bad of ['a;b', 'user@', '$(x)@host', 'host:99999', 'host:ssh', 'us er@host', '']) {
    it(`refuses ${JSON.stringify(bad)} naming --host`, () => assert.throws(() => parseHostSpec(bad), /^InputError: --host|--host: /));
  }
});

describe('local transport', () => {
  it('runs argument lists without a shell and feeds stdin', async () => {
    const transport = new LocalTransport();
    const result = await transport.exec(['sh', '-c', 'cat; echo "$1"', 'name', '$(not run)'], { stdin: 'from stdin\n' });
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'from stdin\n$(not run)\n');
  });
});
