import { randomBytes } from 'node:crypto';
import type { HostFacts } from '../../facts/host-facts.ts';
import { configHandlerSteps, plannedFiles } from '../../operations/config-handler.ts';
import type { ManagedFile } from '../../operations/managed-file.ts';
import { packagesAbsentStep, packagesPresentStep } from '../../operations/packages.ts';
import { filesAbsentStep, serviceStoppedStep } from '../../operations/removal.ts';
import { pendingRestartMarker } from '../../operations/service.ts';
import type { Step } from '../../operations/step.ts';
import type { OsFamily } from '../../os/os-family.ts';
import { Secret } from '../../secret.ts';
import type { Credential, Settings } from '../../settings/load.ts';
import { metricsUserName } from '../metrics-settings.ts';

/**
 * Mosquitto's metrics (issue 24, item 2): Debian's `prometheus-mqtt-exporter` (hikhvar/mqtt2prometheus
 * 0.1.7 in Debian 12 main) subscribed to `$SYS/broker/clients/+` as a read-only broker user, served
 * to Prometheus on `metrics.port`. Paths and the unit are the Debian package's own
 * (/lib/systemd/system/prometheus-mqtt-exporter.service: User=prometheus, EnvironmentFile=
 * /etc/default/prometheus-mqtt-exporter, ExecStart=/usr/bin/prometheus-mqtt-exporter $ARGS).
 */
export const exporterLayout = {
  packageName: 'prometheus-mqtt-exporter',
  service: 'prometheus-mqtt-exporter',
  group: 'prometheus',
  configFile: '/etc/prometheus/mqtt-exporter.yaml',
  defaultsFile: '/etc/default/prometheus-mqtt-exporter',
  passwordFile: '/etc/prometheus/mqtt-exporter.password',
} as const;

/** The metric that gives the connected clients (it counts the exporter's own connection too). */
export const connectedClientsMetric = 'mosquitto_clients_connected';

/** First line of the files we write: a removal touches the exporter only where it finds this. */
const managedMark = '# Managed by mqtt-provision (metrics.enabled): rewritten on every run.';

export const exporterFiles = [exporterLayout.configFile, exporterLayout.defaultsFile, exporterLayout.passwordFile, pendingRestartMarker(exporterLayout.service)];

/**
 * The exporter's password: the one the host's password file holds (kept, so a second run changes
 * nothing), else a new one. Called by prepare only: planning draws nothing.
 */
export function chooseMetricsPassword(facts: HostFacts, draw: () => string = () => randomBytes(24).toString('base64url')): Secret {
  const current = facts.files[exporterLayout.passwordFile]?.content ?? null;
  return new Secret(current !== null && /^[A-Za-z0-9_-]{16,256}$/.test(current) ? current : draw());
}

/** The broker user the exporter logs in as, when metrics are on (for the passwd and ACL files). */
export function metricsCredential(settings: Settings, password: Secret | undefined): Credential | null {
  if (!settings.metrics.enabled || settings.state === 'absent' || password === undefined) return null;
  return { name: metricsUserName, password };
}

function exporterConfig(settings: Settings): string {
  const metric = (promName: string, mqttName: string, help: string) =>
    [`  - prom_name: ${promName}`, `    mqtt_name: ${mqttName}`, `    help: ${help}`, '    type: gauge', '    omit_timestamp: true'].join('\n');
  return [
    managedMark,
    '# $SYS values arrive only when they change (every sys_interval, 10 s), so a quiet broker sends',
    '# nothing for hours: omit_timestamp keeps Prometheus from judging the last value stale after',
    '# 5 minutes, and cache.timeout -1 keeps the exporter from dropping it (notes-24-cap.md §2.1).',
    'mqtt:',
    `  server: tcp://127.0.0.1:${settings.listeners.mqtt}`,
    '  client_id: prometheus-mqtt-exporter',
    '  topic_path: $SYS/broker/clients/+',
    '  device_id_regex: "\\\\$SYS/(?P<deviceid>broker)/.*"',
    '  metric_per_topic_config:',
    '    metric_name_regex: "\\\\$SYS/broker/clients/(?P<metricname>.*)"',
    '  qos: 0',
    'cache:',
    '  timeout: -1',
    'metrics:',
    metric(connectedClientsMetric, 'connected', 'Clients connected now ($SYS/broker/clients/connected)'),
    metric('mosquitto_clients_maximum', 'maximum', 'Most clients connected at once since start ($SYS/broker/clients/maximum)'),
    metric('mosquitto_clients_disconnected', 'disconnected', 'Persistent sessions whose client is disconnected ($SYS/broker/clients/disconnected)'),
    '',
  ].join('\n');
}

