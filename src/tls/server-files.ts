import { X509Certificate } from 'node:crypto';
import type { HostFacts } from '../facts/host-facts.ts';
import { formatCertificateFields } from '../operations/certificate-summary.ts';
import type { ManagedFile } from '../operations/managed-file.ts';
import { Secret } from '../secret.ts';
import type { Settings } from '../settings/load.ts';
import { ensureCa, readCa } from './ca-store.ts';
import { canonicalSans, issueServerCertificate, reissueReasons, type KeyPairPem } from './certificates.ts';
import { tlsListeners, type TlsSettings } from '../settings/tls-settings.ts';

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

/**
 * A generated CA's certificates are issued per host while converging, from a CA on the controller.
 * Rendering that only needs the files' shape takes these settings instead: the TLS settings and the
 * config that names the files stay, the issued material is a fixed stand-in, so nothing creates a
 * CA or draws a key. Pulumi's config hash would otherwise create the CA during `pulumi preview` and
 * change with every new certificate; the check that a user's templates render issued a throwaway
 * server key on every run (~0.4 s, issue 20).
 */
export function withStandInCertificates(settings: Settings): Settings {
  if (settings.tls?.source !== 'generate') return settings;
  const issued = `issued per host from the CA in ${settings.tls.caDir}`;
  return { ...settings, tls: { source: 'supplied', caPem: issued, certPem: issued, keyPem: new Secret(issued), requireClientCertificate: settings.tls.requireClientCertificate } };
}

/** What a test swaps for determinism; a real run uses the CA in caDir and fresh keys. */
export interface TlsIssuer {
  /** The CA in caDir, or null when none exists yet (planning never creates it: prepareControllerCa does, when applying). */
  ca(caDir: string): KeyPairPem | null;
  issue(ca: KeyPairPem, subjectAltNames: string[], validDays: number): KeyPairPem;
  now(): Date;
}

export const defaultIssuer: TlsIssuer = {
  ca: readCa,
  issue: (ca, sans, validDays) => issueServerCertificate(ca, sans, validDays),
  now: () => new Date(),
};

/**
 * The issuer of a dry run (and of Pulumi's refresh): reads the CA, draws no key. Where a real run
 * would issue a new server key and certificate, the plan shows placeholders (so the step still
 * reads "content differs"), and nothing random is generated.
 */
export const dryRunIssuer: TlsIssuer = {
  ca: readCa,
  issue: (ca, sans, validDays) => ({ certPem: toBeIssued(ca, sans, validDays, new Date()), keyPem: notIssuedYet }),
  now: () => new Date(),
};

/**
 * The placeholder in the certificate summary's shape (what a run that applies would issue), so a
 * dry run's diff of a re-issue reads line by line: SANs, issuer and expiry before → after.
 */
export function toBeIssued(ca: KeyPairPem, sans: string[], validDays: number, now: Date): string {
  const wanted = canonicalSans(sans);
  const expires = new Date(now.getTime() + validDays * 24 * 60 * 60 * 1000);
  return formatCertificateFields('(a run that applies issues a new server key and certificate here)', {
    subject: `CN=${(wanted[0] ?? '').replace(/^(DNS|IP):/, '')}`,
    sans: wanted.join(', ') || '(none)',
    issuer: new X509Certificate(ca.certPem).subject.split('\n').filter(Boolean).join(', '),
    serial: '(drawn when issued)',
    expires: `${expires.toISOString().slice(0, 10)} (${validDays} days from the run)`,
  });
}

const notIssuedYet = '(a run that applies issues a new server key and certificate here)\n';

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
 * Prepare phase (never called by a planner): the CA certificate, server certificate and key the
 * broker's TLS listeners read; the planner receives the result in `PreparedInputs.tls`. A generated
 * certificate already on the host is kept (same bytes, so no change) while it is signed by the
 * current CA, has the wanted SANs and more than `renewBeforeDays` (30) days left; otherwise a new key and certificate
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
    if (ca === null) return { files: placeholderFiles(layout, tls.caDir), reissue: `the CA in ${tls.caDir} does not exist yet` };
    caPem = ca.certPem;
    const sans = wantedSans(tls, facts);
    const current = { certPem: facts.files[layout.certFile]?.content ?? undefined, keyPem: facts.files[layout.keyFile]?.content ?? undefined };
    const reasons = reissueReasons(current, ca.certPem, sans, issuer.now(), tls.renewBeforeDays);
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

/** What a dry run shows for the TLS files before the CA exists: their places, no key drawn. */
export const placeholderPrefix = '(not issued yet: a run that applies creates the CA in ';

function placeholderFiles(layout: TlsLayout, caDir: string): ManagedFile[] {
  const text = `${placeholderPrefix}${caDir} first, then issues this file)\n`;
  return [
    { path: layout.caFile, content: text, mode: '0644', owner: 'root', group: layout.group, apply: 'restart' },
    { path: layout.certFile, content: text, mode: '0644', owner: 'root', group: layout.group, apply: 'restart' },
    { path: layout.keyFile, content: text, mode: '0640', owner: 'root', group: layout.group, secret: true, apply: 'restart' },
  ];
}

/** The generated CA a run needs, when its TLS listeners are served from one: where it lives and whether it exists. */
export function generatedCaDir(settings: Settings): string | undefined {
  const tls = settings.tls;
  if (settings.state !== 'present' || tls?.source !== 'generate' || tlsListeners(settings).length === 0) return undefined;
  return tls.caDir;
}

/**
 * The controller's half of a run, before any host is planned: a run that applies creates the CA
 * (once); a dry run only says it would. Returns what happened, for the report; nothing when the
 * CA is not needed or already there.
 */
export function prepareControllerCa(settings: Settings, dryRun: boolean): { caDir: string; created: boolean } | undefined {
  const caDir = generatedCaDir(settings);
  if (caDir === undefined || readCa(caDir) !== null) return undefined;
  if (dryRun) return { caDir, created: false };
  return { caDir, created: ensureCa(caDir).created };
}
