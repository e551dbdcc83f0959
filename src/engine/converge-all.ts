import type { Settings } from '../settings/load.ts';
import { brokerRole } from '../brokers/registry.ts';
import { templateWarmUp } from '../render/render-template.ts';
import { convergeHost, type ConvergeOptions, type HostTarget } from './converge-host.ts';
import type { HostReport } from './report.ts';

export interface FanOutOptions extends ConvergeOptions {
  /** Hosts converged at the same time. */
  concurrency?: number;
  /** Stop starting new hosts once this many have failed (like Ansible's max_fail_percentage). */
  maxFail?: number;
}

/**
 * Converges many hosts in parallel, at most `concurrency` at once. One host's failure never stops
 * the others that already started; `maxFail` only keeps new ones from starting. Hosts that form one
 * system (an EMQX static cluster, `BrokerRole.rolling`) roll instead: in order, one at a time, and
 * none starts after one failed, whatever `concurrency` and `maxFail` say.
 */
export async function convergeAll(hostTargets: HostTarget[], settings: Settings, options: FanOutOptions = {}): Promise<HostReport[]> {
  const targets = warmingUp(hostTargets, settings);
  if (brokerRole(settings.broker).rolling?.(settings)) return rollOut(targets, settings, options);
  const concurrency = Math.max(1, options.concurrency ?? 10);
  const reports: HostReport[] = new Array(targets.length);
  let next = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const index = next++;
      const target = targets[index]!;
      if (options.maxFail !== undefined && failures >= options.maxFail) {
        reports[index] = { host: target.label, status: 'failed', dryRun: options.dryRun ?? false, steps: [], error: 'not started: too many hosts failed (--max-fail)', durationMs: 0 };
        continue;
      }
      const report = await convergeHost(target, settings, options);
      if (report.status === 'failed') failures++;
      reports[index] = report;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  return reports;
}

async function rollOut(targets: HostTarget[], settings: Settings, options: FanOutOptions): Promise<HostReport[]> {
  const reports: HostReport[] = [];
  let stoppedAt: HostReport | undefined;
  for (const target of targets) {
    if (stoppedAt) {
      const error = `not started: the rolling change stopped at ${stoppedAt.host}, which failed (${(stoppedAt.error ?? 'failed').split('\n')[0]}); this host is untouched`;
      reports.push({ host: target.label, status: 'failed', dryRun: options.dryRun ?? false, steps: [], error, durationMs: 0 });
      continue;
    }
    const report = await convergeHost(target, settings, options);
    if (report.status === 'failed') stoppedAt = report;
    reports.push(report);
  }
  return reports;
}

/**
 * The same targets, whose first connection also starts compiling the role's templates. Once
 * connected, a host is asked for its lock and then its facts: round trips that leave this process
 * mostly idle for well over the ~45 ms that loading Handlebars and a first compile take, which the
 * plan would otherwise spend after the facts, on the run's critical path (issue 20). One piece per
 * turn of the event loop (setImmediate): a reply that arrives meanwhile waits for one piece at most.
 * Nothing to compile for a removal.
 */
function warmingUp(targets: HostTarget[], settings: Settings): HostTarget[] {
  if (settings.state === 'absent') return targets;
  let started = false;
  const warm = (): void => {
    if (started) return;
    started = true;
    const pieces = templateWarmUp(brokerRole(settings.broker).settings.templateNames, settings.templates);
    const next = (): void => {
      pieces.shift()?.();
      if (pieces.length > 0) setImmediate(next);
    };
    setImmediate(next);
  };
  return targets.map((target) => ({
    ...target,
    connect: async () => {
      const transport = await target.connect();
      warm();
      return transport;
    },
  }));
}
