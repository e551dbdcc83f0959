import { createHash } from 'node:crypto';
import type { HostFacts } from '../../facts/host-facts.ts';
import type { ManagedFile } from '../../operations/managed-file.ts';
import { extraRepositoryStep, packagesPresentStep, type WantedPackage } from '../../operations/packages.ts';
import { change, noChange, type Command, type Step } from '../../operations/step.ts';
import type { OsFamily } from '../../os/os-family.ts';
import type { Settings } from '../../settings/load.ts';
import { emqxRestoreUpgradeBackupCommand, emqxUpgradeBackupCommand } from './backup.ts';
import { emqxLayout as layout } from './layout.ts';
import { chooseEmqxPackage, type EmqxPackage } from './package-source.ts';
import { isInstalledVersion } from './version.ts';

/**
 * The EMQX package on a host: EPEL and prerequisites, the official package downloaded (or the
 * --package file uploaded), the upgrade backup and the way back to the previous release, and the
 * owners and modes the .deb's postinst resets.
 */

/** The steps up to and including the package, and what the restart's rollback needs of them. */
export function emqxPackageSteps(
  os: OsFamily,
  facts: HostFacts,
  settings: Settings,
  emqxPackage: EmqxPackage,
  packageContent: Buffer | undefined,
): { steps: Step[]; packageStep: Step; downgrade: { reason: string; commands: Command[] } | null } {
  const el7 = os.releaseTag(facts) === 'el7';
  const steps: Step[] = [];
  // CentOS 7's EMQX needs openssl11 (rpm Requires), which EPEL has.
  if (el7) steps.push(facts.packages.openssl11 ? noChange('repository', 'repository:epel', 'repository epel', 'openssl11 already installed') : extraRepositoryStep(os, facts, 'epel'));
  steps.push(prerequisitesStep(os, facts, el7));
  const packageStep = emqxPackageStep(os, facts, emqxPackage, packageContent);
  // A package change on an installed node keeps its data: back up first; if the new package does
  // not install or the node does not start on it, the old package and the backed-up data go back.
  const downgrade = packageStep.change ? upgradeRollback(os, facts, settings) : null;
  if (downgrade) {
    steps.push(change('backup', `backup:${layout.service}`, `back up ${layout.service} before the package change`, downgrade.reason, [emqxUpgradeBackupCommand()]));
    steps.push({
      ...packageStep,
      rollback: [...downgrade.commands, { argv: ['systemctl', 'restart', layout.service] }],
      diagnostics: [{ argv: ['journalctl', '-u', layout.service, '-n', '20', '--no-pager', '-o', 'cat'] }],
    });
  } else steps.push(packageStep);
  return { steps, packageStep, downgrade };
}

/**
 * The .deb's postinst (deploy/packages/deb/debian/postinst, v5.7.2–v5.8.8) runs `chown -R
 * emqx:emqx /etc/emqx` and `chmod 0644 /etc/emqx/*` on every install and upgrade: emqx.conf (the
 * cookie), the users state and the TLS key would stay readable until the next run. Their owners and
 * modes are put back right after the package, in the same run, for the files that already exist
 * (a file this run writes gets them from its write). rpm's %post leaves /etc/emqx alone.
 */
export function postinstModesStep(facts: HostFacts, files: ManagedFile[]): Step | null {
  const commands: Command[] = [];
  if (facts.directories[layout.tlsDir] && files.some((file) => file.path.startsWith(`${layout.tlsDir}/`))) {
    commands.push({ argv: ['chown', `root:${layout.user}`, layout.tlsDir] }, { argv: ['chmod', '0750', layout.tlsDir] });
  }
  for (const file of files) {
    if (!facts.files[file.path]) continue;
    commands.push({ argv: ['chown', `${file.owner}:${file.group}`, file.path] }, { argv: ['chmod', file.mode, file.path] });
  }
  if (commands.length === 0) return null;
  return change('file-attributes', `package-postinst:${layout.packageName}`, 'owners and modes after the package', "the package's postinst chowns and chmods /etc/emqx", commands);
}

/**
 * The way back from a package change: the previous release's official package (downloaded again:
 * the file that installed it was removed after installing), then the data directory of the
 * upgrade backup. Null for a fresh install, or when EMQX publishes no package of the previous
 * version for this host (then there is no way back to plan, and no backup is taken either: the
 * reason says so in the package step's own failure).
 */
