import type { Command } from '../transport/command.ts';

export type { Command };

/**
 * One operation of a plan. `change: false` is an explicit no-op with the reason it is not needed;
 * the engine runs `commands` only for changes and reports each step as ok / changed / failed.
 */
export interface Step {
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

export function noChange(id: string, title: string, reason: string): Step {
  return { id, title, change: false, reason, commands: [] };
}

export function change(id: string, title: string, reason: string, commands: Command[], extra: Partial<Step> = {}): Step {
  return { id, title, change: true, reason, commands, ...extra };
}
