import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import { planMosquitto } from '../fixtures/plan.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import { convergedFacts, fixedSalt, mosquittoFacts } from '../fixtures/facts.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';
import {
  aptWaiting,
  backup,
  changedIds,
  clearPending as clearPendingFor,
  commandsOf,
  markPending as markPendingFor,
  pendingMarker,
  restore,
  write,
  resetFailed,
} from '../fixtures/plan-commands.ts';

const conf = '/etc/mosquitto/mosquitto.conf';
const passwd = '/etc/mosquitto/passwd';
const acl = '/etc/mosquitto/acl';

const dropInDir = '/etc/systemd/system/mosquitto.service.d';
const dropIn = `${dropInDir}/mqtt-provision-limits.conf`;
const sysctlConf = '/etc/sysctl.d/60-mqtt-provision.conf';
// A fresh host: the drop-in's directory before the marker (the fixtures' probe has no /proc/sys keys, so no sysctl file).
const capacityBefore = ['install -d -o root -g root -m 0755 /etc/systemd/system/mosquitto.service.d'];
const fileCommands = [backup(conf), write(conf, 'root:root', '0644'), backup(passwd), write(passwd, 'root:mosquitto', '0640'), backup(acl), write(acl, 'root:mosquitto', '0640'), backup(dropIn), write(dropIn, 'root:root', '0644'), 'systemctl daemon-reload'];
const removeBackups = `rm -f ${conf}.mqtt-provision.bak ${passwd}.mqtt-provision.bak ${acl}.mqtt-provision.bak ${dropIn}.mqtt-provision.bak`;
const marker = pendingMarker('mosquitto');
const markPending = markPendingFor('mosquitto');
const clearPending = clearPendingFor('mosquitto');
const restartAll = [resetFailed('mosquitto'), 'systemctl restart mosquitto', 'systemctl is-active --quiet mosquitto', removeBackups, clearPending];

function converged(facts: HostFacts): HostFacts {
  const settings = mosquittoSettings();
  return convergedFacts(facts, mosquittoFiles(settings, facts, fixedSalt()));
}

