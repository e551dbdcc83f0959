import type { HostFacts } from '../facts/host-facts.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import type { Settings } from '../settings/load.ts';
import { loadOrCreateCa } from './ca-store.ts';
import { issueServerCertificate, reissueReasons, type KeyPairPem } from './certificates.ts';
import { tlsListeners, type TlsSettings } from './tls-settings.ts';

/** Where a broker keeps its TLS files on the host, and the group that may read the key. */
export interface TlsLayout {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The broker's group: the key is 0640 root:<group>. */
  group: string;
}

export function tlsLayoutIn(dir: string, group: string): TlsLayout {
  return { dir, caFile: `${dir}/ca.crt`, certFile: `${dir}/server.crt`, keyFile: `${dir}/server.key`, group };
}

/** What a test swaps for determinism; a real run uses the CA in caDir and fresh keys. */
export interface TlsIssuer {
  ca(caDir: string): KeyPairPem;
  issue(ca: KeyPairPem, subjectAltNames: string[], validDays: number): KeyPairPem;
  now(): Date;
}

export const defaultIssuer: TlsIssuer = {
  ca: loadOrCreateCa,
  issue: (ca, sans, validDays) => issueServerCertificate(ca, sans, validDays),
  now: () => new Date(),
};

export interface TlsFiles {
  files: ManagedFile[];
  /** Why the server certificate is (re-)issued on this run; undefined when the host's one is kept. */
  reissue?: string;
}

/** The SANs a generated certificate gets: the settings' names plus the address the host is reached by. */
export function wantedSans(tls: Extract<TlsSettings, { source: 'generate' }>, facts: HostFacts): string[] {
  return [...tls.subjectAltNames, ...(facts.sshAddress ? [facts.sshAddress] : [])];
}

/**
 * The CA certificate, server certificate and key the broker's TLS listeners read. A generated
 * certificate already on the host is kept (same bytes, so no change) while it is signed by the
 * current CA, has the wanted SANs and more than 30 days left; otherwise a new key and certificate
 * are issued. The key is a secret file: 0640 root:<broker group>, sent on stdin, never diffed.
 */
export function tlsFiles(settings: Settings, facts: HostFacts, layout: TlsLayout, issuer: TlsIssuer = defaultIssuer): TlsFiles {
  const tls = settings.tls;
  if (tls === undefined || tlsListeners(settings).length === 0) return { files: [] };
  let caPem: string;
  let server: KeyPairPem;
  let reissue: string | undefined;
  if (tls.source === 'supplied') {
    caPem = tls.caPem;
    server = { certPem: tls.certPem, keyPem: tls.keyPem.reveal() };
  } else {
    const ca = issuer.ca(tls.caDir);
    caPem = ca.certPem;
    const sans = wantedSans(tls, facts);
    const current = { certPem: facts.files[layout.certFile]?.content ?? undefined, keyPem: facts.files[layout.keyFile]?.content ?? undefined };
    const reasons = reissueReasons(current, ca.certPem, sans, issuer.now());
    if (reasons.length === 0) {
      server = { certPem: current.certPem!, keyPem: current.keyPem! };
    } else {
      server = issuer.issue(ca, sans, tls.validDays);
      reissue = reasons.join('; ');
    }
  }
  const files: ManagedFile[] = [
    { path: layout.caFile, content: caPem, mode: '0644', owner: 'root', group: layout.group, apply: 'restart' },
    { path: layout.certFile, content: server.certPem, mode: '0644', owner: 'root', group: layout.group, apply: 'restart' },
    { path: layout.keyFile, content: server.keyPem, mode: '0640', owner: 'root', group: layout.group, secret: true, apply: 'restart' },
  ];
  return reissue === undefined ? { files } : { files, reissue };
}
