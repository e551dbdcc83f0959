// Capacity bench (issue 24 item 1): N authenticated MQTT clients connected to one broker, held for
// a while with messages flowing, then figures: connect rate, refused/failed, broker and controller
// memory. A script that prints figures, not a timed test; exits 1 when any client failed.
//   node bench/capacity.mts --url mqtt://127.0.0.1:1883 --user admin --password-file .lab/admin.pw \
//     [--clients 10000] [--rate 500] [--inflight 200] [--hold 60] [--interval 10] \
//     [--ssh root@127.0.0.1:PORT --identity .lab/id_ed25519 --known-hosts .lab/known_hosts] \
//     [--unit mosquitto] [--json out.json]
//   node bench/capacity.mts --inventory .lab/inventory.json [--lab-host NAME] --user admin --password-file .lab/admin.pw
// --inventory (a lab from `scripts/lab.mts up`) fills in --url with the host's Docker bridge address,
// not its published port: docker-proxy on a published port died at ~3 000 clients here (its own
// 20000-fd limit), and --ssh/--identity/--known-hosts from the inventory.
// --ssh is optional: with it the broker's memory, open files and fd limit are read from its host
// (/proc and `systemctl show`), once before the run and once at the peak.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { readInventory } from '../src/settings/lab-inventory.ts';
import { parseNofileLimits } from '../src/operations/systemd-drop-in.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    user: { type: 'string' },
    'password-file': { type: 'string' },
    clients: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '500' },
    inflight: { type: 'string', default: '200' },
    hold: { type: 'string', default: '60' },
    interval: { type: 'string', default: '10' },
    'connect-timeout': { type: 'string', default: '30' },
    ssh: { type: 'string' },
    identity: { type: 'string' },
    'known-hosts': { type: 'string' },
    unit: { type: 'string', default: 'mosquitto' },
    json: { type: 'string' },
    inventory: { type: 'string' },
    'lab-host': { type: 'string' },
  },
  strict: true,
});

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name}: a positive integer, got ${raw}`);
    process.exit(2);
  }
  return n;
}
if (values.inventory) {
  const inventory = await readInventory(values.inventory);
  const host = inventory?.hosts.find((h) => !values['lab-host'] || h.name === values['lab-host']);
  if (!inventory || !host) {
    console.error(`--inventory: no lab host${values['lab-host'] ? ` named ${values['lab-host']}` : ''} in ${values.inventory}`);
    process.exit(2);
  }
  const ip = execFileSync('docker', ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', host.container], { encoding: 'utf8' }).trim().split(' ')[0];
  values.url ??= `mqtt://${ip}:1883`;
  values.ssh ??= `root@${host.address}:${host.sshPort}`;
  values.identity ??= inventory.keyPath;
  values['known-hosts'] ??= path.join(path.dirname(values.inventory), 'known_hosts');
}
if (!values.url || !values.user || !values['password-file']) {
  console.error('--url, --user and --password-file are required');
  process.exit(2);
}
const N = positive('clients', values.clients);
const RATE = positive('rate', values.rate);
const INFLIGHT = positive('inflight', values.inflight);
const HOLD_S = positive('hold', values.hold);
const INTERVAL_S = positive('interval', values.interval);
const CONNECT_TIMEOUT_MS = positive('connect-timeout', values['connect-timeout']) * 1000;
const password = (await readFile(values['password-file'], 'utf8')).trim();

// The controller holds one socket per client. Node raises its soft limit to the hard one at start
// (measured: `ulimit -Sn 1024` still gives 20000 here), so only the hard limit can stop a run.
const own = parseNofileLimits(await readFile('/proc/self/limits', 'utf8'));
if (own && own.soft < N + 64) {
  console.error(`this process may open ${own.soft} files, ${N} clients need about ${N + 64}: raise the hard limit (ulimit -Hn) first`);
  process.exit(2);
}
const run = randomBytes(4).toString('hex');

