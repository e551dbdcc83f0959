#!/usr/bin/env zx
// Restore a Mosquitto broker's config and data (sessions, queued messages): see --help.
import { runRestore } from '../src/cli/restore-command.ts';
import { scriptArguments } from '../src/cli/script-arguments.ts';

process.exitCode = await runRestore(scriptArguments(import.meta.url));
