import { X509Certificate } from 'node:crypto';
import { emqxLayout } from '../brokers/emqx/layout.ts';
import { emqxTlsLayout } from '../brokers/emqx/files.ts';
import { mosquittoTlsLayout } from '../brokers/mosquitto/files.ts';
import { mosquittoLayout } from '../brokers/mosquitto/layout.ts';
import { servedPorts } from '../brokers/served-ports.ts';
import type { HostFacts } from '../facts/host-facts.ts';
import { parseRichRules, parseUfwStatus } from '../operations/firewall-sources.ts';
import type { Step } from '../operations/step.ts';
import type { Settings } from '../settings/load.ts';
import type { StatusFacts, StatusProbeQuery } from './status-facts.ts';

/** A certificate this close to expiry is a problem now: renewal needs a run, and runs are not daily everywhere. */
export const CERT_WARN_DAYS = 30;
/** Queued messages live on the data directory's disk: below this share free, a burst can fill it. */
export const DISK_MIN_FREE_SHARE = 0.1;

/** The broker's own figures: Mosquitto's $SYS topics, EMQX's REST stats. */
export interface BrokerFigures {
  version?: string;
  /** EMQX: what `emqx ctl status` says the node is ("started" when all is well). */
  nodeStatus?: string;
  connectedClients?: number;
  /** EMQX: every session on the node, connected or not (`sessions.count` of /api/v5/stats). */
  sessions?: number;
  /** Sessions kept for clients that are not connected (clean session off): their messages wait. */
  disconnectedSessions?: number;
  /** Messages the broker holds, retained ones included (Mosquitto: $SYS/broker/store/messages/count). */
  storedMessages?: number;
  retainedMessages?: number;
  /**
   * Messages waiting for clients: stored minus retained (Mosquitto); the sum of the sessions'
   * mqueue_len from /api/v5/clients (EMQX, where durable sessions' messages are not counted).
   */
  queuedMessages?: number;
}

export interface TargetStatus {
  target: string;
  broker: Settings['broker'];
  version: { installed: string | null; wanted: string };
  service: { state: string; uptimeSeconds: number | null; restarts: number | null };
  listeners: { wanted: number[]; listening: number[]; missing: number[] };
  firewall: { kind: 'firewalld' | 'ufw'; open: number[]; missing: number[] } | null;
  /** Ids of the steps a converge would change: config drift. */
  drift: string[];
  tls: { subject: string; notAfter: string; daysLeft: number } | null;
  disk: { freeBytes: number; totalBytes: number } | null;
  figures: BrokerFigures | null;
  /** Everything that is wrong; the command exits 1 when any target has one. */
  problems: string[];
}

/** Which service, data directory and certificate the status probe looks at, per broker. */
export function statusProbeQuery(settings: Pick<Settings, 'broker' | 'listeners'>): StatusProbeQuery {
  const tls = settings.listeners.mqtts !== undefined || settings.listeners.wss !== undefined;
  if (settings.broker === 'emqx') {
    return { service: emqxLayout.service, dataDir: emqxLayout.dataDir, ...(tls ? { certFile: emqxTlsLayout.certFile } : {}) };
  }
  return { service: mosquittoLayout.service, dataDir: mosquittoLayout.dataDir, ...(tls ? { certFile: mosquittoTlsLayout.certFile } : {}) };
}

function packageName(broker: Settings['broker']): string {
  return broker === 'emqx' ? emqxLayout.packageName : mosquittoLayout.packageName;
}

function ports(list: string[]): number[] {
  return list.map((entry) => Number(entry.split('/')[0])).filter(Number.isInteger);
}

/**
 * Facts, planned steps, the status probe and the broker's figures → one target's status (pure).
 * `figures` is an Error when the broker could not be asked.
 */
