import type { InstallEnvironment } from './install-command.ts';
import { inputErrorDocument } from './install-json.ts';

/**
 * Bad input found by install: the message on stderr (with a hint where one helps), and with --json
 * the error document on stdout, so a CI job reads exit 2 the same way whichever check refused it.
 */
export function refuseInput(message: string, json: boolean, environment: Pick<InstallEnvironment, 'print' | 'printError'>, hint = ''): number {
  environment.printError(`invalid input:\n${message}${hint}`);
  if (json) environment.print(inputErrorDocument('install', message));
  return 2;
}
