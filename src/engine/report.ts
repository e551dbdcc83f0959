import type { StepKind } from '../operations/step.ts';

/** Results as the front doors print them and `--json` emits them. */
export type StepStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface StepResult {
  /** What the step did (a file, a package, a restart, the controller's CA …), from its planned Step. */
  kind?: StepKind;
  id: string;
  title: string;
  status: StepStatus;
  reason: string;
  diff?: string;
  error?: string;
  durationMs: number;
}

export interface HostReport {
  host: string;
  status: 'ok' | 'changed' | 'failed';
  dryRun: boolean;
  steps: StepResult[];
  error?: string;
  durationMs: number;
}

export function countSteps(report: HostReport): Record<StepStatus, number> {
  const counts: Record<StepStatus, number> = { ok: 0, changed: 0, failed: 0, skipped: 0 };
  for (const step of report.steps) counts[step.status]++;
  return counts;
}
