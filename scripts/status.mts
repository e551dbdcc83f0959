#!/usr/bin/env zx
// Report each broker's state against its settings (version, service, listeners, firewall, drift,
// TLS expiry, disk, the broker's own figures); changes nothing, exits 1 when anything is wrong.
import { enableCompileCache } from './lib/compile-cache.mts';

enableCompileCache(); // before the imports below, so they load from the cache
const { runStatus } = await import('../src/cli/status-command.ts');
const { scriptArguments } = await import('../src/cli/script-arguments.ts');

process.exitCode = await runStatus(scriptArguments(import.meta.url));
