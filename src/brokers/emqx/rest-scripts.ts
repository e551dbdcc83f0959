import { readFileSync } from 'node:fs';
import type { Command } from '../../operations/step.ts';
import type { Secret } from '../../secret.ts';
import { userNamePattern } from '../../settings/schema.ts';
import { emqxLayout as layout } from './layout.ts';
import type { MqttUser } from './users-state.ts';

/**
 * Shell scripts that talk to EMQX's REST API on 127.0.0.1 (the dashboard listener, /api/v5).
 *
 * Secrets never become part of a process's argument list: each script travels on the standard
 * input of `sh -s`, and curl reads its URL, bearer token and JSON body from a curl config on its
 * own standard input (`curl -K -`), fed by `printf` (a shell builtin, not a process) and by quoted
 * here-documents (no expansion). `curl -K -` exists in every curl, including CentOS 7's 7.29, which
 * predates `-H @file`. Tokens stay in shell variables; nothing is echoed. bash writes a
 * here-document to a private (0600, already unlinked) temp file; dash uses a pipe.
 */

const eof = 'MQTT_PROVISION_EOF';
const usersPath = '/authentication/password_based:built_in_database/users';
/** Rows per page of the built-in database's user list (EMQX allows 1–10000; emqx_dashboard_swagger.erl). */
export const usersPageSize = 1000;

/** A value for a curl config file: double-quoted, with `\` and `"` escaped (curl's own rules). */
export function curlConfigString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A here-document holding the curl config line of a JSON body; JSON has no raw line breaks. */
export function body(value: object): string {
  return `<<'${eof}'\ndata-binary = ${curlConfigString(JSON.stringify(value))}\n${eof}`;
}

export function credentials(name: string, password: Secret): string {
  return body({ username: name, password: password.reveal() });
}

/**
 * The shell helpers every script starts with (call, login, check, wait_api …), kept in
 * rest-library.sh as the fact probe is in probe.sh, so they read and lint as shell.
 */
