import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Secret } from '../secret.ts';
import type { HostSpec } from './host-spec.ts';
import type { HostKeyCheck } from './known-hosts.ts';
import type { SshOptions } from './ssh.ts';

/** How a run reaches its hosts, apart from which host: the same for every SSH front door. */
export interface SshAccess {
  /** Private key file; without it (and without a password) the ssh-agent and ~/.ssh/id_* are tried. */
  identityFile?: string | undefined;
  password?: Secret | undefined;
  /** known_hosts file; ~/.ssh/known_hosts when absent. */
  knownHosts?: string | undefined;
  /** accept-new when absent: unknown hosts are recorded, a changed key is refused. */
  hostKeyCheck?: HostKeyCheck | undefined;
  /** Per connection attempt (TCP + SSH handshake); 10 when absent. */
  connectTimeoutSeconds?: number | undefined;
  /** Extra attempts with backoff; 2 when absent. */
  retries?: number | undefined;
}

/** The user's own known_hosts, the default of every front door. */
export function defaultKnownHostsFile(): string {
  return join(homedir(), '.ssh', 'known_hosts');
}

/**
 * The one builder of SshTransport options (install/status/backup/restore, verify's restart host,
 * the Pulumi host provider): every front door checks host keys and bounds its connection attempts
 * the same way unless it says otherwise.
 */
export function sshOptions(spec: HostSpec, access: SshAccess = {}): SshOptions {
  return {
    user: spec.user,
    host: spec.host,
    port: spec.port,
    connectTimeoutMs: (access.connectTimeoutSeconds ?? 10) * 1000,
    retries: access.retries ?? 2,
    hostKeys: { check: access.hostKeyCheck ?? 'accept-new', file: access.knownHosts ?? defaultKnownHostsFile() },
    ...(access.password ? { password: access.password } : {}),
    ...(access.identityFile ? { identityFile: access.identityFile } : {}),
  };
}
