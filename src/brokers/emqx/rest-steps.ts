import type { FileFact, HostFacts } from '../../facts/host-facts.ts';
import type { EmqxApiFact } from './facts.ts';
import { atomicWrite, sha256 } from '../../operations/files.ts';
import type { ManagedFile } from '../../operations/managed-file.ts';
import { change, noChange, type Command, type Step } from '../../operations/step.ts';
import { clientUsers, type Settings } from '../../settings/load.ts';
import { userNamePattern } from '../../settings/schema.ts';
import type { Secret } from '../../secret.ts';
import { renderAclRules } from './acl.ts';
import { dashboardPort } from './files.ts';
import { cookieInConfig, servicePassword } from './identity.ts';
import { emqxLayout as layout } from './layout.ts';
import { aclScript, adminsScript, mqttUsersScript, serviceAccountScript, type ServiceTarget } from './rest-scripts.ts';
import { parseUsersState, renderUsersState, stateMatches, type MqttUser } from './users-state.ts';

/**
 * The EMQX role's REST steps (dashboard service account, admins, ACL rules, MQTT users), planned
 * from the API facts; shared by hosts (planEmqx) and containers (desiredEmqxContainer).
 */

/**
 * What the REST steps read, the part hosts and containers share: the API facts, EMQX's status
 * text (for the reason when the API is down) and the users state file as stored. A container's
 * Docker host reports a file's content only: its owner and mode are then unknown, not faked.
 */
export interface RestFacts {
  api: EmqxApiFact | null;
  statusText?: string | undefined;
  usersState: (Pick<FileFact, 'content' | 'sha256'> & Partial<Pick<FileFact, 'owner' | 'group' | 'mode'>>) | null;
}

/** The REST facts of a host: its probe's API facts and its users state file. */
export function hostRestFacts(facts: HostFacts): RestFacts {
  return { api: facts.emqx?.api ?? null, statusText: facts.emqx?.status?.text, usersState: facts.files[layout.usersStateFile] ?? null };
}

/** The users state file: hashes of MQTT passwords, root only. */
export function usersStateFile(path: string, content = ''): ManagedFile {
  return { path, content, mode: '0600', owner: 'root', group: 'root', secret: true, apply: 'reload' };
}

/**
 * Where the REST steps run: on a host the scripts run as they are and the users state file sits in
 * /etc/emqx; in a container each script runs through `docker exec` and the state file stays in
 * the config directory on the Docker host.
 */
export interface RestPlacement {
  usersStateFile: string;
  /** EMQX's data dir as the node sees it: where a password file for `emqx eval` is put. */
  dataDir: string;
  script: (command: Command) => Command;
}

const onHost: RestPlacement = { usersStateFile: layout.usersStateFile, dataDir: layout.dataDir, script: (command) => command };

/**
 * The REST steps of a host: the service account's password derives from the cookie, so a new
 * cookie needs a new account password.
 */
export function hostRestSteps(facts: HostFacts, settings: Settings, cookie: Secret, salt: (name: string) => Buffer): Step[] {
  const target: ServiceTarget = { port: dashboardPort(settings), servicePassword: servicePassword(cookie) };
  const cookieChanges = cookieInConfig(facts.files[layout.configFile]?.content) !== cookie.reveal();
  return restSteps(hostRestFacts(facts), settings, target, cookieChanges, salt);
}

