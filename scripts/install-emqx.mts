#!/usr/bin/env zx
// Converge EMQX on hosts over SSH with no-loss defaults, then verify it keeps QoS 1 messages.
// `--package FILE` uploads a local .rpm/.deb for air-gapped hosts instead of downloading from EMQX.
import { runInstall } from '../src/cli/install-command.ts';
import { scriptArguments } from '../src/cli/script-arguments.ts';

process.exitCode = await runInstall('emqx', scriptArguments(import.meta.url));
// Interrupted during the verify: its sessions are ended; the abandoned check may still hold sockets open.
if (process.exitCode >= 128) process.stdout.write('', () => process.exit(process.exitCode));
