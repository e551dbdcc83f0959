import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mosquittoFiles } from '../../src/brokers/mosquitto/files.ts';
import { planMosquitto } from '../fixtures/plan.ts';
import { desiredMosquittoContainer } from '../../src/container/mosquitto-container.ts';
import { planContainer } from '../../src/container/plan.ts';
import { applyPlan } from '../../src/engine/apply-plan.ts';
import { formatStepLine } from '../../src/cli/progress-printer.ts';
import type { Transport } from '../../src/transport/transport.ts';
import { convergedFacts, fixedSalt, mosquittoFacts } from '../fixtures/facts.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';
import { noStart } from './support/no-start.ts';

// Issue 21 item 2: removing an `extraConfig` that held a bridge password printed the password in
// the diff of mosquitto.conf (screen, --dry-run, --json). A file secret before OR after is never diffed.

const bridge = 'connection up\naddress remote.example:1883\nremote_password Br1dgeS3cret\n';
const withSecret = mosquittoSettings({ extraConfig: bridge });
const without = mosquittoSettings();
const noTransport: Transport = {
  label: 'nowhere',
  exec: async () => {
    throw new Error('a dry run executes nothing');
  },
  start: noStart,
          close: async () => {},
};

describe('secrets in diffs', () => {
  it('shows no line of a host file that was written as a secret, when the new file is not secret', async () => {
    const facts = convergedFacts(mosquittoFacts('debian12'), mosquittoFiles(withSecret, mosquittoFacts('debian12'), fixedSalt()));
    assert.equal(facts.files['/etc/mosquitto/mosquitto.conf']!.mode, '0640', 'the extraConfig file was private');
    const steps = planMosquitto(facts, without, fixedSalt());
    const conf = steps.find((step) => step.id === 'file:/etc/mosquitto/mosquitto.conf')!;
    assert.equal(conf.change, true);
    assert.match(conf.diff!, /content not shown/);
    // What --dry-run prints, line by line, and what --json carries.
    const results = await applyPlan(noTransport, steps, { dryRun: true });
    const screen = results.map((result) => formatStepLine('host', result, true)).join('\n');
    assert.doesNotMatch(screen, /Br1dgeS3cret/);
    assert.doesNotMatch(JSON.stringify(results), /Br1dgeS3cret/);
  });

  it('still diffs a world-readable config that drifted', () => {
    const files = mosquittoFiles(without, mosquittoFacts('debian12'), fixedSalt());
    const facts = convergedFacts(mosquittoFacts('debian12'), files);
    const conf = facts.files['/etc/mosquitto/mosquitto.conf']!;
    facts.files['/etc/mosquitto/mosquitto.conf'] = { ...conf, sha256: 'drifted', content: conf.content!.replace('max_queued_messages 100000', 'max_queued_messages 1000') };
    const step = planMosquitto(facts, without, fixedSalt()).find((s) => s.id === 'file:/etc/mosquitto/mosquitto.conf')!;
    assert.match(step.diff!, /^-max_queued_messages 1000$/m);
  });

  it('shows no line of a stored container config that was private, when the new one is not secret', () => {
    const options = { name: 'broker', image: 'img:1', bind: '127.0.0.1', configDir: '/srv/broker/config', memory: '512m', cpus: '1' };
    const before = desiredMosquittoContainer(withSecret, options, null, fixedSalt(), { stored: null, generate: () => 'ab'.repeat(16) });
    const after = desiredMosquittoContainer(without, options, null, fixedSalt(), { stored: null, generate: () => 'ab'.repeat(16) });
    const confPath = before.files.find((file) => file.path.endsWith('mosquitto.conf'))!.path;
    const facts = {
      container: null,
      volumes: {},
      files: Object.fromEntries(before.files.map((file) => [file.path, file.content])),
      privateFiles: before.files.filter((file) => file.secret).map((file) => file.path),
      directories: {},
      replacedMounts: [],
      hostCpus: 0,
    };
    const step = planContainer(facts, after).find((s) => s.id === `file:${confPath}`)!;
    assert.equal(step.change, true);
    assert.doesNotMatch(step.diff ?? '', /Br1dgeS3cret/);
  });
});
