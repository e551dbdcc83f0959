import net from 'node:net';

/**
 * A listener's `allowFrom` entry in one canonical spelling: the network address with its prefix,
 * IPv6 lower-case and compressed (RFC 5952). The firewalls do not agree on spelling: firewalld
 * 1.3 lists a rich rule's source exactly as it was given (`172.17.0.5/16`, `2001:DB8::/32` come
 * back unchanged), ufw 0.36 rewrites it (`172.17.0.5/16` → `172.17.0.0/16`, `/32` → bare host,
 * IPv6 lower-cased). Comparing canonical forms keeps a second run at zero changes on both.
 */
export interface SourceRange {
  family: 'ipv4' | 'ipv6';
  /** Canonical `address/prefix`, e.g. `10.20.0.0/16`, `fd00::/8`, `172.17.0.1/32`. */
  cidr: string;
}

/** Parses `10.0.0.0/8`, `192.0.2.7` (a single host), `fd00::/8`; an error message naming the problem otherwise. */
export function parseSourceRange(text: string): SourceRange | { error: string } {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash === -1 ? undefined : trimmed.slice(slash + 1);
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : null;
  if (family === null) return { error: `${JSON.stringify(text)} is not an IPv4 or IPv6 address or CIDR range` };
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return { error: `${JSON.stringify(text)} has no prefix length after "/"` };
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return { error: `${JSON.stringify(text)}: an ${family} prefix is at most /${bits}` };
  const value = family === 'ipv4' ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const network = value & ~hostMask;
  const canonical = `${family === 'ipv4' ? bigIntToIpv4(network) : bigIntToIpv6(network)}/${prefix}`;
  // ufw would silently widen 10.1.2.3/8 to 10.0.0.0/8 and firewalld keep it as typed: say it instead.
  if (network !== value) return { error: `${JSON.stringify(text)} has host bits set; the range it names is ${canonical}` };
  return { family, cidr: canonical };
}

/** Whether `address` (no prefix) lies inside `range`: what the lab test asserts about the Docker gateway. */
export function rangeContains(range: SourceRange, address: string): boolean {
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : null;
  if (family !== range.family) return false;
  const [base, prefixText] = range.cidr.split('/') as [string, string];
  const bits = family === 'ipv4' ? 32 : 128;
  const hostMask = (1n << BigInt(bits - Number(prefixText))) - 1n;
  const toInt = family === 'ipv4' ? ipv4ToBigInt : ipv6ToBigInt;
  return (toInt(address) & ~hostMask) === toInt(base);
}

/** The spelling ufw lists and accepts for a range: a single host without its /32 or /128. */
export function ufwSpelling(range: SourceRange): string {
  const [address, prefix] = range.cidr.split('/') as [string, string];
  return prefix === (range.family === 'ipv4' ? '32' : '128') ? address : range.cidr;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function bigIntToIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
}

function ipv6ToBigInt(address: string): bigint {
  let text = address.toLowerCase();
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (v4) {
    const n = ipv4ToBigInt(v4);
    text = text.slice(0, -v4.length) + `${((n >> 16n) & 0xffffn).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** RFC 5952: lower case, no leading zeros, the longest run (two groups or more) of zero groups as `::`. */
function bigIntToIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
