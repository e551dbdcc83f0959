import type { InstallTarget } from '../cli/install-command.ts';
import type { Settings } from '../settings/load.ts';
import { restartViaSystemctl } from './restart-service.ts';
import { verifyBroker, type VerifyOptions } from './verify-broker.ts';
import { formatVerifyReport, type VerifyReport } from './verify-report.ts';

export interface BrokerUrls {
  /** The URL every check uses: the MQTT listener, or the WebSocket one when there is no MQTT listener. */
  mqttUrl: string;
  /** Checked for reachability too, when the broker serves both. */
  wsUrl?: string;
}

/** Builds the client URLs for a converged host: broker port → the port reachable from here. */
export function brokerUrls(target: Pick<InstallTarget, 'address' | 'ports'>, settings: Pick<Settings, 'listeners'>): BrokerUrls {
  const host = target.address.includes(':') ? `[${target.address}]` : target.address;
  const reachable = (port: number): number => target.ports[port] ?? port;
  const { mqtt, websocket } = settings.listeners;
  // EMQX serves MQTT over WebSocket on /mqtt only; Mosquitto accepts any path.
  const wsUrl = websocket === undefined ? undefined : `ws://${host}:${reachable(websocket)}/mqtt`;
  if (mqtt !== undefined) return { mqttUrl: `mqtt://${host}:${reachable(mqtt)}`, ...(wsUrl ? { wsUrl } : {}) };
  if (wsUrl !== undefined) return { mqttUrl: wsUrl };
  throw new Error('the settings serve neither an "mqtt" nor a "websocket" listener, so there is nothing to verify');
}

/** The verify options for a converged host: its URLs, the first admin, and a restart when it must survive one. */
export function installVerifyOptions(
  target: InstallTarget,
  settings: Settings,
  options: { messages?: number; log?: (line: string) => void } = {},
): VerifyOptions {
  const verifyOptions: VerifyOptions = { ...brokerUrls(target, settings) };
  const admin = settings.admins[0];
  if (admin) {
    verifyOptions.username = admin.name;
    verifyOptions.password = admin.password;
  }
  if (options.messages !== undefined) verifyOptions.messages = options.messages;
  if (options.log) verifyOptions.log = options.log;
  // Only a Mosquitto with persistence promises that queued messages outlive a restart.
  if (settings.broker === 'mosquitto' && settings.persistence.enabled) {
    verifyOptions.restartBroker = restartViaSystemctl(() => target.connect(), 'mosquitto');
  }
  return verifyOptions;
}

/** Runs the verification against a converged host and returns the full report. */
export function verifyInstalledBroker(
  target: InstallTarget,
  settings: Settings,
  options: { messages?: number; log?: (line: string) => void } = {},
): Promise<VerifyReport> {
  return verifyBroker(installVerifyOptions(target, settings, options));
}

/** The install front door's verify hook: prints the report under the host's label and says whether it passed. */
export async function verifyAfterInstall(
  target: InstallTarget,
  settings: Settings,
  options: { messages?: number; print: (line: string) => void },
): Promise<boolean> {
  let report: VerifyReport;
  try {
    report = await verifyInstalledBroker(target, settings, options.messages === undefined ? {} : { messages: options.messages });
  } catch (error) {
    options.print(`${target.label}: FAIL  verify: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
  for (const line of formatVerifyReport(report).split('\n')) options.print(`${target.label}: ${line}`);
  return report.passed;
}
