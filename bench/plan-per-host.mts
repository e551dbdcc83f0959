// Benchmark (issue 20): the controller's own cost of planning one host, as a run over many hosts
// with the same settings pays it. Gathers one host's facts (read-only, under its host lock), then
// prepares and plans N times on them in this one process and prints the first and the typical
// figure. Same flags as install-*.mts (the broker from --broker, Mosquitto by default):
//   node bench/plan-per-host.mts --inventory FILE --settings FILE --admin-user admin --admin-password-file FILE [--plans 100] [--broker emqx]
// A converged host gives the no-op figure (changed steps: 0).
import { parseArgs } from 'node:util';
import { loadSettings } from '../src/brokers/load-settings.ts';
import { brokerRole } from '../src/brokers/registry.ts';
import { defaultEnvironment } from '../src/cli/install-command.ts';
import { parseInstallOptions } from '../src/cli/install-options.ts';
import { buildTargets } from '../src/cli/ssh-targets.ts';
import { settingsOverrides } from '../src/cli/target-flags.ts';
import { inspectHost } from '../src/engine/converge-host.ts';
import { prepareHost } from '../src/engine/prepare.ts';

const { values, tokens } = parseArgs({ options: { plans: { type: 'string', default: '100' }, broker: { type: 'string', default: 'mosquitto' } }, strict: false, tokens: true });
const own = new Set(['plans', 'broker']);
const rest = tokens.flatMap((token) => (token.kind === 'option' && own.has(token.name) ? [] : token.kind === 'option' ? [token.rawName, ...(token.value !== undefined ? [token.value] : [])] : token.kind === 'positional' ? [token.value] : []));
const broker = values.broker === 'emqx' ? 'emqx' : 'mosquitto';
const options = parseInstallOptions(rest);
const settings = loadSettings(options.settings, { broker, ...settingsOverrides(options, process.env) });
const [target] = buildTargets(options, defaultEnvironment);
if (!target) throw new Error('give one host (--host or --inventory)');
const transport = await target.connect();
const { facts } = await inspectHost(transport, settings).finally(() => transport.close());

const role = brokerRole(settings.broker);
const plans = Number(values.plans);
const times: number[] = [];
let changed = 0;
for (let index = 0; index < plans; index++) {
  const started = performance.now();
  // What a run does per host after its facts: prepare (no key drawn for a host that has its files), then plan.
  const steps = role.plan(facts, settings, prepareHost(role, facts, settings, false));
  times.push(performance.now() - started);
  if (index === 0) changed = steps.filter((step) => step.change).length;
}
// Gathering the facts planned once already (modules loaded, templates compiled as a run's first host has them).
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
const mean = times.reduce((a, b) => a + b, 0) / times.length;
console.log(`${target.label}: ${plans} plans, changed steps ${changed}`);
console.log(`per host: median ${median.toFixed(3)} ms, mean ${mean.toFixed(3)} ms, max ${sorted.at(-1)!.toFixed(2)} ms; all ${plans}: ${(mean * plans).toFixed(1)} ms`);
