import { inputErrorDocument } from './install-json.ts';

type Printers = { print: (text: string) => void; printError: (text: string) => void };

/**
 * Bad input found by a front door (install, backup, restore): exit 2 with the message on stderr,
 * with a hint where one helps, and for install --json also its error document on stdout, so a CI
 * job reads a refusal the same way whichever check found it.
 */
export function refuseInput(message: string, environment: Printers, options: { hint?: string; installJson?: boolean } = {}): number {
  environment.printError(`invalid input:\n${message}${options.hint ?? ''}`);
  if (options.installJson) environment.print(inputErrorDocument('install', message));
  return 2;
}

/** The hint after backup's and restore's input errors (install's also points at the settings table). */
export const flagsHint = '\n\nRun with --help for the flags.';
