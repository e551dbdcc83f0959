import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import { applyPlan } from '../../src/engine/apply-plan.ts';
import { change } from '../../src/operations/step.ts';
import { ConnectionError, type Transport } from '../../src/transport/transport.ts';
import { convergedFacts, fixedSalt, mosquittoFacts } from '../fixtures/facts.ts';
import { planMosquitto } from '../fixtures/plan.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

/** Issue 17: a step says what it is; nothing finds that out from argv, an id prefix or error.name. */

/** A transport whose first command fails with `error`; records every argv it was asked to run. */
function failingTransport(error: Error): Transport & { ran: string[][] } {
  const ran: string[][] = [];
  let first = true;
  return {
    label: 'test',
    ran,
    exec: async (argv: string[]) => {
      ran.push(argv);
      if (first) {
        first = false;
        throw error;
      }
      return { code: 0, stdout: '', stderr: '' };
    },
    close: async () => {},
  } as unknown as Transport & { ran: string[][] };
}

describe('step kinds', () => {
  it('a fresh host: file contents are `file`, the restart-pending marker is `marker`, and every step has a kind', () => {
    const steps = planMosquitto(mosquittoFacts('debian12'), mosquittoSettings(), fixedSalt());
    assert.ok(steps.every((step) => typeof step.kind === 'string'));
    assert.deepEqual(steps.filter((step) => step.kind === 'marker').map((step) => step.id), ['pending:mosquitto']);
    assert.deepEqual(
      steps.filter((step) => step.kind === 'file').map((step) => step.id),
      ['sysctl:file', 'file:/etc/mosquitto/mosquitto.conf', 'file:/etc/mosquitto/passwd', 'file:/etc/mosquitto/acl', 'file:/etc/systemd/system/mosquitto.service.d/mqtt-provision-limits.conf'],
    );
    assert.equal(steps.find((step) => step.id === 'restart:mosquitto')!.kind, 'restart');
    assert.equal(steps.find((step) => step.id === 'sysctl:apply')!.kind, 'kernel');
  });

  it('a file whose only difference is its mode is `file-attributes`, and reloads without a restart', () => {
    const settings = mosquittoSettings();
    const base = mosquittoFacts('debian12');
    const facts = convergedFacts(base, mosquittoFiles(settings, base, fixedSalt()));
    facts.files['/etc/mosquitto/acl'] = { ...facts.files['/etc/mosquitto/acl']!, mode: '0644' };
    const steps = planMosquitto(facts, settings, fixedSalt());
    assert.equal(steps.find((step) => step.id === 'file:/etc/mosquitto/acl')!.kind, 'file-attributes');
    const changedKinds = steps.filter((step) => step.change).map((step) => step.kind);
    assert.ok(changedKinds.includes('reload') && !changedKinds.includes('restart'), changedKinds.join(', '));
  });

  it('a lost connection (ConnectionError) runs no diagnostics and no rollback; another error runs both', async () => {
    const step = change('restart', 'restart:x', 'restart x', 'test', [{ argv: ['systemctl', 'restart', 'x'] }], {
      diagnostics: [{ argv: ['journalctl', '-u', 'x'] }],
      rollback: [{ argv: ['restore', 'x'] }],
    });
    const lost = failingTransport(new ConnectionError('connection lost'));
    const [lostResult] = await applyPlan(lost, [step]);
    assert.equal(lostResult!.status, 'failed');
    assert.deepEqual(lost.ran, [['systemctl', 'restart', 'x']]);
    assert.equal(lostResult!.kind, 'restart');
    // Named like one, but not one: only the class counts.
    const impostor = Object.assign(new Error('exit 1'), { name: 'ConnectionError' });
    const other = failingTransport(impostor);
    await applyPlan(other, [step]);
    assert.deepEqual(other.ran, [['systemctl', 'restart', 'x'], ['journalctl', '-u', 'x'], ['restore', 'x']]);
  });
});
