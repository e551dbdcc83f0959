import type { ManagedFile } from '../../operations/managed-file.ts';
import { renderTemplate } from '../../render/render-template.ts';
import type { Secret } from '../../secret.ts';
import type { Settings } from '../../settings/load.ts';
import { emqxLayout as layout } from './layout.ts';
import { emqxDurableSessions } from './review.ts';
import { emqxFeatures } from './version.ts';
import { tlsLayoutIn } from '../../tls/server-files.ts';
import { listenerBinds } from '../served-ports.ts';

export const emqxTlsLayout = tlsLayoutIn(layout.tlsDir, layout.user);

/** What differs per host: the version it gets, its node name and the cookie it keeps. */
export interface EmqxNode {
  version: string;
  nodeName: string;
  cookie: Secret;
  /** node.data_dir: the package's /var/lib/emqx unless the image keeps it elsewhere. */
  dataDir?: string;
}

/** EMQX counts session expiry as a duration; seconds are exact for any setting. */
export function sessionExpiry(settings: Settings): string {
  return settings.session.persistent ? `${settings.session.expirySeconds}s` : '0s';
}

/** The dashboard (and REST API) port: the served one, else 18083 on loopback only. */
export function dashboardPort(settings: Settings): number {
  return settings.listeners.dashboard ?? layout.defaultDashboardPort;
}

/**
 * A listener's `bind` as EMQX reads it: `IP:PORT`, `[IPv6]:PORT` (apps/emqx/src/emqx_schema.erl
 * v5.8.6, `to_ip_port/1` and `split_ip_port/1`); all IPv4 addresses unless the settings name one.
 */
export function bindAddress(address: string | undefined, port: number): string {
  if (address === undefined) return `0.0.0.0:${port}`;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function emqxConfig(settings: Settings, node: EmqxNode): string {
  const features = emqxFeatures(node.version);
  const seeds = settings.emqx.cluster.seeds;
  const durable = emqxDurableSessions(settings, node.version);
  const { mqtt, websocket, mqtts, wss, dashboard } = settings.listeners;
  const binds = listenerBinds(settings);
  // verify_peer + fail_if_no_peer_cert: a client without a certificate signed by cacertfile is refused at the handshake.
  const sslOptions = settings.tls
    ? {
        cacertfile: emqxTlsLayout.caFile,
        certfile: emqxTlsLayout.certFile,
        keyfile: emqxTlsLayout.keyFile,
        verify: settings.tls.requireClientCertificate ? 'verify_peer' : 'verify_none',
        failIfNoPeerCert: settings.tls.requireClientCertificate,
      }
    : null;
  return renderTemplate(
    'emqx.conf',
    {
      version: node.version,
      // The one place the cookie is revealed: into a file that is 0640 root:emqx and never diffed.
      node: { name: node.nodeName, cookie: node.cookie.reveal(), dataDir: node.dataDir ?? layout.dataDir },
      cluster: { static: seeds.length > 1, seeds, singleton: durable && features.singletonDiscovery && seeds.length <= 1 },
      forceShutdown: { ...settings.forceShutdown, mailboxKey: features.mailboxKey },
      session: settings.session,
      mqtt: { sessionExpiry: sessionExpiry(settings), retryInterval: '30s', maxAwaitingRel: 100 },
      durableSessions: { supported: features.durableSessions, enable: durable },
      listeners: {
        enableKey: features.listenerEnableKey,
        tcp: { enabled: mqtt !== undefined, bind: bindAddress(binds.mqtt, mqtt ?? 1883) },
        ws: { enabled: websocket !== undefined, bind: bindAddress(binds.websocket, websocket ?? 8083) },
        ssl: { enabled: mqtts !== undefined && sslOptions !== null, bind: bindAddress(binds.mqtts, mqtts ?? 8883) },
        wss: { enabled: wss !== undefined && sslOptions !== null, bind: bindAddress(binds.wss, wss ?? 8084) },
        sslOptions,
      },
      dashboard:
        dashboard !== undefined
          ? { bind: binds.dashboard === undefined ? String(dashboard) : `"${bindAddress(binds.dashboard, dashboard)}"`, comment: `Served on port ${dashboard} (settings.listeners.dashboard).` }
          : { bind: `"127.0.0.1:${layout.defaultDashboardPort}"`, comment: 'Not served (no dashboard listener in the settings): loopback only, for mqtt-provision.' },
      prometheus: emqxPrometheus(settings),
      extraConfig: settings.extraConfig.trimEnd(),
    },
    settings.templates,
  );
}

/**
 * The `prometheus` block when metrics are on. The endpoint answers whether or not it is rendered;
 * what the settings decide is whether it asks for credentials (security/0 in
 * apps/emqx_prometheus/src/emqx_prometheus_api.erl: basicAuth or bearerAuth when enable_basic_auth
 * is true, none otherwise; EMQX's default is false).
 */
function emqxPrometheus(settings: Settings): { basicAuth: boolean; comment: string } | null {
  if (!settings.metrics.enabled) return null;
  return settings.metrics.emqxBasicAuth
    ? { basicAuth: true, comment: 'Basic auth on: scrape with an API key as user name and its secret as password.' }
    : { basicAuth: false, comment: 'Basic auth off (metrics.emqxBasicAuth): anyone who reaches the dashboard port may read it.' };
}

/** emqx.conf holds the cookie, so it is a secret file: readable by the emqx group, never diffed. */
export function emqxConfigFile(settings: Settings, node: EmqxNode): ManagedFile {
  return {
    path: layout.configFile,
    content: emqxConfig(settings, node),
    mode: '0640',
    owner: 'root',
    group: layout.user,
    secret: true,
    apply: 'restart',
  };
}
