#!/usr/bin/env zx
// Restore a Mosquitto broker's config and data (sessions, queued messages): see --help.
import { enableCompileCache } from './lib/compile-cache.mts';

enableCompileCache(); // before the imports below, so they load from the cache
const { runRestore } = await import('../src/cli/restore-command.ts');
const { scriptArguments } = await import('../src/cli/script-arguments.ts');

process.exitCode = await runRestore(scriptArguments(import.meta.url));
