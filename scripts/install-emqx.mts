#!/usr/bin/env zx
// Converge EMQX on hosts over SSH with no-loss defaults, then verify it keeps QoS 1 messages.
// `--package FILE` uploads a local .rpm/.deb for air-gapped hosts instead of downloading from EMQX.
import { resolve } from 'node:path';
import { defaultEnvironment, runInstall } from '../src/cli/install-command.ts';
import { parseInstallOptions } from '../src/cli/install-options.ts';
import { scriptArguments } from '../src/cli/script-arguments.ts';

const args = scriptArguments(import.meta.url);
let env = defaultEnvironment.env;
try {
  // The package reaches the settings as MQTT_EMQX_PACKAGE (resolved here, against the working directory).
  const packagePath = parseInstallOptions(args).package;
  if (packagePath !== undefined) env = { ...env, MQTT_EMQX_PACKAGE: resolve(packagePath) };
} catch {
  // Bad flags: runInstall reports them (exit 2).
}
process.exitCode = await runInstall('emqx', args, { ...defaultEnvironment, env });
