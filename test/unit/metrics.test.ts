import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emqxConfig } from '../../src/brokers/emqx/files.ts';
import { runInstall } from '../../src/cli/install-command.ts';
import { defaultContainerOptions } from '../../src/container/desired.ts';
import { desiredPulumiContainer } from '../../src/pulumi/container-files.ts';
import { resolveSettings } from '../../src/brokers/load-settings.ts';
import { exporterLayout } from '../../src/brokers/mosquitto/metrics.ts';
import { planMosquitto as planMosquittoPure } from '../../src/brokers/mosquitto/plan.ts';
import { prepareMosquitto } from '../../src/brokers/mosquitto/prepare.ts';
import { mosquittoRenderFiles } from '../../src/brokers/mosquitto/render-files.ts';
import { metricsAccess } from '../../src/brokers/served-ports.ts';
import type { HostFacts } from '../../src/facts/host-facts.ts';
import { sha256 } from '../../src/operations/files.ts';
import type { Step } from '../../src/operations/step.ts';
import { Secret } from '../../src/secret.ts';
import { InputErrors } from '../../src/settings/input-error.ts';
import type { Settings } from '../../src/settings/load.ts';
import { fixtureCookie, leafKeys, parseHocon } from '../fixtures/emqx-facts.ts';
import { knownKeys } from '../fixtures/emqx-settings.ts';
import { fixedSalt, mosquittoFacts } from '../fixtures/facts.ts';
import { changedIds, commandsOf } from '../fixtures/plan-commands.ts';
import { mosquittoSettings } from '../fixtures/settings.ts';

const drawn = 'drawn-exporter-password-0123456789';

function plan(facts: HostFacts, settings: Settings, draw: () => string = () => drawn): Step[] {
  return planMosquittoPure(facts, settings, prepareMosquitto(facts, settings, { salt: fixedSalt(), metricsPassword: draw }));
}

const metricsOn = (extra: Record<string, unknown> = {}) => mosquittoSettings({ metrics: { enabled: true, scrapers: ['10.20.0.0/16'], ...extra } });

/** The files a plan writes, as the host holds them afterwards (content from the write's stdin). */
function writtenFiles(steps: Step[]): HostFacts['files'] {
  const files: HostFacts['files'] = {};
  for (const command of steps.flatMap((step) => step.commands)) {
    if (command.argv[3] !== 'mqtt-provision-write' || command.stdin === undefined) continue;
    const [path, ownerGroup, mode] = command.argv.slice(4) as [string, string, string];
    const [owner, group] = ownerGroup.split(':') as [string, string];
    files[path] = { sha256: sha256(command.stdin), mode, owner, group, content: command.stdin };
  }
  return files;
}

/** The host after a successful run of `steps`: files written, packages installed, services up. */
function afterRun(facts: HostFacts, steps: Step[], exporter = true): HostFacts {
  return {
    ...facts,
    packages: { ...facts.packages, mosquitto: '2.0.11-1.2+deb12u2', ...(exporter ? { [exporterLayout.packageName]: '0.1.7-1+b4' } : {}) },
    files: { ...facts.files, ...writtenFiles(steps) },
    directories: {
      '/var/lib/mosquitto': { mode: '0750', owner: 'mosquitto', group: 'mosquitto' },
      // The limits drop-in's directory, which the first run creates.
      '/etc/systemd/system/mosquitto.service.d': { mode: '0755', owner: 'root', group: 'root' },
    },
    services: { mosquitto: { active: 'active', enabled: 'enabled' }, ...(exporter ? { [exporterLayout.service]: { active: 'active', enabled: 'enabled' } } : {}) },
  };
}

function inputError(raw: Record<string, unknown>): string {
  try {
    resolveSettings({ admins: [{ name: 'admin', password: 'correct horse 1' }], ...raw });
  } catch (error) {
    assert.ok(error instanceof InputErrors, String(error));
    return error.message;
  }
  assert.fail('settings were accepted');
}

