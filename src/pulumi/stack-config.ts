import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { consumerWarnings } from '../consumers/warnings.ts';
import { readInventory } from '../settings/lab-inventory.ts';
import { InputError, InputErrors } from '../settings/input-error.ts';
import { type Settings } from '../settings/load.ts';
import { resolveSettings } from '../brokers/load-settings.ts';
import { listenerNames } from '../settings/schema.ts';
import { fieldPath, zodInputErrors } from '../settings/zod-errors.ts';
import { bracketHost, parseHostSpec } from '../transport/host-spec.ts';
import { imageReferencePattern } from '../container/image-layouts.ts';

/**
 * Reads a stack's `mqtt-provision:*` config into validated settings and targets. Settings go through
 * the same resolveSettings as a settings file, so a stack file gets the same error messages; the
 * only addition is `passwordSecret`, which names a secret config key holding a password.
 */

export const project = 'mqtt-provision';

export type ListenerName = (typeof listenerNames)[number];

export interface HostEntry {
  /** Pulumi resource name of the host's component. */
  name: string;
  address: string;
  user: string;
  port: number;
  privateKeyPath: string;
  /** known_hosts that the host's SSH key is checked against (unknown hosts are recorded). */
  knownHostsPath: string;
}

export interface ContainerEntry {
  name: string;
  /** Image override; the broker's pinned official image when absent. */
  image?: string;
  /** Docker-host address the listeners are published on. */
  bindAddress: string;
  /** Listener name → port on the Docker host, when it differs from the listener's port. */
  ports: Partial<Record<ListenerName, number>>;
}

export interface StackConfig {
  deployment: 'hosts' | 'containers';
  settings: Settings;
  hosts: HostEntry[];
  containers: ContainerEntry[];
  /** Remove the broker's data too when a host or container is destroyed; kept by default. */
  purgeDataOnDelete: boolean;
  /** Things that work but should not be left that way (a password in plain text in a stack file). */
  warnings: string[];
}

export interface ConfigReader {
  /** Value of `mqtt-provision:<key>`: objects as JSON text, secrets in plain text; undefined when unset. */
  get(key: string): string | undefined;
}

const resourceName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and "-" (at most 63)');
const port = z.number().int().min(1).max(65535);

const hostEntry = z
  .object({
    name: resourceName,
    address: z.string().min(1),
    user: z.string().default('root'),
    port: port.default(22),
    privateKeyPath: z.string().min(1),
    knownHostsPath: z.string().min(1).default('~/.ssh/known_hosts'),
  })
  .strict();

const labInventory = z
  .object({
    path: z.string().min(1),
    user: z.string().default('root'),
  })
  .strict();

const containerEntry = z
  .object({
    name: resourceName,
    image: z.string().regex(imageReferencePattern, 'must be an image reference like eclipse-mosquitto:2.0.22').optional(),
    bindAddress: z.string().min(1).default('127.0.0.1'),
    ports: z.partialRecord(z.enum(listenerNames), port).default({}),
  })
  .strict();

const deployment = z.enum(['hosts', 'containers']);

/** Reads, validates and resolves a stack's config; all problems are reported at once as InputErrors. */
export async function readStackConfig(reader: ConfigReader, baseDir: string): Promise<StackConfig> {
  const errors: InputError[] = [];
  const warnings: string[] = [];

  const kind = parseKey(reader, 'deployment', deployment, errors, 'set it to "hosts" (SSH) or "containers" (Docker)');
  const settings = readSettings(reader, baseDir, errors, warnings);
  if (settings) warnings.push(...consumerWarnings(settings));
  const purgeDataOnDelete = parseKey(reader, 'purgeDataOnDelete', z.boolean(), errors) ?? false;

  const hosts: HostEntry[] = [];
  const containers: ContainerEntry[] = [];
  const hostList = parseKey(reader, 'hosts', z.array(hostEntry), errors) ?? [];
  const lab = parseKey(reader, 'labInventory', labInventory, errors);
  const containerList = parseKey(reader, 'containers', z.array(containerEntry), errors) ?? [];

  if (kind === 'hosts') {
    hostList.forEach((host, index) => {
      const checked = checkHost(host, `${project}:hosts[${index}]`, baseDir, errors);
      if (checked) hosts.push(checked);
    });
    if (lab) hosts.push(...(await labHosts(lab, baseDir, errors)));
    if (containerList.length > 0) errors.push(new InputError(`${project}:containers`, 'is only read when deployment is "containers"'));
    if (hosts.length === 0 && errors.length === 0) {
      errors.push(new InputError(`${project}:hosts`, 'list at least one host (name, address, user, port, privateKeyPath) or set labInventory'));
    }
  }
  if (kind === 'containers') {
    containers.push(...containerList);
    if (hostList.length > 0 || lab) errors.push(new InputError(`${project}:hosts`, 'hosts and labInventory are only read when deployment is "hosts"'));
    if (containers.length === 0) errors.push(new InputError(`${project}:containers`, 'list at least one container (name, and optionally image, bindAddress, ports)'));
    containers.forEach((container, index) => {
      for (const name of Object.keys(container.ports)) {
        if (settings && settings.listeners[name as ListenerName] === undefined) {
          errors.push(new InputError(`${project}:containers[${index}].ports.${name}`, `settings.listeners has no "${name}" listener to publish`));
        }
      }
    });
  }
  checkUnique([...hosts, ...containers].map((entry) => entry.name), errors);

  if (errors.length > 0 || !settings || !kind) throw new InputErrors(errors);
  return { deployment: kind, settings, hosts, containers, purgeDataOnDelete, warnings };
}

