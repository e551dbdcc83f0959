import type { FactQuery, HostFacts } from '../../facts/host-facts.ts';
import { directoryStep } from '../../operations/directories.ts';
import { dataPurgedStep, directoryAbsentStep, filesAbsentStep, serviceStoppedStep } from '../../operations/removal.ts';
import { configHandlerSteps, plannedFiles } from '../../operations/config-handler.ts';
import { removeBackups, restoreFile } from '../../operations/files.ts';
import { firewallStep } from '../../operations/firewall.ts';
import { extraRepositoryStep, packagesAbsentStep, packagesPresentStep } from '../../operations/packages.ts';
import { clearPendingRestart, pendingRestartMarker } from '../../operations/service.ts';
import { change, noChange, type Command, type Step } from '../../operations/step.ts';
import { osFamilyOf, type OsFamily } from '../../os/os-family.ts';
import { restoreUpgradeBackupCommand, upgradeBackupCommand } from './backup.ts';
import type { Settings } from '../../settings/load.ts';
import { listenerAccess, metricsAccess } from '../served-ports.ts';
import { defaultLimits } from '../../settings/limits.ts';
import { capacityFactQuery, planCapacity } from '../capacity-steps.ts';
import { mosquittoFilesWithTls, mosquittoTlsLayout } from './files.ts';
import type { PreparedInputs } from '../prepared.ts';
import { mosquittoLayout as layout } from './layout.ts';
import { mosquittoTlsApply } from './certificate-renewal.ts';
import { checkedReloadOrRestartCommand, checkedReloadStep } from './reload.ts';
import { exporterAbsentSteps, exporterFiles, exporterLayout, exporterPresentSteps } from './metrics.ts';

export function mosquittoFactQuery(settings?: Settings): FactQuery {
  const capacity = capacityFactQuery(settings?.limits ?? defaultLimits, layout.service);
  return {
    packages: [layout.packageName, exporterLayout.packageName],
    files: [layout.configFile, layout.passwordFile, layout.aclFile, pendingRestartMarker(layout.service), mosquittoTlsLayout.caFile, mosquittoTlsLayout.certFile, mosquittoTlsLayout.keyFile, ...exporterFiles, ...capacity.files],
    directories: [layout.dataDir, layout.tlsDir, ...capacity.directories],
    services: [layout.service, exporterLayout.service],
    sysctl: capacity.sysctl,
    openFiles: capacity.openFiles,
  };
}

/**
 * The Mosquitto role as a pure function: facts + settings + what prepareMosquitto drew and issued
 * → the steps that are needed.
 */
export function planMosquitto(facts: HostFacts, settings: Settings, prepared: PreparedInputs): Step[] {
  return settings.state === 'absent' ? planAbsent(facts, settings) : planPresent(facts, settings, prepared);
}

function planPresent(facts: HostFacts, settings: Settings, prepared: PreparedInputs): Step[] {
  const os = osFamilyOf(facts);
  const installed = facts.packages[layout.packageName] !== null;
  const steps: Step[] = [];
  if (os.name === 'rhel') {
    steps.push(installed ? noChange('repository', 'repository:epel', 'repository epel', 'mosquitto already installed') : extraRepositoryStep(os, facts, 'epel'));
  }
  const packages = packagesPresentStep(os, facts, [{ name: layout.packageName, version: settings.version }]);
  // An upgrade of a running broker keeps its queued messages: back up first; if the new package
  // does not come up, the old package and the backed-up data go back.
  const previousVersion = facts.packages[layout.packageName] ?? null;
  const downgrade = packages.change && previousVersion !== null ? upgradeRollback(os, facts, previousVersion) : [];
  if (downgrade.length > 0) {
    steps.push(change('backup', `backup:${layout.service}`, `back up ${layout.service} before the package change`, `${layout.packageName} ${previousVersion} → ${settings.version}`, [upgradeBackupCommand()]));
    steps.push({
      ...packages,
      rollback: [...downgrade, { argv: ['systemctl', 'restart', layout.service] }],
      diagnostics: [{ argv: ['journalctl', '-u', layout.service, '-n', '20', '--no-pager', '-o', 'cat'] }],
    });
  } else steps.push(packages);
  // EPEL's package owns the data directory, so installing or re-pinning it resets its mode.
  const dataDir = { path: layout.dataDir, owner: layout.user, group: layout.user, mode: '0750' };
  steps.push(directoryStep(facts, dataDir, packages.change && installed ? 'the package change' : undefined));

  // Debian's and EPEL's unit set no LimitNOFILE: the drop-in is what lifts the 1024 wall.
  const capacity = planCapacity(facts, settings, layout.service);
  steps.push(...capacity.kernel);

  const { files, reissue } = mosquittoFilesWithTls(settings, facts.files[layout.passwordFile]?.content ?? null, prepared.salt, prepared.tls, layout, prepared.metricsPassword);
  if (files.some((file) => file.path.startsWith(`${layout.tlsDir}/`))) {
    steps.push(directoryStep(facts, { path: layout.tlsDir, owner: 'root', group: layout.user, mode: '0750' }));
  }
  steps.push(...capacity.directories);
  const fileSteps = [...plannedFiles(facts, files, { path: mosquittoTlsLayout.certFile, reason: reissue }), ...capacity.files];
  // A fresh package starts on its stock config, so it needs the restart that applies ours.
  const { marker, handler } = configHandlerSteps({
    facts,
    service: layout.service,
    files: fileSteps,
    otherReasons: packages.change ? ['package installed or changed'] : [],
    counts: 'any',
    restartChecks: [{ argv: ['systemctl', 'is-active', '--quiet', layout.service] }],
    downgrade,
    restoreLeftBackups: true,
    afterRestore: capacity.afterRestore,
    reload: (changedPaths) => reloadStep(facts, changedPaths, settings.listeners.wss !== undefined),
  });
  if (marker) steps.push(marker);
  steps.push(...fileSteps.map(({ step }) => step), ...capacity.beforeRestart, ...handler);
  // The exporter after the broker's reload, which gives it its user; off, one we configured goes.
  steps.push(...(settings.metrics.enabled ? exporterPresentSteps(os, facts, settings, prepared.metricsPassword) : exporterAbsentSteps(os, facts, false)));
  steps.push(firewallStep(facts, [...listenerAccess(settings), ...metricsAccess(settings)], settings.firewall));
  steps.push(...capacity.notes);
  return steps;
}

