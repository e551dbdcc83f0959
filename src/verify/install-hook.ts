import type { InstallTarget } from '../engine/install-target.ts';
import type { Settings } from '../settings/load.ts';
import { Secret } from '../secret.ts';
import { readCa } from '../tls/ca-store.ts';
import { issueClientCertificate } from '../tls/certificates.ts';
import { bracketHost } from '../transport/host-spec.ts';
import type { Transport } from '../transport/transport.ts';
import { waitHealthy } from '../container/wait-healthy.ts';
import { consumerProbes } from './consumer-retention.ts';
import type { PermissionUser } from './permission-plan.ts';
import { clientUsers } from '../settings/load.ts';

export { consumerProbes };
import { restartViaSystemctl } from './restart-service.ts';
import { isStaticCluster } from '../brokers/emqx/cluster.ts';
import { checkClusterMembership } from './cluster-check.ts';
import { verifyBroker, type VerifyOptions } from './verify-broker.ts';
import { buildReport, formatVerifyReport, type VerifyReport } from './verify-report.ts';

/** A no-op converge's verify must not take over a consumer that may already be running. */
const NO_CHANGE_NO_CONSUMERS = 'nothing changed in this run, and a running consumer\'s session is not taken over just for this check (it would receive the test messages and lose its queue)';

/** Consumers are checked only on a run that changed the broker (their users are new or changed): see VerifyOptions.consumers. */
function withConsumers(options: VerifyOptions, settings: Pick<Settings, 'consumers'>, mayDisturb: boolean): void {
  if (settings.consumers.length === 0) return;
  if (mayDisturb) options.consumers = consumerProbes(settings);
  else options.consumerSkipReason = NO_CHANGE_NO_CONSUMERS;
}

/** At most this many users get a permissions check after an install (each takes about one quiet bound). */
export const maxPermissionUsers = 20;

/**
 * The configured users (and consumers' users) whose ACL verify checks: what was configured, not
 * only the admin. Their client ids are the verifier's own, so no running client is disturbed.
 */
export function permissionUsers(settings: Pick<Settings, 'users' | 'consumers'>): PermissionUser[] {
  return clientUsers(settings).slice(0, maxPermissionUsers).map((user) => ({ name: user.name, password: user.password, acl: user.acl }));
}

/** The verify topics live under the admin's prefix; admins may use every topic on both brokers. */
export const installTopicPrefix = 'mqtt-provision/verify';

/** Verify after a no-op converge must not disturb a production broker's clients. */
const NO_CHANGE_NO_RESTART = 'nothing changed in this run, and a converged broker is not restarted just for this check (verify-broker.mts --restart-host runs it)';

export interface BrokerUrls {
  /** The URL every check uses: the MQTT listener, or the WebSocket one when there is no MQTT listener. */
  mqttUrl: string;
  /** Checked for reachability too, when the broker serves both. */
  wsUrl?: string;
  /** The TLS listeners, checked with the deployment's CA. */
  mqttsUrl?: string;
  wssUrl?: string;
}

/** Builds the client URLs for a converged host: broker port → the port reachable from here. */
export function brokerUrls(target: Pick<InstallTarget, 'address' | 'ports'>, settings: Pick<Settings, 'listeners'>): BrokerUrls {
  const host = bracketHost(target.address);
  const reachable = (port: number): number => target.ports[port] ?? port;
  const { mqtt, websocket, mqtts, wss } = settings.listeners;
  // EMQX serves MQTT over WebSocket on /mqtt only; Mosquitto accepts any path.
  const wsUrl = websocket === undefined ? undefined : `ws://${host}:${reachable(websocket)}/mqtt`;
  const mqttsUrl = mqtts === undefined ? undefined : `mqtts://${host}:${reachable(mqtts)}`;
  const wssUrl = wss === undefined ? undefined : `wss://${host}:${reachable(wss)}/mqtt`;
  const tls = { ...(mqttsUrl ? { mqttsUrl } : {}), ...(wssUrl ? { wssUrl } : {}) };
  if (mqtt !== undefined) return { mqttUrl: `mqtt://${host}:${reachable(mqtt)}`, ...(wsUrl ? { wsUrl } : {}), ...tls };
  if (wsUrl !== undefined) return { mqttUrl: wsUrl, ...tls };
  const main = mqttsUrl ?? wssUrl;
  if (main !== undefined) return { mqttUrl: main, ...tls };
  throw new Error('the settings serve no client listener (mqtt, websocket, mqtts, wss), so there is nothing to verify');
}

/**
 * What the verifier trusts for the TLS listeners: the supplied CA, or the generated one from the
 * controller's caDir. When the broker requires client certificates and the CA is generated here,
 * the verifier gets a short-lived client certificate from it (kept in memory only).
 */
export function tlsVerifyOptions(settings: Pick<Settings, 'tls' | 'listeners'>): Pick<VerifyOptions, 'ca' | 'clientCert'> {
  const tls = settings.tls;
  if (tls === undefined || (settings.listeners.mqtts === undefined && settings.listeners.wss === undefined)) return {};
  if (tls.source === 'supplied') return { ca: tls.caPem };
  const ca = readCa(tls.caDir);
  if (ca === null) throw new Error(`no CA in ${tls.caDir} to verify the TLS listeners with (the converge creates it)`);
  if (!tls.requireClientCertificate) return { ca: ca.certPem };
  const client = issueClientCertificate(ca, 'mqtt-provision-verify', 1);
  return { ca: ca.certPem, clientCert: { certPem: client.certPem, keyPem: new Secret(client.keyPem) } };
}

