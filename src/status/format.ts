import { formatBytes, type TargetStatus } from './evaluate.ts';

/** Seconds → "3d 4h", "5h 12m", "42s": enough to tell a fresh restart from weeks of uptime. */
export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${seconds % 60}s`;
  return `${seconds}s`;
}

const columns = ['TARGET', 'BROKER', 'VERSION', 'SERVICE', 'LISTENING', 'FIREWALL', 'DRIFT', 'TLS', 'DISK FREE', 'CLIENTS', 'OFFLINE SESSIONS', 'QUEUED MSGS', ''] as const;

function row(status: TargetStatus): string[] {
  const figures = status.figures;
  const count = (value: number | undefined): string => (value === undefined ? '-' : String(value));
  return [
    status.target,
    status.broker,
    status.version.installed ?? 'absent',
    status.service.uptimeSeconds !== null ? `up ${formatDuration(status.service.uptimeSeconds)}${/\(.*\)$/.exec(status.service.state)?.[0].replace(/^/, ' ') ?? ''}` : status.service.state,
    status.listeners.wanted.map((port) => (status.listeners.missing.includes(port) ? `!${port}` : String(port))).join(',') || '-',
    status.firewall ? `${status.firewall.kind}${status.firewall.missing.length ? ` !${status.firewall.missing.join(',')}` : ' ok'}` : '-',
    status.drift.length === 0 ? 'none' : `${status.drift.length} step${status.drift.length > 1 ? 's' : ''}`,
    status.tls ? `${status.tls.daysLeft}d` : '-',
    status.disk ? `${formatBytes(status.disk.freeBytes)} (${Math.round((100 * status.disk.freeBytes) / status.disk.totalBytes)}%)` : '-',
    count(figures?.connectedClients),
    count(figures?.disconnectedSessions),
    count(figures?.queuedMessages),
    status.problems.length === 0 ? 'OK' : 'PROBLEM',
  ];
}

/** The terminal table, then one line per problem under its target. */
export function formatStatusTable(statuses: TargetStatus[]): string {
  const rows = [columns.slice() as string[], ...statuses.map(row)];
  const widths = columns.map((_, index) => Math.max(...rows.map((cells) => cells[index]!.length)));
  const lines = rows.map((cells) => cells.map((cell, index) => cell.padEnd(widths[index]!)).join('  ').trimEnd());
  for (const status of statuses) {
    for (const problem of status.problems) lines.push(`${status.target}: ${problem}`);
  }
  return lines.join('\n');
}
