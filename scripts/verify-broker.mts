#!/usr/bin/env zx
// Prove a broker keeps every QoS 1 message for an offline subscriber (and refuses strangers); exit 0 pass, 1 fail, 2 bad input.
import { enableCompileCache } from './lib/compile-cache.mts';

enableCompileCache(); // before the imports below, so they load from the cache
const { isEntryPoint, scriptArguments } = await import('../src/cli/script-arguments.ts');
const { runVerifyCommand } = await import('../src/verify/verify-command.ts');

if (isEntryPoint(import.meta.url)) {
  const code = await runVerifyCommand(scriptArguments(import.meta.url));
  process.exitCode = code;
  // Interrupted: the abandoned check may still hold sockets open; leave once the report is written.
  if (code >= 128) process.stdout.write('', () => process.exit(code));
}
