#!/usr/bin/env zx
// Converge Mosquitto on hosts over SSH with no-loss defaults, then verify it keeps QoS 1 messages.
import { runInstall } from '../src/cli/install-command.ts';
import { scriptArguments } from '../src/cli/script-arguments.ts';

process.exitCode = await runInstall('mosquitto', scriptArguments(import.meta.url));
// Interrupted during the verify: its sessions are ended; the abandoned check may still hold sockets open.
if (process.exitCode >= 128) process.stdout.write('', () => process.exit(process.exitCode));
