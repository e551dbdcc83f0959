import { X509Certificate } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../settings/input-error.ts';
import { inputCaps, readInputBytes, readInputText } from '../settings/input-file.ts';
import { SshTransport, type SshOptions } from '../transport/ssh.ts';
import type { Transport } from '../transport/transport.ts';
import { restartViaSystemctl } from './restart-service.ts';
import { parseVerifyArguments, readPasswordFile, verifyUsage } from './verify-arguments.ts';
import { verifyBroker, type VerifyOptions } from './verify-broker.ts';
import { formatVerifyReport, type VerifyReport } from './verify-report.ts';

export interface VerifyCommandEnvironment {
  print: (text: string) => void;
  printError: (text: string) => void;
  connect: (options: SshOptions) => Promise<Transport>;
  verify: (options: VerifyOptions) => Promise<VerifyReport>;
}

export const defaultVerifyEnvironment: VerifyCommandEnvironment = {
  print: (text) => process.stdout.write(`${text}\n`),
  printError: (text) => process.stderr.write(`${text}\n`),
  connect: (options) => SshTransport.connect(options),
  verify: verifyBroker,
};

/** scripts/verify-broker.mts's logic; returns the exit code: 0 passed, 1 a check failed, 2 bad input. */
export async function runVerifyCommand(args: readonly string[], environment: VerifyCommandEnvironment = defaultVerifyEnvironment): Promise<number> {
  let options: VerifyOptions;
  let json: boolean;
  try {
    const parsed = parseVerifyArguments(args);
    if (parsed.help) {
      environment.print(verifyUsage);
      return 0;
    }
    json = parsed.json;
    options = { mqttUrl: parsed.mqttUrl, messages: parsed.messages, log: environment.printError };
    if (parsed.wsUrl !== undefined) options.wsUrl = parsed.wsUrl;
    if (parsed.caFile !== undefined) options.ca = readCaFile(parsed.caFile);
    if (parsed.user !== undefined && parsed.passwordFile !== undefined) {
      options.username = parsed.user;
      options.password = readPasswordFile(parsed.passwordFile);
    }
    const { restartHost, identity } = parsed;
    if (restartHost !== undefined && identity !== undefined) {
      // The shared reader refuses a device, FIFO or huge file now, with the flag named.
      readInputBytes(identity, '--identity', inputCaps.pem);
      const ssh: SshOptions = {
        ...restartHost,
        identityFile: identity,
        connectTimeoutMs: 10_000,
        retries: 2,
        // Same host key policy as the install front door's default.
        hostKeys: { check: 'accept-new', file: parsed.knownHosts ?? join(homedir(), '.ssh', 'known_hosts') },
      };
      options.restartBroker = restartViaSystemctl(() => environment.connect(ssh), parsed.service);
    }
  } catch (error) {
    if (error instanceof InputError) {
      environment.printError(`invalid input: ${error.message}\nRun with --help for the flags.`);
      return 2;
    }
    throw error;
  }
  const report = await environment.verify(options);
  environment.print(json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
  return report.passed ? 0 : 1;
}

/** Reads --ca: a PEM certificate (or several), refused early when it is not one. */
function readCaFile(path: string): string {
  const text = readInputText(path, '--ca', inputCaps.pem);
  try {
    new X509Certificate(text);
  } catch {
    throw new InputError('--ca', `${path} is not a PEM certificate`);
  }
  return text;
}
