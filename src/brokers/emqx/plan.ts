import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EmqxApiFact, FactQuery, HostFacts } from '../../facts/host-facts.ts';
import { atomicWrite, fileStep, removeBackups, restoreFile, sha256 } from '../../operations/files.ts';
import { dataPurgedStep, filesAbsentStep, serviceStoppedStep } from '../../operations/removal.ts';
import { firewallStep } from '../../operations/firewall.ts';
import type { ManagedFile } from '../../operations/managed-file.ts';
import { extraRepositoryStep, packagesAbsentStep, packagesPresentStep, type WantedPackage } from '../../operations/packages.ts';
import { pendingRestartMarker, pendingRestartStep, restartStep, serviceEnabledStep } from '../../operations/service.ts';
import { change, noChange, type Command, type Step } from '../../operations/step.ts';
import { osFamilyOf, type OsFamily } from '../../os/os-family.ts';
import type { Settings } from '../../settings/load.ts';
import { userNamePattern } from '../../settings/schema.ts';
import { servedPorts } from '../served-ports.ts';
import { renderAclRules } from './acl.ts';
import { dashboardPort, emqxConfigFile, emqxTlsLayout } from './files.ts';
import { directoryStep } from '../../operations/directories.ts';
import { tlsFiles, type TlsIssuer } from '../../tls/server-files.ts';
import { chooseCookie, chooseNodeName, cookieInConfig, generateCookie, servicePassword } from './identity.ts';
import { emqxLayout as layout } from './layout.ts';
import { chooseEmqxPackage, type EmqxPackage } from './package-source.ts';
import { aclScript, adminsScript, mqttUsersScript, serviceAccountScript, type ServiceTarget } from './rest-scripts.ts';
import { dashboardAdminProblems } from './settings.ts';
import { parseUsersState, renderUsersState, stateMatches, type MqttUser } from './users-state.ts';
import { emqxFeatures, isInstalledVersion } from './version.ts';

/** What a test swaps for determinism; a real run leaves all of it at the defaults. */
export interface EmqxPlanOptions {
  /** Reads the file given with --package (the upload travels base64-encoded on stdin). */
  readPackage?: (path: string) => Buffer;
  /** A cookie for a host that has none yet. */
  generateCookie?: () => string;
  /** Salts of the users state file hashes. */
  salt?: () => Buffer;
  /** The CA and certificate issuer for generated TLS certificates. */
  issuer?: TlsIssuer;
}

export function emqxFactQuery(): FactQuery {
  return {
    packages: [layout.packageName, 'openssl11'],
    files: [layout.configFile, layout.usersStateFile, pendingRestartMarker(layout.service), emqxTlsLayout.caFile, emqxTlsLayout.certFile, emqxTlsLayout.keyFile],
    directories: [layout.dataDir, layout.tlsDir],
    services: [layout.service],
  };
}

/** `emqx check_config` validates /etc/emqx/emqx.conf in place (and EMQX_* variables); exit 1 when EMQX would refuse it. */
export const checkConfigCommand: Command = { argv: ['emqx', 'check_config'] };

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

/** The EMQX role as a pure function: facts + settings → the steps that are needed. */
export function planEmqx(facts: HostFacts, settings: Settings, options: EmqxPlanOptions = {}): Step[] {
  return settings.state === 'absent' ? planAbsent(facts, settings) : planPresent(facts, settings, options);
}