const libraryText = readFileSync(new URL('./rest-library.sh', import.meta.url), 'utf8').replace(/^#[^\n]*\n/, '');

/** Helpers every script starts with, for the API on this port. */
export function library(port: number): string {
  return `set -u\napi='http://127.0.0.1:${port}/api/v5'\n${libraryText}`;
}

/** Logs in as mqtt-provision's own account and keeps its token in $svc. */
function serviceLogin(servicePassword: Secret): string {
  return `if login ${credentials(layout.serviceAccount, servicePassword)}
then svc=$token
else
  printf 'mqtt-provision cannot log in to the EMQX dashboard as ${layout.serviceAccount}\\n' >&2
  exit 1
fi
`;
}

export function script(label: string, text: string): Command {
  return { argv: ['sh', '-s', '--', label], stdin: text };
}

export interface RestTarget {
  port: number;
  /** Null when the host has no cookie yet, so the service account cannot exist yet either. */
  servicePassword: Secret | null;
}

/** Where the REST API is and how mqtt-provision logs in to it. */
export interface ServiceTarget {
  port: number;
  servicePassword: Secret;
}

/**
 * The fact script: is the API up, which credentials log in (each checked by a real login), and,
 * with the first token that works, the built-in database's users and the file source's rules.
 * Output lines: `api reachable|unreachable`, `service ok|denied`, `login <index> ok|denied`,
 * `default ok|denied`, `users <status> <base64 body>`, `acl <status> <base64 body>`.
 */
export function apiFactScript(target: RestTarget, admins: Array<{ name: string; password: Secret }>): Command {
  const parts = [library(target.port), `if api_up; then printf 'api\\treachable\\n'; else printf 'api\\tunreachable\\n'; exit 0; fi\nreader=''\nadminok=''\n`];
  if (target.servicePassword) {
    parts.push(`if login ${credentials(layout.serviceAccount, target.servicePassword)}
then printf 'service\\tok\\n'; reader=$token
else printf 'service\\tdenied\\n'
fi
`);
  }
  admins.forEach((admin, index) => {
    parts.push(`if login ${credentials(admin.name, admin.password)}
then printf 'login\\t${index}\\tok\\n'; [ -n "$reader" ] || reader=$token${admin.name === 'admin' ? '; adminok=1' : ''}
else printf 'login\\t${index}\\tdenied\\n'
fi
`);
  });
  // A failed login counts against the account, so admin/public is tried only when it can matter.
  parts.push(`if [ -z "$adminok" ]; then
  if login ${body({ username: 'admin', password: 'public' })}
  then printf 'default\\tok\\n'; [ -n "$reader" ] || reader=$token
  else printf 'default\\tdenied\\n'
  fi
fi
if [ -n "$reader" ]; then
  token=$reader
  get_pages users '${usersPath}?' ${usersPageSize}
  resp=$(call GET /authorization/sources/file </dev/null)
  printf 'acl\\t%s\\t%s\\n' "$(code_of "$resp")" "$(body_of "$resp" | base64 | tr -d '\\n')"
fi
`);
  return script('mqtt-provision-emqx-facts', parts.join(''));
}

/**
 * Creates mqtt-provision's dashboard account (again) when its password does not log in: a wanted
 * admin's token, else the factory admin/public, is used once to delete and re-create it.
 */
export function serviceAccountScript(target: ServiceTarget, admins: Array<{ name: string; password: Secret }>): Command {
  const candidates = [...admins, { name: 'admin', password: null }]
    .map(
      (admin) => `if [ -z "$have" ] && login ${admin.password ? credentials(admin.name, admin.password) : body({ username: 'admin', password: 'public' })}
then have=1
fi
`,
    )
    .join('');
  const text = `${library(target.port)}wait_api
if login ${credentials(layout.serviceAccount, target.servicePassword)}
then exit 0
fi
have=''
${candidates}if [ -z "$have" ]; then
  printf 'no dashboard login works: neither a wanted admin password nor admin/public; reset one on the host with "emqx ctl admins passwd NAME" and run again\\n' >&2
  exit 1
fi
resp=$(call DELETE /users/${layout.serviceAccount} </dev/null)
check 'removing the old ${layout.serviceAccount} account' "$resp" '204 404'
resp=$(call POST /users ${body({
    username: layout.serviceAccount,
    password: target.servicePassword.reveal(),
    description: 'mqtt-provision manages users and ACL rules with this account; its password derives from the cookie',
  })}
)
check 'creating the ${layout.serviceAccount} account' "$resp" '200 201'
if ! login ${credentials(layout.serviceAccount, target.servicePassword)}
then
  printf 'the new ${layout.serviceAccount} account does not log in\\n' >&2
  exit 1
fi
`;
  return script('mqtt-provision-emqx-service-account', text);
}

/**
 * Sets a dashboard user's password without the old one, through EMQX's CLI: `emqx eval` has the
 * node run emqx_dashboard_admin:change_password/2 (what `emqx ctl admins passwd` calls), reading
 * the password from a 0600 file in EMQX's data dir that the node's user may read. `emqx ctl admins
 * passwd NAME PASSWORD` would put the password on a command line; the file name is no secret.
 */
function cliPasswordFunction(dataDir: string): string {
  return `datadir='${dataDir}'
pwfile=''
trap 'rm -f "$pwfile"' EXIT
# cli_passwd NAME: the password on stdin (a quoted here-document), never in an argument.
cli_passwd() {
  pw=$(cat)
  pwfile=$(umask 077 && mktemp "$datadir/.mqtt-provision-pw.XXXXXX") || { printf 'cannot create a password file in %s\\n' "$datadir" >&2; exit 1; }
  printf '%s' "$pw" > "$pwfile"
  pw=''
  chown ${layout.user}:${layout.user} "$pwfile" 2>/dev/null || true
  out=$(emqx eval "{ok, B} = file:read_file(\\"$pwfile\\"), case emqx_dashboard_admin:change_password(<<\\"$1\\">>, B) of {ok, _} -> mqtt_provision_password_set; Error -> Error end" 2>&1)
  rm -f "$pwfile"
  case "$out" in *mqtt_provision_password_set*) return 0 ;; esac
  printf 'emqx eval could not set the password of dashboard user %s: %s\\n' "$1" "$(printf '%s' "$out" | head -c 300)" >&2
  exit 1
}
`;
}

/** A password as a here-document line: no line break, and not the terminator. */
function passwordDocument(password: Secret): string {
  const text = password.reveal();
  if (/[\r\n]/.test(text) || text === eof) throw new Error('a dashboard password cannot hold a line break');
  return `<<'${eof}'\n${text}\n${eof}`;
}

/**
 * Sets dashboard admins whose wanted password does not log in. "admin" is EMQX's default user,
 * which the API refuses to delete (400 NOT_ALLOWED, emqx_dashboard_api.erl): while it still logs
 * in with "public" it changes its own password (POST /users/admin/change_pwd), otherwise the CLI
 * sets it (cliPasswordFunction). Any other admin is deleted and re-created with the service account
 * (the API changes a password only given the old one). Then, unless "admin" is a wanted admin, the
 * factory admin/public password is replaced with a random one that is never stored.
 */
export function adminsScript(
  target: ServiceTarget,
  admins: Array<{ name: string; password: Secret }>,
  replaceDefault: boolean,
  dataDir: string = layout.dataDir,
): Command {
  const recreate = (admin: { name: string; password: Secret }) =>
    `  token=$svc
  resp=$(call DELETE /users/${admin.name} </dev/null)
  check 'removing dashboard user ${admin.name}' "$resp" '204 404'
  resp=$(call POST /users ${body({ username: admin.name, password: admin.password.reveal(), description: 'managed by mqtt-provision' })}
)
  check 'creating dashboard user ${admin.name}' "$resp" '200 201'
`;
  const ensure = admins
    .map((admin) =>
      admin.name === 'admin'
        ? `if ! login ${credentials(admin.name, admin.password)}
then
  if login ${body({ username: 'admin', password: 'public' })}
  then
    resp=$(call POST /users/admin/change_pwd ${body({ old_pwd: 'public', new_pwd: admin.password.reveal() })}
)
    check 'changing the default admin password' "$resp" '204'
  else
    cli_passwd admin ${passwordDocument(admin.password)}
  fi
fi
`
        : `if ! login ${credentials(admin.name, admin.password)}
then
${recreate(admin)}fi
`,
    )
    .join('');
  const retire = replaceDefault
    ? `if login ${body({ username: 'admin', password: 'public' })}
then
  new="Mp-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \\n')"
  resp=$(printf 'data-binary = "{\\\\"old_pwd\\\\":\\\\"public\\\\",\\\\"new_pwd\\\\":\\\\"%s\\\\"}"\\n' "$new" | call POST /users/admin/change_pwd)
  check 'replacing the default admin password' "$resp" '204'
fi
`
    : '';
  const cli = admins.some((admin) => admin.name === 'admin') ? cliPasswordFunction(dataDir) : '';
  return script('mqtt-provision-emqx-admins', `${library(target.port)}${cli}wait_api\n${serviceLogin(target.servicePassword)}${ensure}${retire}`);
}

/** Creates or updates MQTT users in the built-in database (PUT, or POST when absent) and deletes unlisted ones. */
export function mqttUsersScript(target: ServiceTarget, upserts: MqttUser[], deletes: string[]): Command {
  // Names are pasted into the script: refuse anything but the validated user name shape.
  for (const name of [...upserts.map((user) => user.name), ...deletes]) {
    if (!userNamePattern.test(name)) throw new Error(`refusing to script an EMQX user named ${JSON.stringify(name)}`);
  }
  const upsert = upserts
    .map(
      (user) => `resp=$(call PUT ${usersPath}/${user.name} ${body({ password: user.password.reveal(), is_superuser: user.superuser })}
)
if [ "$(code_of "$resp")" = 404 ]; then
  resp=$(call POST ${usersPath} ${body({ user_id: user.name, password: user.password.reveal(), is_superuser: user.superuser })}
)
fi
check 'setting MQTT user ${user.name}' "$resp" '200 201'
`,
    )
    .join('');
  const remove = deletes
    .map((name) => `resp=$(call DELETE ${usersPath}/${name} </dev/null)\ncheck 'deleting MQTT user ${name}' "$resp" '204 404'\n`)
    .join('');
  return script('mqtt-provision-emqx-mqtt-users', `${library(target.port)}wait_api\n${serviceLogin(target.servicePassword)}token=$svc\n${upsert}${remove}`);
}

/** Replaces the rules of the `file` authorization source (EMQX writes them to its data dir and reloads them). */
export function aclScript(target: ServiceTarget, rules: string): Command {
  const source = body({ type: 'file', enable: true, rules });
  const text = `${library(target.port)}wait_api
${serviceLogin(target.servicePassword)}token=$svc
resp=$(call PUT /authorization/sources/file ${source}
)
if [ "$(code_of "$resp")" = 404 ]; then
  resp=$(call POST /authorization/sources ${source}
)
fi
check 'setting the ACL rules' "$resp" '200 204'
`;
  return script('mqtt-provision-emqx-acl', text);
}
