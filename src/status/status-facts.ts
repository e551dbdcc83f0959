import { readFileSync } from 'node:fs';
import type { Transport } from '../transport/transport.ts';

const statusProbe = readFileSync(new URL('./probe.sh', import.meta.url), 'utf8');

/** What the status probe saw on a host, beyond the install facts. */
export interface StatusFacts {
  /** systemd ActiveState and SubState, e.g. active/running, failed/failed, inactive/dead. */
  active: string;
  sub: string;
  restarts: number | null;
  /** Seconds since the service became active; null when it is not active. */
  uptimeSeconds: number | null;
  listening: number[];
  /** Free and total bytes on the data directory's file system; null when it does not exist. */
  disk: { freeBytes: number; totalBytes: number } | null;
  /** The served TLS certificate (PEM), when one is installed. */
  certPem: string | null;
}

export interface StatusProbeQuery {
  service: string;
  dataDir: string;
  certFile?: string;
}

/** Runs the status probe in one exec (script on stdin, paths as arguments). */
export async function gatherStatusFacts(transport: Transport, query: StatusProbeQuery): Promise<StatusFacts> {
  const argv = ['sh', '-s', '--', query.service, query.dataDir, ...(query.certFile ? [query.certFile] : [])];
  const result = await transport.exec(argv, { stdin: statusProbe });
  if (result.code !== 0) throw new Error(`the status probe failed (exit ${result.code}): ${result.stderr.trim()}`);
  return parseStatusProbe(result.stdout);
}

/** Probe output → StatusFacts (pure: fixtures feed it plain text). */
export function parseStatusProbe(output: string): StatusFacts {
  const values = new Map<string, string>();
  for (const line of output.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) values.set(line.slice(0, tab), line.slice(tab + 1).trim());
  }
  const number = (key: string): number | null => {
    const text = values.get(key);
    return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
  };
  const active = values.get('active') || 'unknown';
  const disk = values.get('disk')?.split(' ').map(Number);
  const cert = values.get('cert');
  return {
    active,
    sub: values.get('sub') || 'unknown',
    restarts: number('restarts'),
    uptimeSeconds: active === 'active' ? number('uptime') : null,
    listening: (values.get('listening') ?? '')
      .split(' ')
      .filter((port) => /^\d+$/.test(port))
      .map(Number)
      .sort((a, b) => a - b),
    disk: disk && disk.length === 2 && disk.every(Number.isFinite) ? { freeBytes: disk[0]! * 1024, totalBytes: disk[1]! * 1024 } : null,
    certPem: cert ? Buffer.from(cert, 'base64').toString('utf8') : null,
  };
}
