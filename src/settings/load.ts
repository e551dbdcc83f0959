import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { Secret } from '../secret.ts';
import type { BrokerSettingsRulesFor } from './broker-rules.ts';
import { resolveTlsSettings, type TlsSettings } from './tls-settings.ts';
import { consumerUsers, resolveConsumers, type Consumer } from './consumers.ts';
import { InputError, InputErrors } from './input-error.ts';
import { checkListenerAccess } from './listener-access.ts';
import { checkSecretValue, inputCaps, readInputText, readSecretFile } from './input-file.ts';
import { maxUsers, settingsSchema, type ParsedSettings, type SettingsInput } from './schema.ts';
import { closestKey, knownKeysAt } from './suggest.ts';
import { fieldPath, zodInputErrors } from './zod-errors.ts';

export interface Credential {
  name: string;
  password: Secret;
}

export interface AclRule {
  topic: string;
  access: 'read' | 'write' | 'readwrite';
}

/** Validated settings with every password read into a Secret and every path made absolute. */
export interface Settings extends Omit<ParsedSettings, 'admins' | 'users' | 'tls' | 'consumers'> {
  admins: Credential[];
  users: Array<Credential & { acl: AclRule[] }>;
  /** Consumers with their fixed client ids; their MQTT users come from clientUsers(), not from `users`. */
  consumers: Consumer[];
  /** Present when the settings have a `tls` block: supplied PEM files read in, or the generated CA's directory. */
  tls?: TlsSettings;
}

/** What the command line may add on top of (or instead of) a settings file. */
export interface SettingsOverrides {
  broker?: 'mosquitto' | 'emqx';
  version?: string;
  adminUser?: string;
  adminPasswordFile?: string;
  /** EMQX: a local .rpm/.deb to upload and install (`--package`); relative to the working directory. */
  emqxPackage?: string;
  /** Environment variables; MQTT_ADMIN_PASSWORD supplies the admin password without a file, MQTT_EMQX_PACKAGE the package. */
  env?: Record<string, string | undefined>;
}

