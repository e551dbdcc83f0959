import { atomicWrite, sha256 } from './files.ts';
import type { ManagedFile } from './managed-file.ts';
import { change, noChange, type Command, type Step } from './step.ts';

/**
 * Kernel settings in /etc/sysctl.d, applied now with `sysctl -p <file>` and at boot by
 * systemd-sysctl. Every setting is a floor ("at least"): a host already set higher is left alone,
 * never lowered. A host may refuse a key (a Docker container mounts /proc/sys read-only; some keys
 * do not exist in a network namespace): that is reported per key, never a failed run.
 */
export interface SysctlSetting {
  key: string;
  /** One number, or several separated by spaces (net.ipv4.ip_local_port_range = "1024 65535"). */
  value: string;
}

/** What the host has now, per key: its value and whether /proc/sys lets root write it. */
export type SysctlFacts = Record<string, { value: string; writable: boolean } | null>;

export const SYSCTL_FILE = '/etc/sysctl.d/60-mqtt-provision.conf';

const KEY = /^[a-z0-9_]+(\.[a-z0-9_-]+)+$/;
const VALUE = /^\d+( \d+)*$/;

export function checkSetting(s: SysctlSetting): void {
  if (!KEY.test(s.key)) throw new Error(`sysctl key ${JSON.stringify(s.key)}: dotted lowercase names only`);
  if (!VALUE.test(s.value)) throw new Error(`sysctl ${s.key}: a number or numbers separated by single spaces, got ${JSON.stringify(s.value)}`);
}

function numbers(value: string): number[] {
  return value.trim().split(/\s+/).map(Number);
}

/**
 * True when the host's value already satisfies the floor. A two-number range (ip_local_port_range)
 * is satisfied when it is at least as wide: its low end no higher, its high end no lower.
 */
export function satisfies(current: string, wanted: string): boolean {
  const c = numbers(current);
  const w = numbers(wanted);
  if (w.length === 2 && c.length === 2) return c[0]! <= w[0]! && c[1]! >= w[1]!;
  return c.length === w.length && c.every((n, i) => n >= w[i]!);
}

/** A key in the file: absent keys are left out (systemd-sysctl would warn at every boot). */
export type KeyPlan =
  | { key: string; state: 'apply'; from: string; to: string }
  | { key: string; state: 'meets'; value: string }
  | { key: string; state: 'higher'; value: string; wanted: string }
  | { key: string; state: 'refused'; value: string; wanted: string; reason: string }
  | { key: string; state: 'absent'; wanted: string };

/**
 * Per key, from facts: already equal (ours, stays in the file), higher on the host (left out, so
 * we never pin someone else's value), lower and writable (applied), lower and read-only (refused,
 * stays in the file so a host that allows it later gets it), or absent in this kernel/namespace.
 * The file's content depends only on these verdicts, so a second run writes nothing.
 */
export function planKeys(settings: SysctlSetting[], facts: SysctlFacts): KeyPlan[] {
  return settings.map((s) => {
    checkSetting(s);
    const f = facts[s.key];
    if (!f) return { key: s.key, state: 'absent', wanted: s.value };
    const norm = numbers(f.value).join(' ');
    if (norm === s.value) return { key: s.key, state: 'meets', value: norm };
    if (satisfies(norm, s.value)) return { key: s.key, state: 'higher', value: norm, wanted: s.value };
    if (!f.writable) return { key: s.key, state: 'refused', value: norm, wanted: s.value, reason: '/proc/sys is read-only here (a container?)' };
    return { key: s.key, state: 'apply', from: norm, to: s.value };
  });
}

export function renderSysctlConf(plans: KeyPlan[], reasons: Record<string, string> = {}): string {
  const lines = ['# Managed by mqtt-provision: changes here are overwritten on the next run.', '# Each value is a floor: a host already set higher is left out of this file.'];
  for (const p of plans) {
    if (p.state === 'absent' || p.state === 'higher') continue;
    const value = p.state === 'apply' ? p.to : p.state === 'meets' ? p.value : p.wanted;
    if (reasons[p.key]) lines.push(`# ${reasons[p.key]}`);
    lines.push(`${p.key} = ${value}`);
  }
  return `${lines.join('\n')}\n`;
}

export function sysctlFile(content: string): ManagedFile {
  return { path: SYSCTL_FILE, content, mode: '0644', owner: 'root', group: 'root', apply: 'restart' };
}

/**
 * `sysctl -p` goes on past a refused key and exits 1; we want each key's outcome reported, not a
 * failed step, so the exit status is dropped and stderr joined to stdout for parseSysctlApply.
 */
export function applySysctlCommand(file = SYSCTL_FILE): Command {
  return { argv: ['sh', '-c', 'sysctl -p "$1" 2>&1; exit 0', 'mqtt-provision-sysctl', file] };
}

