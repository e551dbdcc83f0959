import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  SYSCTL_FILE, parseSysctlApply, parseSysctlProbe, planKeys, planSysctl, probeSysctlCommand, renderSysctlConf, satisfies, type SysctlFacts, type SysctlSetting,
} from '../../src/operations/sysctl.ts';

// Issue 24 item 1: kernel floors from EMQX's tuning guide, applied only where the host allows.
const wanted: SysctlSetting[] = [
  { key: 'fs.file-max', value: '2097152' },
  { key: 'net.core.somaxconn', value: '32768' },
  { key: 'net.ipv4.ip_local_port_range', value: '1024 65535' },
  { key: 'net.core.netdev_max_backlog', value: '16384' },
];

// The Debian 12 lab host (a Docker container, /proc/sys read-only), as probeSysctlCommand printed it.
const containerProbe = 'fs.file-max\tr\t2466170\nnet.core.somaxconn\tr\t4096\nnet.ipv4.ip_local_port_range\tr\t32768\t60999\nnet.core.netdev_max_backlog\tabsent\n';
// The same keys on a host that lets root write /proc/sys.
const vmFacts: SysctlFacts = {
  'fs.file-max': { value: '9223372036854775807', writable: true },
  'net.core.somaxconn': { value: '4096', writable: true },
  'net.ipv4.ip_local_port_range': { value: '32768 60999', writable: true },
  'net.core.netdev_max_backlog': { value: '1000', writable: true },
};

describe('sysctl floors', () => {
  it('treats a value as a floor, and a port range as satisfied when at least as wide', () => {
    assert.equal(satisfies('4096', '32768'), false);
    assert.equal(satisfies('65536', '32768'), true);
    assert.equal(satisfies('1024 65535', '1024 65535'), true);
    assert.equal(satisfies('32768 60999', '1024 65535'), false);
    assert.equal(satisfies('1000 65535', '1024 65535'), true);
  });

  it('parses the probe: values with tabs normalised, read-only and absent keys', () => {
    assert.deepEqual(parseSysctlProbe(containerProbe), {
      'fs.file-max': { value: '2466170', writable: false },
      'net.core.somaxconn': { value: '4096', writable: false },
      'net.ipv4.ip_local_port_range': { value: '32768 60999', writable: false },
      'net.core.netdev_max_backlog': null,
    });
  });

  it('probes this machine for real: the value printed is the one in /proc/sys', () => {
    const cmd = probeSysctlCommand(['net.core.somaxconn', 'net.ipv4.no_such_key']);
    const r = spawnSync(cmd.argv[0]!, cmd.argv.slice(1), { encoding: 'utf8' });
    const facts = parseSysctlProbe(r.stdout);
    assert.equal(facts['net.core.somaxconn']!.value, readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    assert.equal(facts['net.ipv4.no_such_key'], null);
  });

  it('on a container host reports refused and absent keys as warnings and applies nothing', () => {
    const plan = planSysctl(wanted, parseSysctlProbe(containerProbe), null);
    assert.deepEqual(plan.keys.map((k) => k.state), ['higher', 'refused', 'refused', 'absent']);
    assert.equal(plan.steps[0]!.change, true);
    assert.equal(plan.warnings.length, 3);
    assert.match(plan.warnings[0]!, /net.core.somaxconn: host has 4096, wanted at least 32768; not applied: \/proc\/sys is read-only/);
    assert.match(plan.warnings[2]!, /netdev_max_backlog: not present/);
  });

  it('leaves a host value that is already higher out of the file, and absent keys too', () => {
    const text = renderSysctlConf(planKeys(wanted, parseSysctlProbe(containerProbe)));
    assert.doesNotMatch(text, /fs.file-max|netdev_max_backlog/);
    assert.match(text, /^net.core.somaxconn = 32768$/m);
    assert.match(text, /^net.ipv4.ip_local_port_range = 1024 65535$/m);
  });

  it('second run on the container host changes nothing, though the refused keys are still low', () => {
    const facts = parseSysctlProbe(containerProbe);
    const first = planSysctl(wanted, facts, null);
    const second = planSysctl(wanted, facts, first.steps[0]!.commands[0]!.stdin!);
    assert.deepEqual(second.steps.map((s) => s.change), [false, false]);
  });

  it('on a writable host writes the file and runs sysctl -p on it, naming each raise', () => {
    const plan = planSysctl(wanted, vmFacts, null);
    const [file, apply] = plan.steps;
    assert.equal(file!.change, true);
    assert.deepEqual(apply!.commands[0]!.argv.slice(-1), [SYSCTL_FILE]);
    assert.match(apply!.reason, /net.core.somaxconn 4096 → 32768/);
    assert.match(apply!.reason, /net.ipv4.ip_local_port_range 32768 60999 → 1024 65535/);
    assert.doesNotMatch(apply!.reason, /file-max/);
    assert.deepEqual(plan.warnings, []);
  });

  it('after the raise took effect, a second run on the writable host changes nothing', () => {
    const first = planSysctl(wanted, vmFacts, null);
    const after: SysctlFacts = { ...vmFacts,
      'net.core.somaxconn': { value: '32768', writable: true },
      'net.ipv4.ip_local_port_range': { value: '1024 65535', writable: true },
      'net.core.netdev_max_backlog': { value: '16384', writable: true } };
    const second = planSysctl(wanted, after, first.steps[0]!.commands[0]!.stdin!);
    assert.deepEqual(second.steps.map((s) => s.change), [false, false]);
  });

  it('refuses keys and values that are not plain sysctl names and numbers', () => {
    assert.throws(() => planKeys([{ key: 'net/core/../x', value: '1' }], {}), /dotted lowercase/);
    assert.throws(() => planKeys([{ key: 'net.core.somaxconn', value: '1; reboot' }], {}), /a number/);
  });

  it('reads each key outcome from sysctl -p output recorded on the lab host', () => {
    // procps-ng 4.0.2 on the Debian 12 lab host, stderr joined to stdout as applySysctlCommand does.
    const output = [
      'sysctl: permission denied on key "net.core.somaxconn"',
      'sysctl: cannot stat /proc/sys/net/core/netdev_max_backlog: No such file or directory',
      'sysctl: setting key "net.core.rmem_default": Invalid argument',
      'net.ipv4.tcp_fin_timeout = 15',
      'net.ipv4.ip_local_port_range = 1024\t65535',
    ].join('\n');
    assert.deepEqual(parseSysctlApply(output), [
      { key: 'net.core.somaxconn', outcome: 'refused', reason: 'permission denied' },
      { key: 'net.core.netdev_max_backlog', outcome: 'refused', reason: 'No such file or directory' },
      { key: 'net.core.rmem_default', outcome: 'refused', reason: 'Invalid argument' },
      { key: 'net.ipv4.tcp_fin_timeout', outcome: 'applied', value: '15' },
      { key: 'net.ipv4.ip_local_port_range', outcome: 'applied', value: '1024 65535' },
    ]);
  });
});
