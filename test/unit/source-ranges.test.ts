import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSourceRange, rangeContains, ufwSpelling, type SourceRange } from '../../src/settings/source-ranges.ts';

const ok = (text: string): SourceRange => {
  const parsed = parseSourceRange(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
};

describe('allowFrom ranges in one canonical spelling', () => {
  it('writes a single host with its full prefix and IPv6 compressed in lower case', () => {
    assert.deepEqual(ok('192.0.2.7'), { family: 'ipv4', cidr: '192.0.2.7/32' });
    assert.deepEqual(ok(' 10.20.0.0/16 '), { family: 'ipv4', cidr: '10.20.0.0/16' });
    assert.deepEqual(ok('2001:DB8:0:0:0:0:0:0/32'), { family: 'ipv6', cidr: '2001:db8::/32' });
    assert.deepEqual(ok('fd00::1'), { family: 'ipv6', cidr: 'fd00::1/128' });
    assert.deepEqual(ok('2001:db8:0:1:0:0:0:1'), { family: 'ipv6', cidr: '2001:db8:0:1::1/128' });
    assert.deepEqual(ok('::/0'), { family: 'ipv6', cidr: '::/0' });
    assert.deepEqual(ok('0.0.0.0/0'), { family: 'ipv4', cidr: '0.0.0.0/0' });
  });

  it('refuses host bits, naming the range that was probably meant (ufw would widen it silently)', () => {
    assert.deepEqual(parseSourceRange('172.17.0.5/16'), { error: '"172.17.0.5/16" has host bits set; the range it names is 172.17.0.0/16' });
    assert.match((parseSourceRange('fd00::1/8') as { error: string }).error, /fd00::\/8/);
  });

  it('refuses what is not an address or has a bad prefix', () => {
    for (const bad of ['plant', '10.0.0.0/33', '10.0.0/8', '10.0.0.0/', 'fd00::/129', '256.1.1.1', '10.0.0.0/8/8']) {
      assert.ok('error' in parseSourceRange(bad), bad);
    }
  });

  it('knows whether the Docker gateway lies in a range (what the lab test varies)', () => {
    assert.equal(rangeContains(ok('172.17.0.0/16'), '172.17.0.1'), true);
    assert.equal(rangeContains(ok('172.17.0.1'), '172.17.0.1'), true);
    assert.equal(rangeContains(ok('10.0.0.0/8'), '172.17.0.1'), false);
    assert.equal(rangeContains(ok('fd00::/8'), '172.17.0.1'), false);
    assert.equal(rangeContains(ok('fd00::/8'), 'fd12::5'), true);
  });

  it('spells a single host as ufw lists it', () => {
    assert.equal(ufwSpelling(ok('172.17.0.1')), '172.17.0.1');
    assert.equal(ufwSpelling(ok('10.0.0.0/8')), '10.0.0.0/8');
    assert.equal(ufwSpelling(ok('fd00::1')), 'fd00::1');
  });
});
