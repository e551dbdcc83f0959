#!/usr/bin/env zx
// Prove a broker keeps every QoS 1 message for an offline subscriber (and refuses strangers); exit 0 pass, 1 fail, 2 bad input.
import { isEntryPoint, scriptArguments } from '../src/cli/script-arguments.ts';
import { runVerifyCommand } from '../src/verify/verify-command.ts';

if (isEntryPoint(import.meta.url)) {
  const code = await runVerifyCommand(scriptArguments(import.meta.url));
  process.exitCode = code;
  // Interrupted: the abandoned check may still hold sockets open; leave once the report is written.
  if (code >= 128) process.stdout.write('', () => process.exit(code));
}
