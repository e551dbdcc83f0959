import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import { planMosquitto } from '../fixtures/plan.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import { convergedFacts, fixedSalt, mosquittoFacts } from '../fixtures/facts.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';
import { aptWaiting, changedIds } from '../fixtures/plan-commands.ts';

const oldVersion = '2.0.11-1.2+deb12u2';
const newVersion = '2.0.11-1.2+deb12u2+mp1';
const lines = (commands: Array<{ argv: string[] }> | undefined) => (commands ?? []).map((command) => command.argv.join(' '));
const installOld = aptWaiting(`env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold mosquitto=${oldVersion}`);

function runningHost(os: 'debian12' | 'rocky9' = 'debian12', version = oldVersion): HostFacts {
  const facts = mosquittoFacts(os);
  return convergedFacts(facts, mosquittoFiles(mosquittoSettings(), facts, fixedSalt()), version);
}

describe('package upgrades keep queued messages', () => {
  it('backs up config and data on the host before a new pin is installed', () => {
    const steps = planMosquitto(runningHost(), mosquittoSettings({ version: newVersion }), fixedSalt());
    assert.deepEqual(changedIds(steps).slice(0, 2), ['backup:mosquitto', 'packages:mosquitto']);
    const backup = steps.find((step) => step.id === 'backup:mosquitto')!;
    assert.equal(backup.reason, `mosquitto ${oldVersion} → ${newVersion}`);
    const [argv] = backup.commands.map((command) => command.argv);
    assert.deepEqual(argv!.slice(3), ['mqtt-provision-upgrade-backup', 'mosquitto', '/var/lib/mosquitto/mosquitto.db', '/var/backups/mqtt-provision', '3', 'etc/mosquitto', 'var/lib/mosquitto']);
    assert.match(argv![2]!, /kill -USR1/, 'Mosquitto saves its queue to disk before the archive is taken');
  });

  it('puts the old package and the backed-up data back when the new package fails', () => {
    const steps = planMosquitto(runningHost(), mosquittoSettings({ version: newVersion }), fixedSalt());
    const packages = steps.find((step) => step.id === 'packages:mosquitto')!;
    const rollback = lines(packages.rollback);
    assert.equal(rollback.at(-3), installOld);
    assert.match(rollback.at(-2)!, /^sh -c .* mqtt-provision-upgrade-restore mosquitto \/var\/lib\/mosquitto \/var\/backups\/mqtt-provision mosquitto$/s);
    assert.equal(rollback.at(-1), 'systemctl restart mosquitto');
    assert.deepEqual(lines(packages.diagnostics), ['journalctl -u mosquitto -n 20 --no-pager -o cat']);
  });

  it('also rolls the package back when the broker does not start after the upgrade', () => {
    const steps = planMosquitto(runningHost(), mosquittoSettings({ version: newVersion }), fixedSalt());
    const restart = steps.find((step) => step.id === 'restart:mosquitto')!;
    assert.equal(restart.reason, 'package installed or changed');
    const rollback = lines(restart.rollback);
    assert.ok(rollback.includes(installOld), rollback.join('\n'));
    assert.ok(rollback.indexOf(installOld) < rollback.indexOf('systemctl start mosquitto'), rollback.join('\n'));
  });

  it('uses dnf to go back on the RHEL family', () => {
    const steps = planMosquitto(runningHost('rocky9', '2.0.18-1.el9'), mosquittoSettings({ version: '2.0.20-1.el9' }), fixedSalt());
    assert.ok(lines(steps.find((step) => step.id === 'packages:mosquitto')!.rollback).some((line) => /^dnf .*mosquitto-2\.0\.18-1\.el9/.test(line)));
  });

  it('takes no backup for a fresh install or an unchanged version', () => {
    assert.ok(!changedIds(planMosquitto(mosquittoFacts('debian12'), mosquittoSettings({ version: newVersion }), fixedSalt())).includes('backup:mosquitto'));
    assert.deepEqual(changedIds(planMosquitto(runningHost(), mosquittoSettings({ version: oldVersion }), fixedSalt())), []);
  });
});
