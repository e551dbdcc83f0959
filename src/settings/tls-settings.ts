import { createPrivateKey, X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { Secret } from '../secret.ts';
import { InputError } from './input-error.ts';
import { inputCaps, readInputText } from './input-file.ts';
import type { ParsedSettings } from './schema.ts';

/** The `tls` block after validation: supplied PEM files read in, or where the generated CA lives. */
export type TlsSettings =
  | {
      source: 'supplied';
      caPem: string;
      certPem: string;
      /** The server's private key: only ever written to the host, through stdin. */
      keyPem: Secret;
      requireClientCertificate: boolean;
    }
  | {
      source: 'generate';
      /** Absolute path on the controller. */
      caDir: string;
      subjectAltNames: string[];
      validDays: number;
      /** A certificate with fewer days left is re-issued (less than validDays). */
      renewBeforeDays: number;
      requireClientCertificate: boolean;
    };


/** The TLS listeners the settings serve. */
export function tlsListeners(settings: Pick<ParsedSettings, 'listeners'>): Array<'mqtts' | 'wss'> {
  return (['mqtts', 'wss'] as const).filter((name) => settings.listeners[name] !== undefined);
}

/** Validates `tls` against the listeners and reads supplied files; every problem names its field. */
export function resolveTlsSettings(settings: ParsedSettings, baseDir: string, errors: InputError[]): TlsSettings | undefined {
  const tls = settings.tls;
  const listeners = tlsListeners(settings);
  if (tls === undefined) {
    if (settings.state === 'present') {
      for (const name of listeners) {
        errors.push(new InputError(`settings.listeners.${name}`, 'is a TLS listener and needs a "tls" block: tls.generate.caDir (a generated CA) or tls.ca + tls.cert + tls.key (supplied certificates)'));
      }
    }
    return undefined;
  }
  const supplied = (['ca', 'cert', 'key'] as const).filter((field) => tls[field] !== undefined);
  if (tls.generate !== undefined && supplied.length > 0) {
    errors.push(new InputError('settings.tls', `give either "generate" or supplied certificates (ca, cert, key), not both (found generate and ${supplied.join(', ')})`));
    return undefined;
  }
  if (tls.generate !== undefined) {
    const before = errors.length;
    tls.generate.subjectAltNames.forEach((name, index) => {
      if (!isValidSan(name)) errors.push(new InputError(`settings.tls.generate.subjectAltNames[${index}]`, `"${name}" is neither a DNS name nor an IP address`));
    });
    if (tls.generate.renewBeforeDays >= tls.generate.validDays) {
      errors.push(new InputError('settings.tls.generate.renewBeforeDays', `must be less than validDays (${tls.generate.validDays}): a certificate issued for ${tls.generate.validDays} days would be re-issued by every run`));
    }
    if (errors.length > before) return undefined;
    return {
      source: 'generate',
      caDir: resolve(baseDir, tls.generate.caDir),
      subjectAltNames: tls.generate.subjectAltNames,
      validDays: tls.generate.validDays,
      renewBeforeDays: tls.generate.renewBeforeDays,
      requireClientCertificate: tls.requireClientCertificate,
    };
  }
  if (supplied.length === 0) {
    errors.push(new InputError('settings.tls', 'needs "generate: { caDir }" or supplied certificates "ca", "cert" and "key"'));
    return undefined;
  }
  const missing = (['ca', 'cert', 'key'] as const).filter((field) => tls[field] === undefined);
  if (missing.length > 0) {
    for (const field of missing) errors.push(new InputError(`settings.tls.${field}`, 'is required with supplied certificates (give ca, cert and key together)'));
    return undefined;
  }
  const read = (field: 'ca' | 'cert' | 'key'): string | undefined => {
    const path = tls[field]!;
    try {
      return readInputText(path, `settings.tls.${field}`, inputCaps.pem, baseDir);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      errors.push(error);
      return undefined;
    }
  };
  const caPem = read('ca');
  const certPem = read('cert');
  const keyPem = read('key');
  if (caPem === undefined || certPem === undefined || keyPem === undefined) return undefined;
  let ca: X509Certificate | undefined;
  let cert: X509Certificate | undefined;
  try {
    ca = new X509Certificate(caPem);
  } catch {
    errors.push(new InputError('settings.tls.ca', `${tls.ca} is not a PEM certificate`));
  }
  try {
    cert = new X509Certificate(certPem);
  } catch {
    errors.push(new InputError('settings.tls.cert', `${tls.cert} is not a PEM certificate`));
  }
  try {
    const key = createPrivateKey(keyPem);
    if (cert && !cert.checkPrivateKey(key)) errors.push(new InputError('settings.tls.key', `${tls.key} is not the private key of ${tls.cert}`));
  } catch {
    errors.push(new InputError('settings.tls.key', `${tls.key} is not an unencrypted PEM private key`));
  }
  if (ca && cert && !cert.checkIssued(ca) && cert.fingerprint256 !== ca.fingerprint256) {
    // An intermediate may sit between them; only a plainly unrelated pair is refused.
    if (!certPem.includes('-----BEGIN CERTIFICATE-----', certPem.indexOf('-----END CERTIFICATE-----'))) {
      errors.push(new InputError('settings.tls.cert', `${tls.cert} is not issued by ${tls.ca}`));
    }
  }
  return { source: 'supplied', caPem, certPem, keyPem: new Secret(keyPem), requireClientCertificate: tls.requireClientCertificate };
}

/** A DNS name (wildcard allowed in the first label) or an IP address. */
export function isValidSan(value: string): boolean {
  if (isIP(value) !== 0) return true;
  return /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(value) && value.length <= 253;
}
