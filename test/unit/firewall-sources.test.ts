import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  firewalldRichRule,
  firewalldSourceCommands,
  parseRichRules,
  parseUfwStatus,
  ufwSourceCommands,
  type FirewalldView,
  type ListenerAccess,
} from '../../src/operations/firewall-sources.ts';
import { parseSourceRange, type SourceRange } from '../../src/settings/source-ranges.ts';
import type { Command } from '../../src/operations/step.ts';

// Issue 24 item 3. Listings below were recorded on the lab hosts (rhel-firewalld: firewalld 1.3;
// Debian 12 base with ufw 0.36.2), see notes-24-edge.md.

const range = (text: string): SourceRange => {
  const parsed = parseSourceRange(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
};

/** Plant network on plain MQTT only, TLS from anywhere: the example. */
const plantOnly: ListenerAccess[] = [
  { port: 1883, allowFrom: [range('10.20.0.0/16'), range('192.0.2.7')] },
  { port: 8883, allowFrom: null },
];

/** What firewall-cmd does with the commands, enough to run a plan twice. */
function applyFirewalld(views: { runtime: FirewalldView; permanent: FirewalldView }, commands: Command[]): void {
  for (const { argv } of commands) {
    assert.deepEqual(argv.slice(0, 2), ['firewall-cmd', '-q']);
    const permanent = argv[2] === '--permanent';
    const view = permanent ? views.permanent : views.runtime;
    const [option, value] = argv[permanent ? 3 : 2]!.split(/=(.*)/s) as [string, string];
    const rules = view.richRules.split('\n').filter(Boolean);
    if (option === '--add-port') view.ports.push(value);
    else if (option === '--remove-port') view.ports = view.ports.filter((port) => port !== value);
    else if (option === '--add-rich-rule') view.richRules = [...rules, value].join('\n');
    else if (option === '--remove-rich-rule') view.richRules = rules.filter((rule) => rule !== value).join('\n');
    else assert.fail(`unexpected firewall-cmd option ${option}`);
  }
}

describe('firewalld rich rules for listeners restricted by source', () => {
  it('spells a rule exactly as firewall-cmd --list-rich-rules prints it back', () => {
    assert.equal(
      firewalldRichRule({ port: 1883, source: range('172.17.0.0/16') }),
      'rule family="ipv4" source address="172.17.0.0/16" port port="1883" protocol="tcp" accept',
    );
    assert.equal(firewalldRichRule({ port: 8883, source: range('FD00::/8') }), 'rule family="ipv6" source address="fd00::/8" port port="8883" protocol="tcp" accept');
  });

  it('reads only rules of our shape from a listing and keeps their listed spelling for removal', () => {
    const listing = [
      'rule family="ipv4" source address="10.0.0.0/8" port port="1883" protocol="tcp" accept',
      'rule family="ipv6" source address="2001:DB8::/32" port port="8883" protocol="tcp" accept',
      'rule family="ipv4" source address="172.17.0.5/16" port port="8883" protocol="tcp" accept',
      'rule family="ipv4" source address="10.1.0.0/16" service name="ssh" accept',
      'rule family="ipv4" source address="10.1.0.0/16" port port="1883" protocol="tcp" log prefix="x" accept',
      'rule family="ipv4" source address="10.3.0.0/16" port port="1883" protocol="tcp" reject',
    ].join('\n');
    const rules = parseRichRules(listing);
    assert.deepEqual(rules.map((rule) => [rule.port, rule.source.cidr]), [[1883, '10.0.0.0/8'], [8883, '2001:db8::/32']]);
    assert.equal(rules[1]!.text, 'rule family="ipv6" source address="2001:DB8::/32" port port="8883" protocol="tcp" accept');
  });

  it('restricts a plainly open port: adds the ranges first, then closes the plain port, in both views', () => {
    const open: FirewalldView = { ports: ['1883/tcp', '8883/tcp'], richRules: '' };
    const commands = firewalldSourceCommands(open, { ...open, ports: [...open.ports] }, plantOnly).map((command) => command.argv.join(' '));
    assert.deepEqual(commands, [
      'firewall-cmd -q --add-rich-rule=rule family="ipv4" source address="10.20.0.0/16" port port="1883" protocol="tcp" accept',
      'firewall-cmd -q --add-rich-rule=rule family="ipv4" source address="192.0.2.7/32" port port="1883" protocol="tcp" accept',
      'firewall-cmd -q --remove-port=1883/tcp',
      'firewall-cmd -q --permanent --add-rich-rule=rule family="ipv4" source address="10.20.0.0/16" port port="1883" protocol="tcp" accept',
      'firewall-cmd -q --permanent --add-rich-rule=rule family="ipv4" source address="192.0.2.7/32" port port="1883" protocol="tcp" accept',
      'firewall-cmd -q --permanent --remove-port=1883/tcp',
    ]);
  });

  it('changes nothing on the second run, and undoes a restriction when the listener is opened again', () => {
    const views = { runtime: { ports: ['22/tcp'], richRules: '' }, permanent: { ports: ['22/tcp'], richRules: '' } };
    applyFirewalld(views, firewalldSourceCommands(views.runtime, views.permanent, plantOnly));
    assert.deepEqual(firewalldSourceCommands(views.runtime, views.permanent, plantOnly), []);
    assert.deepEqual(views.runtime.ports, ['22/tcp', '8883/tcp']);
    const reopened: ListenerAccess[] = [{ port: 1883, allowFrom: null }, { port: 8883, allowFrom: null }];
    const commands = firewalldSourceCommands(views.runtime, views.permanent, reopened);
    // Open first, then drop the now redundant ranges: no moment where allowed clients are refused.
    assert.deepEqual(commands.slice(0, 3).map((command) => command.argv.at(-1)!.split('=')[0]), ['--add-port', '--remove-rich-rule', '--remove-rich-rule']);
    applyFirewalld(views, commands);
    assert.equal(views.runtime.richRules, '');
    assert.deepEqual(firewalldSourceCommands(views.runtime, views.permanent, reopened), []);
  });

  it('leaves ports outside the brokers\' set and other people\'s rules alone', () => {
    const foreign: FirewalldView = {
      ports: ['8080/tcp', '22/tcp'],
      richRules: 'rule family="ipv4" source address="10.0.0.0/8" port port="5432" protocol="tcp" accept',
    };
    const commands = firewalldSourceCommands(foreign, foreign, plantOnly).map((command) => command.argv.at(-1)!);
    assert.ok(commands.every((arg) => !arg.includes('5432') && !arg.includes('8080') && !arg.includes('22/tcp')), commands.join('\n'));
  });

  it('removes a range dropped from allowFrom and a served port no longer served', () => {
    const before: FirewalldView = {
      ports: ['18083/tcp'],
      richRules: 'rule family="ipv4" source address="10.0.0.0/8" port port="1883" protocol="tcp" accept\nrule family="ipv4" source address="10.20.0.0/16" port port="1883" protocol="tcp" accept',
    };
    const wanted: ListenerAccess[] = [{ port: 1883, allowFrom: [range('10.20.0.0/16')] }];
    assert.deepEqual(firewalldSourceCommands(before, before, wanted).slice(0, 2).map((command) => command.argv.join(' ')), [
      'firewall-cmd -q --remove-rich-rule=rule family="ipv4" source address="10.0.0.0/8" port port="1883" protocol="tcp" accept',
      'firewall-cmd -q --remove-port=18083/tcp',
    ]);
  });
});

// `ufw status` on the Debian lab host after the rules of the experiment (ufw 0.36.2).
const labStatus = `Status: active

To                         Action      From
--                         ------      ----
22/tcp                     ALLOW       Anywhere                  
1883/tcp                   ALLOW       10.0.0.0/8                
1883/tcp                   ALLOW       172.17.0.1                
8883/tcp                   ALLOW       172.17.0.0/16             
8883/tcp                   ALLOW       192.168.1.0/24            
1883/tcp                   ALLOW       Anywhere                  
22/tcp (v6)                ALLOW       Anywhere (v6)             
8883/tcp                   ALLOW       fd00::/8                  
1883/tcp (v6)              ALLOW       Anywhere (v6)             
`;

describe('ufw rules for listeners restricted by source', () => {
  it('parses status lines: a restricted IPv6 rule carries no (v6) marker, a host has no /32', () => {
    const rules = parseUfwStatus(labStatus).filter((rule) => rule.port !== 22);
    assert.deepEqual(
      rules.map((rule) => `${rule.port}/${rule.proto} ${rule.action} ${rule.from === 'any' ? 'any' : rule.from.cidr}${rule.v6 ? ' v6' : ''}`),
      ['1883/tcp ALLOW 10.0.0.0/8', '1883/tcp ALLOW 172.17.0.1/32', '8883/tcp ALLOW 172.17.0.0/16', '8883/tcp ALLOW 192.168.1.0/24', '1883/tcp ALLOW any', '8883/tcp ALLOW fd00::/8 v6', '1883/tcp ALLOW any v6'],
    );
  });

  it('reads `ufw status verbose` and `ufw status numbered` the same, comments and apps skipped', () => {
    const numbered = `Status: active

     To                         Action      From
     --                         ------      ----
[ 1] 1883/tcp                   ALLOW IN    10.0.0.0/8                 # plant
[ 2] OpenSSH                    ALLOW IN    Anywhere
[ 3] 8883                       DENY IN     Anywhere
`;
    assert.deepEqual(
      parseUfwStatus(numbered).map((rule) => [rule.port, rule.proto, rule.action, rule.from === 'any' ? 'any' : rule.from.cidr]),
      [[1883, 'tcp', 'ALLOW', '10.0.0.0/8'], [8883, 'any', 'DENY', 'any']],
    );
  });

  it('turns the lab status into plant-only MQTT and open TLS, adds before deletes', () => {
    const wanted: ListenerAccess[] = [{ port: 1883, allowFrom: [range('10.0.0.0/8'), range('172.17.0.1')] }, { port: 8883, allowFrom: null }];
    assert.deepEqual(ufwSourceCommands(labStatus, wanted).map((command) => command.argv.join(' ')), [
      'ufw allow 8883/tcp',
      'ufw delete allow from 172.17.0.0/16 to any port 8883 proto tcp',
      'ufw delete allow from 192.168.1.0/24 to any port 8883 proto tcp',
      'ufw delete allow from fd00::/8 to any port 8883 proto tcp',
      'ufw delete allow 1883/tcp',
    ]);
  });

  it('asks for nothing when the status already matches, whatever order ufw lists the rules in', () => {
    const matching = `Status: active

To                         Action      From
--                         ------      ----
8883/tcp                   ALLOW       Anywhere
1883/tcp                   ALLOW       172.17.0.1
1883/tcp                   ALLOW       10.0.0.0/8
8883/tcp (v6)              ALLOW       Anywhere (v6)
`;
    const wanted: ListenerAccess[] = [{ port: 1883, allowFrom: [range('10.0.0.0/8'), range('172.17.0.1/32')] }, { port: 8883, allowFrom: null }];
    assert.deepEqual(ufwSourceCommands(matching, wanted), []);
  });

  it('adds a single host in the spelling ufw lists (no /32) and leaves foreign ports alone', () => {
    const status = 'Status: active\n\nTo                         Action      From\n--                         ------      ----\n5432/tcp                   ALLOW       10.0.0.0/8\n';
    assert.deepEqual(ufwSourceCommands(status, [{ port: 1883, allowFrom: [range('192.0.2.7/32')] }]).map((command) => command.argv.join(' ')), [
      'ufw allow from 192.0.2.7 to any port 1883 proto tcp',
    ]);
  });
});