describe('metrics settings', () => {
  it('are off by default, on port 9641, open to no scraper', () => {
    assert.deepEqual(mosquittoSettings().metrics, { enabled: false, port: 9641, scrapers: [], emqxBasicAuth: true });
  });

  it('refuse a scraper that is not an address or CIDR, naming the entry', () => {
    assert.match(inputError({ broker: 'mosquitto', metrics: { enabled: true, scrapers: ['10.0.0.0/8', 'prometheus.local'] } }), /settings\.metrics\.scrapers\[1\].*not an IPv4 or IPv6/);
    assert.match(inputError({ broker: 'mosquitto', metrics: { scrapers: ['10.1.2.3/8'] } }), /settings\.metrics\.scrapers\[0\].*host bits/);
  });

  it('refuse a metrics port a listener serves, and Mosquitto metrics without the plain mqtt listener', () => {
    assert.match(inputError({ broker: 'mosquitto', listeners: { mqtt: 1883, websocket: 9641 }, metrics: { enabled: true } }), /settings\.metrics\.port.*"websocket"/);
    assert.match(inputError({ broker: 'mosquitto', listeners: { websocket: 8083 }, metrics: { enabled: true } }), /settings\.metrics\.enabled.*listeners\.mqtt/);
  });

  it("refuse a settings user with the exporter's name while metrics are on", () => {
    assert.match(inputError({ broker: 'mosquitto', users: [{ name: 'metrics-exporter', password: 'x' }], metrics: { enabled: true } }), /settings\.users\[0\]\.name/);
    assert.match(inputError({ broker: 'mosquitto', consumers: [{ name: 'metrics-exporter', kind: 'generic', password: 'x', topics: ['a/#'] }], metrics: { enabled: true } }), /settings\.consumers\[0\]\.name/);
    assert.doesNotThrow(() => mosquittoSettings({ users: [{ name: 'metrics-exporter', password: 'x' }] }));
  });

  it('refuse EMQX metrics without the dashboard listener that serves the endpoint', () => {
    assert.match(inputError({ broker: 'emqx', listeners: { mqtt: 1883 }, metrics: { enabled: true } }), /settings\.metrics\.enabled.*listeners\.dashboard/);
  });

  it('give the firewall one entry: the metrics port, only from the scrapers', () => {
    assert.deepEqual(metricsAccess(metricsOn()), [{ port: 9641, allowFrom: [{ family: 'ipv4', cidr: '10.20.0.0/16' }] }]);
    assert.deepEqual(metricsAccess(mosquittoSettings()), []);
    assert.deepEqual(metricsAccess(metricsOn({ scrapers: [] })), [], 'no scraper: the port is opened to no one');
  });
});

