import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emqxConfig } from '../../src/brokers/emqx/files.ts';
import { mosquittoConfig, mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import { listenerAccess } from '../../src/brokers/served-ports.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import { firewallStep } from '../../src/operations/firewall.ts';
import { Secret } from '../../src/secret.ts';
import { fixtureCookie, parseHocon } from '../fixtures/emqx-facts.ts';
import { emqxSettings } from '../fixtures/emqx-settings.ts';
import { convergedFacts, fixedSalt, mosquittoFacts } from '../fixtures/facts.ts';
import { planMosquitto } from '../fixtures/plan.ts';
import { commandsOf } from '../fixtures/plan-commands.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

// Issue 24 item 3: settings.listenerAccess → the firewall step's ListenerAccess list, the planners'
// firewall commands from the probe's facts, and the bind address in both brokers' config.

/** Plain MQTT from the plant network only, TLS-less WebSocket from anywhere: the issue's example. */
const plantOnly = { listeners: { mqtt: 1883, websocket: 8083 }, listenerAccess: { mqtt: { allowFrom: ['10.20.0.0/16', '192.0.2.7', '10.20.0.0/16'] } } };
const rule = (cidr: string, port = 1883) => `rule family="ipv4" source address="${cidr}" port port="${port}" protocol="tcp" accept`;

/** A converged Rocky 9 host whose firewalld lists these ports and rich rules in both views. */
function firewalldHost(ports: string, rules: string[], settings = mosquittoSettings(plantOnly)): HostFacts {
  const probe = [`firewalld\trunning\t${ports}\t${ports}\tssh`, ...rules.flatMap((text) => [`firewalldrule\truntime\t${text}`, `firewalldrule\tpermanent\t${text}`])].join('\n');
  const base = mosquittoFacts('rocky9', `epel\t1\n${probe}\n`);
  return convergedFacts(base, mosquittoFiles(settings, base, fixedSalt()), '2.0.11-2.el9');
}

/** A converged Debian 12 host with an active ufw listing these rule lines. */
function ufwHost(lines: string[], settings = mosquittoSettings(plantOnly)): HostFacts {
  const status = ['Status: active', '', 'To                         Action      From', '--                         ------      ----', ...lines];
  const base = mosquittoFacts('debian12', `cmd\tufw\nufw\tactive\t\n${status.map((line) => `ufwline\t${line}`).join('\n')}\n`);
  return convergedFacts(base, mosquittoFiles(settings, base, fixedSalt()));
}

describe('listener access (settings.listenerAccess)', () => {
  it('keeps every existing settings file valid: no block means every port open to anyone, bound to all addresses', () => {
    const settings = mosquittoSettings({ listeners: { mqtt: 1883, websocket: 8083 } });
    assert.deepEqual(settings.listenerAccess, {});
    assert.deepEqual(listenerAccess(settings), [{ port: 1883, allowFrom: null }, { port: 8083, allowFrom: null }]);
    assert.match(mosquittoConfig(settings), /^listener 1883\nprotocol mqtt$/m);
  });

  it('gives the firewall step canonical ranges without repeats, per served port', () => {
    assert.deepEqual(listenerAccess(mosquittoSettings(plantOnly)), [
      { port: 1883, allowFrom: [{ family: 'ipv4', cidr: '10.20.0.0/16' }, { family: 'ipv4', cidr: '192.0.2.7/32' }] },
      { port: 8083, allowFrom: null },
    ]);
  });

  it('firewalld: adds the rich rules, then removes the plain port, in both views; then nothing', () => {
    const steps = planMosquitto(firewalldHost('1883/tcp 8083/tcp', []), mosquittoSettings(plantOnly), fixedSalt());
    assert.deepEqual(commandsOf(steps), [
      `firewall-cmd -q --add-rich-rule=${rule('10.20.0.0/16')}`,
      `firewall-cmd -q --add-rich-rule=${rule('192.0.2.7/32')}`,
      'firewall-cmd -q --remove-port=1883/tcp',
      `firewall-cmd -q --permanent --add-rich-rule=${rule('10.20.0.0/16')}`,
      `firewall-cmd -q --permanent --add-rich-rule=${rule('192.0.2.7/32')}`,
      'firewall-cmd -q --permanent --remove-port=1883/tcp',
    ]);
    assert.equal(steps.find((step) => step.id === 'firewall')?.kind, 'firewall');
    const done = firewalldHost('8083/tcp', [rule('192.0.2.7/32'), rule('10.20.0.0/16')]);
    assert.deepEqual(commandsOf(planMosquitto(done, mosquittoSettings(plantOnly), fixedSalt())), []);
  });

  it('firewalld: back to open adds the plain port and removes our rules, leaving other rich rules alone', () => {
    const open = mosquittoSettings({ listeners: plantOnly.listeners });
    const ssh = 'rule family="ipv4" source address="10.1.0.0/16" service name="ssh" accept';
    const facts = firewalldHost('8083/tcp', [rule('10.20.0.0/16'), ssh], open);
    assert.deepEqual(commandsOf(planMosquitto(facts, open, fixedSalt())), [
      'firewall-cmd -q --add-port=1883/tcp',
      `firewall-cmd -q --remove-rich-rule=${rule('10.20.0.0/16')}`,
      'firewall-cmd -q --permanent --add-port=1883/tcp',
      `firewall-cmd -q --permanent --remove-rich-rule=${rule('10.20.0.0/16')}`,
    ]);
  });

  it('ufw: a rule restricted by source is not "open to all": opening the port adds the plain rule and removes it', () => {
    const open = mosquittoSettings({ listeners: plantOnly.listeners });
    const facts = ufwHost(['1883/tcp                   ALLOW       10.0.0.0/8', '8083/tcp                   ALLOW       Anywhere', '8083/tcp (v6)              ALLOW       Anywhere (v6)'], open);
    assert.deepEqual(commandsOf(planMosquitto(facts, open, fixedSalt())), ['ufw allow 1883/tcp', 'ufw delete allow from 10.0.0.0/8 to any port 1883 proto tcp']);
  });

  it('ufw: restricting adds one from rule per range, then deletes the plain rule; then nothing', () => {
    const plain = ['1883/tcp                   ALLOW       Anywhere', '8083/tcp                   ALLOW       Anywhere', '1883/tcp (v6)              ALLOW       Anywhere (v6)', '8083/tcp (v6)              ALLOW       Anywhere (v6)'];
    assert.deepEqual(commandsOf(planMosquitto(ufwHost(plain), mosquittoSettings(plantOnly), fixedSalt())), [
      'ufw allow from 10.20.0.0/16 to any port 1883 proto tcp',
      'ufw allow from 192.0.2.7 to any port 1883 proto tcp',
      'ufw delete allow 1883/tcp',
    ]);
    const done = ['1883/tcp                   ALLOW       10.20.0.0/16', '1883/tcp                   ALLOW       192.0.2.7', ...plain.filter((line) => line.startsWith('8083'))];
    assert.deepEqual(commandsOf(planMosquitto(ufwHost(done), mosquittoSettings(plantOnly), fixedSalt())), []);
  });

  it('firewalld: names the zone service "mqtt" that opens a restricted port to everyone, and leaves it alone', () => {
    const base = mosquittoFacts('rocky9', `firewalld\trunning\t8083/tcp\t8083/tcp\tssh mqtt\tssh mqtt\nfirewalldrule\truntime\t${rule('10.20.0.0/16')}\nfirewalldrule\truntime\t${rule('192.0.2.7/32')}\nfirewalldrule\tpermanent\t${rule('10.20.0.0/16')}\nfirewalldrule\tpermanent\t${rule('192.0.2.7/32')}\n`);
    const step = firewallStep(base, listenerAccess(mosquittoSettings(plantOnly)), 'auto');
    assert.equal(step.change, false);
    assert.match(step.reason, /warning: firewalld service "mqtt" opens 1883\/tcp to everyone/);
    const open = firewallStep(base, listenerAccess(mosquittoSettings({ listeners: plantOnly.listeners })), 'auto');
    assert.doesNotMatch(open.reason, /warning/, 'an open port needs no warning');
    assert.ok(open.commands.every(({ argv }) => !argv.some((arg) => arg.includes('service'))), 'the service is never removed');
  });

  it('firewall off: nothing, whatever the firewall lists', () => {
    const step = firewallStep(firewalldHost('', []), listenerAccess(mosquittoSettings({ listeners: { mqtt: 1883 } })), 'off');
    assert.equal(step.change, false);
  });

  it('Mosquitto binds a listener to its address: `listener PORT ADDRESS`', () => {
    const conf = mosquittoConfig(mosquittoSettings({ listeners: { mqtt: 1883, websocket: 8083 }, listenerAccess: { mqtt: { bind: '10.20.0.5' }, websocket: { bind: 'fd00::5' } } }));
    assert.match(conf, /^listener 1883 10\.20\.0\.5\nprotocol mqtt$/m);
    assert.match(conf, /^listener 8083 fd00::5\nprotocol websockets$/m);
  });

  it('EMQX binds a listener as IP:PORT or [IPv6]:PORT, all addresses otherwise', async () => {
    const settings = emqxSettings({ listeners: { mqtt: 1883, websocket: 8083, dashboard: 18083 }, listenerAccess: { mqtt: { bind: '10.20.0.5' }, websocket: { bind: 'fd00::5' }, dashboard: { bind: '127.0.0.1' } } });
    const parsed = (await parseHocon(emqxConfig(settings, { version: '5.8.6', nodeName: 'emqx@127.0.0.1', cookie: new Secret(fixtureCookie) }))) as any;
    assert.equal(parsed.listeners.tcp.default.bind, '10.20.0.5:1883');
    assert.equal(parsed.listeners.ws.default.bind, '[fd00::5]:8083');
    assert.equal(parsed.dashboard.listeners.http.bind, '127.0.0.1:18083');
    const open = (await parseHocon(emqxConfig(emqxSettings({ listeners: { mqtt: 1883 } }), { version: '5.8.6', nodeName: 'emqx@127.0.0.1', cookie: new Secret(fixtureCookie) }))) as any;
    assert.equal(open.listeners.tcp.default.bind, '0.0.0.0:1883');
  });
});