function planPresent(facts: HostFacts, settings: Settings, options: EmqxPlanOptions): Step[] {
  const problems = dashboardAdminProblems(settings.admins);
  if (problems.length > 0) throw new Error(`the admins cannot be EMQX dashboard users:\n${problems.join('\n')}`);
  const os = osFamilyOf(facts);
  const emqxPackage = chooseEmqxPackage(os, facts, settings);
  const features = emqxFeatures(emqxPackage.version);
  if (settings.emqx.durableSessions && !features.durableSessions) {
    throw new Error(`durable sessions need EMQX 5.7 or later; this host gets ${emqxPackage.version}`);
  }
  if (settings.emqx.cluster.seeds.length > 1 && features.businessSource) {
    throw new Error(`EMQX ${emqxPackage.version} is BSL-licensed and its default license forbids clustering; pin 5.8.x`);
  }
  const el7 = os.releaseTag(facts) === 'el7';
  const steps: Step[] = [];

  // CentOS 7's EMQX needs openssl11 (rpm Requires), which EPEL has.
  if (el7) steps.push(facts.packages.openssl11 ? noChange('repository:epel', 'repository epel', 'openssl11 already installed') : extraRepositoryStep(os, facts, 'epel'));
  steps.push(prerequisitesStep(os, facts, el7));
  const packageStep = emqxPackageStep(os, facts, emqxPackage, options.readPackage ?? ((path) => readFileSync(path)));
  steps.push(packageStep);

  const markerAt = steps.length;
  // TLS files before emqx.conf, so `emqx check_config` and the restart find the files it names.
  const tls = tlsFiles(settings, facts, emqxTlsLayout, options.issuer);
  const tlsChanged: string[] = [];
  if (tls.files.length > 0) {
    steps.push(directoryStep(facts, { path: layout.tlsDir, owner: 'root', group: layout.user, mode: '0750' }));
    for (const file of tls.files) {
      const step = fileStep(facts, file);
      const rewritten = step.commands.some((command) => command.argv.includes('mqtt-provision-write'));
      if (rewritten) tlsChanged.push(file.path);
      steps.push(tls.reissue !== undefined && rewritten && file.path === emqxTlsLayout.certFile ? { ...step, reason: `re-issued: ${tls.reissue}` } : step);
    }
  }

  const cookie = chooseCookie(settings, facts, options.generateCookie ?? generateCookie);
  const config = emqxConfigFile(settings, { version: emqxPackage.version, nodeName: chooseNodeName(settings, facts), cookie });
  const configStep = checkedConfigStep(facts, config);
  steps.push(configStep);
  const configRewritten = configStep.commands.some((command) => command.argv.includes('mqtt-provision-write'));

  // A fresh or upgraded package runs on its stock config until restarted onto ours.
  const restartReasons = [
    ...(packageStep.change ? ['package installed or changed'] : []),
    ...(configRewritten ? [`${layout.configFile} changed`] : []),
    ...tlsChanged.map((path) => `${path} changed`),
    ...(facts.files[pendingRestartMarker(layout.service)] ? ['an earlier run changed the config but stopped before restarting'] : []),
  ];
  const restored = [...(configRewritten ? [layout.configFile] : []), ...tlsChanged];
  if (restartReasons.length > 0) {
    // Written before the first file, removed by the restart: a cut-off run still restarts next time.
    steps.splice(markerAt, 0, pendingRestartStep(layout.service, 'the config changes in this run'));
    steps.push(
      restartStep({
        service: layout.service,
        reason: restartReasons.join(', '),
        checks: [{ argv: ['systemctl', 'is-active', '--quiet', layout.service] }, waitStartedCommand],
        restore: restored.map(restoreFile),
        cleanup: restored.length > 0 ? [removeBackups(restored)] : [],
      }),
    );
  }
  steps.push(serviceEnabledStep(facts, layout.service, restartReasons.length > 0));

  const target: ServiceTarget = { port: dashboardPort(settings), servicePassword: servicePassword(cookie) };
  // The service account's password derives from the cookie: a new cookie needs a new account password.
  const cookieChanges = cookieInConfig(facts.files[layout.configFile]?.content) !== cookie.reveal();
  steps.push(...restSteps(facts, settings, target, cookieChanges, options.salt));
  // Last, so the dashboard port opens only after admin/public is gone.
  steps.push(firewallStep(facts, servedPorts(settings), settings.firewall));
  if (settings.emqx.cluster.seeds.length > 1) {
    steps.push(noChange('cluster-ports', 'cluster ports 4370/tcp, 5370/tcp', 'not opened by mqtt-provision: allow them between the cluster nodes only'));
  }
  return steps;
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
  if (missing.length === 0) return noChange('prerequisites', title, 'present');
  return { ...packagesPresentStep(os, facts, missing), id: 'prerequisites', title };
}

