#!/usr/bin/env zx
// Report the ways an existing MQTT consumer config loses messages; exit 0 none, 1 found, 2 unreadable input.
import { enableCompileCache } from './lib/compile-cache.mts';

enableCompileCache(); // before the imports below, so they load from the cache
const { isEntryPoint, scriptArguments } = await import('../src/cli/script-arguments.ts');
const { runLintCommand } = await import('../src/consumers/lint-command.ts');

if (isEntryPoint(import.meta.url)) {
  process.exitCode = runLintCommand(
    scriptArguments(import.meta.url),
    (text) => process.stdout.write(`${text}\n`),
    (text) => process.stderr.write(`${text}\n`),
  );
}