describe('Mosquitto metrics: the exporter', () => {
  it('installs, configures and starts the exporter after the broker, with a read-only $SYS user', () => {
    const steps = plan(mosquittoFacts('debian12'), metricsOn());
    const ids = changedIds(steps);
    const exporterAt = ids.indexOf(`packages:${exporterLayout.packageName}`);
    assert.ok(exporterAt > ids.indexOf('restart:mosquitto'), 'the broker has the user before the exporter starts');
    assert.deepEqual(ids.slice(exporterAt), [
      `packages:${exporterLayout.packageName}`,
      `pending:${exporterLayout.service}`,
      `file:${exporterLayout.configFile}`,
      `file:${exporterLayout.defaultsFile}`,
      `file:${exporterLayout.passwordFile}`,
      `restart:${exporterLayout.service}`,
      `service:${exporterLayout.service}`,
    ]);
    const files = writtenFiles(steps);
    assert.match(files['/etc/mosquitto/passwd']!.content!, /^metrics-exporter:\$7\$/m);
    assert.match(files['/etc/mosquitto/acl']!.content!, /\nuser metrics-exporter\ntopic read \$SYS\/broker\/#\n$/);
    assert.deepEqual({ ...files[exporterLayout.passwordFile], sha256: undefined }, { sha256: undefined, mode: '0640', owner: 'root', group: 'prometheus', content: drawn });
    assert.match(files[exporterLayout.defaultsFile]!.content!, /^ARGS="-treat-mqtt-password-as-file-name -listen-port 9641"$/m);
    assert.match(files[exporterLayout.defaultsFile]!.content!, /^MQTT2PROM_MQTT_PASSWORD=\/etc\/prometheus\/mqtt-exporter\.password$/m);
    const config = files[exporterLayout.configFile]!.content!;
    assert.match(config, /server: tcp:\/\/127\.0\.0\.1:1883\n/);
    assert.equal(config.match(/omit_timestamp: true/g)?.length, 3);
    assert.match(config, /cache:\n {2}timeout: -1\n/);
  });

  it('puts the password in no argv and no diff: it travels on stdin into a secret file', () => {
    const steps = plan(mosquittoFacts('debian12'), metricsOn());
    for (const step of steps) {
      assert.ok(!step.commands.some((command) => command.argv.some((arg) => arg.includes(drawn))), step.id);
      assert.ok(!(step.diff ?? '').includes(drawn), step.id);
    }
  });

  it('changes nothing on the second run, keeping the password the host holds', () => {
    const fresh = mosquittoFacts('debian12');
    const host = afterRun(fresh, plan(fresh, metricsOn()));
    const second = plan(host, metricsOn(), () => 'a-different-draw-that-must-not-be-used');
    assert.deepEqual(changedIds(second), []);
  });

  it('restarts only the exporter when only its port changes', () => {
    const fresh = mosquittoFacts('debian12');
    const host = afterRun(fresh, plan(fresh, metricsOn()));
    assert.deepEqual(changedIds(plan(host, metricsOn({ port: 9700 }))), [`pending:${exporterLayout.service}`, `file:${exporterLayout.defaultsFile}`, `restart:${exporterLayout.service}`]);
  });

  it('refuses an RHEL-family host, naming metrics.enabled', () => {
    assert.throws(() => plan(mosquittoFacts('rocky9'), metricsOn()), /settings\.metrics\.enabled: .*prometheus-mqtt-exporter/);
  });

  it('removes an exporter it configured when metrics go off, and then changes nothing', () => {
    const fresh = mosquittoFacts('debian12');
    const host = afterRun(fresh, plan(fresh, metricsOn()));
    const off = plan(host, mosquittoSettings());
    assert.deepEqual(
      changedIds(off).filter((id) => id.includes('exporter')),
      [`stop:${exporterLayout.service}`, `files-absent:${exporterLayout.service}`, `packages-absent:${exporterLayout.packageName}`],
    );
    const removed = Object.fromEntries(Object.entries(afterRun(host, off, false).files).filter(([path]) => !path.startsWith('/etc/prometheus/') && path !== exporterLayout.defaultsFile));
    const after = { ...afterRun(host, off, false), files: removed, packages: { ...host.packages, [exporterLayout.packageName]: null } };
    assert.deepEqual(changedIds(plan(after, mosquittoSettings())), []);
  });

  it("leaves alone an exporter someone else configured", () => {
    const foreign = { sha256: 'x', mode: '0644', owner: 'root', group: 'root', content: 'mqtt:\n  server: tcp://10.0.0.1:1883\n' };
    const facts = { ...mosquittoFacts('debian12'), files: { [exporterLayout.configFile]: foreign } };
    assert.deepEqual(changedIds(plan(facts, mosquittoSettings())).filter((id) => id.includes('exporter')), []);
  });

  it('state absent purges the exporter with purgeData', () => {
    const fresh = mosquittoFacts('debian12');
    const host = afterRun(fresh, plan(fresh, metricsOn()));
    const absent = plan(host, resolveSettings({ broker: 'mosquitto', state: 'absent', purgeData: true, metrics: { enabled: true } }));
    assert.ok(commandsOf(absent).some((command) => command.includes('apt-get purge') && command.includes(exporterLayout.packageName)), commandsOf(absent).join('\n'));
    assert.ok(commandsOf(absent).includes(`systemctl disable --now ${exporterLayout.service}`));
  });

  it('opens the metrics port in an active ufw to the scrapers only, and closes it again when metrics go off', () => {
    const ufw = mosquittoFacts('debian12', 'ufw\tactive\t22/tcp\n');
    const on = commandsOf(plan(ufw, metricsOn()));
    assert.ok(on.includes('ufw allow from 10.20.0.0/16 to any port 9641 proto tcp'), on.join('\n'));
    assert.ok(!on.includes('ufw allow 9641/tcp'), 'never open to anyone');
    const listing = 'Status: active\n\nTo                         Action      From\n--                         ------      ----\n' +
      '1883/tcp                   ALLOW       Anywhere\n9641/tcp                   ALLOW       10.20.0.0/16\n';
    const open = mosquittoFacts('debian12', `ufw\tactive\t1883/tcp\n${listing.split('\n').map((line) => `ufwline\t${line}`).join('\n')}\n`);
    const off = commandsOf(plan(open, mosquittoSettings()));
    assert.ok(off.includes('ufw delete allow from 10.20.0.0/16 to any port 9641 proto tcp'), off.join('\n'));
  });
});

describe('Mosquitto metrics rendered with --render-to', () => {
  it("adds the exporter's files, their password hashed into the passwd file under the exporter's user", () => {
    const files = new Map(mosquittoRenderFiles(metricsOn(), () => drawn).map((file) => [file.path, file]));
    assert.equal(files.get(exporterLayout.passwordFile)?.content, drawn);
    assert.equal(files.get(exporterLayout.passwordFile)?.secret, true);
    assert.match(files.get('/etc/mosquitto/passwd')!.content, /^metrics-exporter:\$7\$/m);
    assert.ok(files.has(exporterLayout.configFile) && files.has(exporterLayout.defaultsFile));
    assert.ok(!mosquittoRenderFiles(mosquittoSettings()).some((file) => file.path.startsWith('/etc/prometheus/')), 'metrics off: none of them');
  });
});

describe('Mosquitto metrics in a container', () => {
  it('are refused with exit 2 before any engine is contacted: a container runs the broker alone', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mp-metrics-'));
    const settings = join(directory, 'settings.yaml');
    writeFileSync(settings, 'broker: mosquitto\nadmins: [{ name: admin, password: correct-horse-1 }]\nmetrics: { enabled: true }\n');
    const out: string[] = [];
    const err: string[] = [];
    let connections = 0;
    // A Docker host over SSH and --dry-run: should the refusal ever go, the run still touches no engine (connect throws).
    const code = await runInstall('mosquitto', ['--docker', '--docker-host', 'ssh://root@docker.invalid', '--dry-run', '--settings', settings], {
      env: {},
      print: (text) => out.push(text),
      printError: (text) => err.push(text),
      connect: async () => {
        connections++;
        throw new Error('no connection in this test');
      },
    });
    assert.equal(code, 2, err.join('\n'));
    assert.equal(connections, 0);
    assert.match(err.join('\n'), /settings\.metrics\.enabled: a Mosquitto container gets no metrics exporter/);
  });

  it('are refused by the Pulumi container component too', () => {
    assert.throws(() => desiredPulumiContainer(metricsOn(), { ...defaultContainerOptions('mosquitto'), image: 'eclipse-mosquitto:2.0.22' }, 'seed'), /settings\.metrics\.enabled: a Mosquitto container gets no metrics exporter/);
    assert.doesNotThrow(() => desiredPulumiContainer(mosquittoSettings(), { ...defaultContainerOptions('mosquitto'), image: 'eclipse-mosquitto:2.0.22' }, 'seed'));
  });
});