/**
 * The settings object with each `passwordSecret` replaced by the secret's value, then resolveSettings.
 * Secrets are read in plain text here so that they can be validated before anything is created;
 * callers must wrap every value derived from them in `pulumi.secret`.
 */
function readSettings(reader: ConfigReader, baseDir: string, errors: InputError[], warnings: string[]): Settings | undefined {
  const raw = parseKey(reader, 'settings', z.record(z.string(), z.unknown()), errors, 'give the broker settings: the same keys as a settings file');
  if (!raw) return undefined;
  const withPasswords: Record<string, unknown> = { ...raw };
  for (const list of ['admins', 'users', 'consumers'] as const) {
    const entries = raw[list];
    if (!Array.isArray(entries)) continue;
    withPasswords[list] = entries.map((entry: unknown, index) => {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return entry;
      const { passwordSecret, ...rest } = entry as Record<string, unknown>;
      const field = `settings.${list}[${index}]`;
      if (typeof rest.password === 'string') {
        warnings.push(`${field}.password is plain text in the stack file; use "passwordSecret" and \`pulumi config set --secret\``);
      }
      if (passwordSecret === undefined) return rest;
      if (typeof passwordSecret !== 'string' || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(passwordSecret)) {
        errors.push(new InputError(`${field}.passwordSecret`, 'must name a config key, e.g. adminPassword'));
        return rest;
      }
      if (rest.password !== undefined || rest.passwordFile !== undefined) {
        errors.push(new InputError(field, 'give one of "password", "passwordFile" or "passwordSecret"'));
        return rest;
      }
      const value = reader.get(passwordSecret);
      if (value === undefined) {
        errors.push(new InputError(`${field}.passwordSecret`, `config key ${project}:${passwordSecret} is not set; run: pulumi config set --secret ${passwordSecret}`));
        // A stand-in, so the rest of the settings is still checked without a second error about this password.
        return { ...rest, password: 'unset' };
      }
      return { ...rest, password: value };
    });
  }
  try {
    return resolveSettings(withPasswords, {}, baseDir);
  } catch (error) {
    if (error instanceof InputErrors) errors.push(...error.errors);
    else if (error instanceof InputError) errors.push(error);
    else throw error;
    return undefined;
  }
}

function checkHost(host: z.output<typeof hostEntry>, field: string, baseDir: string, errors: InputError[]): HostEntry | undefined {
  try {
    parseHostSpec(`${host.user}@${bracketHost(host.address)}:${host.port}`, field);
  } catch (error) {
    if (error instanceof InputError) errors.push(error);
    else throw error;
    return undefined;
  }
  return { ...host, privateKeyPath: keyPath(host.privateKeyPath, baseDir), knownHostsPath: keyPath(host.knownHostsPath, baseDir) };
}

/** `~/` stays as written (it means the home of whoever runs `pulumi up`); other relative paths are the project's. */
function keyPath(path: string, baseDir: string): string {
  return path.startsWith('~/') || isAbsolute(path) ? path : resolve(baseDir, path);
}

async function labHosts(lab: z.output<typeof labInventory>, baseDir: string, errors: InputError[]): Promise<HostEntry[]> {
  const field = `${project}:labInventory.path`;
  let inventory;
  try {
    inventory = await readInventory(resolve(baseDir, lab.path));
  } catch (error) {
    errors.push(new InputError(field, (error as Error).message));
    return [];
  }
  if (!inventory || inventory.hosts.length === 0) {
    errors.push(new InputError(field, `${lab.path} lists no lab hosts; start some with: npm run lab -- up --count 2`));
    return [];
  }
  return inventory.hosts.map((host) => ({
    name: host.name,
    address: host.address,
    user: lab.user,
    port: host.sshPort,
    privateKeyPath: inventory.keyPath,
    // The lab's own file: lab hosts are recreated with new keys on reused ports.
    knownHostsPath: join(dirname(inventory.keyPath), 'known_hosts'),
  }));
}

function checkUnique(names: string[], errors: InputError[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) errors.push(new InputError(`${project}:hosts`, `name "${name}" is used twice; every host and container needs its own`));
    seen.add(name);
  }
}

/** Parses one config key as JSON (Pulumi hands structured values over as JSON text) and validates it. */
function parseKey<T extends z.ZodType>(reader: ConfigReader, key: string, schema: T, errors: InputError[], hint?: string): z.output<T> | undefined {
  const field = `${project}:${key}`;
  const text = reader.get(key);
  if (text === undefined) {
    if (hint) errors.push(new InputError(field, `is not set; ${hint}`));
    return undefined;
  }
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // A plain string such as `deployment: hosts` is not JSON; it is validated as the string it is.
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  errors.push(...zodInputErrors(parsed.error.issues, (path) => fieldPath(field, path)));
  return undefined;
}
