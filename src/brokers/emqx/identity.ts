import { createHmac, randomBytes } from 'node:crypto';
import type { HostFacts } from '../../facts/host-facts.ts';
import { Secret } from '../../secret.ts';
import type { Settings } from '../../settings/load.ts';
import { emqxCookiePattern } from '../../settings/schema.ts';

/** What the packages ship in emqx.conf (`{{ emqx_default_erlang_cookie }}`); bin/emqx warns about it. Never kept. */
export const insecureDefaultCookie = 'emqxsecretcookie';

export const defaultNodeName = 'emqx@127.0.0.1';

/** A fresh cookie: 32 random bytes, URL-safe base64 (43 characters the cookie pattern allows). */
export function generateCookie(): string {
  return randomBytes(32).toString('base64url');
}

/** The cookie in an emqx.conf text (ours or the packaged one), or null. */
export function cookieInConfig(content: string | null | undefined): string | null {
  const match = /^\s*(?:node\.)?cookie\s*=\s*"([^"\n]*)"/m.exec(content ?? '');
  return match?.[1] ?? null;
}

/**
 * The cookie a host keeps: the settings' (a cluster's shared one), else the one already in the
 * host's emqx.conf (`currentConfig`) unless it is the insecure packaged default, else a new random one. Reusing the
 * host's cookie is what keeps a second run from rewriting emqx.conf and restarting EMQX.
 */
export function chooseCookie(settings: Settings, currentConfig: string | null | undefined, generate: () => string = generateCookie): Secret {
  if (settings.emqx.cookie) return settings.emqx.cookie;
  const current = cookieInConfig(currentConfig);
  if (current && current !== insecureDefaultCookie && emqxCookiePattern.test(current)) return new Secret(current);
  return new Secret(generate());
}

/**
 * The node name: in a cluster the seed whose host part is one of this host's names or addresses
 * (`uname -n`, `hostname -I`); otherwise the setting or emqx@127.0.0.1. Without facts (rendering
 * for review) a cluster renders for its first seed.
 */
export function chooseNodeName(settings: Settings, facts: HostFacts | null): string {
  const seeds = settings.emqx.cluster.seeds;
  if (seeds.length <= 1) return settings.emqx.nodeName ?? seeds[0] ?? defaultNodeName;
  if (facts === null) return seeds[0]!;
  const names = new Set(facts.hostNames ?? []);
  const mine = seeds.filter((seed) => names.has(seed.slice(seed.indexOf('@') + 1)));
  if (mine.length === 1) return mine[0]!;
  const known = [...names].join(', ') || 'none reported';
  if (mine.length === 0) throw new Error(`this host (names and addresses: ${known}) is none of emqx.cluster.seeds (${seeds.join(', ')})`);
  throw new Error(`this host matches several of emqx.cluster.seeds (${mine.join(', ')}); give each node its own host name or address`);
}

/**
 * The password of mqtt-provision's own dashboard account, derived from the cookie: the same on every
 * node of a cluster without being stored anywhere, and no weaker than the cookie, which already
 * lets its holder run code on the node. It changes when the cookie changes.
 */
export function servicePassword(cookie: Secret): Secret {
  const digest = createHmac('sha256', cookie.reveal()).update('mqtt-provision dashboard account').digest('hex');
  return new Secret(`Mp-${digest.slice(0, 48)}`);
}