/** Dashboard service account, admins, ACL rules and MQTT users, all through the local REST API. */
export function restSteps(facts: RestFacts, settings: Settings, target: ServiceTarget, cookieChanges: boolean, salt: (name: string) => Buffer, place: RestPlacement = onHost): Step[] {
  const api = facts.api?.reachable ? facts.api : null;
  const why = api ? '' : `REST API not reachable now${facts.statusText !== undefined ? ` (emqx ctl status: ${facts.statusText})` : ''}; applied once EMQX runs`;
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
      ? noChange('api', serviceId, serviceTitle, 'logs in')
      : change('api', serviceId, serviceTitle, serviceReason, [place.script(serviceAccountScript(target, settings.admins))]),
  );

  const stale = settings.admins.filter((admin) => api?.logins[admin.name] !== true);
  const replaceDefault = !hasAdmin && api?.defaultAdmin !== false;
  const adminReasons = [
    ...(stale.length > 0 ? [`${stale.map((admin) => admin.name).join(', ')}: ${api ? 'wanted password does not log in' : why}`] : []),
    ...(replaceDefault ? [api ? 'admin/public still logs in' : 'retire admin/public'] : []),
  ];
  steps.push(
    adminReasons.length === 0
      ? noChange('api', 'emqx-admins', 'dashboard admins', `${settings.admins.map((admin) => admin.name).join(', ')} log in; admin/public refused`)
      : change('api', 'emqx-admins', 'dashboard admins', adminReasons.join('; '), [place.script(adminsScript(target, stale, replaceDefault, place.dataDir))]),
  );

  const rules = renderAclRules(settings);
  const aclCurrent = api?.acl ?? null;
  steps.push(
    aclCurrent?.present && aclCurrent.rules === rules
      ? noChange('api', 'emqx-acl', 'ACL rules (file authorization source)', 'up to date')
      : change('api', 'emqx-acl', 'ACL rules (file authorization source)', api ? (aclCurrent?.present ? 'rules differ' : 'source missing or unknown') : why, [place.script(aclScript(target, rules))], {
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
  facts: RestFacts,
  settings: Settings,
  target: ServiceTarget,
  api: EmqxApiFact | null,
  why: string,
  place: RestPlacement,
  salt: (name: string) => Buffer,
): Step {
  const id = 'emqx-mqtt-users';
  const title = 'MQTT users (built-in database)';
  const wanted: MqttUser[] = [
    ...settings.admins.map((admin) => ({ ...admin, superuser: true })),
    ...clientUsers(settings).map(({ name, password }) => ({ name, password, superuser: false })),
  ];
  const stateFact = facts.usersState;
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
  // One line per user, each salted by name from the prepared salts: the planner draws nothing.
  const stateContent = wanted.map((user) => renderUsersState([user], stateFact?.content, () => salt(user.name))).join('');
  const stateFile = usersStateFile(place.usersStateFile, stateContent);
  const stateCommands: Command[] = [];
  if (stateFact === null || stateFact.sha256 !== sha256(stateFile.content)) stateCommands.push(atomicWrite(stateFile));
  else {
    if ((stateFact.owner !== undefined && stateFact.owner !== 'root') || (stateFact.group !== undefined && stateFact.group !== 'root')) stateCommands.push({ argv: ['chown', 'root:root', stateFile.path] });
    if (stateFact.mode !== undefined && stateFact.mode !== stateFile.mode) stateCommands.push({ argv: ['chmod', stateFile.mode, stateFile.path] });
  }
  const leftAlone = untouchable.length > 0 ? `; left alone, names unsafe to script: ${untouchable.map((name) => JSON.stringify(name)).join(', ')}` : '';
  if (upserts.length === 0 && deletes.length === 0 && stateCommands.length === 0) {
    return noChange('api', id, title, `${wanted.length} users up to date${leftAlone}`);
  }
  const reasons = [
    ...(upserts.length > 0 ? [`set ${upserts.map((user) => user.name).join(', ')}${api ? '' : ` (${why})`}`] : []),
    ...(deletes.length > 0 ? [`delete ${deletes.join(', ')}`] : []),
    ...(upserts.length === 0 && deletes.length === 0 ? [`${place.usersStateFile} out of date`] : []),
  ];
  // The state file is written only after the API accepted every user, so a failure is retried next run.
  const rest = upserts.length > 0 || deletes.length > 0 ? [place.script(mqttUsersScript(target, upserts, deletes))] : [];
  return change('api', id, title, reasons.join('; ') + leftAlone, [...rest, ...stateCommands]);
}