/** Reads a YAML settings file; anchors are capped so that an alias bomb fails instead of eating memory. */
export function readSettingsFile(path: string): unknown {
  const text = readInputText(path, '--settings', inputCaps.settings);
  try {
    const document = parseYaml(text, { maxAliasCount: 50, uniqueKeys: true, prettyErrors: true });
    return document ?? {};
  } catch (error) {
    throw new InputError('--settings', `${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * Validates raw settings, applies overrides, reads passwords: all before any host is touched. The
 * broker's own rules come from its role (front doors call src/brokers/load-settings.ts).
 */
export function resolveSettingsWith(rulesFor: BrokerSettingsRulesFor, raw: unknown, overrides: SettingsOverrides = {}, baseDir = process.cwd()): Settings {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError('settings', 'must be a mapping of keys to values');
  }
  const input: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (overrides.broker !== undefined) {
    if (input.broker !== undefined && input.broker !== overrides.broker) {
      throw new InputError('broker', `the settings say "${String(input.broker)}" but this front door installs "${overrides.broker}"`);
    }
    input.broker = overrides.broker;
  }
  if (overrides.version !== undefined) input.version = overrides.version;

  // Parsed once a run: zod's JIT would first generate a parser per object schema (~3 ms of a
  // no-op run's start, issue 20) that this one parse never pays back.
  const parsed = settingsSchema.safeParse(input as SettingsInput, { jitless: true });
  if (!parsed.success) throw new InputErrors(zodInputErrors(parsed.error.issues, (path) => fieldPath('settings', path), describeUnknownKeys));
  const settings = parsed.data;

  const rules = rulesFor(settings.broker);
  const errors: InputError[] = [];
  checkListeners(settings, rules.listeners, errors);
  checkListenerAccess(settings, errors);
  const admins = resolveCredentials(settings.admins, 'admins', baseDir, errors);
  const users = resolveCredentials(settings.users, 'users', baseDir, errors).map((credential, index) => ({
    ...credential,
    acl: settings.users[index]?.acl ?? [],
  }));
  // Flags name paths relative to where the command runs, not to the settings file.
  applyAdminOverride(admins, overrides, process.cwd(), errors);
  const consumers = resolveConsumers(settings.consumers, settings.broker, (entry, field) => resolveCredentials([{ name: 'consumer', ...entry }], field, baseDir, errors)[0]?.password, errors);
  checkUniqueNames([...admins, ...users, ...consumers], errors);
  // Consumers are MQTT users too: they count against the same tested maximum.
  const userCount = admins.length + users.length + consumers.length;
  if (userCount > maxUsers) {
    errors.push(new InputError('settings.users', `${userCount} admins, users and consumers; at most ${maxUsers} together (the tested maximum)`));
  }
  const adminOverrideFailed = overrides.adminUser !== undefined && errors.length > 0;
  if (settings.state === 'present' && admins.length === 0 && !adminOverrideFailed) {
    errors.push(new InputError('admins', 'at least one admin is required (anonymous access is always off); use --admin-user and --admin-password-file'));
  }
  const templates = resolveTemplates(settings.templates, rules.templateNames, baseDir, errors);
  const completed = rules.resolve?.(settings, overrides, baseDir, errors) ?? {};
  const tls = resolveTlsSettings(settings, baseDir, errors);
  // A broker may refuse some admin names and passwords (EMQX's dashboard): say so now, not half-way into a run.
  if (settings.state === 'present') {
    for (const problem of rules.adminProblems?.(admins) ?? []) errors.push(new InputError('settings.admins', problem));
  }
  if (errors.length > 0) throw new InputErrors(errors);
  const { tls: _tlsInput, ...rest } = settings;
  return { ...rest, ...completed, admins, users, consumers, templates, ...(tls ? { tls } : {}) };
}

/**
 * Every MQTT client user the broker gets: `users` and one read-only user per consumer. The one
 * list the password files, ACL files and EMQX's user database are rendered from.
 */
export function clientUsers(settings: Pick<Settings, 'users' | 'consumers'>): Array<Credential & { acl: AclRule[] }> {
  return [...settings.users, ...consumerUsers(settings.consumers)];
}

/** Unknown settings keys name the closest known key, and the allowed ones where they are few. */
function describeUnknownKeys(issue: { keys: string[]; path: PropertyKey[] }): string {
  const known = knownKeysAt(settingsSchema, issue.path);
  const described = issue.keys.map((key) => {
    const suggestion = closestKey(key, known);
    return suggestion ? `"${key}" (did you mean "${suggestion}"?)` : `"${key}"`;
  });
  const allowed = known.length > 0 && known.length <= 12 ? `allowed here: ${known.join(', ')}` : "see the README's settings table for the allowed keys";
  return `unknown key ${described.join(', ')}; ${allowed}`;
}

function checkListeners(settings: ParsedSettings, listeners: readonly string[], errors: InputError[]): void {
  const allowed = new Set(listeners);
  const seen = new Map<number, string>();
  for (const [name, port] of Object.entries(settings.listeners)) {
    if (port === undefined) continue;
    const field = `settings.listeners.${name}`;
    if (!allowed.has(name)) {
      errors.push(new InputError(field, `${settings.broker} does not serve it; allowed for ${settings.broker}: ${[...allowed].join(', ')}`));
    }
    const other = seen.get(port);
    if (other !== undefined) errors.push(new InputError(field, `port ${port} is already used by listener "${other}"; each listener needs its own port`));
    seen.set(port, name);
  }
  const { mqtt, websocket, mqtts, wss } = settings.listeners;
  if (mqtt === undefined && websocket === undefined && mqtts === undefined && wss === undefined && settings.state === 'present') {
    errors.push(new InputError('settings.listeners', 'needs at least an "mqtt", "websocket", "mqtts" or "wss" port for clients'));
  }
}

function resolveCredentials(
  entries: ParsedSettings['admins'],
  /** `admins`, `users`, or a consumer's own field (`settings.consumers[2]`). */
  list: string,
  baseDir: string,
  errors: InputError[],
): Credential[] {
  const resolved: Credential[] = [];
  entries.forEach((entry, index) => {
    // A consumer is resolved one at a time and names its own field.
    const field = list.startsWith('settings.') ? list : `settings.${list}[${index}]`;
    if (entry.password !== undefined && entry.passwordFile !== undefined) {
      errors.push(new InputError(field, 'give either "password" or "passwordFile", not both'));
      return;
    }
    const file = entry.passwordFile;
    if (file !== undefined) {
      const secret = collected(errors, () => readSecretFile(file, `${field}.passwordFile`, baseDir));
      if (secret) resolved.push({ name: entry.name, password: secret });
      return;
    }
    if (entry.password === undefined) {
      errors.push(new InputError(`${field}.password`, 'is required: give "password" or "passwordFile"'));
      return;
    }
    resolved.push({ name: entry.name, password: new Secret(entry.password) });
  });
  return resolved;
}

function applyAdminOverride(admins: Credential[], overrides: SettingsOverrides, baseDir: string, errors: InputError[]): void {
  if (overrides.adminUser === undefined && overrides.adminPasswordFile === undefined) return;
  const name = overrides.adminUser ?? admins[0]?.name ?? 'admin';
  if (!/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    errors.push(new InputError('--admin-user', 'must start with a letter and hold only letters, digits, "_", "." or "-" (at most 64)'));
    return;
  }
  let password: Secret | undefined;
  const { adminPasswordFile: file } = overrides;
  const fromEnv = overrides.env?.MQTT_ADMIN_PASSWORD;
  if (file !== undefined) {
    password = collected(errors, () => readSecretFile(file, '--admin-password-file', baseDir));
  } else if (fromEnv) {
    password = collected(errors, () => checkSecretValue(fromEnv, 'MQTT_ADMIN_PASSWORD'));
  } else {
    errors.push(new InputError('--admin-password-file', `is required with --admin-user (or set MQTT_ADMIN_PASSWORD)`));
  }
  if (!password) return;
  const existing = admins.findIndex((admin) => admin.name === name);
  if (existing >= 0) admins.splice(existing, 1);
  admins.unshift({ name, password });
}

/** A check that throws an InputError, whose error joins the others instead: every bad field is reported at once. */
function collected<T>(errors: InputError[], check: () => T): T | undefined {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    errors.push(error);
    return undefined;
  }
}

function checkUniqueNames(credentials: Credential[], errors: InputError[]): void {
  const seen = new Set<string>();
  for (const { name } of credentials) {
    if (seen.has(name)) errors.push(new InputError('settings.users', `user name "${name}" is given twice (admins, users and consumers share one namespace)`));
    seen.add(name);
  }
}

function resolveTemplates(
  templates: Record<string, string>,
  allowedNames: readonly string[],
  baseDir: string,
  errors: InputError[],
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, path] of Object.entries(templates)) {
    if (!allowedNames.includes(name)) {
      errors.push(new InputError(`settings.templates.${name}`, `unknown template; allowed: ${allowedNames.join(', ')}`));
      continue;
    }
    const absolute = resolve(baseDir, path);
    try {
      // Read once now, so a device, FIFO, huge or non-UTF-8 template is refused before any host is contacted.
      readInputText(path, `settings.templates.${name}`, inputCaps.template, baseDir);
      resolved[name] = absolute;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      errors.push(/ENOENT/.test(error.message) ? new InputError(`settings.templates.${name}`, `template file ${path} does not exist`) : error);
    }
  }
  return resolved;
}

/** Loads a settings file (optional) and overrides into validated Settings. */
export function loadSettingsWith(rulesFor: BrokerSettingsRulesFor, path: string | undefined, overrides: SettingsOverrides = {}): Settings {
  const raw = path === undefined ? {} : readSettingsFile(path);
  return resolveSettingsWith(rulesFor, raw, overrides, path === undefined ? process.cwd() : dirname(resolve(path)));
}
