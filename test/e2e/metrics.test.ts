import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { startLabHosts, stopLabHosts, type LabHost } from '../../src/lab/hosts.ts';
import { changedCount, hostArgs, install, onHost, writeSecretFile } from './support/lab-fixture.ts';

/**
 * Issue 24, item 2: a lab host converged with metrics on runs Debian's prometheus-mqtt-exporter,
 * and Debian's Prometheus server (installed on the same lab host) scrapes it: a query through its
 * HTTP API returns the connected clients. Every wait is a bounded readiness poll.
 */
const adminPassword = 'metrics-admin-pass';
const admin = ['--admin-user', 'admin', '--admin-password-file', writeSecretFile(`${adminPassword}\n`)];
const withMetrics = writeSecretFile(
  ['broker: mosquitto', 'listeners: { mqtt: 1883 }', 'metrics:', '  enabled: true', '  scrapers: [127.0.0.1/32]', ''].join('\n'),
);
const withoutMetrics = writeSecretFile(['broker: mosquitto', 'listeners: { mqtt: 1883 }', ''].join('\n'));
const clients = 5;

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes; the last failure is the error. */
async function pollUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    await delay(500);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (${last})`);
}

/** Debian's Prometheus scraping the exporter every 5 s; PrivateUsers=false only because a lab host is an unprivileged container. */
const prometheusSetup = [
  'set -e',
  'mkdir -p /etc/systemd/system/prometheus.service.d',
  "printf '[Service]\\nPrivateUsers=false\\n' > /etc/systemd/system/prometheus.service.d/lab-container.conf",
  'systemctl daemon-reload',
  // Waits for the dpkg lock (a lab host's own apt job may hold it) rather than failing on it.
  'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 prometheus >/dev/null',
  'cat > /etc/prometheus/prometheus.yml <<EOF',
  'global:',
  '  scrape_interval: 5s',
  'scrape_configs:',
  '  - job_name: mosquitto',
  '    static_configs:',
  "      - targets: ['127.0.0.1:9641']",
  'EOF',
  'promtool check config /etc/prometheus/prometheus.yml >/dev/null',
  'systemctl reset-failed prometheus || :',
  'systemctl restart prometheus',
].join('\n');

describe('metrics: Prometheus scrapes a converged Mosquitto lab host', () => {
  let host: LabHost;
  let prometheus: string;
  const connected: MqttClient[] = [];

  before(async () => {
    [host] = (await startLabHosts({ count: 1, variant: 'base', prefix: 'mp-e2e-metrics', publish: [1883, 9090] })) as [LabHost];
    prometheus = `http://127.0.0.1:${host.ports[9090]}`;
  });
  after(async () => {
    await Promise.all(connected.map((client) => client.endAsync()));
    if (host) await stopLabHosts([host.name]);
  });

  const converge = async (settings: string) => {
    const run = await install([...(await hostArgs(host)), '--settings', settings, ...admin, '--no-verify', '--json']);
    assert.equal(run.code, 0, `${run.output}\n${run.errors}`);
    return run;
  };

  /** The value of an instant query's single sample, or undefined while there is none. */
  const query = async (expression: string): Promise<number | undefined> => {
    const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expression)}`);
    const body = (await response.json()) as { status: string; data: { result: Array<{ value: [number, string] }> } };
    if (body.status !== 'success' || body.data.result.length !== 1) return undefined;
    return Number(body.data.result[0]!.value[1]);
  };

  it('converges with metrics on, changes nothing the second time, and keeps the exporter password out of the output', async () => {
    await converge(withMetrics);
    assert.equal((await onHost(host, ['systemctl', 'is-active', 'prometheus-mqtt-exporter'])).trim(), 'active');
    const second = await converge(withMetrics);
    assert.equal(changedCount(second.output), 0, second.output);
    const password = await onHost(host, ['cat', '/etc/prometheus/mqtt-exporter.password']);
    assert.ok(password.length >= 16 && !password.endsWith('\n'), 'the exporter reads the file verbatim: no trailing newline');
    assert.ok(!second.output.includes(password), 'the password is in no report');
    const seenOnHost = await onHost(host, [
      'sh',
      '-c',
      'tr "\\0" " " < /proc/$(systemctl show -p MainPID --value prometheus-mqtt-exporter)/cmdline; journalctl --no-pager -o cat -u prometheus-mqtt-exporter -u mosquitto',
    ]);
    assert.match(seenOnHost, /-treat-mqtt-password-as-file-name/, 'the exporter runs with the password read from its file');
    assert.ok(!seenOnHost.includes(password), "the password is in neither the exporter's argv nor the journal");
    assert.match(await onHost(host, ['cat', '/etc/mosquitto/acl']), /user metrics-exporter\ntopic read \$SYS\/broker\/#\n/);
  });

  it('Prometheus reads the number of connected clients from the exporter', async () => {
    await converge(withMetrics);
    await onHost(host, ['sh', '-c', prometheusSetup]);
    await pollUntil('Prometheus ready', 30_000, async () => ((await fetch(`${prometheus}/-/ready`)).ok ? true : undefined));
    for (let index = 0; index < clients; index++) {
      connected.push(await mqtt.connectAsync(`mqtt://127.0.0.1:${host.ports[1883]}`, { username: 'admin', password: adminPassword, reconnectPeriod: 0, clientId: `mp-e2e-metrics-${process.pid}-${index}` }));
    }
    // Mosquitto publishes $SYS every 10 s when a value changed, Prometheus scrapes every 5 s: allow a few rounds.
    const seen = await pollUntil(`mosquitto_clients_connected = ${clients + 1}`, 45_000, async () => {
      const value = await query('mosquitto_clients_connected{job="mosquitto"}');
      if (value !== clients + 1) throw new Error(`last value ${value}`);
      return value;
    });
    assert.equal(seen, clients + 1, `${clients} clients and the exporter itself`);
  });

  it('turning metrics off removes the exporter, its user and its files', async () => {
    await converge(withMetrics);
    const off = await converge(withoutMetrics);
    assert.ok(changedCount(off.output) > 0, off.output);
    const left = await onHost(host, ['sh', '-c', 'dpkg-query -W -f "${Status}" prometheus-mqtt-exporter 2>/dev/null; ls /etc/prometheus/mqtt-exporter.yaml /etc/prometheus/mqtt-exporter.password 2>/dev/null; grep -c metrics-exporter /etc/mosquitto/passwd || :']);
    assert.doesNotMatch(left, /install ok installed|mqtt-exporter\.(yaml|password)/, left);
    assert.equal(left.trim().split('\n').at(-1), '0', 'no exporter user in the password file');
    const again = await converge(withoutMetrics);
    assert.equal(changedCount(again.output), 0, again.output);
  });
});
