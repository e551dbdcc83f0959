import { containerLabel, planContainerTarget } from '../container/converge.ts';
import { defaultContainerOptions, LABEL_SPEC, type ContainerSpec } from '../container/desired.ts';
import { imageLayouts } from '../container/image-layouts.ts';
import { servedPorts } from '../brokers/served-ports.ts';
import type { Settings } from '../settings/load.ts';
import type { Transport } from '../transport/transport.ts';
import { DISK_MIN_FREE_SHARE, formatBytes, type BrokerFigures, type TargetStatus } from './evaluate.ts';

interface InspectJson {
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; StartedAt?: string; RestartCount?: number; Health?: { Status?: string } | null };
  NetworkSettings?: { Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null };
  RestartCount?: number;
}

/** What status needs of `docker container inspect`: state, start time, the stored spec, published ports (pure). */
export function parseContainerStatus(json: string): {
  image: string;
  status: string;
  health: string | null;
  startedAt: string | null;
  restarts: number | null;
  spec: ContainerSpec | null;
  /** Container port → host port. */
  published: Record<number, number>;
} {
  const [item] = JSON.parse(json) as InspectJson[];
  if (!item) throw new Error('docker inspect returned no object');
  let spec: ContainerSpec | null = null;
  try {
    const text = item.Config?.Labels?.[LABEL_SPEC];
    if (text) spec = JSON.parse(text) as ContainerSpec;
  } catch {
    spec = null;
  }
  const published: Record<number, number> = {};
  for (const [key, bindings] of Object.entries(item.NetworkSettings?.Ports ?? {})) {
    const port = Number(key.split('/')[0]);
    const first = bindings?.[0];
    if (first && Number.isInteger(port)) published[port] = Number(first.HostPort);
  }
  return {
    image: item.Config?.Image ?? '',
    status: item.State?.Status ?? 'unknown',
    health: item.State?.Health?.Status ?? null,
    startedAt: item.State?.StartedAt ?? null,
    restarts: item.RestartCount ?? null,
    spec,
    published,
  };
}

/** "127.0.0.1:1883:1883" → 127.0.0.1; the spec's ports all share the bind address. */
function bindOf(spec: ContainerSpec | null): string | undefined {
  const first = spec?.ports[0];
  if (!first) return undefined;
  const parts = first.split(':');
  return parts.length >= 3 ? parts.slice(0, parts.length - 2).join(':').replace(/^\[|\]$/g, '') : undefined;
}

/**
 * One container's status: the same fields as a host's. The run options (image, limits, bind) are
 * the container's own stored spec, so status judges config drift, not a flag left out.
 */
export async function containerStatus(
  transport: Transport,
  settings: Settings,
  name: string,
  figures: (address: string, ports: Record<number, number>) => Promise<BrokerFigures | null>,
  now: Date,
  /** Where a wildcard-bound published port is reached: this machine, or the Docker host over SSH. */
  dockerHostAddress = '127.0.0.1',
): Promise<TargetStatus> {
  const label = containerLabel(transport, name);
  const wanted = servedPorts(settings);
  const base: TargetStatus = {
    target: label,
    broker: settings.broker,
    version: { installed: null, wanted: settings.version },
    service: { state: 'absent', uptimeSeconds: null, restarts: null },
    listeners: { wanted, listening: [], missing: wanted },
    firewall: null,
    drift: [],
    tls: null,
    disk: null,
    figures: null,
    problems: [],
  };
  const inspect = await transport.exec(['docker', 'container', 'inspect', name]);
  if (inspect.code !== 0) return { ...base, problems: [`container ${name} does not exist`] };
  const state = parseContainerStatus(inspect.stdout);
  const problems: string[] = [];
  const defaults = defaultContainerOptions(settings.broker, name);
  const bind = bindOf(state.spec);
  const options = {
    ...defaults,
    image: state.image,
    ...(state.spec ? { memory: state.spec.memory, cpus: state.spec.cpus } : {}),
    ...(bind ? { bind } : {}),
  };
  // A health password is only drawn when none is stored, and then the file is drift anyway.
  const { steps } = await planContainerTarget(transport, settings, options, { generateHealthPassword: () => 'not-stored' });
  const drift = steps.filter((step) => step.change).map((step) => step.id);
  if (drift.length > 0) problems.push(`drift: a converge would change ${drift.join(', ')}`);

  const running = state.status === 'running';
  const serviceState = running ? (state.health ? `running (${state.health})` : 'running') : state.status;
  if (!running) problems.push(`the container is ${state.status}`);
  else if (state.health && state.health !== 'healthy') problems.push(`the container is ${state.health}`);
  const started = state.startedAt ? Date.parse(state.startedAt) : Number.NaN;
  const uptimeSeconds = running && Number.isFinite(started) ? Math.max(0, Math.floor((now.getTime() - started) / 1000)) : null;

  const listening = wanted.filter((port) => state.published[port] !== undefined);
  const missing = wanted.filter((port) => state.published[port] === undefined);
  if (missing.length > 0) problems.push(`not published: ${missing.join(', ')}`);

  let disk: TargetStatus['disk'] = null;
  if (running) {
    const df = await transport.exec(['docker', 'exec', name, 'df', '-Pk', imageLayouts[settings.broker].dataDir]);
    // POSIX df -P: file system, 1024-blocks, used, available, capacity, mount point.
    const fields = df.code === 0 ? (df.stdout.trim().split('\n')[1]?.split(/\s+/) ?? []) : [];
    if (fields.length >= 4 && /^\d+$/.test(fields[1]!) && /^\d+$/.test(fields[3]!)) disk = { freeBytes: Number(fields[3]) * 1024, totalBytes: Number(fields[1]) * 1024 };
    if (disk && disk.freeBytes < disk.totalBytes * DISK_MIN_FREE_SHARE) problems.push(`only ${formatBytes(disk.freeBytes)} free on the data volume's disk`);
  }

  let brokerFigures: BrokerFigures | null = null;
  if (running) {
    try {
      brokerFigures = await figures(bind && bind !== '0.0.0.0' && bind !== '::' ? bind : dockerHostAddress, state.published);
    } catch (error) {
      problems.push(`the broker's own figures: ${(error as Error).message}`);
    }
  }
  const tag = state.image.includes(':') ? state.image.slice(state.image.lastIndexOf(':') + 1) : state.image;
  return {
    ...base,
    version: { installed: tag || null, wanted: settings.version },
    service: { state: serviceState, uptimeSeconds, restarts: state.restarts },
    listeners: { wanted, listening, missing },
    drift,
    disk,
    figures: brokerFigures,
    problems,
  };
}
