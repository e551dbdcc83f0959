import type { HostFacts } from '../../facts/host-facts.ts';
import type { ManagedFile } from '../../operations/managed-file.ts';
import { renderTemplate } from '../../render/render-template.ts';
import { clientUsers, type Settings } from '../../settings/load.ts';
import { mosquittoLayout as layout } from './layout.ts';
import { metricsCredential } from './metrics.ts';
import type { Secret } from '../../secret.ts';
import { renderPasswordFile } from './password-file.ts';
import { seededSalt } from '../prepared.ts';
import { listenerBinds } from '../served-ports.ts';
import { defaultIssuer, tlsFiles, tlsLayoutIn, type TlsFiles, type TlsIssuer } from '../../tls/server-files.ts';
import { mosquittoTlsApply } from './certificate-renewal.ts';

export const mosquittoTlsLayout = tlsLayoutIn(layout.tlsDir, layout.user);

/** Mosquitto counts client expiry in hours at the finest; round up so a session never dies early. */
export function persistentClientExpiration(settings: Settings): string {
  if (!settings.session.persistent || settings.session.expirySeconds === 0) return '1h';
  return `${Math.ceil(settings.session.expirySeconds / 3600)}h`;
}

/** Where the config points Mosquitto: the host layout by default, an image's own paths in a container. */
export interface MosquittoConfigPaths {
  passwordFile: string;
  aclFile: string;
  dataDir: string;
  /** The systemd unit expects one; a container (the broker is PID 1) has no use for it. */
  pidFile?: string;
  /** How to read the broker's stderr where there is no journal (a container: `docker logs NAME`). */
  logCommand?: string;
}

export function mosquittoConfig(settings: Settings, paths: MosquittoConfigPaths = layout): string {
  return renderTemplate(
    'mosquitto.conf',
    {
      listeners: settings.listeners,
      // `listener PORT ADDRESS`: only that local address (settings.listenerAccess.<name>.bind).
      bind: listenerBinds(settings),
      // -1 (unlimited, Mosquitto's default) renders nothing, so a host without the setting keeps its file.
      maxConnections: settings.limits.maxConnections === -1 ? null : settings.limits.maxConnections,
      session: settings.session,
      persistence: settings.persistence,
      persistentClientExpiration: persistentClientExpiration(settings),
      paths: { passwordFile: paths.passwordFile, aclFile: paths.aclFile, dataDir: paths.dataDir, pidFile: paths.pidFile ?? null, logCommand: paths.logCommand ?? null },
      tls: settings.tls
        ? {
            caFile: mosquittoTlsLayout.caFile,
            certFile: mosquittoTlsLayout.certFile,
            keyFile: mosquittoTlsLayout.keyFile,
            requireClientCertificate: settings.tls.requireClientCertificate,
          }
        : null,
      extraConfig: settings.extraConfig.trimEnd(),
    },
    settings.templates,
  );
}

/**
 * The three files Mosquitto reads. Listener and session changes need a restart; users and ACLs
 * are re-read on SIGHUP, so those changes only reload and keep every client connected.
 */
export function mosquittoFiles(settings: Settings, facts: HostFacts, salt?: (name: string) => Buffer, issuer: TlsIssuer = defaultIssuer, paths: MosquittoConfigPaths = layout): ManagedFile[] {
  // Rendering (--render-to, containers, tests) prepares for itself; a planner gets its TLS files prepared.
  return mosquittoFilesWithTls(settings, facts.files[layout.passwordFile]?.content ?? null, salt ?? seededSalt(), tlsFiles(settings, facts, mosquittoTlsLayout, issuer), paths).files;
}

/**
 * The files plus the TLS files of the mqtts/wss listeners (CA, server certificate and key, in
 * /etc/mosquitto/tls), which come first so the config that names them never lands without them.
 * `reissue` says why the server certificate is issued on this run. Pure: `tls` and `salt` come
 * from the prepare phase; `storedPasswd` (the file as it is) keeps the hashes that still match.
 */
export function mosquittoFilesWithTls(settings: Settings, storedPasswd: string | null, salt: (name: string) => Buffer, tls: TlsFiles, paths: MosquittoConfigPaths = layout, metricsPassword?: Secret): TlsFiles {
  const owner = { owner: 'root', group: layout.user };
  const servesWss = settings.listeners.wss !== undefined;
  // The exporter's user (metrics on): read-only on $SYS/broker/#, nothing else.
  const metrics = metricsCredential(settings, metricsPassword);
  const files: ManagedFile[] = [
    // A renewed server certificate or key alone is picked up by SIGHUP (clients stay); the CA, or a wss listener, needs a restart.
    ...tls.files.map((file): ManagedFile => ({ ...file, apply: mosquittoTlsApply({ changedPaths: [file.path], layout: mosquittoTlsLayout, servesWss }).how === 'reload' ? 'reload' : 'restart' })),
    // extraConfig may hold a secret (a bridge's remote_password): then the file is private and never diffed.
    settings.extraConfig.trim() === ''
      ? { path: layout.configFile, content: mosquittoConfig(settings, paths), mode: '0644', owner: 'root', group: 'root', apply: 'restart' }
      : { path: layout.configFile, content: mosquittoConfig(settings, paths), mode: '0640', owner: 'root', group: layout.user, secret: true, apply: 'restart' },
    {
      path: layout.passwordFile,
      content: renderPasswordFile([...settings.admins, ...clientUsers(settings), ...(metrics ? [metrics] : [])], storedPasswd, salt),
      mode: '0640',
      ...owner,
      secret: true,
      apply: 'reload',
    },
    {
      path: layout.aclFile,
      content: renderTemplate('mosquitto-acl', { admins: settings.admins, users: clientUsers(settings), metrics: metrics ? { name: metrics.name } : null }, settings.templates),
      mode: '0640',
      ...owner,
      apply: 'reload',
    },
  ];
  return tls.reissue === undefined ? { files } : { files, reissue: tls.reissue };
}
