#!/usr/bin/env node
// Runs the rollback-diagnostics check (test/e2e/install-mosquitto.test.ts, "keeps the broker running
// on the previous config when a new one is rejected") N times in a row on one lab host and prints
// how many passed. Not part of CI: it proves the broker's error is read deterministically.
//   MQTT_LAB_SUFFIX=me node bench/rollback-diagnostics-loop.mts [--runs 20]
import { parseArgs } from 'node:util';
import { startLabHosts, stopLabHosts, type LabHost } from '../src/lab/hosts.ts';
import { hostArgs, install, writeSecretFile } from '../test/e2e/support/lab-fixture.ts';
import { runRejectedConfig } from '../test/e2e/support/rejected-config.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number ≥ 1, got ${values.runs}`);
const admin = ['--admin-user', 'admin', '--admin-password-file', writeSecretFile('rollback-loop\n')];
const settings = new URL('../examples/lab-mosquitto.yaml', import.meta.url).pathname;

let host: LabHost | undefined;
let passed = 0;
const failures: string[] = [];
try {
  [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-rollback-loop' })) as [LabHost];
  const first = await install([...(await hostArgs(host)), '--settings', settings, ...admin, '--no-verify']);
  if (first.code !== 0) throw new Error(`the first converge failed:\n${first.output}`);
  for (let run = 1; run <= runs; run++) {
    const started = performance.now();
    try {
      await runRejectedConfig(host, admin);
      passed++;
      console.log(`run ${run}/${runs}: pass (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failures.push(`run ${run}: ${(error as Error).message}`);
      console.log(`run ${run}/${runs}: FAIL ${(error as Error).message.split('\n')[0]}`);
    }
  }
} finally {
  if (host) await stopLabHosts([host.name]);
}
console.log(`rollback diagnostics: ${passed}/${runs} passed`);
for (const failure of failures) console.log(failure);
process.exit(passed === runs ? 0 : 1);
