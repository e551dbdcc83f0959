import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../settings/input-error.ts';
import { inputCaps, readInputText } from '../settings/input-file.ts';
import { zodInputErrors } from '../settings/zod-errors.ts';

/**
 * An inventory lists hosts with what `--host` cannot say: an SSH port per host, a key per host, and
 * where the broker's ports are reachable from here (published container ports in the lab).
 */
const inventorySchema = z
  .object({
    keyPath: z.string().optional(),
    hosts: z
      .array(
        z
          .object({
            name: z.string().optional(),
            address: z.string().min(1),
            user: z.string().optional(),
            sshPort: z.number().int().min(1).max(65535).optional(),
            port: z.number().int().min(1).max(65535).optional(),
            identity: z.string().optional(),
            /** Broker port on the host → port reachable from the controller. */
            ports: z.record(z.string(), z.number().int().min(1).max(65535)).optional(),
          })
          .loose(),
      )
      .min(1),
  })
  .loose();

export interface InventoryHost {
  name: string;
  /** The inventory's own name for the host, when it gives one: the label output uses. */
  label?: string;
  address: string;
  user: string;
  port: number;
  identity?: string;
  ports: Record<number, number>;
}

export function readInventory(path: string): InventoryHost[] {
  let raw: unknown;
  try {
    raw = parseYaml(readInputText(path, '--inventory', inputCaps.inventory), { maxAliasCount: 50 });
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError('--inventory', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const parsed = inventorySchema.safeParse(raw);
  // The first problem only: an inventory is short, and its field names are the file's own.
  if (!parsed.success) throw zodInputErrors(parsed.error.issues, (path) => `--inventory ${['', ...path.map(String)].join('.')}`.trim())[0]!;
  const base = dirname(resolve(path));
  const keyPath = parsed.data.keyPath;
  return parsed.data.hosts.map((host) => {
    const identity = host.identity ?? keyPath;
    return {
      name: host.name ?? host.address,
      ...(host.name ? { label: host.name } : {}),
      address: host.address,
      user: host.user ?? 'root',
      port: host.sshPort ?? host.port ?? 22,
      ...(identity ? { identity: resolve(base, identity) } : {}),
      ports: Object.fromEntries(Object.entries(host.ports ?? {}).map(([from, to]) => [Number(from), to])),
    };
  });
}