/** Download (or upload) into a root-owned cache directory, install with the OS package manager, remove the file. */
function emqxPackageStep(os: OsFamily, facts: HostFacts, emqxPackage: EmqxPackage, readPackage: (path: string) => Buffer): Step {
  const id = `package:${layout.packageName}`;
  const title = `package ${layout.packageName} ${emqxPackage.version}`;
  const installed = facts.packages[layout.packageName] ?? null;
  if (isInstalledVersion(installed, emqxPackage.version)) return noChange(id, title, `installed (${installed})`);
  const reason = [installed === null ? 'not installed' : `${installed} → ${emqxPackage.version}`, ...(emqxPackage.note ? [emqxPackage.note] : [])].join('; ');
  const fetch = emqxPackage.source.kind === 'download' ? downloadCommand(emqxPackage.hostPath, emqxPackage.source.url) : uploadCommand(emqxPackage.hostPath, readPackage(emqxPackage.source.localPath));
  return change(id, title, reason, [fetch, ...os.installLocalPackage(emqxPackage.hostPath, facts), { argv: ['rm', '-f', emqxPackage.hostPath] }]);
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
  if (!step.commands.some((command) => command.argv.includes('mqtt-provision-write'))) return step;
  return {
    ...step,
    commands: [...step.commands, checkConfigCommand],
    rollback: [restoreFile(file.path)],
  };
}

/**
 * Where the REST steps run: on a host the scripts run as they are and the users state file sits in
 * /etc/emqx; in a container each script runs through `docker exec` and the state file stays in
 * the config directory on the Docker host.
 */
export interface RestPlacement {
  usersStateFile: string;
  script: (command: Command) => Command;
}

const onHost: RestPlacement = { usersStateFile: layout.usersStateFile, script: (command) => command };

/** Dashboard service account, admins, ACL rules and MQTT users, all through the local REST API. */
export function restSteps(facts: HostFacts, settings: Settings, target: ServiceTarget, cookieChanges: boolean, salt?: () => Buffer, place: RestPlacement = onHost): Step[] {
  const api = facts.emqx?.api?.reachable ? facts.emqx.api : null;
  const why = api ? '' : `REST API not reachable now${facts.emqx?.status ? ` (emqx ctl status: ${facts.emqx.status.text})` : ''}; applied once EMQX runs`;
  const hasAdmin = settings.admins.some((admin) => admin.name === 'admin');
  if (api && !api.serviceLogin && !Object.values(api.logins).some(Boolean) && api.defaultAdmin !== true) {
    throw new Error(
      `no EMQX dashboard login works (not ${layout.serviceAccount}, no wanted admin, not admin/public): ` +
        `reset an admin on the host with "emqx ctl admins passwd NAME" (then set that password in the settings) and run again`,
    );
  }
  const steps: Step[] = [];

  const serviceId = `emqx-account:${layout.serviceAccount}`;
  const serviceTitle = `dashboard account ${layout.serviceAccount}`;
  const serviceReason = !api ? why : cookieChanges ? 'the cookie changes, and the password derives from it' : 'does not log in with the password derived from the cookie';
  steps.push(
    api?.serviceLogin && !cookieChanges
      ? noChange(serviceId, serviceTitle, 'logs in')
      : change(serviceId, serviceTitle, serviceReason, [place.script(serviceAccountScript(target, settings.admins))]),
  );

  const stale = settings.admins.filter((admin) => api?.logins[admin.name] !== true);
  const replaceDefault = !hasAdmin && api?.defaultAdmin !== false;
  const adminReasons = [
    ...(stale.length > 0 ? [`${stale.map((admin) => admin.name).join(', ')}: ${api ? 'wanted password does not log in' : why}`] : []),
    ...(replaceDefault ? [api ? 'admin/public still logs in' : 'retire admin/public'] : []),
  ];
  steps.push(
    adminReasons.length === 0
      ? noChange('emqx-admins', 'dashboard admins', `${settings.admins.map((admin) => admin.name).join(', ')} log in; admin/public refused`)
      : change('emqx-admins', 'dashboard admins', adminReasons.join('; '), [place.script(adminsScript(target, stale, replaceDefault))]),
  );

  const rules = renderAclRules(settings);
  const aclCurrent = api?.acl ?? null;
  steps.push(
    aclCurrent?.present && aclCurrent.rules === rules
      ? noChange('emqx-acl', 'ACL rules (file authorization source)', 'up to date')
      : change('emqx-acl', 'ACL rules (file authorization source)', api ? (aclCurrent?.present ? 'rules differ' : 'source missing or unknown') : why, [place.script(aclScript(target, rules))], {
          diff: aclDiff(aclCurrent?.rules ?? '', rules),
        }),
  );

  steps.push(mqttUsersStep(facts, settings, target, api, why, place, salt));
  return steps;
}

