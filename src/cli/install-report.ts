import type { HostReport } from '../engine/report.ts';
import type { Settings } from '../settings/load.ts';
import { interruptExitCodes, withInterrupts } from '../verify/interrupts.ts';
import type { VerifyReport } from '../verify/verify-report.ts';
import type { InstallEnvironment } from './install-command.ts';
import { installJsonDocument } from './install-json.ts';
import type { InstallOptions } from './install-options.ts';
import { formatRecap } from './progress-printer.ts';

/**
 * What a converge left behind, from SSH hosts or from one container, in the one shape the rest of
 * the run (verify, recap or JSON, exit code) reads: so both kinds of target end the same way.
 */
export interface ConvergedRun {
  reports: HostReport[];
  /** Checks the broker behind `reports[index]`; resolves false when it failed a check. */
  verify: (index: number, print: (line: string) => void, mayRestart: boolean, signal: AbortSignal, onReport: (report: VerifyReport) => void) => Promise<boolean>;
}

/** Verifies what converged (unless --no-verify or a dry run), prints the recap or the JSON document, and returns the exit code. */
export async function finishInstall(broker: Settings['broker'], settings: Settings, options: InstallOptions, run: ConvergedRun, environment: InstallEnvironment): Promise<number> {
  const { reports } = run;
  let verified = true;
  let stoppedBy: NodeJS.Signals | undefined;
  const verifyReports = new Map<HostReport, VerifyReport>();
  if (options.verify && !options.dryRun && settings.state === 'present' && environment.verify) {
    ({ stoppedBy } = await withInterrupts(environment.onInterrupt, async (signal) => {
      for (const [index, report] of reports.entries()) {
        // With --json, stdout carries only the JSON document (which holds the structured report); the text goes to stderr.
        const print = options.json ? environment.printError : environment.print;
        if (report.status === 'failed' || signal.aborted) continue;
        const started = performance.now();
        // A no-op run must not restart a production broker just to prove restart survival.
        const passed = await run.verify(index, print, report.status === 'changed', signal, (found) => verifyReports.set(report, found));
        if (!passed) markVerifyFailed(report, performance.now() - started);
        verified = passed && verified;
      }
    }));
  }
  if (options.json) environment.print(JSON.stringify(installJsonDocument(broker, options.dryRun, reports, verifyReports, checkSummary(options, reports)), null, 2));
  else environment.print(formatRecap(reports) + checkLine(options, reports));
  if (stoppedBy !== undefined) return interruptExitCodes[stoppedBy] ?? 1;
  return exitCode(options, reports, verified);
}

/**
 * 1 when a host failed (or did not verify): a drift check that could not look at a host must not
 * pass; 3 when --check found something that would change; else 0.
 */
export function exitCode(options: Pick<InstallOptions, 'check'>, reports: HostReport[], verified: boolean): number {
  if (reports.some((report) => report.status === 'failed') || !verified) return 1;
  if (options.check && reports.some((report) => report.status === 'changed')) return 3;
  return 0;
}

/** --check --json: which steps would change, per host. */
function checkSummary(options: InstallOptions, reports: HostReport[]): { inSync: boolean; drift: Record<string, string[]> } | undefined {
  if (!options.check) return undefined;
  const drift: Record<string, string[]> = {};
  for (const report of reports) {
    const steps = report.steps.filter((step) => step.status === 'changed').map((step) => step.id);
    if (steps.length > 0) drift[report.host] = steps;
  }
  return { inSync: Object.keys(drift).length === 0 && reports.every((report) => report.status !== 'failed'), drift };
}

function checkLine(options: InstallOptions, reports: HostReport[]): string {
  if (!options.check) return '';
  const drifted = reports.filter((report) => report.status === 'changed').map((report) => report.host);
  if (reports.some((report) => report.status === 'failed')) return '\n\ncheck: could not check every host (exit 1)';
  return drifted.length === 0 ? '\n\ncheck: in sync' : `\n\ncheck: drift on ${drifted.join(', ')} (exit 3)`;
}

/**
 * A broker that failed its verification is a failed host: the recap counts it (never `failed=0`)
 * and --json shows it as a failed step, so no reader of either can take the run for a success.
 */
function markVerifyFailed(report: HostReport, durationMs: number): void {
  report.steps.push({ id: 'verify', title: 'verify broker', status: 'failed', reason: 'checks after converging', error: 'the broker failed its verification (see the FAIL lines above, or this host\'s "verify" in --json)', durationMs: Math.round(durationMs) });
  report.status = 'failed';
  report.error ??= 'the broker failed its verification';
}
