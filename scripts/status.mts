#!/usr/bin/env zx
// Report each broker's state against its settings (version, service, listeners, firewall, drift,
// TLS expiry, disk, the broker's own figures); changes nothing, exits 1 when anything is wrong.
import { runStatus } from '../src/cli/status-command.ts';
import { scriptArguments } from '../src/cli/script-arguments.ts';

process.exitCode = await runStatus(scriptArguments(import.meta.url));
