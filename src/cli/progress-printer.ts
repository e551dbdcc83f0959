import { countSteps, type HostReport, type StepResult } from '../engine/report.ts';

const labels: Record<StepResult['status'], string> = { ok: 'ok', changed: 'changed', failed: 'FAILED', skipped: 'skipped' };

/** One line per finished step, as it happens, so a long apt install does not look like a hang. */
export function formatStepLine(host: string, result: StepResult, dryRun: boolean): string {
  const status = dryRun && result.status === 'changed' ? 'would change' : labels[result.status];
  const seconds = result.durationMs >= 100 ? `  ${(result.durationMs / 1000).toFixed(1)}s` : '';
  let line = `[${host}] ${status.padEnd(12)} ${result.title} (${result.reason})${seconds}`;
  if (result.error) line += `\n${indent(result.error)}`;
  if (dryRun && result.diff) line += `\n${indent(result.diff.trimEnd())}`;
  return line;
}

export function formatRecap(reports: HostReport[]): string {
  const width = Math.max(...reports.map((report) => report.host.length), 4);
  const lines = ['', 'RECAP'];
  for (const report of reports) {
    const counts = countSteps(report);
    lines.push(
      `${report.host.padEnd(width)}  ok=${counts.ok} changed=${counts.changed} failed=${counts.failed} skipped=${counts.skipped}` +
        `  ${(report.durationMs / 1000).toFixed(2)}s${report.dryRun ? '  (dry run)' : ''}`,
    );
    if (report.status === 'failed' && report.error && report.steps.every((step) => step.status !== 'failed')) {
      lines.push(indent(report.error));
    }
  }
  return lines.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
