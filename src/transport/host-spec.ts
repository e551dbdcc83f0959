import { InputError } from '../settings/input-error.ts';

export interface HostSpec {
  user: string;
  host: string;
  port: number;
}

const hostNamePattern = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const ipv6Pattern = /^[0-9A-Fa-f:.]+$/;
const userPattern = /^[a-z_][a-z0-9_.-]{0,31}$/;

/** Parses `[user@]host[:port]` (IPv6 as `[::1]:22`); user defaults to root and port to 22. */
export function parseHostSpec(text: string, field = '--host'): HostSpec {
  const match = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::([^:]+))?$/.exec(text);
  if (!match) throw new InputError(field, `"${text}" is not [user@]host[:port]`);
  const [, user = 'root', rawHost = '', rawPort] = match;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (!userPattern.test(user)) throw new InputError(field, `user "${user}" must be a POSIX user name (lower case letters, digits, "_", ".", "-")`);
  if (!hostNamePattern.test(host) && !(rawHost.startsWith('[') && ipv6Pattern.test(host))) {
    throw new InputError(field, `"${host}" is not a host name or IP address`);
  }
  const port = rawPort === undefined ? 22 : Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(field, `port "${rawPort}" must be 1-65535`);
  return { user, host, port };
}

/** A host as it stands before `:port` in a spec or URL: an IPv6 address in brackets, anything else as is. */
export function bracketHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function formatHostSpec(spec: HostSpec): string {
  return `${spec.user}@${bracketHost(spec.host)}:${spec.port}`;
}
