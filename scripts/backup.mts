#!/usr/bin/env zx
// Back up a Mosquitto broker's config and data (sessions, queued messages): see --help.
import { enableCompileCache } from './lib/compile-cache.mts';

enableCompileCache(); // before the imports below, so they load from the cache
const { runBackup } = await import('../src/cli/backup-command.ts');
const { scriptArguments } = await import('../src/cli/script-arguments.ts');

process.exitCode = await runBackup(scriptArguments(import.meta.url));
