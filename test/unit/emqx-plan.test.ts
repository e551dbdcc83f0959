import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkConfigCommand } from '../../src/brokers/emqx/config-steps.ts';
import { planEmqx } from '../fixtures/plan.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { convergedEmqxFacts, emqxFacts, fixtureCookie, planOptions } from '../fixtures/emqx-facts.ts';
import { clusterSettings, emqxSettings } from '../fixtures/emqx-settings.ts';
import {
  aptWaiting,
  backup,
  changedIds,
  clearPending,
  commandsOf,
  markPending as markPendingFor,
  pendingMarker,
  restore,
  write,
  resetFailed,
} from '../fixtures/plan-commands.ts';

/**
 * Planner fixtures: facts as the probe reports them → the exact commands a host would run. No
 * EMQX runs here (its packages cannot be downloaded on this machine); docs/emqx.md says how to
 * run the real thing.
 */

const conf = '/etc/emqx/emqx.conf';
const state = '/etc/emqx/mqtt-provision-users';
const cache = '/var/cache/mqtt-provision';

const cacheHead = 'sh -c set -e; umask 022; mkdir -p "${1%/*}"; tmp="$1.mqtt-provision.$$.tmp"; trap \'rm -f "$tmp"\' EXIT; ';
const download = (file: string, version: string) =>
  `${cacheHead}curl -fsSL --retry 3 -o "$tmp" "$2"; mv -f "$tmp" "$1" mqtt-provision-download ${cache}/${file} https://www.emqx.com/en/downloads/broker/${version}/${file}`;
const waitStarted =
  'sh -c i=0; while [ "$i" -lt 120 ]; do case "$(emqx ctl status 2>&1)" in *"is started"*) exit 0 ;; esac; i=$((i + 1)); sleep 1; done; ' +
  'echo "EMQX did not report started within 120 s" >&2; exit 1 mqtt-provision-wait-emqx';

/** `emqx check_config`, wrapped so a failure names the file EMQX blamed (test/unit/emqx-check-config.test.ts). */
const checkConfig = checkConfigCommand.argv.join(' ');
/** From writing emqx.conf to the last REST call: the same on every OS. */
const marker = pendingMarker('emqx');
const markPending = markPendingFor('emqx');
/** Writing a new emqx.conf: checked before the restart, backup and marker cleared after it. */
const rewriteAndRestart = [
  markPending,
  backup(conf),
  write(conf, 'root:emqx', '0640'),
  checkConfig,
  resetFailed('emqx'),
  'systemctl restart emqx',
  'systemctl is-active --quiet emqx',
  waitStarted,
  `rm -f ${conf}.mqtt-provision.bak`,
  clearPending('emqx'),
];
const configureAndRestart = [
  ...rewriteAndRestart,
  'systemctl enable emqx',
  'sh -s -- mqtt-provision-emqx-service-account',
  'sh -s -- mqtt-provision-emqx-admins',
  'sh -s -- mqtt-provision-emqx-acl',
  'sh -s -- mqtt-provision-emqx-mqtt-users',
  write(state, 'root:root', '0600'),
];

function converged(facts: HostFacts, settings = emqxSettings()): HostFacts {
  return convergedEmqxFacts(facts, settings);
}

