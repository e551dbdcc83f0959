#!/usr/bin/env zx
// Back up a Mosquitto broker's config and data (sessions, queued messages): see --help.
import { runBackup } from '../src/cli/backup-command.ts';
import { scriptArguments } from '../src/cli/script-arguments.ts';

process.exitCode = await runBackup(scriptArguments(import.meta.url));
