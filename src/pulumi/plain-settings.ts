import { isAbsolute, relative } from 'node:path';
import { brokerRole } from '../brokers/registry.ts';
import { sha256 } from '../operations/files.ts';
import { Secret } from '../secret.ts';
import { type Settings } from '../settings/load.ts';
import { withStandInCertificates } from '../tls/server-files.ts';
import { resolveSettings } from '../brokers/load-settings.ts';

/** A value with every Secret in it replaced by its string. */
export type Revealed<T> = T extends Secret
  ? string
  : T extends ReadonlyArray<infer Item>
    ? Array<Revealed<Item>>
    : T extends object
      ? { [Key in keyof T]: Revealed<T[Key]> }
      : T;

/**
 * Settings as plain JSON data, secrets (passwords, the EMQX cookie) included as strings: the only
 * shape that can cross into a dynamic provider (another process) and back through resolveSettings.
 * Every value of this type must travel inside `pulumi.secret`.
 */
export type PlainSettings = Revealed<Settings>;

function mapSecrets(value: unknown, replace: (secret: Secret) => unknown): unknown {
  if (value instanceof Secret) return replace(value);
  if (Array.isArray(value)) return value.map((item) => mapSecrets(item, replace));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapSecrets(item, replace)]));
  }
  return value;
}

/**
 * Turns validated settings back into input for fromPlainSettings; the one place Pulumi code reveals
 * secrets. With `projectDir`, controller paths inside it (templates, the generated CA's directory, an
 * EMQX package) are stored relative to it, and the provider resolves them against its working
 * directory, the project's: the state then survives the checkout moving elsewhere.
 */
export function toPlainSettings(settings: Settings, projectDir?: string): PlainSettings {
  const plain = mapSecrets(settings, (secret) => secret.reveal()) as PlainSettings;
  if (projectDir === undefined) return plain;
  const local = (path: string) => projectRelative(path, projectDir);
  return {
    ...plain,
    templates: Object.fromEntries(Object.entries(plain.templates).map(([name, path]) => [name, local(path)])),
    emqx: { ...plain.emqx, ...(plain.emqx.package !== undefined ? { package: local(plain.emqx.package) } : {}) },
    ...(plain.tls?.source === 'generate' ? { tls: { ...plain.tls, caDir: local(plain.tls.caDir) } } : {}),
  };
}

/** A path inside `projectDir` as a relative one; any other path unchanged. */
export function projectRelative(path: string, projectDir: string): string {
  if (!isAbsolute(path)) return path;
  const inside = relative(projectDir, path);
  return inside === '' || inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}

/**
 * Plain settings back into Settings, with the same schema and messages as a settings file. The one
 * part resolveSettings cannot read again is `tls`, already resolved by the program: a generated CA
 * goes back as its input form; supplied certificates are PEM text now, not files, so the rest is
 * validated with a stand-in `generate` block (listeners still need a TLS block) and the supplied
 * PEMs, checked by the program when it read the files, are put back in its place.
 */
export function fromPlainSettings(plain: unknown, baseDir: string): Settings {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) return resolveSettings(plain, {}, baseDir);
  const { tls, ...rest } = plain as PlainSettings & Record<string, unknown>;
  if (tls === undefined) return resolveSettings(rest, {}, baseDir);
  const { requireClientCertificate } = tls;
  if (tls.source === 'generate') {
    const generate = { caDir: tls.caDir, subjectAltNames: tls.subjectAltNames, validDays: tls.validDays, renewBeforeDays: tls.renewBeforeDays };
    return resolveSettings({ ...rest, tls: { generate, requireClientCertificate } }, {}, baseDir);
  }
  const settings = resolveSettings({ ...rest, tls: { generate: { caDir: '.' }, requireClientCertificate } }, {}, baseDir);
  return { ...settings, tls: { source: 'supplied', caPem: tls.caPem, certPem: tls.certPem, keyPem: new Secret(tls.keyPem), requireClientCertificate } };
}

/** The settings with every secret blanked: what may be hashed in the clear. */
export function publicSettings(settings: Settings): unknown {
  return mapSecrets(settings, () => '[secret]');
}

/**
 * Fingerprint of what a host would be given, without secrets: the non-secret files the broker role
 * renders (so an edited template counts) and every setting. Equal hashes mean converge has nothing
 * to do, which lets `pulumi preview` answer without an SSH connection.
 */
export function configHash(settings: Settings): string {
  const files = brokerRole(settings.broker)
    .renderFiles(withStandInCertificates(settings))
    .filter((file) => !file.secret)
    .map((file) => ({ path: file.path, mode: file.mode, owner: file.owner, group: file.group, sha256: sha256(file.content) }));
  return sha256(JSON.stringify({ settings: publicSettings(settings), files }));
}

/**
 * The non-secret files the broker role renders, path → text: an input of the installation, so
 * `pulumi preview --diff` prints the changed config lines instead of only a new configHash.
 * Secret files (passwords, keys, EMQX's emqx.conf with its cookie) are left out, never blanked.
 */
export function publicConfigFiles(settings: Settings): Record<string, string> {
  const files = brokerRole(settings.broker)
    .renderFiles(withStandInCertificates(settings))
    .filter((file) => !file.secret);
  return Object.fromEntries(files.map((file) => [file.path, file.content]));
}

/** Fingerprint of the settings with their secrets; it could confirm a guessed password, so it is only ever a secret output. */
export function credentialsHash(settings: Settings): string {
  return sha256(JSON.stringify(toPlainSettings(settings)));
}

