import type { FactQuery, HostFacts } from '../../facts/host-facts.ts';
import { directoryStep } from '../../operations/directories.ts';
import { dataPurgedStep, filesAbsentStep, serviceStoppedStep } from '../../operations/removal.ts';
import { fileStep, removeBackups, restoreFile } from '../../operations/files.ts';
import { firewallStep } from '../../operations/firewall.ts';
import { extraRepositoryStep, packagesAbsentStep, packagesPresentStep } from '../../operations/packages.ts';
import { reloadStep, restartStep, serviceEnabledStep } from '../../operations/service.ts';
import { change, noChange, type Step } from '../../operations/step.ts';
import { osFamilyOf } from '../../os/os-family.ts';
import type { Settings } from '../../settings/load.ts';
import { servedPorts } from '../served-ports.ts';
import { mosquittoFilesWithTls, mosquittoTlsLayout } from './files.ts';
import type { TlsIssuer } from '../../tls/server-files.ts';
import { mosquittoLayout as layout } from './layout.ts';

export function mosquittoFactQuery(): FactQuery {
  return {
    packages: [layout.packageName],
    files: [layout.configFile, layout.passwordFile, layout.aclFile, mosquittoTlsLayout.caFile, mosquittoTlsLayout.certFile, mosquittoTlsLayout.keyFile],
    directories: [layout.dataDir, layout.tlsDir],
    services: [layout.service],
  };
}

/** The Mosquitto role as a pure function: facts + settings → the steps that are needed. */
export function planMosquitto(facts: HostFacts, settings: Settings, salt?: () => Buffer, issuer?: TlsIssuer): Step[] {
  return settings.state === 'absent' ? planAbsent(facts, settings) : planPresent(facts, settings, salt, issuer);
}

function planPresent(facts: HostFacts, settings: Settings, salt?: () => Buffer, issuer?: TlsIssuer): Step[] {
  const os = osFamilyOf(facts);
  const installed = facts.packages[layout.packageName] !== null;
  const steps: Step[] = [];
  if (os.name === 'rhel') {
    steps.push(installed ? noChange('repository:epel', 'repository epel', 'mosquitto already installed') : extraRepositoryStep(os, facts, 'epel'));
  }
  const packages = packagesPresentStep(os, facts, [{ name: layout.packageName, version: settings.version }]);
  steps.push(packages);
  steps.push(directoryStep(facts, { path: layout.dataDir, owner: layout.user, group: layout.user, mode: '0750' }));

  const { files, reissue } = mosquittoFilesWithTls(settings, facts, salt, issuer);
  if (files.some((file) => file.path.startsWith(`${layout.tlsDir}/`))) {
    steps.push(directoryStep(facts, { path: layout.tlsDir, owner: 'root', group: layout.user, mode: '0750' }));
  }
  const fileSteps = files.map((file) => {
    const step = fileStep(facts, file);
    // Say why a certificate is issued, not only that its bytes differ.
    if (reissue !== undefined && step.change && file.path === mosquittoTlsLayout.certFile) return { file, step: { ...step, reason: `re-issued: ${reissue}` } };
    return { file, step };
  });
  steps.push(...fileSteps.map(({ step }) => step));
  const changed = fileSteps.filter(({ step }) => step.change);
  // A fresh package starts on its stock config, so it needs the restart that applies ours.
  const restartReasons = [
    ...(packages.change ? ['package installed or changed'] : []),
    ...changed.filter(({ file }) => file.apply === 'restart').map(({ file }) => `${file.path} changed`),
  ];
  const needsRestart = restartReasons.length > 0;
  steps.push(serviceEnabledStep(facts, layout.service, needsRestart || changed.length > 0));
  steps.push(firewallStep(facts, servedPorts(settings), settings.firewall));

  const changedPaths = changed.map(({ file }) => file.path);
  if (needsRestart) {
    steps.push(
      restartStep({
        service: layout.service,
        reason: restartReasons.join(', '),
        checks: [{ argv: ['systemctl', 'is-active', '--quiet', layout.service] }],
        restore: changedPaths.map(restoreFile),
        cleanup: changedPaths.length > 0 ? [removeBackups(changedPaths)] : [],
      }),
    );
  } else if (changed.length > 0) {
    const service = facts.services[layout.service];
    // SIGHUP re-reads users and ACLs without dropping clients; a stopped broker just gets started.
    const reload = service?.active === 'active' ? reloadStep(layout.service, `${changedPaths.join(', ')} changed`) : startStep();
    steps.push({ ...reload, commands: [...reload.commands, removeBackups(changedPaths)], rollback: [...changedPaths.map(restoreFile)] });
  }
  return steps;
}

function startStep(): Step {
  return change(`start:${layout.service}`, `start ${layout.service}`, 'not running', [
    { argv: ['systemctl', 'start', layout.service] },
    { argv: ['systemctl', 'is-active', '--quiet', layout.service] },
  ]);
}

/** Removal mirrors installation: stop, remove the package and our files; data only when asked. */
function planAbsent(facts: HostFacts, settings: Settings): Step[] {
  const os = osFamilyOf(facts);
  const ours = [layout.passwordFile, layout.aclFile, mosquittoTlsLayout.caFile, mosquittoTlsLayout.certFile, mosquittoTlsLayout.keyFile];
  const steps: Step[] = [
    serviceStoppedStep(facts, layout.service),
    packagesAbsentStep(os, facts, [layout.packageName]),
    filesAbsentStep(facts, ours, 'remove users and ACL files'),
  ];
  if (settings.purgeData) steps.push(dataPurgedStep(facts, layout.dataDir));
  steps.push(firewallStep(facts, [], settings.firewall));
  return steps;
}
