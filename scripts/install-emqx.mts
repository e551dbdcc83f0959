#!/usr/bin/env zx
// Converge EMQX on hosts over SSH with no-loss defaults, then verify it keeps QoS 1 messages.
// `--package FILE` uploads a local .rpm/.deb for air-gapped hosts instead of downloading from EMQX.
import { enableCompileCache } from './lib/compile-cache.mts';
import { skipUnusedLocales } from './lib/lean-imports.mts';
import { mark } from '../src/timings.ts';

mark('entry');

enableCompileCache(); // before the imports below, so they load from the cache
const endLocaleHook = skipUnusedLocales(); // before zod loads
const { runInstall } = await import('../src/cli/install-command.ts');
const { scriptArguments } = await import('../src/cli/script-arguments.ts');
endLocaleHook(); // zod is loaded
mark('modules');

process.exitCode = await runInstall('emqx', scriptArguments(import.meta.url));
mark('done');
// Interrupted during the verify: its sessions are ended; the abandoned check may still hold sockets open.
if (process.exitCode >= 128) process.stdout.write('', () => process.exit(process.exitCode));