export function evaluateStatus(input: {
  target: string;
  settings: Settings;
  facts: HostFacts;
  steps: Step[];
  status: StatusFacts;
  figures: BrokerFigures | Error | null;
  now: Date;
}): TargetStatus {
  const { settings, facts, status, now } = input;
  const problems: string[] = [];
  const installed = facts.packages[packageName(settings.broker)] ?? null;
  const wanted = settings.version || (settings.broker === 'mosquitto' ? "the OS repository's" : '');
  if (installed === null) problems.push(`${packageName(settings.broker)} is not installed`);
  else if (settings.version && !installed.startsWith(settings.version)) problems.push(`version ${installed} is installed, ${settings.version} is wanted`);

  if (status.active !== 'active') problems.push(`the ${statusProbeQuery(settings).service} service is ${status.active} (${status.sub})`);

  const wantedPorts = servedPorts(settings);
  const missing = wantedPorts.filter((port) => !status.listening.includes(port));
  if (missing.length > 0 && status.active === 'active') problems.push(`not listening on ${missing.join(', ')}`);

  let firewall: TargetStatus['firewall'] = null;
  if (settings.firewall === 'auto' && facts.firewalld?.running) {
    // A port restricted by source (settings.listenerAccess) is open through its rich rules, not as a plain port.
    const open = [...new Set([...ports(facts.firewalld.runtimePorts), ...parseRichRules(facts.firewalld.runtimeRichRules ?? '').map((rule) => rule.port)])];
    firewall = { kind: 'firewalld', open, missing: wantedPorts.filter((port) => !open.includes(port)) };
  } else if (settings.firewall === 'auto' && facts.ufw?.active) {
    const restricted = parseUfwStatus(facts.ufw.status ?? '').filter((rule) => rule.action === 'ALLOW' && rule.proto === 'tcp').map((rule) => rule.port);
    const open = [...new Set([...ports(facts.ufw.allowedPorts), ...restricted])];
    firewall = { kind: 'ufw', open, missing: wantedPorts.filter((port) => !open.includes(port)) };
  }
  if (firewall && firewall.missing.length > 0) problems.push(`${firewall.kind} does not open ${firewall.missing.join(', ')}`);

  const drift = input.steps.filter((step) => step.change).map((step) => step.id);
  if (drift.length > 0) problems.push(`drift: a converge would change ${drift.join(', ')}`);

  let tls: TargetStatus['tls'] = null;
  if (status.certPem) {
    try {
      const cert = new X509Certificate(status.certPem);
      const notAfter = new Date(cert.validTo);
      const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
      tls = { subject: cert.subject.replace(/\n/g, ', '), notAfter: notAfter.toISOString(), daysLeft };
      if (daysLeft < 0) problems.push(`the TLS certificate expired on ${tls.notAfter.slice(0, 10)}`);
      else if (daysLeft < CERT_WARN_DAYS) problems.push(`the TLS certificate expires in ${daysLeft} days`);
    } catch (error) {
      problems.push(`the TLS certificate cannot be read: ${(error as Error).message}`);
    }
  }

  if (status.disk && status.disk.freeBytes < status.disk.totalBytes * DISK_MIN_FREE_SHARE) {
    problems.push(`only ${formatBytes(status.disk.freeBytes)} free on the data directory's disk`);
  }

  let figures: BrokerFigures | null = null;
  if (input.figures instanceof Error) problems.push(`the broker's own figures: ${input.figures.message}`);
  else figures = input.figures;
  if (figures?.nodeStatus !== undefined && figures.nodeStatus !== 'started') problems.push(`emqx ctl status: ${figures.nodeStatus}`);

  return {
    target: input.target,
    broker: settings.broker,
    version: { installed, wanted },
    service: { state: status.active, uptimeSeconds: status.uptimeSeconds, restarts: status.restarts },
    listeners: { wanted: wantedPorts, listening: wantedPorts.filter((port) => status.listening.includes(port)), missing },
    firewall,
    drift,
    tls,
    disk: status.disk,
    figures,
    problems,
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