/** Puts the package version that was running back, then the data backed up before the change. */
function upgradeRollback(os: OsFamily, facts: HostFacts, previousVersion: string): Command[] {
  return [...os.install([{ name: layout.packageName, version: previousVersion }], facts), restoreUpgradeBackupCommand()];
}

/**
 * Users, ACL or the server certificate and key changed, nothing that needs a restart: SIGHUP
 * re-reads them without dropping clients, judged by the broker's own log; a stopped broker just
 * gets started.
 */
function reloadStep(facts: HostFacts, changedPaths: string[], servesWss: boolean): Step {
  const service = facts.services[layout.service];
  const tls = mosquittoTlsApply({ changedPaths, layout: mosquittoTlsLayout, servesWss });
  const tlsOnly = tls.how === 'reload' && changedPaths.every((path) => path === mosquittoTlsLayout.certFile || path === mosquittoTlsLayout.keyFile);
  const reason = tlsOnly ? tls.reason : `${changedPaths.join(', ')} changed`;
  const reload = service?.active === 'active' ? checkedReloadStep(layout.service, reason) : startStep();
  return {
    ...reload,
    commands: [...reload.commands, removeBackups(changedPaths), clearPendingRestart(layout.service)],
    // A renewal that failed goes back to the previous pair by the same reload (clients stay); a
    // broker that refused or died on the new users or ACL comes back on the old ones by a restart.
    rollback: [
      ...changedPaths.map(restoreFile),
      tlsOnly && service?.active === 'active' ? checkedReloadOrRestartCommand(layout.service) : { argv: ['systemctl', 'restart', layout.service] },
      clearPendingRestart(layout.service),
    ],
  };
}

function startStep(): Step {
  return change('service', `start:${layout.service}`, `start ${layout.service}`, 'not running', [
    { argv: ['systemctl', 'start', layout.service] },
    { argv: ['systemctl', 'is-active', '--quiet', layout.service] },
  ]);
}

/**
 * Removal mirrors installation: stop, remove our files and the TLS directory we made, then the
 * package; with purgeData also the package's own config (apt-get purge: no `rc` left) and the data.
 */
function planAbsent(facts: HostFacts, settings: Settings): Step[] {
  const os = osFamilyOf(facts);
  const capacity = capacityFactQuery(settings.limits, layout.service);
  // The drop-in and the sysctl file go too; kernel values already set stay until the next boot.
  const ours = [layout.configFile, layout.passwordFile, layout.aclFile, mosquittoTlsLayout.caFile, mosquittoTlsLayout.certFile, mosquittoTlsLayout.keyFile, pendingRestartMarker(layout.service), ...capacity.files];
  // Our files go before the package: rpm would keep our edited mosquitto.conf (a %config file) as
  // mosquitto.conf.rpmsave, and apt keeps conffiles on remove.
  const steps: Step[] = [
    serviceStoppedStep(facts, layout.service),
    filesAbsentStep(facts, ours, 'remove config, users and ACL files'),
    directoryAbsentStep(facts, layout.tlsDir, ours),
    ...capacity.directories.map((directory) => directoryAbsentStep(facts, directory, ours)),
    packagesAbsentStep(os, facts, [layout.packageName], settings.purgeData),
  ];
  if (settings.purgeData) steps.push(dataPurgedStep(facts, layout.dataDir));
  steps.push(...exporterAbsentSteps(os, facts, settings.purgeData));
  steps.push(firewallStep(facts, [], settings.firewall));
  return steps;
}
