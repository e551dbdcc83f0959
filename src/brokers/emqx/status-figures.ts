import type { HostFacts } from '../../facts/host-facts.ts';
import type { Command } from '../../operations/step.ts';
import type { Secret } from '../../secret.ts';
import type { Settings } from '../../settings/load.ts';
import type { Transport } from '../../transport/transport.ts';
import { currentCookie } from './api-facts.ts';
import { dashboardPort } from './files.ts';
import { servicePassword } from './identity.ts';
import { emqxLayout as layout } from './layout.ts';
import { credentials, library, script, type RestTarget } from './rest-scripts.ts';

/**
 * status.mts's figures for an EMQX node, read on the host like the REST facts (a script on the
 * stdin of `sh -s`, credentials in here-documents, never in an argument):
 *
 * - `emqx ctl status`: "Node 'emqx@host' 5.8.6 is started" (apps/emqx_management/src/emqx_mgmt_cli.erl,
 *   status/1 prints node(), the release and init:get_status()).
 * - GET /api/v5/stats?aggregate=true: one map of counters for the cluster
 *   (apps/emqx_management/src/emqx_mgmt_api_stats.erl, fields(aggregated_data); the same at v5.7.2
 *   and v5.8.6): `live_connections.count` (clients connected now), `sessions.count` (sessions,
 *   disconnected persistent ones included), `retained.count`. No counter there, nor in
 *   /monitor_current (apps/emqx_dashboard/include/emqx_dashboard.hrl, GAUGE_SAMPLER_LIST), says how
 *   many messages wait for clients.
 * - GET /api/v5/clients?fields=clientid,connected,mqueue_len, page by page until meta.hasnext is
 *   false (apps/emqx_management/src/emqx_mgmt_api_clients.erl; `fields` exists at both tags):
 *   disconnected sessions are the rows with connected=false, queued messages the sum of mqueue_len.
 *   A durable session's row always says mqueue_len 0 (its messages are in durable storage, not in
 *   a queue), so durable sessions' waiting messages are not counted.
 */

/** Rows per page of /clients (1–10000, emqx_dashboard_swagger.erl ?MAX_ROW_LIMIT). */
export const clientsPageSize = 1000;

/** The broker's own figures as status.mts reports them (the fields of BrokerFigures it can fill). */
export interface EmqxFigures {
  version?: string;
  /** What `emqx ctl status` says the node is: "started" when all is well. */
  nodeStatus?: string;
  connectedClients?: number;
  sessions?: number;
  disconnectedSessions?: number;
  retainedMessages?: number;
  queuedMessages?: number;
}

/**
 * Output lines: `ctl <exit> <base64 text>`, `api reachable|unreachable`, `login ok|denied`,
 * `stats <status> <base64 body>`, `clients <status> <base64 body>` (one per page).
 */
export function statusFiguresScript(target: RestTarget, admins: Array<{ name: string; password: Secret }>): Command {
  const logins = [
    ...(target.servicePassword ? [credentials(layout.serviceAccount, target.servicePassword)] : []),
    ...admins.map((admin) => credentials(admin.name, admin.password)),
  ]
    .map((document) => `if [ -z "$reader" ] && login ${document}\nthen reader=$token\nfi\n`)
    .join('');
  const text = `${library(target.port)}out=$(emqx ctl status 2>&1); rc=$?
printf 'ctl\\t%s\\t%s\\n' "$rc" "$(printf '%s' "$out" | base64 | tr -d '\\n')"
if api_up; then printf 'api\\treachable\\n'; else printf 'api\\tunreachable\\n'; exit 0; fi
reader=''
${logins}if [ -z "$reader" ]; then printf 'login\\tdenied\\n'; exit 0; fi
printf 'login\\tok\\n'
token=$reader
resp=$(call GET '/stats?aggregate=true' </dev/null)
printf 'stats\\t%s\\t%s\\n' "$(code_of "$resp")" "$(body_of "$resp" | base64 | tr -d '\\n')"
get_pages clients '/clients?fields=clientid,connected,mqueue_len&' ${clientsPageSize}
`;
  return script('mqtt-provision-emqx-status', text);
}

function decode(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined);

/** The script's lines → figures (pure, so fixtures feed it text). Throws when no figure could be read. */
export function parseStatusFigures(output: string): EmqxFigures {
  const figures: EmqxFigures = {};
  let reachable = true;
  let login = '';
  let disconnected = 0;
  let queued = 0;
  let clientsOk: boolean | null = null;
  for (const line of output.split('\n')) {
    const [kind, first = '', second = ''] = line.split('\t');
    if (kind === 'ctl') {
      const text = decode(second).trim();
      const started = /^Node '?([^'\s]+)'? (\S+) is (\w+)/m.exec(text);
      if (started) {
        figures.version = started[2]!;
        figures.nodeStatus = started[3]!;
      } else figures.nodeStatus = (text.split('\n')[0] || `emqx ctl status exited ${first}`).slice(0, 200);
    } else if (kind === 'api') reachable = first === 'reachable';
    else if (kind === 'login') login = first;
    else if (kind === 'stats' && first === '200') {
      const stats = json(decode(second)) as Record<string, unknown> | null;
      if (stats && typeof stats === 'object' && !Array.isArray(stats)) {
        const set = (key: keyof EmqxFigures, value: unknown) => {
          const n = count(value);
          if (n !== undefined) (figures as Record<string, unknown>)[key] = n;
        };
        set('connectedClients', stats['live_connections.count']);
        set('sessions', stats['sessions.count']);
        set('retainedMessages', stats['retained.count']);
      }
    } else if (kind === 'clients') {
      // Every page must parse, or the totals are unknown.
      const page = first === '200' ? (json(decode(second)) as { data?: unknown } | null) : null;
      if (!page || !Array.isArray(page.data)) clientsOk = false;
      else if (clientsOk !== false) {
        clientsOk = true;
        for (const row of page.data as Array<{ connected?: unknown; mqueue_len?: unknown }>) {
          if (row.connected === false) disconnected++;
          queued += count(row.mqueue_len) ?? 0;
        }
      }
    }
  }
  if (clientsOk) {
    figures.disconnectedSessions = disconnected;
    figures.queuedMessages = queued;
  }
  if (!reachable && figures.nodeStatus === undefined) throw new Error('neither emqx ctl status nor the REST API answered');
  if (!reachable) return figures;
  if (login === 'denied') throw new Error(`no dashboard login works for the figures (not ${layout.serviceAccount}, no admin of the settings)`);
  return figures;
}

/** Runs the figures script on a host whose facts are known (the cookie gives the service password). */
export async function emqxStatusFigures(transport: Transport, facts: HostFacts, settings: Settings): Promise<EmqxFigures> {
  const cookie = currentCookie(settings, facts.files[layout.configFile]?.content);
  const command = statusFiguresScript({ port: dashboardPort(settings), servicePassword: cookie === null ? null : servicePassword(cookie) }, settings.admins);
  const result = await transport.exec(command.argv, { stdin: command.stdin! });
  if (result.code !== 0) throw new Error(`the EMQX figures script failed (exit ${result.code}): ${result.stderr.trim()}`);
  return parseStatusFigures(result.stdout);
}
