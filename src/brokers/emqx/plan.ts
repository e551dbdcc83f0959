import type { FactQuery, HostFacts } from '../../facts/host-facts.ts';
import { configHandlerSteps, plannedFiles } from '../../operations/config-handler.ts';
import { directoryStep } from '../../operations/directories.ts';
import { firewallStep } from '../../operations/firewall.ts';
import { packagesAbsentStep } from '../../operations/packages.ts';
import { dataPurgedStep, filesAbsentStep, serviceStoppedStep } from '../../operations/removal.ts';
import { pendingRestartMarker } from '../../operations/service.ts';
import { noChange, type Step } from '../../operations/step.ts';
import { osFamilyOf } from '../../os/os-family.ts';
import type { Settings } from '../../settings/load.ts';
import type { PreparedInputs } from '../prepared.ts';
import { listenerAccess } from '../served-ports.ts';
import { emqxRenewalStep, emqxTlsApply } from './certificate-renewal.ts';
import { capacityFactQuery, planCapacity } from '../capacity-steps.ts';
import { defaultLimits } from '../../settings/limits.ts';
import { isStaticCluster, nodesToRejoin, waitRejoinedCommand } from './cluster.ts';
import { checkedConfigStep, waitStartedCommand } from './config-steps.ts';
import { emqxConfigFile, emqxTlsLayout } from './files.ts';
import { chooseNodeName } from './identity.ts';
import { emqxLayout as layout } from './layout.ts';
import { emqxProbe } from './facts.ts';
import { chooseEmqxPackage } from './package-source.ts';
import { emqxPackageSteps, postinstModesStep } from './package-steps.ts';
import { hostRestSteps, usersStateFile } from './rest-steps.ts';
import { emqxFeatures, enterpriseOnlyProblem } from './version.ts';

export function emqxFactQuery(settings?: Settings): FactQuery {
  const capacity = capacityFactQuery(settings?.limits ?? defaultLimits, layout.service);
  return {
    packages: [layout.packageName, 'openssl11'],
    files: [layout.configFile, layout.usersStateFile, pendingRestartMarker(layout.service), emqxTlsLayout.caFile, emqxTlsLayout.certFile, emqxTlsLayout.keyFile, ...capacity.files],
    directories: [layout.dataDir, layout.tlsDir, ...capacity.directories],
    services: [layout.service],
    sysctl: capacity.sysctl,
    openFiles: capacity.openFiles,
    ...emqxProbe,
  };
}

/**
 * The EMQX role as a pure function: facts + settings + what prepareEmqx read, drew and issued →
 * the steps that are needed.
 */
export function planEmqx(facts: HostFacts, settings: Settings, prepared: PreparedInputs): Step[] {
  return settings.state === 'absent' ? planAbsent(facts, settings) : planPresent(facts, settings, prepared);
}

function planPresent(facts: HostFacts, settings: Settings, prepared: PreparedInputs): Step[] {
  const os = osFamilyOf(facts);
  const emqxPackage = chooseEmqxPackage(os, facts, settings);
  const features = emqxFeatures(emqxPackage.version);
  if (settings.emqx.durableSessions && !features.durableSessions) {
    throw new Error(`durable sessions need EMQX 5.7 or later; this host gets ${emqxPackage.version}`);
  }
  const enterprise = enterpriseOnlyProblem(emqxPackage.version);
  if (enterprise) throw new Error(enterprise);
  const { steps, packageStep, downgrade } = emqxPackageSteps(os, facts, settings, emqxPackage, prepared.packageContent);
  // A renewed pair at the same paths needs only the node's PEM cache cleared (certificate-renewal.ts); the CA restarts.
  const tls = { ...prepared.tls, files: prepared.tls.files.map((file) => ({ ...file, apply: emqxTlsApply([file.path], emqxTlsLayout).how === 'pem-cache-clean' ? ('reload' as const) : ('restart' as const) })) };
  if (prepared.cookie === undefined) throw new Error('planEmqx needs the cookie prepareEmqx chooses');
  const cookie = prepared.cookie;
  const nodeName = chooseNodeName(settings, facts);
  const config = emqxConfigFile(settings, { version: emqxPackage.version, nodeName, cookie });
  if (packageStep.change && os.packageFormat === 'deb') {
    const modes = postinstModesStep(facts, [config, usersStateFile(layout.usersStateFile), ...tls.files]);
    if (modes) steps.push(modes);
  }

  // EMQX's unit already sets LimitNOFILE: a drop-in only for a higher openFiles; the kernel floors
  // are EMQX's own tuning guide's. The note says which limit the running node really has.
  const capacity = planCapacity(facts, settings, layout.service, layout.unitOpenFiles);
  steps.push(...capacity.kernel, ...capacity.directories);
  const markerAt = steps.length;
  // TLS files before emqx.conf, so `emqx check_config` and the restart find the files it names.
  const tlsSteps = plannedFiles(facts, tls.files, { path: emqxTlsLayout.certFile, reason: tls.reissue });
  if (tls.files.length > 0) steps.push(directoryStep(facts, { path: layout.tlsDir, owner: 'root', group: layout.user, mode: '0750' }), ...tlsSteps.map(({ step }) => step));
  const configStep = checkedConfigStep(facts, config);
  steps.push(configStep, ...capacity.files.map(({ step }) => step), ...capacity.beforeRestart);

  // A fresh or upgraded package runs on its stock config until restarted onto ours.
  const { marker, handler } = configHandlerSteps({
    facts,
    service: layout.service,
    files: [{ file: config, step: configStep }, ...tlsSteps, ...capacity.files],
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
    reload: (changedPaths) => emqxRenewalStep({ service: layout.service, active: facts.services[layout.service]?.active === 'active', node: nodeName, changedPaths, layout: emqxTlsLayout }),
    afterRestore: capacity.afterRestore,
  });
  // Written before the first file, removed by the restart: a cut-off run still restarts next time.
  if (marker) steps.splice(markerAt, 0, marker);
  steps.push(...handler);

  steps.push(...hostRestSteps(facts, settings, cookie, prepared.salt));
  steps.push(...capacity.notes);
  // Last, so the dashboard port opens only after admin/public is gone.
  steps.push(firewallStep(facts, listenerAccess(settings), settings.firewall));
  if (settings.emqx.cluster.seeds.length > 1) {
    steps.push(noChange('note', 'cluster-ports', 'cluster ports 4370/tcp, 5370/tcp', 'not opened by mqtt-provision: allow them between the cluster nodes only'));
  }
  return steps;
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
