import { X509Certificate } from 'node:crypto';

/**
 * What a diff shows for a certificate: who it names, for which addresses, who signed it, its
 * serial and expiry, one per line, so a re-issue reads as `-expires: … / +expires: …` instead of
 * fifty lines of base64 nobody can review. Certificates are public: nothing here is a secret.
 */

export interface CertificateFields {
  subject: string;
  sans: string;
  issuer: string;
  serial: string;
  expires: string;
}

const pemBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\r?\n?/g;

export function formatCertificateFields(heading: string, fields: CertificateFields): string {
  return `${heading}\n  subject: ${fields.subject}\n  SANs: ${fields.sans}\n  issuer: ${fields.issuer}\n  serial: ${fields.serial}\n  expires: ${fields.expires}\n`;
}

/** "CN=broker1\nO=acme" → "CN=broker1, O=acme". */
function distinguishedName(text: string): string {
  return text.split('\n').filter(Boolean).join(', ');
}

function summarize(pem: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return '(certificate: does not parse)\n';
  }
  const sans = (cert.subjectAltName ?? '').split(/,\s*/).filter(Boolean).map((san) => san.replace(/^IP Address:/, 'IP:'));
  return formatCertificateFields('certificate', {
    subject: distinguishedName(cert.subject),
    sans: sans.join(', ') || '(none)',
    issuer: distinguishedName(cert.issuer),
    serial: cert.serialNumber,
    expires: new Date(cert.validTo).toISOString(),
  });
}

/** Text with every PEM certificate replaced by its summary; text without one comes back unchanged. */
export function summarizeCertificates(text: string): string {
  if (!text.includes('-----BEGIN CERTIFICATE-----')) return text;
  return text.replace(pemBlock, summarize);
}
