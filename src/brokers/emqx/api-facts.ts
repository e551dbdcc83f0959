import type { HostFacts } from '../../facts/host-facts.ts';
import type { EmqxApiFact, EmqxMqttUserFact } from './facts.ts';
import { Secret } from '../../secret.ts';
import type { Settings } from '../../settings/load.ts';
import { emqxCookiePattern } from '../../settings/schema.ts';
import type { Transport } from '../../transport/transport.ts';
import { dashboardPort } from './files.ts';
import { cookieInConfig, insecureDefaultCookie, servicePassword } from './identity.ts';
import { emqxLayout as layout } from './layout.ts';
import { apiFactScript } from './rest-scripts.ts';

/** The cookie the host runs with now (settings or its emqx.conf), from which the service password derives. */
export function currentCookie(settings: Settings, currentConfig: string | null | undefined): Secret | null {
  if (settings.emqx.cookie) return settings.emqx.cookie;
  const cookie = cookieInConfig(currentConfig);
  return cookie && cookie !== insecureDefaultCookie && emqxCookiePattern.test(cookie) ? new Secret(cookie) : null;
}

/**
 * The extra fact-gathering round trip of the EMQX role: one `sh -s` exec whose script (on stdin,
 * with the credentials in it) asks the local REST API who logs in and what users and rules exist.
 * Skipped when EMQX is not running or curl is missing: the planner then plans every REST step,
 * whose scripts check again at run time.
 */
export async function gatherEmqxApiFacts(transport: Transport, facts: HostFacts, settings: Settings): Promise<HostFacts> {
  if (settings.state !== 'present' || !facts.commands.includes('curl') || facts.services[layout.service]?.active !== 'active') return facts;
  const cookie = currentCookie(settings, facts.files[layout.configFile]?.content);
  const service = cookie === null ? null : servicePassword(cookie);
  const command = apiFactScript({ port: dashboardPort(settings), servicePassword: service }, settings.admins);
  const result = await transport.exec(command.argv, { stdin: command.stdin! });
  if (result.code !== 0) throw new Error(`the EMQX REST API probe failed (exit ${result.code}): ${result.stderr.trim()}`);
  const api = parseApiFacts(result.stdout, settings.admins.map((admin) => admin.name));
  return { ...facts, emqx: { status: facts.emqx?.status ?? null, api } };
}

/** Turns the fact script's lines into EmqxApiFact. Pure, so fixtures can feed it text. */
export function parseApiFacts(output: string, adminNames: string[]): EmqxApiFact {
  const api: EmqxApiFact = { reachable: false, serviceLogin: false, logins: {}, defaultAdmin: null, mqttUsers: null, acl: null };
  let usersSeen = false;
  for (const line of output.split('\n')) {
    const [kind, first = '', second = ''] = line.split('\t');
    switch (kind) {
      case 'api':
        api.reachable = first === 'reachable';
        break;
      case 'service':
        api.serviceLogin = first === 'ok';
        break;
      case 'login': {
        const name = adminNames[Number(first)];
        if (name !== undefined) api.logins[name] = second === 'ok';
        break;
      }
      case 'default':
        api.defaultAdmin = first === 'ok';
        break;
      case 'users': {
        // One line per page: every page must parse, or the list is unknown.
        const page = first === '200' ? parseUsers(decode(second)) : null;
        api.mqttUsers = page === null || (usersSeen && api.mqttUsers === null) ? null : [...(api.mqttUsers ?? []), ...page];
        usersSeen = true;
        break;
      }
      case 'acl':
        api.acl = parseAcl(first, decode(second));
        break;
    }
  }
  return api;
}

function decode(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}

function parseUsers(text: string): EmqxMqttUserFact[] | null {
  try {
    const parsed = JSON.parse(text) as { data?: Array<{ user_id?: unknown; is_superuser?: unknown }> };
    if (!Array.isArray(parsed.data)) return null;
    return parsed.data.filter((user) => typeof user.user_id === 'string').map((user) => ({ name: user.user_id as string, superuser: user.is_superuser === true }));
  } catch {
    return null;
  }
}

function parseAcl(status: string, text: string): EmqxApiFact['acl'] {
  if (status === '404') return { present: false, rules: '' };
  if (status !== '200') return null;
  try {
    const parsed = JSON.parse(text) as { rules?: unknown; enable?: unknown };
    if (typeof parsed.rules !== 'string') return null;
    // A disabled source counts as missing: its rules would not apply.
    return parsed.enable === false ? { present: false, rules: parsed.rules } : { present: true, rules: parsed.rules };
  } catch {
    return null;
  }
}