/** Prints `key<TAB>w|r<TAB>value` or `key<TAB>absent` per key, for parseSysctlProbe. */
export function probeSysctlCommand(keys: string[]): Command {
  keys.forEach((key) => checkSetting({ key, value: '0' }));
  const script = 'for k in "$@"; do f=/proc/sys/$(printf %s "$k" | tr . /); ' +
    'if [ -e "$f" ]; then w=r; [ -w "$f" ] && w=w; printf "%s\\t%s\\t%s\\n" "$k" "$w" "$(cat "$f")"; ' +
    'else printf "%s\\tabsent\\n" "$k"; fi; done';
  return { argv: ['sh', '-c', script, 'mqtt-provision-sysctl-probe', ...keys] };
}

export function parseSysctlProbe(text: string): SysctlFacts {
  const facts: SysctlFacts = {};
  for (const line of text.split('\n')) {
    const [key, mode, ...rest] = line.split('\t');
    if (!key || !mode) continue;
    facts[key] = mode === 'absent' ? null : { value: rest.join('\t').trim().replace(/\s+/g, ' '), writable: mode === 'w' };
  }
  return facts;
}

export type KeyOutcome = { key: string; outcome: 'applied'; value: string } | { key: string; outcome: 'refused'; reason: string };

/**
 * Reads `sysctl -p` output (procps-ng 4, Debian 12): an applied key echoes `key = value`; a refused
 * one says `permission denied on key "k"`, `setting key "k": <error>` or `cannot stat /proc/sys/…`.
 */
export function parseSysctlApply(output: string): KeyOutcome[] {
  const out: KeyOutcome[] = [];
  for (const line of output.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^sysctl: permission denied on key "([^"]+)"/.exec(line))) out.push({ key: m[1]!, outcome: 'refused', reason: 'permission denied' });
    else if ((m = /^sysctl: setting key "([^"]+)": (.+)$/.exec(line))) out.push({ key: m[1]!, outcome: 'refused', reason: m[2]! });
    else if ((m = /^sysctl: cannot stat \/proc\/sys\/(\S+?):\s*(.+)$/.exec(line))) out.push({ key: m[1]!.replace(/\//g, '.'), outcome: 'refused', reason: m[2]! });
    else if ((m = /^([a-z0-9_.-]+) = (.*)$/.exec(line))) out.push({ key: m[1]!, outcome: 'applied', value: m[2]!.replace(/\s+/g, ' ') });
  }
  return out;
}

export interface SysctlPlan {
  steps: Step[];
  keys: KeyPlan[];
  /** Lines for the run's report: keys the host refused or does not have (warnings, not failures). */
  warnings: string[];
}

/**
 * The file step (written whenever its content differs) and the apply step (run when the file
 * changed or a writable key is below its floor). `currentFile` is the host's copy, null when absent.
 */
export function planSysctl(settings: SysctlSetting[], facts: SysctlFacts, currentFile: string | null, reasons: Record<string, string> = {}): SysctlPlan {
  const keys = planKeys(settings, facts);
  const file = sysctlFile(renderSysctlConf(keys, reasons));
  // No key for the file (every one higher on the host, or absent) and no file yet: a file of comments only would say nothing.
  const nothingToWrite = currentFile === null && keys.every((k) => k.state === 'higher' || k.state === 'absent');
  const fileChanged = !nothingToWrite && (currentFile === null || sha256(currentFile) !== sha256(file.content));
  const toApply = keys.filter((k) => k.state === 'apply');
  const steps: Step[] = [
    fileChanged
      ? change('file', `sysctl:file`, `file ${SYSCTL_FILE}`, currentFile === null ? 'absent' : 'content differs', [atomicWrite(file)])
      : noChange('file', 'sysctl:file', `file ${SYSCTL_FILE}`, nothingToWrite ? 'no key below its floor on this host' : 'up to date'),
    toApply.length > 0 || (fileChanged && keys.some((k) => k.state === 'meets' || k.state === 'refused'))
      ? change('kernel', 'sysctl:apply', `sysctl -p ${SYSCTL_FILE}`, toApply.length ? toApply.map((k) => `${k.key} ${k.from} → ${k.to}`).join(', ') : 'file changed', [applySysctlCommand()])
      : noChange('kernel', 'sysctl:apply', `sysctl -p ${SYSCTL_FILE}`, 'every key at or above its floor, or refused by this host'),
  ];
  const warnings = keys.flatMap((k) =>
    k.state === 'refused' ? [`sysctl ${k.key}: host has ${k.value}, wanted at least ${k.wanted}; not applied: ${k.reason}`]
      : k.state === 'absent' ? [`sysctl ${k.key}: not present on this host (kernel or network namespace); left out`]
        : []);
  return { steps, keys, warnings };
}
