import { X509Certificate } from 'node:crypto';
import { InputError, InputErrors } from '../settings/input-error.ts';
import { inputCaps, readInputBytes, readInputText, readSecretFile } from '../settings/input-file.ts';
import { loadSettings } from '../brokers/load-settings.ts';
import { consumerProbes } from './consumer-retention.ts';
import { SshTransport, type SshOptions } from '../transport/ssh.ts';
import { sshOptions } from '../transport/ssh-options.ts';
import type { Transport } from '../transport/transport.ts';
import { interruptExitCodes, processInterrupts, withInterrupts } from './interrupts.ts';
import { restartViaSystemctl } from './restart-service.ts';
import { parseVerifyArguments, verifyUsage } from './verify-arguments.ts';
import { verifyBroker, type VerifyOptions } from './verify-broker.ts';
import { formatVerifyReport, inputErrorDocument, verifyJsonDocument, type VerifyReport } from './verify-report.ts';

export interface VerifyCommandEnvironment {
  print: (text: string) => void;
  printError: (text: string) => void;
  connect: (options: SshOptions) => Promise<Transport>;
  verify: (options: VerifyOptions) => Promise<VerifyReport>;
  /** Calls the handler on SIGINT or SIGTERM until the returned function removes it; none in tests that do not ask. */
  onInterrupt?: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

export const defaultVerifyEnvironment: VerifyCommandEnvironment = {
  print: (text) => process.stdout.write(`${text}\n`),
  printError: (text) => process.stderr.write(`${text}\n`),
  connect: (options) => SshTransport.connect(options),
  verify: verifyBroker,
  onInterrupt: processInterrupts,
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
    if (parsed.topicPrefix !== undefined) options.topicPrefix = parsed.topicPrefix;
    if (parsed.caFile !== undefined) options.ca = readCaFile(parsed.caFile);
    if (parsed.user !== undefined && parsed.passwordFile !== undefined) {
      options.username = parsed.user;
      options.password = readSecretFile(parsed.passwordFile, '--password-file');
    }
    if (parsed.consumers !== undefined && parsed.user !== undefined && parsed.passwordFile !== undefined) {
      // The verifier's user stands in as the admin, so a settings file that names none still loads.
      const settings = loadSettings(parsed.consumers, { adminUser: parsed.user, adminPasswordFile: parsed.passwordFile });
      if (settings.consumers.length === 0) throw new InputError('--consumers', `${parsed.consumers} has no "consumers:"`);
      options.consumers = consumerProbes(settings);
    }
    const { restartHost, identity } = parsed;
    if (restartHost !== undefined && identity !== undefined) {
      // The shared reader refuses a device, FIFO or huge file now, with the flag named.
      readInputBytes(identity, '--identity', inputCaps.pem);
      // Same host key policy, timeout and retries as the install front door's defaults.
      const ssh = sshOptions(restartHost, { identityFile: identity, knownHosts: parsed.knownHosts });
      options.restartBroker = restartViaSystemctl(() => environment.connect(ssh), parsed.service);
    }
  } catch (error) {
    if (error instanceof InputError || error instanceof InputErrors) {
      environment.printError(`invalid input: ${error.message}\nRun with --help for the flags.`);
      if (args.includes('--json')) environment.print(inputErrorDocument('verify', error.message));
      return 2;
    }
    throw error;
  }
  const { result: report, stoppedBy } = await withInterrupts(environment.onInterrupt, (signal) => environment.verify({ ...options, signal }));
  environment.print(json ? JSON.stringify(verifyJsonDocument(report), null, 2) : formatVerifyReport(report));
  if (stoppedBy !== undefined) return interruptExitCodes[stoppedBy] ?? 1;
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
