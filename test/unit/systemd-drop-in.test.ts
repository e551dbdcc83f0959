import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dropInPath, judgeNofile, parseNofileLimits, planDropIn, renderDropIn, type DropIn } from '../../src/operations/systemd-drop-in.ts';

// Issue 24 item 1: LimitNOFILE through a drop-in, because Debian's mosquitto.service sets none.
const limits: DropIn = { unit: 'mosquitto', name: 'mqtt-provision-limits', sections: { Service: { LimitNOFILE: '1048576' } } };

// /proc/<pid>/limits of Mosquitto 2.0.11 on a Docker lab host (systemd 252), recorded 2026-11-29:
// before the drop-in, and after LimitNOFILE=1048576 (clamped to the container's 20000).
const untuned = `Limit                     Soft Limit           Hard Limit           Units     
Max processes             unlimited            unlimited            processes 
Max open files            1024                 20000                files     
Max locked memory         8388608              8388608              bytes     
`;
const clamped = untuned.replace('1024                 20000', '20000                20000');

describe('systemd drop-in', () => {
  it('lives under /etc/systemd/system/<unit>.service.d, adding .service only when no type is given', () => {
    assert.equal(dropInPath(limits), '/etc/systemd/system/mosquitto.service.d/mqtt-provision-limits.conf');
    assert.equal(dropInPath({ unit: 'emqx.service', name: 'x' }), '/etc/systemd/system/emqx.service.d/x.conf');
  });

  it('refuses unit and file names that could leave the drop-in directory', () => {
    assert.throws(() => dropInPath({ unit: '../evil', name: 'x' }), /unit name/);
    assert.throws(() => dropInPath({ unit: 'mosquitto', name: '../../x' }), /drop-in name/);
  });

  it('renders each section with its directives, and refuses a value with a line break', () => {
    const text = renderDropIn(limits);
    assert.match(text, /^# Managed by mqtt-provision/);
    assert.match(text, /\n\[Service\]\nLimitNOFILE=1048576\n$/);
    assert.throws(() => renderDropIn({ ...limits, sections: { Service: { LimitNOFILE: '1\nExecStart=/bin/sh' } } }), /line breaks/);
  });

  it('on a fresh host creates the directory, writes the file, reloads systemd and asks for a restart', () => {
    const plan = planDropIn(limits, null);
    assert.equal(plan.restartNeeded, true);
    assert.deepEqual(plan.steps.map((s) => s.change), [true, true]);
    const [write, reload] = plan.steps;
    assert.deepEqual(write!.commands[0]!.argv, ['mkdir', '-p', '/etc/systemd/system/mosquitto.service.d']);
    assert.equal(write!.commands.at(-1)!.stdin, renderDropIn(limits));
    assert.deepEqual(reload!.commands.map((c) => c.argv), [['systemctl', 'daemon-reload']]);
    assert.deepEqual(plan.rollback.at(-1)!.argv, ['systemctl', 'daemon-reload']);
  });

  it('changes nothing and needs no restart when the host has the same file', () => {
    const plan = planDropIn(limits, renderDropIn(limits));
    assert.equal(plan.restartNeeded, false);
    assert.deepEqual(plan.steps.map((s) => s.change), [false, false]);
    assert.deepEqual(plan.steps.flatMap((s) => s.commands), []);
  });

  it('rewrites a hand-edited drop-in', () => {
    const plan = planDropIn(limits, renderDropIn(limits).replace('1048576', '4096'));
    assert.equal(plan.restartNeeded, true);
    assert.equal(plan.steps[0]!.reason, 'content differs');
  });
});

describe('open-file limit in force', () => {
  it('reads soft and hard limits from /proc/<pid>/limits', () => {
    assert.deepEqual(parseNofileLimits(untuned), { soft: 1024, hard: 20000 });
    assert.deepEqual(parseNofileLimits(untuned.replace('1024                 20000', 'unlimited            unlimited')), { soft: Infinity, hard: Infinity });
    assert.equal(parseNofileLimits('Max processes 1 1 processes\n'), undefined);
  });

  it('says the limit is in force when the process got at least what was asked', () => {
    assert.deepEqual(judgeNofile(16384, clamped), { state: 'in-force', soft: 20000 });
  });

  it('says the host capped it when systemd clamped the limit (a container), naming both figures', () => {
    const v = judgeNofile(1048576, clamped);
    assert.equal(v.state, 'capped');
    assert.match(v.state === 'capped' ? v.message : '', /1048576 asked.*20000 \(soft\) \/ 20000 \(hard\)/);
    assert.equal(judgeNofile(1048576, untuned).state, 'capped');
  });

  it('says missing when there is no limits text', () => {
    assert.equal(judgeNofile(1024, '').state, 'missing');
  });
});
