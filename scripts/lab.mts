#!/usr/bin/env zx
// Local lab front door: start, stop and list the systemd+sshd containers used as test hosts.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { argv } from 'zx';
import { DEFAULT_PREFIX, listLabHosts, startLabHosts, stopLabHosts, ensureLabKey, type LabHost } from '../src/lab/hosts.ts';
import { ensureDebootstrap, ensureDockerEngine } from '../src/container/docker-engine.ts';
import { LAB_VARIANTS, type LabVariant } from '../src/container/host-image.ts';
import { INVENTORY_PATH, LAB_DIR, readInventory, removeInventory, writeInventory } from '../src/settings/lab-inventory.ts';

const USAGE = `usage: lab.mts up [--count N] [--variant base|firewalld|rhel|rhel-firewalld] [--name-prefix P]
       lab.mts down [--name-prefix P]
       lab.mts status
       lab.mts engine     (install and start Docker and debootstrap when missing)`;

// Not "--prefix": the zx CLI would take that as its own shell-prefix option.
const prefix = String(argv['name-prefix'] ?? DEFAULT_PREFIX);

function table(hosts: LabHost[]): string {
  const rows = [['NAME', 'VARIANT', 'SSH', 'PUBLISHED (container→127.0.0.1)']];
  for (const h of hosts) {
    const published = Object.entries(h.ports).filter(([p]) => p !== '22').map(([p, hp]) => `${p}→${hp}`).join(' ');
    rows.push([h.name, h.variant, `127.0.0.1:${h.sshPort}`, published]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

async function up(): Promise<void> {
  const count = Number(argv.count ?? 1);
  const variant = String(argv.variant ?? 'base') as LabVariant;
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${argv.count}`);
  if (!LAB_VARIANTS.includes(variant)) throw new Error(`--variant must be one of ${LAB_VARIANTS.join(', ')}, got ${variant}`);
  const keyPath = await ensureLabKey(LAB_DIR);
  const hosts = await startLabHosts({ count, variant, prefix, keyDir: LAB_DIR });
  // New hosts have new host keys, often on ports an earlier lab used: forget the lab's old ones.
  await rm(path.join(LAB_DIR, 'known_hosts'), { force: true });
  // Hosts of other prefixes from earlier `up`s stay listed while they still run.
  const previous = (await readInventory())?.hosts ?? [];
  const running = new Set((await listLabHosts()).map((h) => h.name));
  const kept = previous.filter((h) => running.has(h.name) && !hosts.some((n) => n.name === h.name));
  await writeInventory({ keyPath, hosts: [...kept, ...hosts] });
  console.log(table(hosts));
  console.log(`\ninventory: ${INVENTORY_PATH}\nssh -i ${keyPath} -p ${hosts[0]!.sshPort} root@127.0.0.1`);
}

async function down(): Promise<void> {
  const inventory = await readInventory();
  const names = new Set([
    ...(await listLabHosts(prefix)).map((h) => h.name),
    ...(inventory?.hosts ?? []).filter((h) => h.name.startsWith(`${prefix}-`)).map((h) => h.name),
  ]);
  await stopLabHosts([...names]);
  await rm(path.join(LAB_DIR, 'known_hosts'), { force: true });
  const rest = (inventory?.hosts ?? []).filter((h) => !names.has(h.name));
  if (inventory && rest.length > 0) await writeInventory({ ...inventory, hosts: rest });
  else await removeInventory();
  console.log(names.size ? `removed ${[...names].join(', ')}` : `no lab hosts named ${prefix}-*`);
}

async function status(): Promise<void> {
  const hosts = await listLabHosts();
  console.log(hosts.length ? table(hosts) : 'no lab hosts running');
  const inventory = await readInventory();
  const missing = (inventory?.hosts ?? []).filter((h) => !hosts.some((r) => r.name === h.name));
  console.log(`\ninventory: ${inventory ? INVENTORY_PATH : '(none)'}`);
  if (missing.length) console.log(`listed in the inventory but not running: ${missing.map((h) => h.name).join(', ')}`);
}

async function engine(): Promise<void> {
  await ensureDockerEngine();
  await ensureDebootstrap();
  console.log('[lab] docker engine and debootstrap ready');
}

const commands: Record<string, () => Promise<void>> = { up, down, status, engine };
const command = commands[String(argv._[0])];
if (!command) {
  console.error(USAGE);
  process.exit(2);
}
try {
  await command();
} catch (err) {
  console.error(`lab ${argv._[0]} failed: ${(err as Error).message}`);
  process.exit(1);
}
