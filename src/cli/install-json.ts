/**
 * The one --json document of install-*.mts (docs/json-schema/install.json): same header as verify
 * and status ({formatVersion, command}), summary counts a CI job can test without walking the
 * hosts, and each host's verify report beside its steps.
 */
import { countSteps, type HostReport, type StepStatus } from '../engine/report.ts';
import { JSON_FORMAT_VERSION, type VerifyReport } from '../verify/verify-report.ts';

export { inputErrorDocument } from '../verify/verify-report.ts';

export interface InstallJsonDocument {
  formatVersion: number;
  command: 'install';
  broker: string;
  dryRun: boolean;
  check?: { inSync: boolean; drift: Record<string, string[]> };
  summary: { hosts: { total: number; ok: number; changed: number; failed: number }; steps: Record<StepStatus, number> };
  hosts: Array<HostReport & { verify?: VerifyReport }>;
}

export function installJsonDocument(
  broker: string,
  dryRun: boolean,
  reports: HostReport[],
  verifyReports: ReadonlyMap<HostReport, VerifyReport>,
  check: InstallJsonDocument['check'] | undefined,
): InstallJsonDocument {
  const hosts = { total: reports.length, ok: 0, changed: 0, failed: 0 };
  const steps: Record<StepStatus, number> = { ok: 0, changed: 0, failed: 0, skipped: 0 };
  for (const report of reports) {
    hosts[report.status]++;
    for (const [status, count] of Object.entries(countSteps(report)) as Array<[StepStatus, number]>) steps[status] += count;
  }
  return {
    formatVersion: JSON_FORMAT_VERSION,
    command: 'install',
    broker,
    dryRun,
    ...(check ? { check } : {}),
    summary: { hosts, steps },
    hosts: reports.map((report) => {
      const verify = verifyReports.get(report);
      return verify ? { ...report, verify } : report;
    }),
  };
}
