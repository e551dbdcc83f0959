import type { Command, Step } from '../operations/step.ts';
import { ConnectionError, type Transport } from '../transport/transport.ts';
import type { StepResult } from './report.ts';

export interface ApplyOptions {
  dryRun?: boolean;
  /** Called as each step finishes, for live progress. */
  onStep?: (result: StepResult) => void;
}

export class CommandFailed extends Error {
  constructor(command: Command, code: number, output: string) {
    super(`\`${command.argv.slice(0, 3).join(' ')}\` exited ${code}${output ? `: ${output}` : ''}`);
    this.name = 'CommandFailed';
  }
}

async function run(transport: Transport, command: Command): Promise<string> {
  const result = await transport.exec(command.argv, command.stdin === undefined ? {} : { stdin: command.stdin });
  if (result.code !== 0) throw new CommandFailed(command, result.code, (result.stderr || result.stdout).trim());
  return result.stdout;
}

/**
 * Applies only the steps that change something, in order. A failing step runs its rollback and
 * diagnostics, and every later step is skipped: the host is left as the rollback made it.
 */
export async function applyPlan(transport: Transport, steps: Step[], options: ApplyOptions = {}): Promise<StepResult[]> {
  const results: StepResult[] = [];
  let failed = false;
  for (const step of steps) {
    const started = performance.now();
    const base = { kind: step.kind, id: step.id, title: step.title, reason: step.reason, ...(step.diff ? { diff: step.diff } : {}) };
    let result: StepResult;
    if (failed) {
      result = { ...base, status: 'skipped', durationMs: 0 };
    } else if (!step.change) {
      result = { ...base, status: 'ok', durationMs: 0 };
    } else if (options.dryRun) {
      result = { ...base, status: 'changed', durationMs: 0 };
    } else {
      try {
        for (const command of step.commands) await run(transport, command);
        result = { ...base, status: 'changed', durationMs: Math.round(performance.now() - started) };
      } catch (error) {
        failed = true;
        const message = await explainFailure(transport, step, error);
        result = { ...base, status: 'failed', error: message, durationMs: Math.round(performance.now() - started) };
      }
    }
    results.push(result);
    options.onStep?.(result);
  }
  return results;
}

async function explainFailure(transport: Transport, step: Step, error: unknown): Promise<string> {
  let message = error instanceof Error ? error.message : String(error);
  // A lost connection has no diagnostics or rollback to run: nothing more can reach the host.
  if (error instanceof ConnectionError) return message;
  for (const command of step.diagnostics ?? []) {
    try {
      const result = await transport.exec(command.argv);
      const text = (result.stdout + result.stderr).trim();
      // A script is named by its $0, not printed whole.
      const name = command.argv[0] === 'sh' && command.argv[1] === '-c' ? (command.argv[3] ?? 'sh') : command.argv.join(' ');
      if (text) message += `\n${name}:\n${text}`;
    } catch {
      // Diagnostics are a courtesy, read before the rollback so they show the failing start; the failure itself is already reported.
    }
  }
  if (step.rollback) {
    try {
      for (const command of step.rollback) await run(transport, command);
      message += '\nrolled back: the previous files are restored and the service restarted on them';
    } catch (rollbackError) {
      message += `\nrollback failed too: ${(rollbackError as Error).message}`;
    }
  }
  return message;
}
