import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { brokerRole } from '../brokers/registry.ts';
import type { ConsumerOutput } from '../consumers/install-output.ts';
import { writeConsumerConfigs } from '../consumers/write-configs.ts';
import type { Settings } from '../settings/load.ts';
import { generatedCaDir, placeholderPrefix } from '../tls/server-files.ts';

type Printer = { printError: (text: string) => void };

/** Writes each consumer's rendered config and password file (--consumer-configs, or DIR/consumers with --render-to). */
export function writeConsumers(output: ConsumerOutput, settings: Settings, environment: Printer): void {
  for (const path of writeConsumerConfigs(output.directory, settings, output.endpoint)) environment.printError(`rendered ${path}`);
}

/** Writes what would be installed, secret files at 0600, for review or for a config-management repo. */
export function renderTo(directory: string, settings: Settings, environment: Printer): void {
  mkdirSync(directory, { recursive: true });
  const notIssued: string[] = [];
  for (const file of brokerRole(settings.broker).renderFiles(settings)) {
    // Rendering never creates the CA: without one there is nothing to issue the TLS files from.
    if (file.content.startsWith(placeholderPrefix)) {
      notIssued.push(basename(file.path));
      continue;
    }
    const target = join(directory, basename(file.path));
    writeRendered(target, file.content, file.secret ? 0o600 : 0o644);
    environment.printError(`rendered ${target}`);
  }
  if (notIssued.length > 0) {
    environment.printError(`not rendered: ${notIssued.join(', ')}: the CA in ${generatedCaDir(settings)} does not exist yet, and --render-to does not create it (a run that applies would create the CA)`);
  }
}

/**
 * writeFileSync's mode applies only to a file it creates: an existing 0644 file that now holds a
 * secret would stay 0644. A new private temp file, chmod'ed explicitly (the umask plays no part)
 * and renamed over the target, gives every file exactly its mode, and never a moment of exposure.
 */
function writeRendered(target: string, content: string, mode: number): void {
  const temp = `${target}.mqtt-provision-${process.pid}.tmp`;
  try {
    writeFileSync(temp, content, { mode: 0o600, flag: 'wx' });
    chmodSync(temp, mode);
    renameSync(temp, target);
  } finally {
    rmSync(temp, { force: true });
  }
}
