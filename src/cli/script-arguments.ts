import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The arguments after the script's own path, whether it runs as `node script.mts …` or through
 * `npx zx script.mts …` (where zx's own path sits in front of it).
 */
export function scriptArguments(scriptUrl: string, argv: readonly string[] = process.argv): string[] {
  const scriptPath = fileURLToPath(scriptUrl);
  const index = argv.findIndex((argument, position) => position > 0 && resolve(argument) === scriptPath);
  return argv.slice(index === -1 ? 2 : index + 1);
}

/** True when the module is the process's entry point (directly or via zx), so tests can import it. */
export function isEntryPoint(scriptUrl: string, argv: readonly string[] = process.argv): boolean {
  const scriptPath = fileURLToPath(scriptUrl);
  return argv.some((argument, position) => position > 0 && resolve(argument) === scriptPath);
}
