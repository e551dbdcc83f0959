import { Secret } from '../secret.ts';
import { inputCaps, readInputBytes, readSecretFile } from '../settings/input-file.ts';
import type { DockerHost } from '../container/docker-host.ts';
import { bracketHost, formatHostSpec, parseHostSpec } from '../transport/host-spec.ts';
import { sshOptions, type SshAccess } from '../transport/ssh-options.ts';
import type { Transport } from '../transport/transport.ts';
import type { InstallEnvironment, InstallTarget } from './install-command.ts';
import type { InstallOptions } from './install-options.ts';
import { readInventory } from './inventory-file.ts';
import { limitTargets } from './limit.ts';

/** The flags that say which hosts a run reaches and how: shared by install, status, backup and restore. */
export type TargetOptions = Pick<InstallOptions, 'hosts' | 'inventory' | 'limit' | 'identity' | 'sshPasswordFile' | 'connectTimeoutSeconds' | 'retries' | 'hostKeyCheck' | 'knownHosts'>;

/** --host, --inventory and --limit → the run's targets, each connecting with the run's SSH flags. */
export function buildTargets(options: TargetOptions, environment: Pick<InstallEnvironment, 'env' | 'connect'>): InstallTarget[] {
  const identity = options.identity;
  if (identity !== undefined) checkReadable(identity, '--identity');
  if (options.sshPasswordFile !== undefined) checkReadable(options.sshPasswordFile, '--ssh-password-file');
  const all = options.hosts.map((text) => {
    const spec = parseHostSpec(text);
    return { ...spec, label: formatHostSpec(spec), ports: {} as Record<number, number>, identity };
  });
  if (options.inventory) {
    for (const host of readInventory(options.inventory)) {
      const spec = parseHostSpec(`${host.user}@${bracketHost(host.address)}:${host.port}`, '--inventory');
      // The inventory's own name for a host is what its operators call it: output uses it.
      all.push({ ...spec, label: host.label ?? formatHostSpec(spec), ports: host.ports, identity: identity ?? host.identity });
    }
  }
  const specs = options.limit === undefined ? all : limitTargets(all, options.limit);
  for (const spec of specs) {
    if (identity === undefined && spec.identity !== undefined) checkReadable(spec.identity, '--inventory identity');
  }
  const access = sshAccess(options, environment);
  return specs.map((spec) => {
    const ssh = sshOptions(spec, { ...access, identityFile: spec.identity });
    return {
      label: spec.label,
      address: spec.host,
      ports: spec.ports,
      connect: () => environment.connect(ssh),
    };
  });
}

/** Where docker runs: this machine's engine (or a unix socket), or a Docker host over our SSH transport. */
export async function dockerTransport(dockerHost: DockerHost, options: TargetOptions, environment: Pick<InstallEnvironment, 'env' | 'connect'>): Promise<Transport> {
  if (dockerHost.kind === 'ssh') return environment.connect(sshOptions(dockerHost.spec, { ...sshAccess(options, environment), identityFile: options.identity }));
  const { LocalTransport } = await import('../transport/local.ts');
  return new LocalTransport(dockerHost.socket ? { env: { DOCKER_HOST: `unix://${dockerHost.socket}` } } : {});
}

/** What every SSH connection of a run shares (password, host keys, timeouts); the password file is read once. */
function sshAccess(options: TargetOptions, environment: Pick<InstallEnvironment, 'env'>): SshAccess {
  let password: Secret | undefined;
  if (options.sshPasswordFile !== undefined) password = readSecretFile(options.sshPasswordFile, '--ssh-password-file');
  else if (environment.env.MQTT_SSH_PASSWORD) password = new Secret(environment.env.MQTT_SSH_PASSWORD);
  return {
    connectTimeoutSeconds: options.connectTimeoutSeconds,
    retries: options.retries,
    hostKeyCheck: options.hostKeyCheck,
    knownHosts: options.knownHosts,
    password,
  };
}

/** An SSH key is read later by the transport; refuse a device, FIFO or huge file now, with the flag named. */
function checkReadable(path: string, flag: string): void {
  readInputBytes(path, flag, inputCaps.pem);
}
