import { readFileSync, statSync } from 'node:fs';
import { formatLint, lintConsumerText, LintInputError } from './lint.ts';

export const lintUsage = `Usage: npx zx scripts/lint-consumer.mts FILE...

Reads a Flume properties file, a Telegraf config ([[inputs.mqtt_consumer]]) or a file holding a
mosquitto_sub command line, and reports each way it loses messages: no or random client id with a
persistent session, clean session on, a QoS 0 subscription, no credentials.

Exit codes: 0 no risk found, 1 a risk found, 2 a file could not be read or is none of the formats.`;

const maxBytes = 1024 * 1024;

/** scripts/lint-consumer.mts's logic; the worst exit code over all files. */
export function runLintCommand(args: readonly string[], print: (text: string) => void, printError: (text: string) => void): number {
  if (args.includes('-h') || args.includes('--help')) {
    print(lintUsage);
    return 0;
  }
  if (args.length === 0 || args.some((arg) => arg.startsWith('-'))) {
    printError(`invalid input: give one or more files${args.some((arg) => arg.startsWith('-')) ? ` (unknown option ${args.find((arg) => arg.startsWith('-'))})` : ''}\n\n${lintUsage}`);
    return 2;
  }
  let code = 0;
  for (const file of args) {
    let text: string;
    try {
      if (statSync(file).size > maxBytes) throw new Error('larger than 1 MiB');
      text = readFileSync(file, 'utf8');
    } catch (error) {
      printError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      code = 2;
      continue;
    }
    try {
      const result = lintConsumerText(text);
      print(formatLint(file, result));
      if (result.risks.length > 0 && code === 0) code = 1;
    } catch (error) {
      if (!(error instanceof LintInputError)) throw error;
      printError(`${file}: ${error.message}`);
      code = 2;
    }
  }
  return code;
}