// ---------- broker figures over SSH (optional) ----------

interface BrokerFigures { memoryCurrentBytes?: number; vmRssKb?: number; openFds?: number; nofileSoft?: number; nofileHard?: number }

function ssh(script: string): Promise<string> {
  const m = /^([^@]+)@([^:]+):(\d+)$/.exec(values.ssh ?? '');
  if (!m) throw new Error(`--ssh: user@host:port, got ${values.ssh}`);
  const args = ['-p', m[3]!, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10'];
  if (values.identity) args.push('-i', values.identity);
  if (values['known-hosts']) args.push('-o', `UserKnownHostsFile=${values['known-hosts']}`);
  args.push(`${m[1]}@${m[2]}`, script);
  return new Promise((resolve, reject) => {
    execFile('ssh', args, { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

// The unit name is ours (a fixed default or a flag checked here), so it is safe in the script.
async function brokerFigures(): Promise<BrokerFigures | undefined> {
  if (!values.ssh) return undefined;
  if (!/^[A-Za-z0-9@._-]+$/.test(values.unit)) throw new Error(`--unit: a unit name, got ${values.unit}`);
  const out = await ssh([
    `P=$(systemctl show -p MainPID --value ${values.unit})`,
    `echo mem=$(systemctl show -p MemoryCurrent --value ${values.unit})`,
    'echo rss=$(awk \'/^VmRSS/ {print $2}\' /proc/$P/status)',
    'echo fds=$(ls /proc/$P/fd | wc -l)',
    'echo nofile=$(awk \'/^Max open files/ {print $4, $5}\' /proc/$P/limits)',
  ].join('; '));
  const kv = Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const num = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : undefined);
  const [soft, hard] = (kv.nofile ?? '').split(' ');
  return { memoryCurrentBytes: num(kv.mem), vmRssKb: num(kv.rss), openFds: num(kv.fds), nofileSoft: num(soft), nofileHard: num(hard) };
}

// ---------- clients ----------

const clients: MqttClient[] = [];
const failures = new Map<string, number>();
let connected = 0;
let sent = 0;
let acked = 0;
let received = 0;
let lostAfterConnect = 0;

function fail(reason: string): void {
  failures.set(reason, (failures.get(reason) ?? 0) + 1);
}

// One client: connects once (no automatic reconnect, so a refusal is counted, not hidden), subscribes
// to its own topic and later publishes to it, so every message also travels back to a subscriber.
function connectOne(i: number): Promise<void> {
  return new Promise((resolve) => {
    const topic = `bench/capacity/${run}/${i}`;
    const c = mqtt.connect(values.url!, {
      clientId: `cap-${run}-${i}`, username: values.user, password, clean: true, keepalive: 60,
      reconnectPeriod: 0, connectTimeout: CONNECT_TIMEOUT_MS, protocolVersion: 4,
    });
    let settled = false;
    const done = (reason?: string) => {
      if (settled) return;
      settled = true;
      if (reason) { fail(reason); c.end(true); } else { connected++; clients[i] = c; }
      resolve();
    };
    c.on('connect', () => c.subscribe(topic, { qos: 1 }, (err) => done(err ? `subscribe: ${err.message}` : undefined)));
    c.on('error', (err) => done(`error: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    c.on('close', () => { if (!settled) done('closed before CONNACK'); else if (clients[i] === c && !stopping) lostAfterConnect++; });
    c.on('message', () => { received++; });
  });
}

let stopping = false;

async function controllerFds(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

// ---------- run ----------

const before = await brokerFigures();
console.log(`[capacity] run ${run}: ${N} clients → ${values.url}, ≤ ${RATE} connects/s, ≤ ${INFLIGHT} in flight, hold ${HOLD_S}s, one QoS 1 message per client every ${INTERVAL_S}s`);
if (before) console.log(`[capacity] broker before: ${JSON.stringify(before)}`);

const t0 = performance.now();
const pending = new Set<Promise<void>>();
for (let i = 0; i < N; i++) {
  // Bounded rate: client i may start no earlier than i / RATE seconds after t0.
  const due = t0 + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  while (pending.size >= INFLIGHT) await Promise.race(pending);
  const p = connectOne(i).finally(() => pending.delete(p));
  pending.add(p);
  if (i % 1000 === 999) console.log(`[capacity] started ${i + 1}, connected ${connected}, failed ${[...failures.values()].reduce((a, b) => a + b, 0)}`);
}
await Promise.all(pending);
const connectS = (performance.now() - t0) / 1000;
const refused = N - connected;
console.log(`[capacity] connected ${connected}/${N} in ${connectS.toFixed(1)} s (${(connected / connectS).toFixed(0)} connects/s); failed ${refused}`);
for (const [reason, count] of failures) console.log(`[capacity]   ${count} × ${reason}`);

// Hold with messages flowing: each client publishes to its own topic every INTERVAL_S, spread evenly.
const live = clients.filter(Boolean);
const holdStart = performance.now();
const perTick = Math.max(1, Math.ceil(live.length / (INTERVAL_S * 10)));
let cursor = 0;
const ticker = setInterval(() => {
  for (let k = 0; k < perTick && live.length; k++) {
    const c = live[cursor++ % live.length]!;
    if (!c.connected) continue;
    sent++;
    c.publish(c.options.clientId!.replace(`cap-${run}-`, `bench/capacity/${run}/`), 'x'.repeat(64), { qos: 1 }, (err) => { if (!err) acked++; });
  }
}, 100);
let peak: BrokerFigures | undefined;
const sampleAt = Math.min(HOLD_S * 500, 30_000);
await new Promise((r) => setTimeout(r, sampleAt));
peak = await brokerFigures().catch((e) => { console.log(`[capacity] broker figures failed: ${e.message}`); return undefined; });
const controllerRssMb = process.memoryUsage().rss / 2 ** 20;
const ctlFds = await controllerFds();
await new Promise((r) => setTimeout(r, Math.max(0, HOLD_S * 1000 - (performance.now() - holdStart))));
clearInterval(ticker);
await new Promise((r) => setTimeout(r, 2000)); // last PUBACKs and deliveries in flight
const stillConnected = live.filter((c) => c.connected).length;
stopping = true;
await Promise.all(live.map((c) => new Promise<void>((r) => c.end(false, {}, () => r()))));

const result = {
  run, url: values.url, clients: N, rateLimit: RATE, holdSeconds: HOLD_S,
  connected, failed: refused, failures: Object.fromEntries(failures),
  connectSeconds: Number(connectS.toFixed(2)), connectsPerSecond: Number((connected / connectS).toFixed(1)),
  stillConnectedAfterHold: stillConnected, lostDuringHold: lostAfterConnect,
  messages: { sent, acked, received },
  controller: { rssMb: Number(controllerRssMb.toFixed(0)), openFds: ctlFds },
  broker: { before, peak },
};
console.log(`[capacity] held ${stillConnected}/${connected} for ${HOLD_S}s (lost ${lostAfterConnect}); messages sent ${sent}, acked ${acked}, received ${received}`);
console.log(`[capacity] controller rss ${result.controller.rssMb} MB, ${ctlFds} fds`);
if (peak) console.log(`[capacity] broker at peak: MemoryCurrent ${((peak.memoryCurrentBytes ?? 0) / 2 ** 20).toFixed(1)} MiB, VmRSS ${((peak.vmRssKb ?? 0) / 1024).toFixed(1)} MiB, ${peak.openFds} fds, nofile ${peak.nofileSoft}/${peak.nofileHard}`);
if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
process.exit(refused === 0 && lostAfterConnect === 0 && stillConnected === connected ? 0 : 1);