/**
 * The exporter's three files. The password goes in a file of its own, named (not held) by the
 * environment file: with -treat-mqtt-password-as-file-name the exporter reads MQTT2PROM_MQTT_PASSWORD
 * as a path (cmd/mqtt2prometheus.go, v0.1.7), so the secret is in no argv, YAML or environment. It
 * reads the file verbatim: no trailing newline, or the password is wrong.
 */
export function renderExporterFiles(settings: Settings, password: Secret): ManagedFile[] {
  const root = { owner: 'root', group: 'root', mode: '0644', apply: 'restart' as const };
  return [
    { path: exporterLayout.configFile, content: exporterConfig(settings), ...root },
    {
      path: exporterLayout.defaultsFile,
      content: [
        managedMark,
        `ARGS="-treat-mqtt-password-as-file-name -listen-port ${settings.metrics.port}"`,
        `MQTT2PROM_MQTT_USER=${metricsUserName}`,
        `MQTT2PROM_MQTT_PASSWORD=${exporterLayout.passwordFile}`,
        '',
      ].join('\n'),
      ...root,
    },
    { path: exporterLayout.passwordFile, content: password.reveal(), owner: 'root', group: exporterLayout.group, mode: '0640', secret: true, apply: 'restart' },
  ];
}

/**
 * Present with metrics on: the package, its files, a restart when they (or the package) changed,
 * enabled and running. Runs after the broker's own reload, which gives the exporter its user.
 */
export function exporterPresentSteps(os: OsFamily, facts: HostFacts, settings: Settings, password: Secret | undefined): Step[] {
  if (os.name !== 'debian') {
    // No EPEL package of mqtt2prometheus is known to us (Debian and Alpine package it); EPEL itself
    // could not be queried from here, so this is refused rather than guessed: docs/metrics.md.
    throw new Error(`settings.metrics.enabled: Mosquitto metrics use Debian's prometheus-mqtt-exporter, for which we know no package on ${facts.os.prettyName || facts.os.id} (EPEL); turn metrics.enabled off for this host`);
  }
  if (password === undefined) throw new Error('settings.metrics.enabled: the prepare phase gave no exporter password');
  const packages = packagesPresentStep(os, facts, [{ name: exporterLayout.packageName, version: '' }]);
  const files = plannedFiles(facts, renderExporterFiles(settings, password));
  const { marker, handler } = configHandlerSteps({
    facts,
    service: exporterLayout.service,
    files,
    otherReasons: packages.change ? ['package installed'] : [],
    counts: 'any',
    restartChecks: [{ argv: ['systemctl', 'is-active', '--quiet', exporterLayout.service] }],
    downgrade: [],
    restoreLeftBackups: false,
  });
  return [packages, ...(marker ? [marker] : []), ...files.map(({ step }) => step), ...handler];
}

/**
 * Metrics off, or the broker absent: the exporter goes, but only one this tool configured (its
 * config carries our mark); an exporter someone else runs is not ours to remove.
 */
export function exporterAbsentSteps(os: OsFamily, facts: HostFacts, purge: boolean): Step[] {
  const config = facts.files[exporterLayout.configFile]?.content ?? null;
  if (config === null || !config.startsWith(managedMark)) return [];
  return [
    { ...serviceStoppedStep(facts, exporterLayout.service), id: `stop:${exporterLayout.service}` },
    { ...filesAbsentStep(facts, exporterFiles, 'remove the exporter config and password files'), id: `files-absent:${exporterLayout.service}` },
    packagesAbsentStep(os, facts, [exporterLayout.packageName], purge),
  ];
}
