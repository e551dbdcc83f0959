import type { TlsLayout } from '../../tls/server-files.ts';

/**
 * How a run's changed TLS files take effect on Mosquitto 2.0.x (issue 24, item 4), read from
 * eclipse/mosquitto v2.0.11 and proven on a Debian 12 lab host (notes-24-edge.md):
 *
 * - SIGHUP re-reads the server certificate and key of every TLS listener into the listener's
 *   existing SSL_CTX (src/loop.c: flag_reload → listeners__reload_all_certificates, src/mosquitto.c;
 *   src/net.c net__load_certificates). Clients connected before keep their session: a subscriber
 *   kept receiving through the reload, new clients got the new serial.
 * - The CA file is read only when a listener starts (src/net.c net__socket_listen → net__tls_load_verify),
 *   and conf.c skips cafile/certfile/keyfile lines on reload ("Listeners not valid for reloading"):
 *   after a CA change and SIGHUP the broker still verified client certificates against the old CA.
 * - A `protocol websockets` TLS listener belongs to libwebsockets, which opened the files itself
 *   (src/websockets.c). Mosquitto learns that SSL_CTX only when the first WebSocket client
 *   connects (websockets.c: `if(!mosq->listener->ssl_ctx) ... SSL_get_SSL_CTX`), so before that a
 *   SIGHUP leaves the old certificate on wss: seen on the lab host. Nothing on the host tells a
 *   plan whether a wss client has come since the start, so a served wss listener means restart.
 * - A certificate and key that do not match: the reload logs "Error when reloading certificate"
 *   and new TLS handshakes fail until a good pair is loaded; the checked reload (reload.ts) sees
 *   the "Error" line and the rollback puts the old pair back.
 */
export type TlsApply =
  | { how: 'none' }
  | { how: 'reload'; reason: string }
  | { how: 'restart'; reason: string };

export interface MosquittoTlsChange {
  /** Paths whose content this run changes (the planner's changed file steps). */
  changedPaths: string[];
  layout: TlsLayout;
  /** A `wss` listener is served (see above). */
  servesWss: boolean;
}

export function mosquittoTlsApply({ changedPaths, layout, servesWss }: MosquittoTlsChange): TlsApply {
  const changed = new Set(changedPaths);
  const pair = [layout.certFile, layout.keyFile].filter((path) => changed.has(path));
  if (changed.has(layout.caFile)) return { how: 'restart', reason: `${layout.caFile} changed: Mosquitto reads the CA only when a listener starts` };
  if (pair.length === 0) return { how: 'none' };
  if (servesWss) return { how: 'restart', reason: `${pair.join(', ')} changed and a wss listener is served: libwebsockets keeps its certificate across SIGHUP` };
  return { how: 'reload', reason: `${pair.join(', ')} changed: SIGHUP re-reads the server certificate and key, connected clients stay` };
}
