import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { createRequire } from 'node:module';
import type forgeModule from 'node-forge';

/**
 * Certificates built on the controller. Keys come from node:crypto (native, ~50 ms for RSA 2048);
 * node-forge only assembles and signs the X.509 structure (docs/tls.md says why).
 */

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

/** Re-issue a server certificate that expires within this many days (the default of tls.generate.renewBeforeDays). */
export const renewWithinDays = 30;

const day = 24 * 60 * 60 * 1000;

// node-forge (42 modules) is loaded only when a certificate is built (issue 20): a run whose
// certificates are current, or that has no TLS, never needs it. require() keeps issuing synchronous.
const require = createRequire(import.meta.url);
let loadedForge: typeof forgeModule | undefined;
const forgeLib = (): typeof forgeModule => (loadedForge ??= require('node-forge') as typeof forgeModule);

/** "DNS:broker1" or "IP:10.0.0.5", in a canonical spelling (IPv6 compressed, DNS lower case). */
export function canonicalSan(value: string): string {
  const bare = value.replace(/^(DNS|IP|IP Address):/i, '');
  if (isIP(bare) === 4) return `IP:${bare}`;
  if (isIP(bare) === 6) return `IP:${new URL(`http://[${bare}]`).hostname.slice(1, -1)}`;
  return `DNS:${bare.toLowerCase()}`;
}

export function canonicalSans(values: Iterable<string>): string[] {
  return [...new Set([...values].map(canonicalSan))].sort();
}

function newRsaKey(bits: number): { forgeKey: forgeModule.pki.rsa.PrivateKey; forgePublic: forgeModule.pki.rsa.PublicKey; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    pem,
    forgeKey: forgeLib().pki.privateKeyFromPem(pem),
    forgePublic: forgeLib().pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  };
}

/** Positive 128-bit serial (RFC 5280: at most 20 octets, positive, unpredictable). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

/** A self-signed CA for one environment: RSA 3072, 10 years, may sign end-entity certificates only. */
export function createCa(commonName: string, now = new Date()): KeyPairPem {
  const key = newRsaKey(3072);
  const cert = forgeLib().pki.createCertificate();
  cert.publicKey = key.forgePublic;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now.getTime() - day);
  cert.validity.notAfter = new Date(now.getTime() + 3650 * day);
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'mqtt-provision' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.forgeKey, forgeLib().md.sha256.create());
  return { certPem: forgeLib().pki.certificateToPem(cert), keyPem: key.pem };
}

/** A server certificate for these SANs, signed by the CA: RSA 2048, serverAuth only. */
export function issueServerCertificate(ca: KeyPairPem, subjectAltNames: string[], validDays: number, now = new Date()): KeyPairPem {
  const sans = canonicalSans(subjectAltNames);
  if (sans.length === 0) throw new Error('a server certificate needs at least one subject alternative name (tls.generate.subjectAltNames, or a host address)');
  return issueCertificate(ca, sans[0]!.replace(/^(DNS|IP):/, ''), sans, 'server', validDays, now);
}

/** A client certificate signed by the CA (clientAuth only), e.g. for the verifier when the broker requires one. */
export function issueClientCertificate(ca: KeyPairPem, commonName: string, validDays: number, now = new Date()): KeyPairPem {
  return issueCertificate(ca, commonName, [], 'client', validDays, now);
}

function issueCertificate(ca: KeyPairPem, commonName: string, sans: string[], usage: 'server' | 'client', validDays: number, now: Date): KeyPairPem {
  const caCert = forgeLib().pki.certificateFromPem(ca.certPem);
  const caKey = forgeLib().pki.privateKeyFromPem(ca.keyPem);
  const key = newRsaKey(2048);
  const cert = forgeLib().pki.createCertificate();
  cert.publicKey = key.forgePublic;
  cert.serialNumber = serialNumber();
  // An hour of slack for hosts whose clock is a little behind the controller's.
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + validDays * day);
  cert.setSubject([{ name: 'commonName', value: commonName.slice(0, 64) }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    usage === 'server' ? { name: 'extKeyUsage', serverAuth: true } : { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
    ...(sans.length > 0
      ? [{ name: 'subjectAltName', altNames: sans.map((san) => (san.startsWith('IP:') ? { type: 7, ip: san.slice(3) } : { type: 2, value: san.slice(4) })) }]
      : []),
  ]);
  cert.sign(caKey, forgeLib().md.sha256.create());
  return { certPem: forgeLib().pki.certificateToPem(cert), keyPem: key.pem };
}

/** The SANs of a certificate, canonical. */
export function certificateSans(certPem: string): string[] {
  const text = new X509Certificate(certPem).subjectAltName ?? '';
  return canonicalSans(text.split(/,\s*/).filter(Boolean));
}

/**
 * Why the certificate and key on a host must be re-issued; empty when they are still right:
 * signed by the current CA, valid for more than `renewBeforeDays` (30) more days, the wanted SANs exactly, key matching.
 */
export function reissueReasons(current: Partial<KeyPairPem>, caCertPem: string, wantedSans: string[], now = new Date(), renewBeforeDays = renewWithinDays): string[] {
  if (!current.certPem) return ['no certificate on the host'];
  if (!current.keyPem) return ['no private key on the host'];
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(current.certPem);
  } catch {
    return ['the certificate on the host does not parse'];
  }
  const reasons: string[] = [];
  const ca = new X509Certificate(caCertPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) reasons.push('not signed by the current CA');
  const expires = new Date(cert.validTo);
  if (expires.getTime() - now.getTime() < renewBeforeDays * day) reasons.push(`expires ${expires.toISOString().slice(0, 10)} (within ${renewBeforeDays} days)`);
  const has = certificateSans(current.certPem);
  const wants = canonicalSans(wantedSans);
  if (has.join(',') !== wants.join(',')) reasons.push(`SANs differ: has ${has.join(' ') || '(none)'}, wants ${wants.join(' ')}`);
  try {
    if (!cert.checkPrivateKey(createPrivateKey(current.keyPem))) reasons.push('the private key does not match the certificate');
  } catch {
    reasons.push('the private key on the host does not parse');
  }
  return reasons;
}
