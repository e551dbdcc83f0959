// The bench's figures: the shape of bench/results/latest.json, medians, the Markdown table and the
// per-phase breakdown of a cold run. Pure functions, so the docs can be regenerated from a saved run.
import type { Timed } from './process.mts';

export interface Measure { ms: number; maxRssKb: number; treeRssKb: number }
export interface Series { runsMs: number[]; medianMs: number; maxRssKb: number; treeRssKb: number }
export interface ToolResult { cold: Measure; noop: Series }

/** One phase of our cold converge, over all hosts of one K: from the install's --json report. */
export interface Phase { phase: string; medianMs: number; maxMs: number }

export interface KResult {
  hosts: number;
  ours: ToolResult;
  /** Absent when Ansible was not run at this K (see `ansibleSkipped`). */
  ansible?: ToolResult;
  ansibleSkipped?: string;
  ratios?: { cold: number; noop: number; maxRss: number; treeRss: number };
  state?: { ours: string; ansible?: string };
  /** Lab start of the K hosts for our tool (not part of any figure above). */
  labStartMs?: number;
  /** Where a cold converge's time goes (ours). */
  coldPhases?: Phase[];
  /** Load average (1 min) when this K started: the machine is shared. */
  load?: number;
}

export interface BenchRun {
  date: string;
  machine: { cpus: number; cpuModel?: string; memGb: number; node: string; platform: string };
  noopRuns: number;
  ansibleVersion: string;
  results: KResult[];
  startup?: Record<string, Series>;
  fidelity?: Record<string, string>;
  complete: boolean;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
export const round2 = (x: number): number => Math.round(x * 100) / 100;
export const measure = (t: Timed): Measure => ({ ms: Math.round(t.ms), maxRssKb: t.maxRssKb, treeRssKb: t.treeRssKb });
export const series = (ts: Timed[]): Series => ({
  runsMs: ts.map((t) => Math.round(t.ms)),
  medianMs: Math.round(median(ts.map((t) => t.ms))),
  maxRssKb: Math.max(...ts.map((t) => t.maxRssKb)),
  treeRssKb: Math.max(...ts.map((t) => t.treeRssKb)),
});

export function ratios(ours: ToolResult, ansible: ToolResult): NonNullable<KResult['ratios']> {
  return {
    cold: round2(ansible.cold.ms / ours.cold.ms),
    noop: round2(ansible.noop.medianMs / ours.noop.medianMs),
    maxRss: round2(Math.max(ansible.cold.maxRssKb, ansible.noop.maxRssKb) / Math.max(ours.cold.maxRssKb, ours.noop.maxRssKb)),
    treeRss: round2(Math.max(ansible.cold.treeRssKb, ansible.noop.treeRssKb) / Math.max(ours.cold.treeRssKb, ours.noop.treeRssKb)),
  };
}

interface JsonReport { hosts: { durationMs?: number; steps: { id: string; title?: string; durationMs?: number }[] }[] }

/**
 * Groups a cold run's steps into phases, per host, then takes the median and max over hosts.
 * "connect, lock, facts, plan" is what a host's time holds besides its steps; "controller" is the
 * wall time besides the slowest host (process start, module loading, settings, report).
 */
export function coldPhases(report: JsonReport, wallMs: number): Phase[] {
  const phaseOf = (id: string): string => {
    const kind = id.split(':')[0]!;
    if (kind === 'packages' || kind === 'package') return 'packages';
    if (kind === 'file' || kind === 'dir' || kind === 'directory') return 'files';
    if (kind === 'restart' || kind === 'service') return 'restart and service';
    return 'other steps';
  };
  const perHost = report.hosts.map((h) => {
    const sums = new Map<string, number>();
    let stepsMs = 0;
    for (const s of h.steps) {
      const ms = s.durationMs ?? 0;
      stepsMs += ms;
      sums.set(phaseOf(s.id), (sums.get(phaseOf(s.id)) ?? 0) + ms);
    }
    sums.set('connect, lock, facts, plan', Math.max(0, (h.durationMs ?? 0) - stepsMs));
    return sums;
  });
  const slowest = Math.max(0, ...report.hosts.map((h) => h.durationMs ?? 0));
  const order = ['controller (start, modules, report)', 'connect, lock, facts, plan', 'packages', 'files', 'restart and service', 'other steps'];
  const phases: Phase[] = [{ phase: order[0]!, medianMs: Math.round(wallMs - slowest), maxMs: Math.round(wallMs - slowest) }];
  for (const name of order.slice(1)) {
    const xs = perHost.map((m) => m.get(name) ?? 0);
    if (xs.every((x) => x === 0)) continue;
    phases.push({ phase: name, medianMs: Math.round(median(xs)), maxMs: Math.round(Math.max(...xs)) });
  }
  return phases;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mb = (kb: number): string => `${Math.round(kb / 1024)} MB`;
const peak = (t: ToolResult, k: 'maxRssKb' | 'treeRssKb'): number => Math.max(t.cold[k], t.noop[k]);

/** The results table, the startup table and the cold-phase table, as Markdown. */
export function resultsMarkdown(run: BenchRun): string {
  const rows = [
    `Run of ${run.date.slice(0, 16).replace('T', ' ')} UTC: ${run.machine.cpus} CPUs (${run.machine.cpuModel ?? '?'}), ${run.machine.memGb} GB, Node ${run.machine.node}, ${run.ansibleVersion}; no-op = median of ${run.noopRuns}.${run.complete ? '' : ' **Incomplete run** (stopped before every K finished).'}`,
    '',
    '| hosts | load (1 min) | ours cold | Ansible cold | Ansible ÷ ours | ours no-op | Ansible no-op | Ansible ÷ ours | ours peak RSS (max proc / tree) | Ansible peak RSS (max proc / tree) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of run.results) {
    const a = r.ansible;
    const load = r.load === undefined ? '–' : r.load.toFixed(1);
    if (!a) {
      rows.push(`| ${r.hosts} | ${load} | ${s(r.ours.cold.ms)} | not run | | **${s(r.ours.noop.medianMs)}** | not run | | ${mb(peak(r.ours, 'maxRssKb'))} / ${mb(peak(r.ours, 'treeRssKb'))} | ${r.ansibleSkipped ?? ''} |`);
      continue;
    }
    const q = r.ratios ?? ratios(r.ours, a);
    rows.push(`| ${r.hosts} | ${load} | ${s(r.ours.cold.ms)} | ${s(a.cold.ms)} | ${q.cold} | **${s(r.ours.noop.medianMs)}** | ${s(a.noop.medianMs)} | ${q.noop} | `
      + `${mb(peak(r.ours, 'maxRssKb'))} / ${mb(peak(r.ours, 'treeRssKb'))} | ${mb(peak(a, 'maxRssKb'))} / ${mb(peak(a, 'treeRssKb'))} |`);
  }
  if (run.startup) {
    const label: Record<string, string> = {
      oursHelp: 'ours `--help`', oursDryRun: 'ours `--dry-run`, 1 converged host',
      ansibleHelp: '`ansible-playbook --help`', ansibleCheck: '`ansible-playbook --check`, 1 converged host',
    };
    rows.push('', '| startup (median) | wall | peak RSS |', '|---|---:|---:|');
    for (const [k, v] of Object.entries(run.startup)) rows.push(`| ${label[k] ?? k} | ${s(v.medianMs)} | ${mb(v.maxRssKb)} |`);
  }
  const withPhases = run.results.filter((r) => r.coldPhases?.length);
  const biggest = withPhases.find((r) => r.hosts === 20) ?? withPhases.at(-1);
  if (biggest) {
    const n = `${biggest.hosts} host${biggest.hosts === 1 ? '' : 's'}`;
    rows.push('', `Where our cold converge of ${n} spends its time (per host, median and max over the ${n}; from the install's --json step durations; the controller row is the wall time besides the slowest host):`, '',
      '| phase | median | max |', '|---|---:|---:|');
    for (const p of biggest.coldPhases!) rows.push(`| ${p.phase} | ${s(p.medianMs)} | ${s(p.maxMs)} |`);
  }
  return rows.join('\n');
}
