import { InputError } from '../settings/input-error.ts';
import { parseHostSpec, type HostSpec } from '../transport/host-spec.ts';

/**
 * Where `--docker` converges: this machine's engine (its default socket, or `unix:///path`), or a
 * Docker host reached over SSH. For SSH, mqtt-provision runs the docker CLI *on* that host
 * through its own SSH transport (keys, known_hosts, sudo, retries as for --host) instead of
 * Docker's `DOCKER_HOST=ssh://`: the rendered config must be written where the engine can mount
 * it, and that is the Docker host's filesystem.
 */
export type DockerHost = { kind: 'local'; socket?: string } | { kind: 'ssh'; spec: HostSpec };

export function parseDockerHost(text: string | undefined): DockerHost {
  if (text === undefined) return { kind: 'local' };
  const unix = /^unix:\/\/(\/[^\0]+)$/.exec(text);
  if (unix) return { kind: 'local', socket: unix[1]! };
  if (text.startsWith('ssh://')) return { kind: 'ssh', spec: parseHostSpec(text.slice('ssh://'.length).replace(/\/$/, ''), '--docker-host') };
  throw new InputError(
    '--docker-host',
    `must be unix:///path/to/docker.sock or ssh://[user@]host[:port], got "${text}" ` +
      '(tcp:// is not taken: the config is written on the Docker host, which mqtt-provision reaches over SSH)',
  );
}
