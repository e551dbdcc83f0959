import { createHash } from 'node:crypto';
import type { FactQuery, HostFacts } from '../../facts/host-facts.ts';
import { configHandlerSteps, plannedFiles } from '../../operations/config-handler.ts';
import { fileStep, restoreFile } from '../../operations/files.ts';
import { dataPurgedStep, filesAbsentStep, serviceStoppedStep } from '../../operations/removal.ts';
import { firewallStep } from '../../operations/firewall.ts';
import type { ManagedFile } from '../../operations/managed-file.ts';
import { extraRepositoryStep, packagesAbsentStep, packagesPresentStep, type WantedPackage } from '../../operations/packages.ts';
import { pendingRestartMarker } from '../../operations/service.ts';
import { change, noChange, writesFile, type Command, type Step } from '../../operations/step.ts';
import { osFamilyOf, type OsFamily } from '../../os/os-family.ts';
import type { Settings } from '../../settings/load.ts';
import { servedPorts } from '../served-ports.ts';
import { isStaticCluster, nodesToRejoin, waitRejoinedCommand } from './cluster.ts';
import { dashboardPort, emqxConfigFile, emqxTlsLayout } from './files.ts';
import { directoryStep } from '../../operations/directories.ts';
import { chooseNodeName, cookieInConfig, servicePassword } from './identity.ts';
import type { PreparedInputs } from '../prepared.ts';
import { emqxRestoreUpgradeBackupCommand, emqxUpgradeBackupCommand } from './backup.ts';
import { emqxLayout as layout } from './layout.ts';
import { chooseEmqxPackage, type EmqxPackage } from './package-source.ts';
import type { ServiceTarget } from './rest-scripts.ts';
import { restSteps, usersStateFile } from './rest-steps.ts';
import { dashboardAdminProblems } from './settings.ts';
import { emqxFeatures, enterpriseOnlyProblem, isInstalledVersion } from './version.ts';

export function emqxFactQuery(): FactQuery {
  return {
    packages: [layout.packageName, 'openssl11'],
    files: [layout.configFile, layout.usersStateFile, pendingRestartMarker(layout.service), emqxTlsLayout.caFile, emqxTlsLayout.certFile, emqxTlsLayout.keyFile],
    directories: [layout.dataDir, layout.tlsDir],
    services: [layout.service],
  };
}

/**
 * `emqx check_config` (bin/emqx) checks base.hocon (5.8.4+), cluster.hocon and emqx.conf together,
 * and EMQX_* variables; exit 1 when EMQX would refuse them. Only emqx.conf is ours, so a failure
 * says which of the files EMQX's error names (or that it names none), then EMQX's own text.
 */
export const checkConfigCommand: Command = {
  argv: [
    'sh',
    '-c',
    'if out=$(emqx check_config 2>&1); then exit 0; fi; named=""; ' +
      'for f in "$@"; do case "$out" in *"$f"*) if [ "$f" = "$1" ]; then w="written by mqtt-provision"; else w="EMQX\'s own, not written by mqtt-provision"; fi; named="$named${named:+, }$f ($w)" ;; esac; done; ' +
      'if [ -n "$named" ]; then echo "emqx check_config failed: the error names $named" >&2; ' +
      'else echo "emqx check_config failed: the error names no file; it checks $3, $2 and $1 together" >&2; fi; ' +
      'printf \'%s\\n\' "$out" >&2; exit 1',
    'mqtt-provision-check-config',
    layout.configFile,
    layout.clusterHocon,
    layout.baseHocon,
  ],
};

/**
 * `systemctl is-active` says nothing about EMQX, whose unit is Type=simple: this waits until
 * `emqx ctl status` reports the node started (at most 120 s).
 */
export const waitStartedCommand: Command = {
  argv: [
    'sh',
    '-c',
    'i=0; while [ "$i" -lt 120 ]; do case "$(emqx ctl status 2>&1)" in *"is started"*) exit 0 ;; esac; i=$((i + 1)); sleep 1; done; ' +
      'echo "EMQX did not report started within 120 s" >&2; exit 1',
    'mqtt-provision-wait-emqx',
  ],
};

/**
 * The EMQX role as a pure function: facts + settings + what prepareEmqx read, drew and issued →
 * the steps that are needed.
 */
export function planEmqx(facts: HostFacts, settings: Settings, prepared: PreparedInputs): Step[] {
  return settings.state === 'absent' ? planAbsent(facts, settings) : planPresent(facts, settings, prepared);
}

