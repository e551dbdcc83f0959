import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import { parseProbeOutput } from '../../src/facts/parse-probe.ts';
import { mosquittoFactQuery } from '../../src/brokers/mosquitto/plan.ts';
import { sha256 } from '../../src/operations/files.ts';
import { InputError, InputErrors } from '../../src/settings/input-error.ts';
import { defaultKernelFloors } from '../../src/settings/limits.ts';
import { convergedEmqxFacts, emqxFacts } from '../fixtures/emqx-facts.ts';
import { emqxSettings } from '../fixtures/emqx-settings.ts';
import { convergedFacts, fixedSalt, mosquittoFacts } from '../fixtures/facts.ts';
import { planEmqx, planMosquitto } from '../fixtures/plan.ts';
import { commandsOf } from '../fixtures/plan-commands.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

const dropIn = '/etc/systemd/system/mosquitto.service.d/mqtt-provision-limits.conf';

function converged(settings = mosquittoSettings()): HostFacts {
  return convergedFacts(mosquittoFacts('debian12'), mosquittoFiles(settings, mosquittoFacts('debian12'), fixedSalt()));
}

/** The kernel keys as the Debian 12 lab container showed them (notes-24-cap 1.3): /proc/sys read-only, netdev_max_backlog absent. */
const labContainerSysctl: HostFacts['sysctl'] = {
  'fs.file-max': { value: '2466170', writable: false },
  'fs.nr_open': { value: '1048576', writable: false },
  'net.core.somaxconn': { value: '4096', writable: false },
  'net.ipv4.tcp_max_syn_backlog': { value: '2048', writable: false },
  'net.core.netdev_max_backlog': null,
  'net.ipv4.ip_local_port_range': { value: '32768 60999', writable: false },
};

function inputError(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof InputError || error instanceof InputErrors, String(error));
    return error.message;
  }
  assert.fail('expected an input error');
}

describe('limits settings', () => {
  it('defaults to LimitNOFILE 1048576, unlimited connections and the kernel floors', () => {
    const { limits } = mosquittoSettings();
    assert.equal(limits.openFiles, 1048576);
    assert.equal(limits.maxConnections, -1);
    assert.deepEqual(limits.kernel, defaultKernelFloors);
    assert.equal(limits.applyKernel, true);
  });

  it('names the field of a bad value', () => {
    assert.match(inputError(() => mosquittoSettings({ limits: { maxConnections: 0 } })), /limits\.maxConnections/);
    assert.match(inputError(() => mosquittoSettings({ limits: { openFiles: 100 } })), /limits\.openFiles/);
    assert.match(inputError(() => mosquittoSettings({ limits: { kernel: { 'net.core.somaxconn': '1; reboot' } } })), /limits\.kernel/);
    assert.match(inputError(() => mosquittoSettings({ limits: { openFiles: 4194304 } })), /fs\.nr_open.*at least openFiles/);
  });
});