describe('Mosquitto planner', () => {
  it('installs, configures and restarts Mosquitto on a fresh Debian 12 host', () => {
    const steps = planMosquitto(mosquittoFacts('debian12'), mosquittoSettings(), fixedSalt());
    assert.deepEqual(commandsOf(steps), [
      aptWaiting('env DEBIAN_FRONTEND=noninteractive dpkg --configure -a'),
      aptWaiting('apt-get update -q'),
      aptWaiting('env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold mosquitto'),
      'install -d -o mosquitto -g mosquitto -m 0750 /var/lib/mosquitto',
      ...capacityBefore,
      markPending,
      ...fileCommands,
      ...restartAll,
      'systemctl enable mosquitto',
    ]);
  });

  it('treats Ubuntu 22.04 as a Debian-family host', () => {
    const steps = planMosquitto(mosquittoFacts('ubuntu2204'), mosquittoSettings(), fixedSalt());
    assert.equal(commandsOf(steps)[2], aptWaiting('env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold mosquitto'));
  });

  it('enables EPEL with yum and opens firewalld on a fresh CentOS 7 host', () => {
    const facts = mosquittoFacts('centos7', 'firewalld\trunning\t\t\n');
    const steps = planMosquitto(facts, mosquittoSettings(), fixedSalt());
    assert.deepEqual(commandsOf(steps), [
      'yum install -y epel-release',
      'yum install -y mosquitto',
      'install -d -o mosquitto -g mosquitto -m 0750 /var/lib/mosquitto',
      ...capacityBefore,
      markPending,
      ...fileCommands,
      ...restartAll,
      'systemctl enable mosquitto',
      'firewall-cmd -q --add-port=1883/tcp',
      'firewall-cmd -q --permanent --add-port=1883/tcp',
    ]);
  });

  it('uses dnf and pins the version on a fresh Rocky 9 host', () => {
    const steps = planMosquitto(mosquittoFacts('rocky9'), mosquittoSettings({ version: '2.0.18-1.el9' }), fixedSalt());
    assert.deepEqual(commandsOf(steps).slice(0, 2), ['dnf install -y epel-release', 'dnf install -y mosquitto-2.0.18-1.el9']);
  });

  it('plans on the probe of a fresh rhel lab host exactly the commands that ran there with real dnf', () => {
    const steps = planMosquitto(mosquittoFacts('rocky9lab'), mosquittoSettings(), fixedSalt());
    assert.deepEqual(commandsOf(steps), [
      'dnf install -y epel-release',
      'dnf install -y mosquitto',
      'install -d -o mosquitto -g mosquitto -m 0750 /var/lib/mosquitto',
      ...capacityBefore,
      markPending,
      ...fileCommands,
      ...restartAll,
      'systemctl enable mosquitto',
    ]);
  });

  it('leaves an EPEL an admin turned off as it is, enabling it for the install transaction only', () => {
    const facts = mosquittoFacts('rocky9lab', 'epel\t0\n');
    assert.equal(facts.epelEnabled, false);
    const steps = planMosquitto(facts, mosquittoSettings(), fixedSalt());
    assert.equal(steps.find((step) => step.id === 'repository:epel')!.change, false);
    assert.equal(commandsOf(steps)[0], 'dnf install -y --enablerepo=epel mosquitto');
    assert.equal(commandsOf(planMosquitto(mosquittoFacts('rocky9lab', 'epel\t1\n'), mosquittoSettings(), fixedSalt()))[0], 'dnf install -y mosquitto');
  });

  it('re-asserts the data directory after a re-pin, since the package that owns it resets its mode', () => {
    const facts = converged(mosquittoFacts('rocky9', 'epel\t1\n'));
    facts.packages.mosquitto = '2.0.11-1.el9';
    const steps = planMosquitto(facts, mosquittoSettings({ version: '2.0.11-2.el9' }));
    const dir = steps.find((step) => step.id === 'dir:/var/lib/mosquitto')!;
    assert.equal(dir.change, true);
    assert.match(dir.reason, /the package change may reset it/);
    // After the on-host backup of a running broker (test/unit/upgrade-plan.test.ts), the package, then the directory again.
    assert.deepEqual(commandsOf(steps).slice(1, 3), ['dnf install -y mosquitto-2.0.11-2.el9', 'install -d -o mosquitto -g mosquitto -m 0750 /var/lib/mosquitto']);
    const same = planMosquitto(facts, mosquittoSettings({ version: '2.0.11-1.el9' }));
    assert.equal(same.find((step) => step.id === 'dir:/var/lib/mosquitto')!.change, false, 'no package change, no re-assert');
  });

  it('removes our config before the package on Rocky 9, so rpm leaves no mosquitto.conf.rpmsave', () => {
    const facts = converged(mosquittoFacts('rocky9', 'epel\t1\n'));
    assert.deepEqual(commandsOf(planMosquitto(facts, mosquittoSettings({ state: 'absent' }))), [
      'systemctl disable --now mosquitto',
      `rm -f ${conf} ${passwd} ${acl} ${dropIn} ${sysctlConf}`,
      `rmdir ${dropInDir}`,
      'dnf remove -y mosquitto',
    ]);
  });

  it('installs epel-release from the Fedora project on RHEL proper, which has no epel-release package', () => {
    const steps = planMosquitto(mosquittoFacts('rhel9'), mosquittoSettings(), fixedSalt());
    assert.equal(commandsOf(steps)[0], 'dnf install -y https://dl.fedoraproject.org/pub/epel/epel-release-latest-9.noarch.rpm');
  });

  it('skips EPEL when it is already configured', () => {
    const steps = planMosquitto(mosquittoFacts('rocky9', 'epel\t1\n'), mosquittoSettings(), fixedSalt());
    assert.equal(commandsOf(steps)[0], 'dnf install -y mosquitto');
  });

  it('plans no command at all on an already converged host', () => {
    for (const os of ['debian12', 'centos7', 'rocky9'] as const) {
      const facts = converged(mosquittoFacts(os, 'epel\t1\n'));
      const steps = planMosquitto(facts, mosquittoSettings());
      assert.deepEqual(commandsOf(steps), [], os);
      assert.ok(steps.every((step) => step.reason.length > 0), 'every no-op says why');
    }
  });

  it('rewrites a drifted mosquitto.conf and restarts with a rollback of exactly that file', () => {
    const facts = converged(mosquittoFacts('debian12'));
    facts.files[conf] = { ...facts.files[conf]!, sha256: 'drifted', content: 'max_queued_messages 1000\n' };
    const steps = planMosquitto(facts, mosquittoSettings());
    assert.deepEqual(changedIds(steps), ['pending:mosquitto', `file:${conf}`, 'restart:mosquitto']);
    assert.deepEqual(commandsOf(steps), [
      markPending,
      backup(conf),
      write(conf, 'root:root', '0644'),
      resetFailed('mosquitto'),
      'systemctl restart mosquitto',
      'systemctl is-active --quiet mosquitto',
      `rm -f ${conf}.mqtt-provision.bak`,
      clearPending,
    ]);
    const restart = steps.find((step) => step.id === 'restart:mosquitto')!;
    assert.deepEqual(
      restart.rollback!.map((command) => command.argv.join(' ')),
      [restore(conf), 'systemctl stop mosquitto', resetFailed('mosquitto'), 'systemctl start mosquitto', `rm -f ${conf}.mqtt-provision.bak`, clearPending],
    );
    const diff = steps.find((step) => step.id === `file:${conf}`)!.diff!;
    assert.match(diff, /^-max_queued_messages 1000$/m);
    assert.match(diff, /^\+max_queued_messages 100000$/m);
  });

  it('reloads instead of restarting when only users change, and hides the password file diff', () => {
    const facts = converged(mosquittoFacts('debian12'));
    const settings = mosquittoSettings({ users: [{ name: 'sensor', password: 'p4ss', acl: [{ topic: 'sensors/#', access: 'write' }] }] });
    const steps = planMosquitto(facts, settings, fixedSalt());
    assert.deepEqual(changedIds(steps), ['pending:mosquitto', `file:${passwd}`, `file:${acl}`, 'reload:mosquitto']);
    // The reload is judged by the broker's log (issue 21 item 3), and a refused one rolls back.
    const reload = steps.find((step) => step.id === 'reload:mosquitto')!;
    assert.deepEqual(reload.commands[0]!.argv, ['sh', '-s', '--', 'mosquitto']);
    assert.match(reload.commands[0]!.stdin!, /systemctl reload "\$svc".*Reloading config.*rejected the new files/s);
    assert.ok(reload.rollback!.some((command) => command.argv.join(' ') === 'systemctl restart mosquitto'));
    const passwdStep = steps.find((step) => step.id === `file:${passwd}`)!;
    assert.doesNotMatch(passwdStep.diff!, /\$7\$/);
    assert.match(steps.find((step) => step.id === `file:${acl}`)!.diff!, /^\+topic write sensors\/#$/m);
  });

  it('keeps an unchanged password hash but re-hashes a changed password', () => {
    const facts = converged(mosquittoFacts('debian12'));
    assert.deepEqual(changedIds(planMosquitto(facts, mosquittoSettings())), []);
    const changed = mosquittoSettings({ admins: [{ name: 'admin', password: 'a new password' }] });
    assert.deepEqual(changedIds(planMosquitto(facts, changed)), ['pending:mosquitto', `file:${passwd}`, 'reload:mosquitto']);
  });

  it('fixes owner and mode without rewriting content', () => {
    const facts = converged(mosquittoFacts('debian12'));
    facts.files[passwd] = { ...facts.files[passwd]!, mode: '0644', owner: 'mosquitto' };
    const steps = planMosquitto(facts, mosquittoSettings());
    assert.deepEqual(commandsOf(steps).slice(0, 3), [markPending, `chown root:mosquitto ${passwd}`, `chmod 0640 ${passwd}`]);
  });

  it('still restarts after an earlier run that wrote the config but stopped before its restart', () => {
    const facts = converged(mosquittoFacts('debian12'));
    facts.files[marker] = { sha256: 'e3b0', mode: '0644', owner: 'root', group: 'root', content: '' };
    const steps = planMosquitto(facts, mosquittoSettings());
    assert.deepEqual(changedIds(steps), ['pending:mosquitto', 'restart:mosquitto']);
    const restart = steps.find((step) => step.id === 'restart:mosquitto')!;
    assert.match(restart.reason, /an earlier run changed the config but stopped before restarting/);
    // If the config that run left does not start, that run's backups are the last good files.
    assert.deepEqual(
      restart.rollback!.map((command) => command.argv.join(' ')).slice(0, 3),
      [conf, passwd, acl].map((path) => `sh -c if [ -e "$1$2" ]; then mv -f "$1$2" "$1"; fi mqtt-provision-restore-left ${path} .mqtt-provision.bak`),
    );
  });

  it('restarts a broker whose users reload failed, on the restored files', () => {
    const facts = converged(mosquittoFacts('debian12'));
    const steps = planMosquitto(facts, mosquittoSettings({ users: [{ name: 'sensor', password: 'p4ss' }] }));
    const reload = steps.find((step) => step.id === 'reload:mosquitto')!;
    assert.deepEqual(reload.rollback!.map((command) => command.argv.join(' ')), [restore(passwd), restore(acl), 'systemctl restart mosquitto', clearPending]);
  });

  it('starts a stopped broker without restarting it', () => {
    const facts = converged(mosquittoFacts('debian12'));
    facts.services.mosquitto = { active: 'inactive', enabled: 'enabled' };
    assert.deepEqual(commandsOf(planMosquitto(facts, mosquittoSettings())), ['systemctl start mosquitto']);
  });

  it('closes a broker port that is no longer served and leaves foreign ports alone', () => {
    const facts = converged(mosquittoFacts('rocky9', 'epel\t1\nfirewalld\trunning\t1883/tcp 8083/tcp 5432/tcp\t1883/tcp 8083/tcp 5432/tcp\n'));
    assert.deepEqual(commandsOf(planMosquitto(facts, mosquittoSettings())), [
      'firewall-cmd -q --remove-port=8083/tcp',
      'firewall-cmd -q --permanent --remove-port=8083/tcp',
    ]);
  });

  it('allows the served ports in an active ufw', () => {
    const facts = converged(mosquittoFacts('ubuntu2204', 'ufw\tactive\t22/tcp\n'));
    const settings = mosquittoSettings({ listeners: { mqtt: 1883, websocket: 8083 } });
    const steps = planMosquitto(convergedFacts(facts, mosquittoFiles(settings, facts)), settings);
    assert.deepEqual(commandsOf(steps), ['ufw allow 1883/tcp', 'ufw allow 8083/tcp']);
  });

  it('leaves the firewall alone when firewall management is off', () => {
    const facts = converged(mosquittoFacts('centos7', 'epel\t1\nfirewalld\trunning\t\t\n'));
    assert.deepEqual(commandsOf(planMosquitto(facts, mosquittoSettings({ firewall: 'off' }))), []);
  });

  it('refuses an OS it does not know, naming it', () => {
    assert.throws(() => planMosquitto(mosquittoFacts('alpine'), mosquittoSettings()), /Alpine Linux v3\.20 is not supported/);
  });

  it('uninstalls symmetrically and purges data only when asked', () => {
    const facts = converged(mosquittoFacts('debian12'));
    const keep = planMosquitto(facts, mosquittoSettings({ state: 'absent' }));
    assert.deepEqual(commandsOf(keep), [
      'systemctl disable --now mosquitto',
      `rm -f ${conf} ${passwd} ${acl} ${dropIn} ${sysctlConf}`,
      `rmdir ${dropInDir}`,
      aptWaiting('env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q mosquitto'),
    ]);
    const purge = planMosquitto(facts, mosquittoSettings({ state: 'absent', purgeData: true }));
    assert.ok(commandsOf(purge).includes('rm -rf /var/lib/mosquitto'));
    const gone = planMosquitto(mosquittoFacts('debian12'), mosquittoSettings({ state: 'absent' }));
    assert.deepEqual(commandsOf(gone), []);
  });

  it('purgeData purges the package on Debian, also one an earlier remove left in dpkg\'s rc state', () => {
    const facts = converged(mosquittoFacts('debian12'));
    const purge = commandsOf(planMosquitto(facts, mosquittoSettings({ state: 'absent', purgeData: true })));
    assert.ok(purge.includes(aptWaiting('env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q mosquitto')), purge.join('\n'));
    assert.ok(!purge.some((command) => command.includes('apt-get remove')));
    const leftover: HostFacts = { ...mosquittoFacts('debian12'), packagesConfigOnly: ['mosquitto'] };
    assert.deepEqual(commandsOf(planMosquitto(leftover, mosquittoSettings({ state: 'absent', purgeData: true }))), [aptWaiting('env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q mosquitto')]);
    assert.deepEqual(commandsOf(planMosquitto(leftover, mosquittoSettings({ state: 'absent' }))), [], 'without purgeData, rc is what a remove leaves');
    assert.deepEqual(commandsOf(planMosquitto(mosquittoFacts('debian12'), mosquittoSettings({ state: 'absent', purgeData: true }))), [], 'purged: nothing left to do');
    const rocky = commandsOf(planMosquitto(converged(mosquittoFacts('rocky9', 'epel\t1\n')), mosquittoSettings({ state: 'absent', purgeData: true })));
    assert.ok(rocky.includes('dnf remove -y mosquitto'), 'dnf remove already takes unedited config files');
  });

  it('removes the TLS directory once only our files kept it from being empty, and keeps one holding other files', () => {
    const tls = '/etc/mosquitto/tls';
    const withTls = (entries: number): HostFacts => {
      const facts = converged(mosquittoFacts('debian12'));
      const file = { sha256: 'x', mode: '0644', owner: 'root', group: 'mosquitto', content: 'x' };
      return {
        ...facts,
        files: { ...facts.files, [`${tls}/ca.crt`]: file, [`${tls}/server.crt`]: file, [`${tls}/server.key`]: { ...file, mode: '0640' } },
        directories: { ...facts.directories, [tls]: { mode: '0750', owner: 'root', group: 'mosquitto', entries } },
      };
    };
    const commands = commandsOf(planMosquitto(withTls(3), mosquittoSettings({ state: 'absent' })));
    assert.deepEqual(commands.slice(1, 3), [`rm -f ${conf} ${passwd} ${acl} ${tls}/ca.crt ${tls}/server.crt ${tls}/server.key ${dropIn} ${sysctlConf}`, `rmdir ${tls}`]);
    assert.ok(commands.indexOf(`rmdir ${tls}`) < commands.findIndex((command) => command.includes('apt-get remove')), 'before the package, so a purge can take /etc/mosquitto');
    const kept = planMosquitto(withTls(4), mosquittoSettings({ state: 'absent' })).find((step) => step.id === `dir-absent:${tls}`)!;
    assert.equal(kept.change, false);
    assert.match(kept.reason, /kept: holds 1 entry mqtt-provision does not manage/);
    const emptyLeft = { ...mosquittoFacts('debian12'), directories: { [tls]: { mode: '0750', owner: 'root', group: 'mosquitto', entries: 0 } } };
    assert.deepEqual(commandsOf(planMosquitto(emptyLeft, mosquittoSettings({ state: 'absent' }))), [`rmdir ${tls}`], 'an empty directory an earlier absent left behind goes too');
  });

  it('keeps a config with extraConfig private and out of diffs, since it may hold a bridge password', () => {
    const settings = mosquittoSettings({ extraConfig: 'connection upstream\nremote_password hunter2\n' });
    const steps = planMosquitto(mosquittoFacts('debian12'), settings, fixedSalt());
    const config = steps.find((step) => step.id === `file:${conf}`)!;
    assert.ok(commandsOf([config]).includes(write(conf, 'root:mosquitto', '0640')));
    assert.doesNotMatch(config.diff!, /hunter2/);
  });

  it('sends file contents on stdin, never in the argument list', () => {
    const steps = planMosquitto(mosquittoFacts('debian12'), mosquittoSettings(), fixedSalt());
    const writes = steps.flatMap((step) => step.commands).filter((command) => command.argv.includes('mqtt-provision-write'));
    // mosquitto.conf, passwd, acl and the drop-in.
    assert.equal(writes.length, 4);
    for (const command of writes) {
      assert.ok(command.stdin && command.stdin.length > 0);
      assert.ok(!command.argv.some((argument) => argument.includes('$7$') || argument.includes('correct horse')));
    }
  });
});
