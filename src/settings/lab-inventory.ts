// The lab's inventory file, so later commands and tests find the hosts `lab up` started, and a
// Pulumi stack's `labInventory` reads them (src/pulumi/stack-config.ts). Below the front doors and
// the lab, so both read it without importing each other or src/lab/.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** `rhel*`: Rocky Linux 9 as our planner sees it (see src/container/rhel-recipe.ts); `*firewalld`: firewalld running. */
export const LAB_VARIANTS = ['base', 'firewalld', 'rhel', 'rhel-firewalld'] as const;
export type LabVariant = (typeof LAB_VARIANTS)[number];

/** A lab host as src/lab/hosts.ts starts it and the inventory records it. */
export interface LabHost {
  name: string;
  container: string;
  address: '127.0.0.1';
  sshPort: number;
  /** container port → port on 127.0.0.1 */
  ports: Record<number, number>;
  variant: LabVariant;
}

/** `<repo root>/.lab/`: gitignored, holds the SSH key and the inventory. */
export const LAB_DIR = fileURLToPath(new URL('../../.lab/', import.meta.url));
export const INVENTORY_PATH = path.join(LAB_DIR, 'inventory.json');

export interface Inventory {
  keyPath: string;
  hosts: LabHost[];
}

const HostSchema = z.object({
  name: z.string(),
  container: z.string(),
  address: z.literal('127.0.0.1'),
  sshPort: z.number().int().positive(),
  // JSON object keys are strings; they are container port numbers.
  ports: z.record(z.string().regex(/^\d+$/), z.number().int().positive()),
  variant: z.enum(LAB_VARIANTS),
});
const InventorySchema = z.object({ keyPath: z.string(), hosts: z.array(HostSchema) });

export async function readInventory(file = INVENTORY_PATH): Promise<Inventory | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = InventorySchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not a lab inventory: ${z.prettifyError(parsed.error)}`);
  return {
    keyPath: parsed.data.keyPath,
    hosts: parsed.data.hosts.map((h) => ({
      ...h,
      ports: Object.fromEntries(Object.entries(h.ports).map(([k, v]) => [Number(k), v])),
    })),
  };
}

export async function writeInventory(inventory: Inventory, file = INVENTORY_PATH): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  // Write-then-rename so a reader never sees half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(inventory, null, 2) + '\n');
  await rename(tmp, file);
  return file;
}

export async function removeInventory(file = INVENTORY_PATH): Promise<void> {
  await rm(file, { force: true });
}
