import type { Command } from '../transport/command.ts';

export type { Command };

/**
 * What a step does, said by the step itself: the engine, the planners and the front doors ask this
 * instead of searching a step's argv or id. `file` writes a file's content; `file-attributes`
 * only sets owner or mode; `marker` is the plan's own bookkeeping (a restart-pending marker), not
 * a change of the host; `api` goes through the broker's REST API; `container` is a docker call.
 */
export type StepKind =
  | 'file'
  | 'file-attributes'
  | 'directory'
  | 'package'
  | 'repository'
  | 'backup'
  | 'service'
  | 'restart'
  | 'reload'
  | 'firewall'
  | 'kernel'
  | 'api'
  | 'marker'
  | 'removal'
  | 'container'
  | 'controller'
  | 'note';

/**
 * One operation of a plan. `change: false` is an explicit no-op with the reason it is not needed;
 * the engine runs `commands` only for changes and reports each step as ok / changed / failed.
 */
export interface Step {
  kind: StepKind;
  id: string;
  title: string;
  change: boolean;
  reason: string;
  commands: Command[];
  /** Unified diff of a config file, shown by --dry-run; never present for secret files. */
  diff?: string;
  /** Run when a command of this step fails: puts the previous state back (e.g. old config + restart). */
  rollback?: Command[];
  /** Run after a failed step (and its rollback) to show the service's own error text. */
  diagnostics?: Command[];
}

export function noChange(kind: StepKind, id: string, title: string, reason: string): Step {
  return { kind, id, title, change: false, reason, commands: [] };
}

export function change(kind: StepKind, id: string, title: string, reason: string, commands: Command[], extra: Partial<Step> = {}): Step {
  return { kind, id, title, change: true, reason, commands, ...extra };
}

/** True when this step writes a file's content (not only its owner or mode). */
export function writesFile(step: Step): boolean {
  return step.change && step.kind === 'file';
}