describe('EMQX planner', () => {
  it('reads architecture, host names and `emqx ctl status` from the probe', () => {
    const facts = emqxFacts('rocky9', "emqx\tstatus\t0\tNode 'emqx@127.0.0.1' 5.8.6 is started\n");
    assert.equal(facts.arch, 'x86_64');
    assert.deepEqual(facts.hostNames, ['mq1', '10.0.0.7', 'fd00::7']);
    assert.deepEqual(facts.emqx, { status: { code: 0, text: "Node 'emqx@127.0.0.1' 5.8.6 is started" }, api: null });
    assert.equal(emqxFacts('rocky9').emqx, undefined, 'no emqx command, no status');
  });

  it('installs the pinned 5.8.6 el7 build with EPEL and openssl11 on a fresh CentOS 7 host', () => {
    // release.yaml of v5.8.1–v5.8.9 pushes el7 amd64 and arm64 rpms again (v5.8.0 has no el7 job).
    const steps = planEmqx(emqxFacts('centos7', 'firewalld\trunning\t\t\n'), emqxSettings(), planOptions());
    const rpm = 'emqx-5.8.6-el7-amd64.rpm';
    assert.deepEqual(commandsOf(steps), [
      'yum install -y epel-release',
      'yum install -y openssl11',
      download(rpm, '5.8.6'),
      `yum install -y ${cache}/${rpm}`,
      `rm -f ${cache}/${rpm}`,
      ...configureAndRestart,
      'firewall-cmd -q --add-port=1883/tcp',
      'firewall-cmd -q --permanent --add-port=1883/tcp',
    ]);
    assert.equal(steps.find((step) => step.id === 'package:emqx')!.reason, 'not installed');
  });

  it('refuses 5.8.0 on CentOS 7, the one release without an el7 build, and takes 5.7.2 and arm64', () => {
    assert.throws(() => planEmqx(emqxFacts('centos7'), emqxSettings({ version: '5.8.0' }), planOptions()), /EMQX 5\.8\.0 has no el7 build.*5\.8\.1 or later, or 5\.7\.2/);
    assert.equal(commandsOf(planEmqx(emqxFacts('centos7'), emqxSettings({ version: '5.7.2' }), planOptions()))[3], `yum install -y ${cache}/emqx-5.7.2-el7-amd64.rpm`);
    assert.equal(commandsOf(planEmqx(emqxFacts('centos7', 'arch\taarch64\n'), emqxSettings(), planOptions()))[3], `yum install -y ${cache}/emqx-5.8.6-el7-arm64.rpm`);
  });

  it('installs the pinned 5.8.6 el9 build with dnf on a fresh Rocky 9 host', () => {
    const steps = planEmqx(emqxFacts('rocky9', 'firewalld\trunning\t\t\n'), emqxSettings({ listeners: { mqtt: 1883, dashboard: 18083 } }), planOptions());
    const rpm = 'emqx-5.8.6-el9-amd64.rpm';
    assert.deepEqual(commandsOf(steps), [
      download(rpm, '5.8.6'),
      `dnf install -y ${cache}/${rpm}`,
      `rm -f ${cache}/${rpm}`,
      ...configureAndRestart,
      'firewall-cmd -q --add-port=1883/tcp',
      'firewall-cmd -q --add-port=18083/tcp',
      'firewall-cmd -q --permanent --add-port=1883/tcp',
      'firewall-cmd -q --permanent --add-port=18083/tcp',
    ]);
    assert.equal(steps.at(-1)!.id, 'firewall', 'the dashboard port opens only after admin/public is retired');
  });

  it('installs curl first, then the debian12 build with apt on a fresh Debian 12 host', () => {
    const steps = planEmqx(emqxFacts('debian12'), emqxSettings(), planOptions());
    const deb = 'emqx-5.8.6-debian12-amd64.deb';
    assert.deepEqual(commandsOf(steps), [
      aptWaiting('env DEBIAN_FRONTEND=noninteractive dpkg --configure -a'),
      aptWaiting('apt-get update -q'),
      aptWaiting('env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold curl'),
      download(deb, '5.8.6'),
      aptWaiting('apt-get update -q'),
      aptWaiting(`env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${cache}/${deb}`),
      `rm -f ${cache}/${deb}`,
      ...configureAndRestart,
    ]);
  });

  it('installs the ubuntu22.04 build on a fresh Ubuntu 22.04 host and allows its ports in ufw', () => {
    const steps = planEmqx(emqxFacts('ubuntu2204', 'ufw\tactive\t22/tcp\n'), emqxSettings({ listeners: { mqtt: 1883, websocket: 8083 } }), planOptions());
    const deb = 'emqx-5.8.6-ubuntu22.04-amd64.deb';
    assert.deepEqual(commandsOf(steps), [
      download(deb, '5.8.6'),
      aptWaiting('apt-get update -q'),
      aptWaiting(`env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${cache}/${deb}`),
      `rm -f ${cache}/${deb}`,
      ...configureAndRestart,
      'ufw allow 1883/tcp',
      'ufw allow 8083/tcp',
    ]);
  });

  it('picks the arm64 build on an aarch64 host', () => {
    const facts = emqxFacts('rocky9', 'arch\taarch64\n');
    assert.equal(commandsOf(planEmqx(facts, emqxSettings(), planOptions()))[1], `dnf install -y ${cache}/emqx-5.8.6-el9-arm64.rpm`);
  });

  it('refuses an OS without an EMQX build, naming it', () => {
    const facts = emqxFacts('rocky9');
    facts.os = { id: 'fedora', idLike: [], versionId: '40', prettyName: 'Fedora Linux 40' };
    assert.throws(() => planEmqx(facts, emqxSettings(), planOptions()), /EMQX publishes no package for Fedora Linux 40 .*--package FILE/);
  });

  it('plans no command at all on an already converged host', () => {
    for (const os of ['centos7', 'rocky9', 'debian12', 'ubuntu2204'] as const) {
      const base = os === 'debian12' ? emqxFacts(os, 'cmd\tcurl\n') : emqxFacts(os, 'epel\t1\n');
      const steps = planEmqx(converged(base), emqxSettings(), planOptions());
      assert.deepEqual(commandsOf(steps), [], os);
      assert.ok(steps.every((step) => step.reason.length > 0), 'every no-op says why');
    }
  });

  it('keeps the cookie already on the host instead of generating a new one', () => {
    const facts = converged(emqxFacts('rocky9'));
    const steps = planEmqx(facts, emqxSettings(), { ...planOptions(), generateCookie: () => 'a-different-cookie-0123456789' });
    assert.deepEqual(commandsOf(steps), []);
    assert.match(facts.files[conf]!.content!, new RegExp(`cookie = "${fixtureCookie}"`));
  });

  it('replaces the packaged insecure cookie', () => {
    const facts = converged(emqxFacts('rocky9'));
    facts.files[conf] = { ...facts.files[conf]!, sha256: 'packaged', content: 'node {\n  name = "emqx@127.0.0.1"\n  cookie = "emqxsecretcookie"\n}\n' };
    const steps = planEmqx(facts, emqxSettings(), planOptions());
    assert.deepEqual(changedIds(steps), ['pending:emqx', `file:${conf}`, 'restart:emqx', 'emqx-account:mqtt_provision']);
    const write = steps.find((step) => step.id === `file:${conf}`)!.commands.find((command) => command.argv.includes('mqtt-provision-write'))!;
    assert.match(write.stdin!, new RegExp(`cookie = "${fixtureCookie}"`));
  });

  it('still restarts after an earlier run that wrote emqx.conf but stopped before its restart', () => {
    const facts = converged(emqxFacts('rocky9'));
    facts.files[marker] = { sha256: 'e3b0', mode: '0644', owner: 'root', group: 'root', content: '' };
    const steps = planEmqx(facts, emqxSettings(), planOptions());
    assert.deepEqual(changedIds(steps), ['pending:emqx', 'restart:emqx']);
    assert.match(steps.find((step) => step.id === 'restart:emqx')!.reason, /stopped before restarting/);
  });

  it('rewrites a drifted emqx.conf, checks it, restarts once and rolls back exactly that file', () => {
    const facts = converged(emqxFacts('rocky9'));
    facts.files[conf] = { ...facts.files[conf]!, sha256: 'drifted', content: `node {\n  cookie = "${fixtureCookie}"\n}\nmqtt.max_mqueue_len = 1000\n` };
    const steps = planEmqx(facts, emqxSettings(), planOptions());
    assert.deepEqual(changedIds(steps), ['pending:emqx', `file:${conf}`, 'restart:emqx']);
    assert.deepEqual(commandsOf(steps), rewriteAndRestart);
    const file = steps.find((step) => step.id === `file:${conf}`)!;
    assert.deepEqual(file.rollback!.map((command) => command.argv.join(' ')), [restore(conf)], 'a rejected config is put back before any restart');
    const restart = steps.find((step) => step.id === 'restart:emqx')!;
    assert.deepEqual(restart.rollback!.map((command) => command.argv.join(' ')), [restore(conf), 'systemctl stop emqx', resetFailed('emqx'), 'systemctl start emqx', `rm -f ${conf}.mqtt-provision.bak`, `rm -f ${marker}`]);
    assert.doesNotMatch(file.diff!, /cookie|max_mqueue_len/, 'emqx.conf holds the cookie: no diff is shown');
  });

  it('fixes owner and mode of emqx.conf without a check or a restart', () => {
    const facts = converged(emqxFacts('rocky9'));
    facts.files[conf] = { ...facts.files[conf]!, mode: '0644', group: 'root' };
    assert.deepEqual(commandsOf(planEmqx(facts, emqxSettings(), planOptions())), [`chown root:emqx ${conf}`, `chmod 0640 ${conf}`]);
  });

  it('changes an admin password through the REST API, without a restart', () => {
    const facts = converged(emqxFacts('rocky9'));
    const settings = emqxSettings({ admins: [{ name: 'admin', password: 'a-new-password-2' }] });
    facts.emqx!.api!.logins = { admin: false };
    facts.emqx!.api!.defaultAdmin = false;
    const steps = planEmqx(facts, settings, planOptions());
    assert.deepEqual(changedIds(steps), ['emqx-admins', 'emqx-mqtt-users']);
    assert.deepEqual(commandsOf(steps), ['sh -s -- mqtt-provision-emqx-admins', 'sh -s -- mqtt-provision-emqx-mqtt-users', write(state, 'root:root', '0600')]);
    assert.equal(steps.find((step) => step.id === 'emqx-admins')!.reason, 'admin: wanted password does not log in');
    assert.equal(steps.find((step) => step.id === 'emqx-mqtt-users')!.reason, 'set admin');
  });

  it('adds an admin and retires admin/public when "admin" is not a wanted admin', () => {
    const settings = emqxSettings({ admins: [{ name: 'ops', password: 'ops-password-1' }] });
    const facts = converged(emqxFacts('rocky9'), settings);
    facts.emqx!.api!.defaultAdmin = true;
    const steps = planEmqx(facts, settings, planOptions());
    assert.deepEqual(changedIds(steps), ['emqx-admins']);
    assert.equal(steps.find((step) => step.id === 'emqx-admins')!.reason, 'admin/public still logs in');
  });

  it('re-creates its own dashboard account when the cookie changed', () => {
    const facts = converged(emqxFacts('rocky9'));
    facts.emqx!.api!.serviceLogin = false;
    assert.deepEqual(commandsOf(planEmqx(facts, emqxSettings(), planOptions())), ['sh -s -- mqtt-provision-emqx-service-account']);
  });

  it('fails before changing anything when no dashboard login works', () => {
    const facts = converged(emqxFacts('rocky9'));
    Object.assign(facts.emqx!.api!, { serviceLogin: false, logins: { admin: false }, defaultAdmin: false });
    assert.throws(() => planEmqx(facts, emqxSettings(), planOptions()), /no EMQX dashboard login works.*emqx ctl admins passwd NAME/);
  });

  it('sets MQTT users and ACL rules, and deletes users the settings no longer list', () => {
    const settings = emqxSettings({ users: [{ name: 'sensor', password: 'p4ss', acl: [{ topic: 'sensors/#', access: 'write' }] }] });
    const facts = converged(emqxFacts('rocky9'));
    facts.emqx!.api!.mqttUsers = [...facts.emqx!.api!.mqttUsers!, { name: 'old', superuser: false }];
    const steps = planEmqx(facts, settings, planOptions());
    assert.deepEqual(changedIds(steps), ['emqx-acl', 'emqx-mqtt-users']);
    assert.equal(steps.find((step) => step.id === 'emqx-mqtt-users')!.reason, 'set sensor; delete old');
    assert.match(steps.find((step) => step.id === 'emqx-acl')!.diff!, /^\+\{allow, \{username, "sensor"\}, publish, \["sensors\/#"\]\}\.$/m);
  });

  it('creates a consumer\'s user in the built-in database with subscribe-only rules for its topics', () => {
    const settings = emqxSettings({ consumers: [{ name: 'telegraf', kind: 'telegraf', topics: ['sensors/+/temp'], password: 'tg-pass' }] });
    const steps = planEmqx(converged(emqxFacts('rocky9')), settings, planOptions());
    assert.deepEqual(changedIds(steps), ['emqx-acl', 'emqx-mqtt-users']);
    assert.equal(steps.find((step) => step.id === 'emqx-mqtt-users')!.reason, 'set telegraf');
    const acl = steps.find((step) => step.id === 'emqx-acl')!.diff!;
    assert.match(acl, /^\+\{allow, \{username, "telegraf"\}, subscribe, \["sensors\/\+\/temp"\]\}\.$/m);
    assert.doesNotMatch(acl, /"telegraf"\}, (publish|all)/);
  });

  it('never scripts a user name read back from the host that our rules would refuse', () => {
    const hostile = "a$(touch /tmp/pwned)'b";
    const facts = converged(emqxFacts('rocky9'));
    facts.emqx!.api!.mqttUsers = [...facts.emqx!.api!.mqttUsers!, { name: hostile, superuser: false }, { name: 'old', superuser: false }];
    const steps = planEmqx(facts, emqxSettings(), planOptions());
    const users = steps.find((step) => step.id === 'emqx-mqtt-users')!;
    assert.ok(!users.commands.some((command) => (command.stdin ?? '').includes('pwned') || command.argv.some((argument) => argument.includes('pwned'))));
    assert.ok((users.commands[0]!.stdin ?? '').includes('/old'), 'the ordinary stranger is still deleted');
    assert.match(users.reason, /left alone, names unsafe to script: "a\$\(touch \/tmp\/pwned\)'b"/);
  });

  it('re-sets a user whose role changed, even with a matching password', () => {
    const facts = converged(emqxFacts('rocky9'));
    facts.emqx!.api!.mqttUsers = [{ name: 'admin', superuser: false }];
    const steps = planEmqx(facts, emqxSettings(), planOptions());
    assert.deepEqual(commandsOf(steps), ['sh -s -- mqtt-provision-emqx-mqtt-users']);
  });

  it('installs an uploaded --package: base64 on stdin, checked by SHA-256, then installed from the cache', () => {
    const directory = mkdtempSync(join(tmpdir(), 'emqx-package-'));
    const rpm = join(directory, 'emqx-5.8.6-el9-amd64.rpm');
    const content = Buffer.from('not really an rpm, but bytes all the same\n');
    writeFileSync(rpm, content);
    const settings = resolveSettings({ broker: 'emqx', admins: [{ name: 'admin', password: 'correct-horse-1' }] }, { emqxPackage: rpm });
    assert.equal(settings.emqx.package, rpm);
    const steps = planEmqx(emqxFacts('rocky9'), settings, { ...planOptions(), readPackage: undefined });
    const digest = createHash('sha256').update(content).digest('hex');
    const upload =
      `${cacheHead}base64 -d > "$tmp"; printf '%s  %s\\n' "$2" "$tmp" | sha256sum -c --quiet -; mv -f "$tmp" "$1" ` +
      `mqtt-provision-upload ${cache}/emqx-5.8.6-el9-amd64.rpm ${digest}`;
    assert.deepEqual(commandsOf(steps), [upload, `dnf install -y ${cache}/emqx-5.8.6-el9-amd64.rpm`, `rm -f ${cache}/emqx-5.8.6-el9-amd64.rpm`, ...configureAndRestart]);
    const command = steps.find((step) => step.id === 'package:emqx')!.commands[0]!;
    assert.deepEqual(Buffer.from(command.stdin!, 'base64'), content);
  });

  it('takes the version from the uploaded file name, and refuses a package for another OS', () => {
    const debian = emqxSettings();
    debian.emqx.package = '/srv/emqx-5.8.5-debian12-amd64.deb';
    assert.equal(planEmqx(emqxFacts('debian12'), debian, planOptions()).find((step) => step.id === 'package:emqx')!.title, 'package emqx 5.8.5');
    assert.throws(() => planEmqx(emqxFacts('rocky9'), debian, planOptions()), /emqx-5\.8\.5-debian12-amd64\.deb is not a \.rpm/);
    const el8 = { ...debian, emqx: { ...debian.emqx, package: '/srv/emqx-5.8.6-el8-amd64.rpm' } };
    assert.throws(() => planEmqx(emqxFacts('rocky9'), el8, planOptions()), /built for el8, but this host is el9/);
  });

  it('upgrades to the pinned version when another one is installed', () => {
    const facts = converged(emqxFacts('rocky9'));
    facts.packages.emqx = '5.7.2-1.el9';
    const steps = planEmqx(facts, emqxSettings(), planOptions());
    assert.equal(steps.find((step) => step.id === 'package:emqx')!.reason, '5.7.2-1.el9 → 5.8.6');
    assert.ok(changedIds(steps).includes('restart:emqx'));
  });

  it('re-asserts owners and modes of our files after a Debian upgrade, whose postinst chowns and chmods /etc/emqx', () => {
    // deploy/packages/deb/debian/postinst (v5.7.2–v5.8.8): chown -R emqx:emqx /etc/emqx; chmod 0644 /etc/emqx/*.
    const facts = converged(emqxFacts('debian12', 'cmd\tcurl\n'));
    facts.packages.emqx = '5.7.2';
    const steps = planEmqx(facts, emqxSettings(), planOptions());
    const ids = steps.map((step) => step.id);
    const modes = steps.find((step) => step.id === 'package-postinst:emqx')!;
    assert.ok(ids.indexOf('package:emqx') < ids.indexOf('package-postinst:emqx') && ids.indexOf('package-postinst:emqx') < ids.indexOf('restart:emqx'));
    assert.deepEqual(modes.commands.map((command) => command.argv.join(' ')), [
      `chown root:emqx ${conf}`,
      `chmod 0640 ${conf}`,
      `chown root:root ${state}`,
      `chmod 0600 ${state}`,
    ]);
    // rpm's %post leaves /etc/emqx alone (deploy/packages/rpm/emqx.spec): nothing to re-assert on Rocky.
    const rocky = converged(emqxFacts('rocky9'));
    rocky.packages.emqx = '5.7.2-1.el9';
    assert.ok(!planEmqx(rocky, emqxSettings(), planOptions()).some((step) => step.id === 'package-postinst:emqx'));
  });

  it('names a cluster node after the seed that is this host, and leaves the cluster ports to the operator', () => {
    const settings = resolveSettings(clusterSettings);
    const steps = planEmqx(emqxFacts('rocky9'), settings, planOptions());
    const write = steps.find((step) => step.id === `file:${conf}`)!.commands[1]!;
    assert.match(write.stdin!, /name = "emqx@10\.0\.0\.7"/);
    assert.match(write.stdin!, /cookie = "a-shared-cookie-0123456789"/);
    assert.match(steps.at(-1)!.reason, /allow them between the cluster nodes only/);
    const stranger = emqxFacts('rocky9', 'host\taddr\t10.9.9.9\n');
    stranger.hostNames = ['other', '10.9.9.9'];
    assert.throws(() => planEmqx(stranger, settings, planOptions()), /none of emqx\.cluster\.seeds/);
  });

  it('refuses admins that EMQX would not accept as dashboard users when the settings load, before any host', () => {
    assert.throws(() => emqxSettings({ admins: [{ name: 'ops.team', password: 'short' }] }), /settings\.admins: .*letters, digits and "_"[\s\S]*8–64 characters/);
  });

  it('uninstalls symmetrically (our files before the package, so rpm keeps no .rpmsave) and purges data only when asked', () => {
    const facts = converged(emqxFacts('debian12', 'cmd\tcurl\n'));
    const keep = planEmqx(facts, emqxSettings({ state: 'absent' }));
    assert.deepEqual(commandsOf(keep), [
      'systemctl disable --now emqx',
      `rm -f ${conf} ${state}`,
      aptWaiting('env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q emqx'),
    ]);
    const purge = planEmqx(facts, emqxSettings({ state: 'absent', purgeData: true }));
    assert.deepEqual(commandsOf(purge).slice(3), ['rm -rf /var/lib/emqx']);
    const rocky = planEmqx(converged(emqxFacts('rocky9', 'firewalld\trunning\t1883/tcp 18083/tcp\t1883/tcp\n')), emqxSettings({ state: 'absent' }));
    assert.deepEqual(commandsOf(rocky), [
      'systemctl disable --now emqx',
      `rm -f ${conf} ${state}`,
      'dnf remove -y emqx',
      'firewall-cmd -q --remove-port=1883/tcp',
      'firewall-cmd -q --remove-port=18083/tcp',
      'firewall-cmd -q --permanent --remove-port=1883/tcp',
    ]);
    assert.deepEqual(commandsOf(planEmqx(emqxFacts('debian12'), emqxSettings({ state: 'absent' }))), []);
  });

  it('never puts a password, the cookie or a password hash on a command line', () => {
    const settings = emqxSettings({ users: [{ name: 'sensor', password: 'sensor-secret-9' }] });
    const steps = planEmqx(emqxFacts('rocky9'), settings, planOptions());
    const secrets = ['correct-horse-1', 'sensor-secret-9', fixtureCookie, '$7$'];
    for (const command of steps.flatMap((step) => step.commands)) {
      for (const secret of secrets) assert.ok(!command.argv.some((argument) => argument.includes(secret)), `${secret} in ${command.argv.join(' ')}`);
    }
    for (const step of steps) for (const secret of secrets) assert.ok(!`${step.reason}${step.diff ?? ''}`.includes(secret), `${secret} shown by ${step.id}`);
  });
});
