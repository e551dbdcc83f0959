import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  emqxBackupCommand,
  emqxBackupScript,
  emqxRestoreCommand,
  emqxUpgradeBackupCommand,
  emqxUpgradeBackupScript,
} from '../../src/brokers/emqx/backup.ts';
import { planEmqx } from '../fixtures/plan.ts';
import { restoreUpgradeBackupScript } from '../../src/operations/upgrade-backup.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import { whileLockedScript } from '../../src/os/debian.ts';
import { convergedEmqxFacts, emqxFacts, planOptions } from '../fixtures/emqx-facts.ts';
import { emqxSettings } from '../fixtures/emqx-settings.ts';
import { changedIds, resetFailed } from '../fixtures/plan-commands.ts';

/**
 * EMQX upgrades that keep data, and the backup/restore scripts, at fixture level: the planner's
 * exact command lists, and the scripts run under dash with fake `systemctl`, `emqx` and `chown`
 * on PATH (no EMQX node, no root). Whether EMQX 5.8.6 really starts on 5.7.2's data, and the old
 * package on the backed-up data, is not shown here: EMQX cannot run on this machine.
 */

const lines = (commands: Array<{ argv: string[] }> | undefined) => (commands ?? []).map((command) => command.argv.join(' '));
const cache = '/var/cache/mqtt-provision';
const download = (file: string) =>
  `sh -c set -e; umask 022; mkdir -p "\${1%/*}"; tmp="$1.mqtt-provision.$$.tmp"; trap 'rm -f "$tmp"' EXIT; curl -fsSL --retry 3 -o "$tmp" "$2"; mv -f "$tmp" "$1" mqtt-provision-download ${cache}/${file} https://www.emqx.com/en/downloads/broker/5.7.2/${file}`;
const restoreBackup = `sh -c ${restoreUpgradeBackupScript} mqtt-provision-upgrade-restore emqx /var/lib/emqx /var/backups/mqtt-provision emqx`;

function runningNode(os: 'rocky9' | 'debian12', installed: string): HostFacts {
  const facts = convergedEmqxFacts(emqxFacts(os, os === 'debian12' ? 'cmd\tcurl\n' : ''), emqxSettings());
  facts.packages.emqx = installed;
  return facts;
}

describe('EMQX package upgrades keep the node data', () => {
  it('backs up /etc/emqx and /var/lib/emqx on the host before the new package, then puts 5.7.2 and the data back if it fails (dnf)', () => {
    const steps = planEmqx(runningNode('rocky9', '5.7.2-1.el9'), emqxSettings(), planOptions());
    assert.deepEqual(changedIds(steps), ['backup:emqx', 'package:emqx', 'pending:emqx', 'restart:emqx']);
    const backup = steps.find((step) => step.id === 'backup:emqx')!;
    assert.equal(backup.reason, 'emqx 5.7.2-1.el9 → 5.8.6');
    assert.deepEqual(lines(backup.commands), [`sh -c ${emqxUpgradeBackupScript} mqtt-provision-upgrade-backup emqx /var/backups/mqtt-provision 3 etc/emqx var/lib/emqx`]);
    const packages = steps.find((step) => step.id === 'package:emqx')!;
    const file = 'emqx-5.7.2-el9-amd64.rpm';
    assert.deepEqual(lines(packages.rollback), [download(file), `dnf install -y ${cache}/${file}`, `rm -f ${cache}/${file}`, restoreBackup, 'systemctl restart emqx']);
    assert.deepEqual(lines(packages.diagnostics), ['journalctl -u emqx -n 20 --no-pager -o cat']);
  });

  it('goes back the same way when the node does not start on the new package (apt)', () => {
    const steps = planEmqx(runningNode('debian12', '5.7.2'), emqxSettings(), planOptions());
    const file = 'emqx-5.7.2-debian12-amd64.deb';
    const apt = (command: string) => `sh -c ${whileLockedScript} mqtt-provision-apt ${command}`;
    const downgrade = [
      download(file),
      apt('apt-get update -q'),
      apt(`env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends --allow-downgrades -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${cache}/${file}`),
      `rm -f ${cache}/${file}`,
      restoreBackup,
    ];
    assert.deepEqual(lines(steps.find((step) => step.id === 'package:emqx')!.rollback), [...downgrade, 'systemctl restart emqx']);
    const restart = lines(steps.find((step) => step.id === 'restart:emqx')!.rollback);
    assert.deepEqual(restart.slice(0, downgrade.length), downgrade, 'the old package and data go back before the node is started again');
    assert.deepEqual(restart.slice(downgrade.length, downgrade.length + 3), ['systemctl stop emqx', resetFailed('emqx'), 'systemctl start emqx']);
  });

  it('takes no backup for a fresh install, an unchanged version, or a previous version EMQX has no package of', () => {
    assert.ok(!changedIds(planEmqx(emqxFacts('rocky9'), emqxSettings(), planOptions())).includes('backup:emqx'));
    assert.deepEqual(changedIds(planEmqx(runningNode('rocky9', '5.8.6-1.el9'), emqxSettings(), planOptions())), []);
    // 5.8.0 has no el7 build: there is nothing to go back to, so the package step stands alone.
    const el7 = convergedEmqxFacts(emqxFacts('centos7'), emqxSettings());
    el7.packages.emqx = '5.8.0-1.el7';
    const steps = planEmqx(el7, emqxSettings(), planOptions());
    assert.ok(!changedIds(steps).includes('backup:emqx'));
    assert.equal(steps.find((step) => step.id === 'package:emqx')!.rollback, undefined);
  });
});