function aclDiff(before: string, after: string): string {
  const removed = before.split('\n').filter((line) => line && !after.split('\n').includes(line));
  const added = after.split('\n').filter((line) => line && !before.split('\n').includes(line));
  return ['--- ACL rules (REST)', '+++ ACL rules (rendered)', ...removed.map((line) => `-${line}`), ...added.map((line) => `+${line}`), ''].join('\n');
}

function mqttUsersStep(
  facts: HostFacts,
  settings: Settings,
  target: ServiceTarget,
  api: EmqxApiFact | null,
  why: string,
  place: RestPlacement,
  salt?: () => Buffer,
): Step {
  const id = 'emqx-mqtt-users';
  const title = 'MQTT users (built-in database)';
  const wanted: MqttUser[] = [
    ...settings.admins.map((admin) => ({ ...admin, superuser: true })),
    ...settings.users.map(({ name, password }) => ({ name, password, superuser: false })),
  ];
  const stateFact = facts.files[place.usersStateFile] ?? null;
  const state = parseUsersState(stateFact?.content);
  const known = api?.mqttUsers ?? null;
  const upserts = wanted.filter((user) => {
    if (!stateMatches(state, user) || known === null) return true;
    const current = known.find((entry) => entry.name === user.name);
    return current === undefined || current.superuser !== user.superuser;
  });
  const wantedNames = new Set(wanted.map((user) => user.name));
  const strangers = (known ?? []).filter((entry) => !wantedNames.has(entry.name)).map((entry) => entry.name);
  // Names come back from the host's API: only ones our own rules allow ever reach a script;
  // others are left alone and named in the reason (JSON-quoted) for a human to remove.
  const deletes = strangers.filter((name) => userNamePattern.test(name));
  const untouchable = strangers.filter((name) => !userNamePattern.test(name));
  const stateFile: ManagedFile = {
    path: place.usersStateFile,
    content: renderUsersState(wanted, stateFact?.content, salt),
    mode: '0600',
    owner: 'root',
    group: 'root',
    secret: true,
    apply: 'reload',
  };
  const stateCommands: Command[] = [];
  if (stateFact === null || stateFact.sha256 !== sha256(stateFile.content)) stateCommands.push(atomicWrite(stateFile));
  else {
    if (stateFact.owner !== 'root' || stateFact.group !== 'root') stateCommands.push({ argv: ['chown', 'root:root', stateFile.path] });
    if (stateFact.mode !== stateFile.mode) stateCommands.push({ argv: ['chmod', stateFile.mode, stateFile.path] });
  }
  const leftAlone = untouchable.length > 0 ? `; left alone, names unsafe to script: ${untouchable.map((name) => JSON.stringify(name)).join(', ')}` : '';
  if (upserts.length === 0 && deletes.length === 0 && stateCommands.length === 0) {
    return noChange(id, title, `${wanted.length} users up to date${leftAlone}`);
  }
  const reasons = [
    ...(upserts.length > 0 ? [`set ${upserts.map((user) => user.name).join(', ')}${api ? '' : ` (${why})`}`] : []),
    ...(deletes.length > 0 ? [`delete ${deletes.join(', ')}`] : []),
    ...(upserts.length === 0 && deletes.length === 0 ? [`${place.usersStateFile} out of date`] : []),
  ];
  // The state file is written only after the API accepted every user, so a failure is retried next run.
  const rest = upserts.length > 0 || deletes.length > 0 ? [place.script(mqttUsersScript(target, upserts, deletes))] : [];
  return change(id, title, reasons.join('; ') + leftAlone, [...rest, ...stateCommands]);
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
    packagesAbsentStep(os, facts, [layout.packageName]),
  ];
  if (settings.purgeData) steps.push(dataPurgedStep(facts, layout.dataDir));
  steps.push(firewallStep(facts, [], settings.firewall));
  return steps;
}
