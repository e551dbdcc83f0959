import { brokerRole } from '../brokers/registry.ts';
import { sha256 } from '../operations/files.ts';
import { Secret } from '../secret.ts';
import type { Settings } from '../settings/load.ts';

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

/** Turns validated settings back into input for resolveSettings; the one place Pulumi code reveals secrets. */
export function toPlainSettings(settings: Settings): PlainSettings {
  return mapSecrets(settings, (secret) => secret.reveal()) as PlainSettings;
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
    .renderFiles(settings)
    .filter((file) => !file.secret)
    .map((file) => ({ path: file.path, mode: file.mode, owner: file.owner, group: file.group, sha256: sha256(file.content) }));
  return sha256(JSON.stringify({ settings: publicSettings(settings), files }));
}

/** Fingerprint of the settings with their secrets; it could confirm a guessed password, so it is only ever a secret output. */
export function credentialsHash(settings: Settings): string {
  return sha256(JSON.stringify(toPlainSettings(settings)));
}
