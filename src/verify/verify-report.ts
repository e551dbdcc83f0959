/** What a broker verification found: one entry per check, in the order they ran. */
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface VerifyCheck {
  name: string;
  status: CheckStatus;
  /** One sentence a person can act on; never holds a password. */
  detail: string;
  /** Measured numbers under camelCase keys (JSON readers), e.g. { published: 5000, receivedDistinct: 5000, publishPerSecond: 41000 }. */
  figures?: Record<string, number>;
}

export interface VerifyReport {
  /** True when no check failed; warnings and skips do not fail a broker. */
  passed: boolean;
  /** The random id in every client id and topic of this run, to find it in broker logs. */
  runId: string;
  checks: VerifyCheck[];
}

/** Version of the --json documents of install, verify and status (docs/json-schema/); bumped on an incompatible change. */
export const JSON_FORMAT_VERSION = 1;

export type JsonCommand = 'install' | 'verify' | 'status';

/** Bad input (exit 2) under --json: a document too, so a CI parser never meets plain text on stdout. */
export function inputErrorDocument(command: JsonCommand, message: string): string {
  return JSON.stringify({ formatVersion: JSON_FORMAT_VERSION, command, error: { kind: 'input', message } }, null, 2);
}

/** verify-broker.mts --json: the report with the family's header. */
export function verifyJsonDocument(report: VerifyReport): { formatVersion: number; command: 'verify' } & VerifyReport {
  return { formatVersion: JSON_FORMAT_VERSION, command: 'verify', ...report };
}

export function buildReport(runId: string, checks: VerifyCheck[]): VerifyReport {
  return { passed: checks.every((check) => check.status !== 'fail'), runId, checks };
}

const labels: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP' };

/** Rounds for people: whole numbers stay whole, rates keep at most one decimal. */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : (Math.round(value * 10) / 10).toString();
}

/** The text output's human labels for the figures' JSON keys; a key without one prints as it is. */
export const figureLabels: Record<string, string> = {
  connectMs: 'connect ms',
  roundTripMs: 'round trip ms',
  receivedDistinct: 'received distinct',
  keptBeforeRestart: 'kept before restart',
  publishPerSecond: 'publish msg/s',
  drainPerSecond: 'drain msg/s',
  wallMs: 'wall ms',
  restartMs: 'restart ms',
  sessionsCleaned: 'sessions cleaned',
  newIdReceived: 'new id received',
  fixedIdReceived: 'fixed id received',
  inCluster: 'in cluster',
  notChecked: 'not checked',
};

export function formatFigures(figures: Record<string, number> | undefined): string {
  if (!figures) return '';
  const parts = Object.entries(figures).map(([key, value]) => `${figureLabels[key] ?? key}=${formatFigure(value)}`);
  return parts.length === 0 ? '' : ` [${parts.join(', ')}]`;
}

/** One line per check, e.g. `FAIL  offline retention: received 1000 of 5000 … [published=5000, …]`. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = report.checks.map(
    (check) => `${labels[check.status].padEnd(4)}  ${check.name}: ${check.detail}${formatFigures(check.figures)}`,
  );
  const failed = report.checks.filter((check) => check.status === 'fail').length;
  const warned = report.checks.filter((check) => check.status === 'warn').length;
  lines.push(
    report.passed
      ? `verify ${report.runId}: passed (${report.checks.length} checks${warned > 0 ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''})`
      : `verify ${report.runId}: FAILED (${failed} of ${report.checks.length} checks failed)`,
  );
  return lines.join('\n');
}