function upgradeRollback(os: OsFamily, facts: HostFacts, settings: Settings): { reason: string; commands: Command[] } | null {
  const installed = facts.packages[layout.packageName] ?? null;
  const previous = installed === null ? null : /^(\d+\.\d+\.\d+)/.exec(installed)?.[1];
  if (!previous) return null;
  let old: EmqxPackage;
  try {
    old = chooseEmqxPackage(os, facts, { ...settings, version: previous, emqx: { ...settings.emqx, package: undefined } });
  } catch {
    return null;
  }
  if (old.source.kind !== 'download') return null;
  return {
    reason: `${layout.packageName} ${installed} → ${chooseEmqxPackage(os, facts, settings).version}`,
    commands: [downloadCommand(old.hostPath, old.source.url), ...os.installLocalPackage(old.hostPath, facts), { argv: ['rm', '-f', old.hostPath] }, emqxRestoreUpgradeBackupCommand()],
  };
}

/**
 * curl (downloads and every REST call) is checked as a command, not a package: EL9 ships it as
 * curl-minimal, and installing `curl` over that conflicts.
 */
function prerequisitesStep(os: OsFamily, facts: HostFacts, el7: boolean): Step {
  const missing: WantedPackage[] = [
    ...(facts.commands.includes('curl') ? [] : [{ name: 'curl', version: '' }]),
    ...(el7 && !facts.packages.openssl11 ? [{ name: 'openssl11', version: '' }] : []),
  ];
  const title = `prerequisites curl${el7 ? ', openssl11' : ''}`;
  if (missing.length === 0) return noChange('package', 'prerequisites', title, 'present');
  return { ...packagesPresentStep(os, facts, missing), id: 'prerequisites', title };
}

/** Download (or upload) into a root-owned cache directory, install with the OS package manager, remove the file. */
function emqxPackageStep(os: OsFamily, facts: HostFacts, emqxPackage: EmqxPackage, uploaded: Buffer | undefined): Step {
  const id = `package:${layout.packageName}`;
  const title = `package ${layout.packageName} ${emqxPackage.version}`;
  const installed = facts.packages[layout.packageName] ?? null;
  if (isInstalledVersion(installed, emqxPackage.version)) return noChange('package', id, title, `installed (${installed})`);
  const reason = [installed === null ? 'not installed' : `${installed} → ${emqxPackage.version}`, ...(emqxPackage.note ? [emqxPackage.note] : [])].join('; ');
  const fetch = emqxPackage.source.kind === 'download' ? downloadCommand(emqxPackage.hostPath, emqxPackage.source.url) : uploadCommand(emqxPackage.hostPath, uploadedContent(emqxPackage.source.localPath, uploaded));
  return change('package', id, title, reason, [fetch, ...os.installLocalPackage(emqxPackage.hostPath, facts), { argv: ['rm', '-f', emqxPackage.hostPath] }]);
}

function uploadedContent(localPath: string, uploaded: Buffer | undefined): Buffer {
  if (uploaded === undefined) throw new Error(`--package ${localPath} was not read by the prepare phase`);
  return uploaded;
}

/** Shared by download and upload: a temp file beside the target, renamed into place only when complete. */
const cacheScriptHead = 'set -e; umask 022; mkdir -p "${1%/*}"; tmp="$1.mqtt-provision.$$.tmp"; trap \'rm -f "$tmp"\' EXIT; ';

export function downloadCommand(hostPath: string, url: string): Command {
  return { argv: ['sh', '-c', `${cacheScriptHead}curl -fsSL --retry 3 -o "$tmp" "$2"; mv -f "$tmp" "$1"`, 'mqtt-provision-download', hostPath, url] };
}

/** The package travels base64-encoded on stdin and is checked against its SHA-256 before it is used. */
export function uploadCommand(hostPath: string, content: Buffer): Command {
  const digest = createHash('sha256').update(content).digest('hex');
  return {
    argv: ['sh', '-c', `${cacheScriptHead}base64 -d > "$tmp"; printf '%s  %s\\n' "$2" "$tmp" | sha256sum -c --quiet -; mv -f "$tmp" "$1"`, 'mqtt-provision-upload', hostPath, digest],
    stdin: content.toString('base64'),
  };
}