/**
 * The verify options for a converged host: its URLs, the first admin, a restart when it must survive
 * one, and for an EMQX static cluster the membership check over every host of the run (`peers`).
 */
export function installVerifyOptions(
  target: InstallTarget,
  settings: Settings,
  options: { messages?: number; log?: (line: string) => void; mayRestart?: boolean; signal?: AbortSignal; peers?: InstallTarget[] } = {},
): VerifyOptions {
  const verifyOptions: VerifyOptions = { ...brokerUrls(target, settings), ...tlsVerifyOptions(settings) };
  const admin = settings.admins[0];
  if (admin) {
    verifyOptions.username = admin.name;
    verifyOptions.password = admin.password;
  }
  if (options.messages !== undefined) verifyOptions.messages = options.messages;
  if (options.log) verifyOptions.log = options.log;
  withConsumers(verifyOptions, settings, options.mayRestart !== false);
  verifyOptions.topicPrefix = installTopicPrefix;
  const users = permissionUsers(settings);
  if (users.length > 0) verifyOptions.users = users;
  if (options.signal) verifyOptions.signal = options.signal;
  if (isStaticCluster(settings)) {
    const peers = (options.peers ?? [target]).map((peer) => ({ label: peer.label, connect: () => peer.connect() }));
    verifyOptions.clusterMembership = () => checkClusterMembership(settings.emqx.cluster.seeds, peers);
  }
  // Only a Mosquitto with persistence promises that queued messages outlive a restart.
  if (settings.broker === 'mosquitto' && settings.persistence.enabled) {
    if (options.mayRestart === false) verifyOptions.restartSkipReason = NO_CHANGE_NO_RESTART;
    else verifyOptions.restartBroker = restartViaSystemctl(() => target.connect(), 'mosquitto');
  }
  return verifyOptions;
}

/** Runs the verification against a converged host and returns the full report. */
export function verifyInstalledBroker(
  target: InstallTarget,
  settings: Settings,
  options: { messages?: number; log?: (line: string) => void; mayRestart?: boolean; signal?: AbortSignal; peers?: InstallTarget[] } = {},
): Promise<VerifyReport> {
  return verifyBroker(installVerifyOptions(target, settings, options));
}

/** The install front door's verify hook: prints the report under the host's label and says whether it passed. */
export async function verifyAfterInstall(
  target: InstallTarget,
  settings: Settings,
  options: { messages?: number; print: (line: string) => void; mayRestart?: boolean; signal?: AbortSignal; onReport?: (report: VerifyReport) => void; peers?: InstallTarget[] },
): Promise<boolean> {
  let report: VerifyReport;
  try {
    report = await verifyInstalledBroker(target, settings, {
      ...(options.peers ? { peers: options.peers } : {}),
      ...(options.messages === undefined ? {} : { messages: options.messages }),
      ...(options.mayRestart === undefined ? {} : { mayRestart: options.mayRestart }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    options.print(`${target.label}: FAIL  verify: ${message}`);
    // The --json document still holds a report for this host, saying why there is nothing more.
    options.onReport?.(buildReport('none', [{ name: 'verify', status: 'fail', detail: message }]));
    return false;
  }
  for (const line of formatVerifyReport(report).split('\n')) options.print(`${target.label}: ${line}`);
  options.onReport?.(report);
  return report.passed;
}

/** The container verify talks to, and how it reaches its Docker host. */
export interface ContainerTarget {
  name: string;
  /** How reports name it: docker:NAME or docker:NAME@HOST. */
  label: string;
  /** Runs `docker restart` on the Docker host. */
  transport: Transport;
  /** The Docker host's address as seen from here (127.0.0.1 for this machine). */
  address: string;
  /** The address the ports are published on there. */
  bind: string;
}

/**
 * Verify for --docker: the published ports are the broker's own ports, on the bind address, or on
 * the Docker host's address for a wildcard bind; a restart is `docker restart`, which keeps the
 * data volume.
 */
export async function verifyContainerAfterInstall(container: ContainerTarget, settings: Settings, print: (line: string) => void, mayRestart = true, signal?: AbortSignal, onReport?: (report: VerifyReport) => void): Promise<boolean> {
  const address = container.bind === '0.0.0.0' || container.bind === '::' ? container.address : container.bind;
  const options: VerifyOptions = { ...brokerUrls({ address, ports: {} }, settings), ...(signal ? { signal } : {}) };
  const admin = settings.admins[0];
  if (admin) {
    options.username = admin.name;
    options.password = admin.password;
  }
  withConsumers(options, settings, mayRestart);
  options.topicPrefix = installTopicPrefix;
  const users = permissionUsers(settings);
  if (users.length > 0) options.users = users;
  // As on hosts: only a Mosquitto with persistence promises that queued messages outlive a restart.
  if (settings.broker === 'mosquitto' && settings.persistence.enabled) {
    if (!mayRestart) options.restartSkipReason = NO_CHANGE_NO_RESTART;
    else {
      options.restartBroker = async () => {
        const result = await container.transport.exec(['docker', 'restart', container.name]);
        if (result.code !== 0) throw new Error(`docker restart ${container.name} exited ${result.code}: ${result.stderr.trim()}`);
        // Back only once the healthcheck passes again, so the drain does not race the broker's start.
        const wait = await container.transport.exec(waitHealthy(container.name).argv);
        if (wait.code !== 0) throw new Error(wait.stderr.trim());
      };
    }
  }
  const report = await verifyBroker(options);
  for (const line of formatVerifyReport(report).split('\n')) print(`${container.label}: ${line}`);
  onReport?.(report);
  return report.passed;
}