/** A scratch root: fake systemctl/emqx/chown on PATH, the node's state in a file. */
function sandbox(active: boolean, nodeName = 'emqx@10.0.0.7') {
  const root = mkdtempSync(join(tmpdir(), 'emqx-backup-'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  const state = join(root, 'state');
  const log = join(root, 'log');
  writeFileSync(state, active ? 'active' : 'inactive');
  writeFileSync(log, '');
  const fake = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> "${log}"\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  fake('systemctl', `case "$1" in is-active) [ "$(cat "${state}")" = active ] ;; start) echo active > "${state}" ;; stop) echo inactive > "${state}" ;; esac`);
  // emqx_mgmt_cli.erl status/1 while up; bin/emqx assert_node_alive exits 1 silently while down.
  fake('emqx', `[ "$(cat "${state}")" = active ] || exit 1; echo "Node '${nodeName}' 5.8.6 is started"`);
  fake('chown', 'exit 0');
  const run = (argv: string[], stdin = '') => spawnSync('dash', argv.slice(1), { input: stdin, encoding: 'utf8', env: { PATH: `${bin}:${process.env.PATH}` } });
  return { root, state: () => readFileSync(state, 'utf8').trim(), log: () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean), run };
}

/** A data directory with mnesia/<node> and a durable storage file, relative to / for tar -C /. */
function dataDir(root: string, name: string, node: string, content: string): string {
  const data = join(root, name);
  mkdirSync(join(data, 'mnesia', node), { recursive: true });
  mkdirSync(join(data, 'ds'), { recursive: true });
  writeFileSync(join(data, 'ds', 'messages'), content);
  return data;
}

describe('EMQX backup scripts (dash, fake systemctl and emqx)', () => {
  it('stops a running node for the upgrade copy, starts it again, keeps the newest three 0600 archives', () => {
    const box = sandbox(true);
    const data = dataDir(box.root, 'data', 'emqx@10.0.0.7', 'queued');
    const dir = join(box.root, 'backups');
    const argv = emqxUpgradeBackupCommand().argv;
    for (let round = 0; round < 4; round++) {
      const result = box.run([...argv.slice(0, 4), 'emqx', dir, '3', data.slice(1)]);
      assert.equal(result.status, 0, result.stderr);
    }
    const archives = readdirSync(dir);
    assert.equal(archives.length, 3);
    for (const name of archives) assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600);
    assert.equal(box.state(), 'active');
    assert.deepEqual(box.log().slice(0, 3), ['systemctl is-active --quiet emqx', 'systemctl stop emqx', 'systemctl start emqx']);
  });

  it('leaves a stopped node stopped, and starts a running one again when the copy fails', () => {
    const stopped = sandbox(false);
    const data = dataDir(stopped.root, 'data', 'emqx@10.0.0.7', 'x');
    assert.equal(stopped.run([...emqxBackupCommand().argv.slice(0, 4), 'emqx', data.slice(1)]).status, 0);
    assert.deepEqual(stopped.log(), ['systemctl is-active --quiet emqx']);
    const running = sandbox(true);
    const failed = running.run(['sh', '-c', emqxBackupScript, 'mqtt-provision-archive', 'emqx', 'no/such/path']);
    assert.notEqual(failed.status, 0);
    assert.equal(running.state(), 'active', 'a failed copy still starts the node again');
  });

  it('restores the archived data directory and starts the node, or refuses an archive of another node name', () => {
    const source = sandbox(true);
    const archived = dataDir(source.root, 'data', 'emqx@10.0.0.7', 'queued before the backup');
    const backup = source.run([...emqxBackupCommand().argv.slice(0, 4), 'emqx', archived.slice(1)]);
    assert.equal(backup.status, 0, backup.stderr);
    // The archive holds the source's path; the restore reads it at the same path on the new host.
    writeFileSync(join(archived, 'ds', 'messages'), 'the new host after its converge');
    const target = sandbox(true);
    const restoreArgv = (data: string) => ['sh', '-c', emqxRestoreCommand('').argv[2]!, 'mqtt-provision-restore', 'emqx', data, 'emqx'];
    const restored = target.run(restoreArgv(archived), backup.stdout);
    assert.equal(restored.status, 0, restored.stderr);
    assert.equal(readFileSync(join(archived, 'ds', 'messages'), 'utf8'), 'queued before the backup');
    assert.equal(target.state(), 'active');
    assert.ok(!existsSync(`${archived}.mqtt-provision-old`));

    // A host whose node has another name (its first start made mnesia/<that name>).
    rmSync(join(archived, 'mnesia', 'emqx@10.0.0.7'), { recursive: true });
    mkdirSync(join(archived, 'mnesia', 'emqx@other'));
    writeFileSync(join(archived, 'ds', 'messages'), 'untouched');
    const refused = target.run(restoreArgv(archived), backup.stdout);
    assert.equal(refused.status, 3);
    assert.match(refused.stderr, /from node emqx@10\.0\.0\.7, this host runs node emqx@other: set emqx\.nodeName/);
    assert.equal(readFileSync(join(archived, 'ds', 'messages'), 'utf8'), 'untouched');
  });
});
