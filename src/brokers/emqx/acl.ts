import { clientUsers, type Settings } from '../../settings/load.ts';

const actions = { read: 'subscribe', write: 'publish', readwrite: 'all' } as const;

/** An Erlang string literal: the ACL file is read with file:consult/1. */
function erlangString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The rules of EMQX's `file` authorization source (Erlang terms, first match wins), from the same
 * `users[].acl` that drives Mosquitto's ACL file. A user without rules may use every topic, as with
 * Mosquitto; admins are superusers in the authentication database and skip these rules.
 */
export function renderAclRules(settings: Settings): string {
  const lines = ['%% Managed by mqtt-provision: replaced on every run. Admins are superusers and skip these rules.'];
  for (const user of clientUsers(settings)) {
    const who = `{username, ${erlangString(user.name)}}`;
    if (user.acl.length === 0) lines.push(`{allow, ${who}, all, ["#"]}.`);
    for (const rule of user.acl) lines.push(`{allow, ${who}, ${actions[rule.access]}, [${erlangString(rule.topic)}]}.`);
  }
  lines.push('%% Everything else is denied (authorization.no_match = deny says the same).', '{deny, all}.');
  return `${lines.join('\n')}\n`;
}
