import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { LabHost } from '../../../src/lab/hosts.ts';
import { hostArgs, install, onHost, writeSecretFile, type InstallRun } from './lab-fixture.ts';

/**
 * Settings whose mosquitto.conf the broker rejects: the shipped template plus a directive Mosquitto
 * does not know. Shared by the rollback test, its 20-times loop (bench/) and the concurrency test.
 */
export function rejectedConfigSettings(): string {
  const shipped = readFileSync(new URL('../../../templates/mosquitto.conf.hbs', import.meta.url), 'utf8');
  const brokenTemplate = writeSecretFile(`${shipped}\nnot_a_mosquitto_directive true\n`);
  return writeSecretFile(`broker: mosquitto\nlisteners: { mqtt: 1883, websocket: 8083 }\ntemplates:\n  mosquitto.conf: ${brokenTemplate}\n`);
}

/** The broker's own words for that directive, as the failed run must report them. */
export const brokerRejection = /Unknown configuration variable "not_a_mosquitto_directive"/;

/**
 * Runs the rejected config against a converged host and checks what the rollback test promises:
 * exit 1 naming the failed restart and the broker's error, the previous config back and running,
 * and no backup or temp file left.
 */
export async function runRejectedConfig(host: LabHost, admin: string[]): Promise<InstallRun> {
  const run = await install([...(await hostArgs(host)), '--settings', rejectedConfigSettings(), ...admin, '--no-verify']);
  assert.equal(run.code, 1, run.output);
  assert.match(run.output, /FAILED +restart mosquitto/);
  assert.match(run.output, brokerRejection);
  assert.match(run.output, /rolled back/);
  assert.equal((await onHost(host, ['systemctl', 'is-active', 'mosquitto'])).trim(), 'active');
  assert.doesNotMatch(await onHost(host, ['cat', '/etc/mosquitto/mosquitto.conf']), /not_a_mosquitto_directive/);
  assert.equal((await onHost(host, ['sh', '-c', 'ls /etc/mosquitto/*.mqtt-provision.* 2>/dev/null | wc -l'])).trim(), '0', 'no backup or temp file left');
  return run;
}