describe('EMQX metrics: the built-in endpoint', () => {
  const node = { version: '5.8.6', nodeName: 'emqx@127.0.0.1', cookie: new Secret(fixtureCookie) };
  const emqx = (metrics: Record<string, unknown>) => resolveSettings({ broker: 'emqx', listeners: { mqtt: 1883, dashboard: 18083 }, admins: [{ name: 'admin', password: 'correct-horse-1' }], metrics });

  const basicAuth = async (text: string) => ((await parseHocon(text)).prometheus as { enable_basic_auth?: boolean } | undefined)?.enable_basic_auth;

  it('asks for credentials by default (prometheus.enable_basic_auth = true), a key EMQX knows', async () => {
    const text = emqxConfig(emqx({ enabled: true }), node);
    assert.equal(await basicAuth(text), true);
    const known = knownKeys();
    assert.deepEqual(leafKeys(await parseHocon(text)).filter((key) => key.startsWith('prometheus.') && !known.has(key)), []);
  });

  it('renders basic auth off when metrics.emqxBasicAuth is off, and no prometheus block when metrics are off', async () => {
    assert.equal(await basicAuth(emqxConfig(emqx({ enabled: true, emqxBasicAuth: false }), node)), false);
    assert.ok(!emqxConfig(emqx({}), node).includes('prometheus.'));
  });

  it('adds no firewall entry of its own: the endpoint is on the dashboard listener', () => {
    assert.deepEqual(metricsAccess(emqx({ enabled: true, scrapers: ['10.0.0.0/8'] })), []);
  });
});