describe('limits on a Mosquitto host', () => {
  it('renders max_connections under every listener only when set', () => {
    const plain = mosquittoFiles(mosquittoSettings({ listeners: { mqtt: 1883, websocket: 8083 } }), mosquittoFacts('debian12'), fixedSalt())[0]!.content;
    assert.doesNotMatch(plain, /max_connections/);
    const capped = mosquittoFiles(mosquittoSettings({ listeners: { mqtt: 1883, websocket: 8083 }, limits: { maxConnections: 500 } }), mosquittoFacts('debian12'), fixedSalt())[0]!.content;
    assert.match(capped, /listener 1883\nprotocol mqtt\nmax_connections 500\n/);
    assert.match(capped, /listener 8083\nprotocol websockets\nmax_connections 500\n/);
  });

  it('a max_connections change restarts the broker (Mosquitto reads it at start only)', () => {
    const steps = planMosquitto(converged(), mosquittoSettings({ limits: { maxConnections: 500 } }), fixedSalt());
    assert.ok(steps.find((step) => step.id === 'restart:mosquitto')?.change);
  });

  it('a new drop-in is reloaded into systemd before the restart, and the restart\'s rollback reloads the old one', () => {
    const facts = converged();
    const without = { ...facts, files: { ...facts.files, [dropIn]: null } };
    const steps = planMosquitto(without, mosquittoSettings(), fixedSalt());
    const ids = steps.filter((step) => step.change).map((step) => step.id);
    assert.deepEqual(ids, ['pending:mosquitto', `file:${dropIn}`, 'daemon-reload:mosquitto', 'restart:mosquitto']);
    const rollback = steps.find((step) => step.id === 'restart:mosquitto')!.rollback!.map((command) => command.argv.join(' '));
    assert.ok(rollback.findIndex((command) => command.includes(`mqtt-provision-restore ${dropIn}`)) < rollback.indexOf('systemctl daemon-reload'));
    assert.ok(rollback.indexOf('systemctl daemon-reload') < rollback.indexOf('systemctl start mosquitto'));
  });

  it('on a container host (read-only /proc/sys, capped limit) warns without failing, and a second run changes nothing', () => {
    const first = { ...converged(), sysctl: labContainerSysctl, files: { ...converged().files, '/etc/sysctl.d/60-mqtt-provision.conf': null } };
    const steps = planMosquitto(first, mosquittoSettings(), fixedSalt());
    const file = steps.find((step) => step.id === 'sysctl:file')!;
    assert.equal(file.change, true);
    const written = file.commands[0]!.stdin!;
    assert.match(written, /^net\.core\.somaxconn = 32768$/m, 'refused keys stay in the file for a boot that allows them');
    assert.doesNotMatch(written, /fs\.file-max/, 'a host value already higher is never pinned');
    assert.doesNotMatch(written, /netdev_max_backlog/, 'an absent key is left out');
    const notes = steps.filter((step) => step.id.startsWith('limits:kernel:'));
    assert.equal(notes.length, 5);
    assert.ok(notes.every((note) => note.kind === 'note' && !note.change));

    const second = {
      ...first,
      files: { ...first.files, '/etc/sysctl.d/60-mqtt-provision.conf': { sha256: sha256(written), mode: '0644', owner: 'root', group: 'root', content: written } },
      openFiles: { mosquitto: { soft: 20000, hard: 20000 } },
    };
    const again = planMosquitto(second, mosquittoSettings(), fixedSalt());
    assert.deepEqual(again.filter((step) => step.change).map((step) => step.id), []);
    const note = again.find((step) => step.id === 'limits:open-files:mosquitto')!;
    assert.match(note.reason, /LimitNOFILE=1048576 asked, mosquitto runs with 20000 \(soft\) \/ 20000 \(hard\)/);
  });

  it('applies a writable key below its floor, and says which', () => {
    const facts = { ...converged(), sysctl: { ...converged().sysctl, 'net.core.somaxconn': { value: '4096', writable: true } } };
    const apply = planMosquitto(facts, mosquittoSettings(), fixedSalt()).find((step) => step.id === 'sysctl:apply')!;
    assert.equal(apply.change, true);
    assert.equal(apply.reason, 'net.core.somaxconn 4096 → 32768');
  });

  it('applyKernel off: no sysctl step, no kernel key probed', () => {
    const settings = mosquittoSettings({ limits: { applyKernel: false } });
    assert.deepEqual(mosquittoFactQuery(settings).sysctl, []);
    assert.ok(!planMosquitto(converged(), settings, fixedSalt()).some((step) => step.id.startsWith('sysctl:')));
  });

  it('reads the kernel keys and the running limit from the probe', () => {
    const facts = parseProbeOutput('sysctl\tnet.ipv4.ip_local_port_range\tr\t32768 60999 \nsysctl\tnet.core.netdev_max_backlog\t-\nnofile\tmosquitto\t20000\t20000\nnofile\tother\t-\n', mosquittoFactQuery());
    assert.deepEqual(facts.sysctl, { 'net.ipv4.ip_local_port_range': { value: '32768 60999', writable: false }, 'net.core.netdev_max_backlog': null });
    assert.deepEqual(facts.openFiles, { mosquitto: { soft: 20000, hard: 20000 }, other: null });
  });
});

describe('limits on an EMQX host', () => {
  // EMQX's unit sets LimitNOFILE=1048576 (deploy/packages/emqx.service at v5.7.2 and v5.8.6).
  it('writes no drop-in while openFiles is at or below the unit\'s own value, and says the limit is in force', () => {
    const settings = emqxSettings();
    const steps = planEmqx(convergedEmqxFacts(emqxFacts('rocky9'), settings), settings);
    assert.ok(!commandsOf(steps).some((command) => command.includes('service.d')));
    assert.match(steps.find((step) => step.id === 'limits:open-files:emqx')!.reason, /^1048576 in force/);
  });

  it('reports a node that runs below its unit\'s limit (a container caps it), without failing', () => {
    const settings = emqxSettings();
    const facts = { ...convergedEmqxFacts(emqxFacts('rocky9'), settings), openFiles: { emqx: { soft: 20000, hard: 20000 } } };
    const steps = planEmqx(facts, settings);
    assert.deepEqual(steps.filter((step) => step.change).map((step) => step.id), []);
    assert.match(steps.find((step) => step.id === 'limits:open-files:emqx')!.reason, /^warning: LimitNOFILE=1048576 asked, emqx runs with 20000/);
  });

  it('adds a drop-in and restarts when openFiles is above the unit\'s value', () => {
    const settings = emqxSettings({ limits: { openFiles: 2097152 } });
    const steps = planEmqx(convergedEmqxFacts(emqxFacts('rocky9'), settings), settings);
    const ids = steps.filter((step) => step.change).map((step) => step.id);
    for (const id of ['dir:/etc/systemd/system/emqx.service.d', 'file:/etc/systemd/system/emqx.service.d/mqtt-provision-limits.conf', 'daemon-reload:emqx', 'restart:emqx']) assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
    assert.ok(ids.indexOf('daemon-reload:emqx') < ids.indexOf('restart:emqx'));
  });
});