function planPresent(facts: HostFacts, settings: Settings, prepared: PreparedInputs): Step[] {
  const problems = dashboardAdminProblems(settings.admins);
  if (problems.length > 0) throw new Error(`the admins cannot be EMQX dashboard users:\n${problems.join('\n')}`);
  const os = osFamilyOf(facts);
  const emqxPackage = chooseEmqxPackage(os, facts, settings);
  const features = emqxFeatures(emqxPackage.version);
  if (settings.emqx.durableSessions && !features.durableSessions) {
    throw new Error(`durable sessions need EMQX 5.7 or later; this host gets ${emqxPackage.version}`);
  }
  const enterprise = enterpriseOnlyProblem(emqxPackage.version);
  if (enterprise) throw new Error(enterprise);
  const el7 = os.releaseTag(facts) === 'el7';
  const steps: Step[] = [];

  // CentOS 7's EMQX needs openssl11 (rpm Requires), which EPEL has.
  if (el7) steps.push(facts.packages.openssl11 ? noChange('repository', 'repository:epel', 'repository epel', 'openssl11 already installed') : extraRepositoryStep(os, facts, 'epel'));
  steps.push(prerequisitesStep(os, facts, el7));
  const packageStep = emqxPackageStep(os, facts, emqxPackage, prepared.packageContent);
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
  const tls = prepared.tls;
  if (prepared.cookie === undefined) throw new Error('planEmqx needs the cookie prepareEmqx chooses');
  const cookie = prepared.cookie;
  const nodeName = chooseNodeName(settings, facts);
  const config = emqxConfigFile(settings, { version: emqxPackage.version, nodeName, cookie });
  if (packageStep.change && os.packageFormat === 'deb') {
    const modes = postinstModesStep(facts, [config, usersStateFile(layout.usersStateFile), ...tls.files]);
    if (modes) steps.push(modes);
  }

  const markerAt = steps.length;
  // TLS files before emqx.conf, so `emqx check_config` and the restart find the files it names.
  const tlsSteps = plannedFiles(facts, tls.files, { path: emqxTlsLayout.certFile, reason: tls.reissue });
  if (tls.files.length > 0) steps.push(directoryStep(facts, { path: layout.tlsDir, owner: 'root', group: layout.user, mode: '0750' }), ...tlsSteps.map(({ step }) => step));
  const configStep = checkedConfigStep(facts, config);
  steps.push(configStep);

  // A fresh or upgraded package runs on its stock config until restarted onto ours.
  const { marker, handler } = configHandlerSteps({
    facts,
    service: layout.service,
    files: [{ file: config, step: configStep }, ...tlsSteps],
    otherReasons: packageStep.change ? ['package installed or changed'] : [],
    counts: 'content',
    restartChecks: [
      { argv: ['systemctl', 'is-active', '--quiet', layout.service] },
      waitStartedCommand,
      // A cluster node is done only when it is back in the cluster; the engine rolls node by node.
      ...(isStaticCluster(settings) ? [waitRejoinedCommand(nodesToRejoin(settings, facts, nodeName))] : []),
    ],
    downgrade: downgrade?.commands ?? [],
    restoreLeftBackups: false,
  });
  // Written before the first file, removed by the restart: a cut-off run still restarts next time.
  if (marker) steps.splice(markerAt, 0, marker);
  steps.push(...handler);

  const target: ServiceTarget = { port: dashboardPort(settings), servicePassword: servicePassword(cookie) };
  // The service account's password derives from the cookie: a new cookie needs a new account password.
  const cookieChanges = cookieInConfig(facts.files[layout.configFile]?.content) !== cookie.reveal();
  steps.push(...restSteps(facts, settings, target, cookieChanges, prepared.salt));
  // Last, so the dashboard port opens only after admin/public is gone.
  steps.push(firewallStep(facts, servedPorts(settings), settings.firewall));
  if (settings.emqx.cluster.seeds.length > 1) {
    steps.push(noChange('note', 'cluster-ports', 'cluster ports 4370/tcp, 5370/tcp', 'not opened by mqtt-provision: allow them between the cluster nodes only'));
  }
  return steps;
}

/**
 * The .deb's postinst (deploy/packages/deb/debian/postinst, v5.7.2–v5.8.8) runs `chown -R
 * emqx:emqx /etc/emqx` and `chmod 0644 /etc/emqx/*` on every install and upgrade: emqx.conf (the
 * cookie), the users state and the TLS key would stay readable until the next run. Their owners and
 * modes are put back right after the package, in the same run, for the files that already exist
 * (a file this run writes gets them from its write). rpm's %post leaves /etc/emqx alone.
 */
function postinstModesStep(facts: HostFacts, files: ManagedFile[]): Step | null {
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

/**
 * emqx.conf with a safety net before any restart: back up, write in place, `emqx check_config`
 * (which only ever reads /etc/emqx/emqx.conf), and put the previous file back if EMQX rejects it.
 */
function checkedConfigStep(facts: HostFacts, file: ManagedFile): Step {
  const step = fileStep(facts, file);
  if (!writesFile(step)) return step;
  return {
    ...step,
    commands: [...step.commands, checkConfigCommand],
    rollback: [restoreFile(file.path)],
  };
}

/**
 * Removal mirrors installation: stop, remove our files, remove the package; data only when asked.
 * Our files go first: rpm would otherwise keep the modified emqx.conf, cookie included, as
 * emqx.conf.rpmsave.
 */
function planAbsent(facts: HostFacts, settings: Settings): Step[] {
  const os = osFamilyOf(facts);
  const ours = [layout.configFile, layout.usersStateFile, emqxTlsLayout.caFile, emqxTlsLayout.certFile, emqxTlsLayout.keyFile];
  const steps: Step[] = [
    serviceStoppedStep(facts, layout.service),
    filesAbsentStep(facts, ours, 'remove emqx.conf (cookie) and users state'),
    // purgeData: the package's own config goes too (apt-get purge), as on Mosquitto.
    packagesAbsentStep(os, facts, [layout.packageName], settings.purgeData),
  ];
  if (settings.purgeData) steps.push(dataPurgedStep(facts, layout.dataDir));
  steps.push(firewallStep(facts, [], settings.firewall));
  return steps;
}
