import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { HostFacts } from '../facts/host-facts.ts';
import { summarizeCertificates } from './certificate-summary.ts';
import type { ManagedFile } from './managed-file.ts';
import { change, noChange, type Command, type Step } from './step.ts';

// `diff` is loaded on the first file that differs (issue 20): a no-op run never needs it. require()
// keeps the planner synchronous and pure; Node caches the module after the first call.
const require = createRequire(import.meta.url);
const diffLib = (): typeof import('diff') => require('diff') as typeof import('diff');

export const backupSuffix = '.mqtt-provision.bak';

/**
 * Writes to a temp file beside the target and renames it into place, so a dropped connection or a
 * full disk never leaves a half-written config; umask 077 keeps the temp file private until chmod.
 * The shell's pid names it per run on the host (nothing drawn while planning): two runs never share it.
 */
const atomicWriteScript =
  'set -e; umask 077; tmp="$1.mqtt-provision.$$.tmp"; trap \'rm -f "$tmp"\' EXIT; ' +
  'cat > "$tmp"; chown "$2" "$tmp"; chmod "$3" "$tmp"; mv -f "$tmp" "$1"';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function atomicWrite(file: ManagedFile): Command {
  return {
    argv: ['sh', '-c', atomicWriteScript, 'mqtt-provision-write', file.path, `${file.owner}:${file.group}`, file.mode],
    stdin: file.content,
  };
}

/** Plans one managed file: content by hash first, then owner and mode. */
export function fileStep(facts: HostFacts, file: ManagedFile): Step {
  const id = `file:${file.path}`;
  const title = `file ${file.path}`;
  const current = facts.files[file.path] ?? null;
  if (current === null) {
    return change('file', id, title, 'absent', [backupFile(file.path), atomicWrite(file)], { diff: diffOf(file, '') });
  }
  if (current.sha256 !== sha256(file.content)) {
    return change('file', id, title, 'content differs', [backupFile(file.path), atomicWrite(file)], {
      diff: diffOf(file, current.content ?? '(not shown: too large)\n', heldSecret(current.mode, file.mode)),
    });
  }
  const commands: Command[] = [];
  const reasons: string[] = [];
  if (current.owner !== file.owner || current.group !== file.group) {
    commands.push({ argv: ['chown', `${file.owner}:${file.group}`, file.path] });
    reasons.push(`owner ${current.owner}:${current.group} → ${file.owner}:${file.group}`);
  }
  if (current.mode !== file.mode) {
    commands.push({ argv: ['chmod', file.mode, file.path] });
    reasons.push(`mode ${current.mode} → ${file.mode}`);
  }
  if (commands.length > 0) return change('file-attributes', id, title, reasons.join(', '), commands);
  return noChange('file', id, title, 'up to date');
}

/**
 * Backup and restore decide on the host at run time, not from facts: a package installed earlier
 * in the same run may have created the file (Debian's mosquitto ships a stock mosquitto.conf).
 */
export function backupFile(path: string): Command {
  return { argv: ['sh', '-c', 'if [ -e "$1" ]; then cp -p "$1" "$1$2"; else rm -f "$1$2"; fi', 'mqtt-provision-backup', path, backupSuffix] };
}

/** Puts back what a file step replaced: the backup, or no file when there was none. */
export function restoreFile(path: string): Command {
  return { argv: ['sh', '-c', 'if [ -e "$1$2" ]; then mv -f "$1$2" "$1"; else rm -f "$1"; fi', 'mqtt-provision-restore', path, backupSuffix] };
}

/** Puts back a backup an interrupted earlier run left behind, and leaves the file alone otherwise. */
export function restoreLeftBackup(path: string): Command {
  return { argv: ['sh', '-c', 'if [ -e "$1$2" ]; then mv -f "$1$2" "$1"; fi', 'mqtt-provision-restore-left', path, backupSuffix] };
}

export function removeBackups(paths: string[]): Command {
  return { argv: ['rm', '-f', ...paths.map((path) => path + backupSuffix)] };
}

/**
 * True when the copy on the host is private (others may not read it) though the file as wanted
 * now is not: this tool writes a file that way only while it holds a secret (an `extraConfig` with
 * a bridge password makes mosquitto.conf 0640), so its old lines must not be shown either.
 */
export function heldSecret(currentMode: string, wantedMode: string): boolean {
  const othersRead = (mode: string) => (Number.parseInt(mode, 8) & 0o004) !== 0;
  return !othersRead(currentMode) && othersRead(wantedMode);
}

/**
 * A file that holds a secret now, or held one before (`wasPrivate`), is never diffed: the diff
 * would print it. Certificates are diffed by their summary (subject, SANs, issuer, serial, expiry).
 */
function diffOf(file: ManagedFile, before: string, wasPrivate = false): string {
  if (file.secret || wasPrivate) return `--- ${file.path}\n+++ ${file.path}\n(content not shown: it holds secrets)\n`;
  return diffLib().createTwoFilesPatch(file.path, file.path, summarizeCertificates(before), summarizeCertificates(file.content), 'host', 'rendered');
}
