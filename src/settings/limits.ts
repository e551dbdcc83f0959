import { z } from 'zod';

/**
 * The `limits` block (issue 24 item 1): what a broker host needs to hold thousands of clients.
 * Without it, Debian's and EPEL's mosquitto.service (no LimitNOFILE) run with systemd's default
 * soft limit of 1024 open files, and the ~1014th client is refused (measured: 1500 clients → 1013
 * in, the journal says "denied access by tcpd", the misleading message of an EMFILE).
 */

/** Kernel keys as sysctl spells them; values are one number or numbers separated by single spaces. */
const sysctlKey = /^[a-z0-9_]+(\.[a-z0-9_-]+)+$/;
const sysctlValue = /^\d+( \d+)*$/;

/**
 * The kernel floors of EMQX's tuning guide (docs.emqx.com, performance/tune), trimmed to what a
 * broker's capacity needs. Each is a floor: a host already set higher is left alone.
 */
export const defaultKernelFloors: Record<string, string> = {
  // System-wide open files: the guide's "2 millions system-wide".
  'fs.file-max': '2097152',
  // Per-process ceiling: must stay at or above openFiles, or systemd clamps LimitNOFILE to it.
  'fs.nr_open': '2097152',
  // Accept-queue cap for listen(): EMQX asks 1024 (tcp_options.backlog); Mosquitto asks 100, so it gains nothing.
  'net.core.somaxconn': '32768',
  // Half-open connections during a reconnect storm.
  'net.ipv4.tcp_max_syn_backlog': '16384',
  // NIC receive queue (absent in a container's network namespace: then left out and reported).
  'net.core.netdev_max_backlog': '16384',
  // Only matters when the broker host is also a client (bridges, benchmarks).
  'net.ipv4.ip_local_port_range': '1024 65535',
  // Not net.ipv4.tcp_fin_timeout (the guide's 15): it is a ceiling, and every value here is a floor.
};

/** Why each default floor is there: written as a comment above its line in /etc/sysctl.d. */
export const kernelFloorReasons: Record<string, string> = {
  'fs.file-max': 'system-wide open files (EMQX tuning guide)',
  'fs.nr_open': 'per-process open-file ceiling; LimitNOFILE above it is clamped',
  'net.core.somaxconn': 'accept queue cap for listen() backlogs',
  'net.ipv4.tcp_max_syn_backlog': 'half-open connections during a reconnect storm',
  'net.core.netdev_max_backlog': 'NIC receive queue under connect bursts',
  'net.ipv4.ip_local_port_range': 'ephemeral ports when the broker host is also a client (bridges)',
};

export const defaultOpenFiles = 1048576;

export const limitsSchema = z
  .object({
    /**
     * LimitNOFILE of the broker's unit, through a systemd drop-in. 1048576: what EMQX's own unit
     * ships (v5.7.2, v5.8.6) and the kernel's default fs.nr_open; one fd per client plus ~11 of
     * the broker's own. EMQX gets no drop-in unless this is higher than its unit's value. A host
     * that caps it (a container's own limit) is reported, not a failure.
     */
    openFiles: z.number().int().min(1024).max(1073741816).default(defaultOpenFiles),
    /**
     * Mosquitto's `max_connections` on every listener; -1 (Mosquitto's default) is unlimited: the
     * open-file limit is the real bound. A number turns an EMFILE refusal into the broker's own
     * "max_connections exceeded". Applied by a restart (Mosquitto does not re-read it on SIGHUP).
     */
    maxConnections: z
      .number()
      .int()
      .min(-1)
      .max(1073741816)
      .refine((value) => value !== 0, 'must be -1 (unlimited) or at least 1')
      .default(-1),
    /**
     * Kernel floors in /etc/sysctl.d/60-mqtt-provision.conf (replaces the default list when given).
     * A key the host refuses (a container's read-only /proc/sys) or lacks is a warning, not a failure.
     */
    kernel: z
      .record(
        z.string().regex(sysctlKey, 'must be a sysctl key like net.core.somaxconn'),
        z.union([z.number().int().min(0), z.string().regex(sysctlValue, 'must be a number or numbers separated by single spaces')]),
      )
      .default(defaultKernelFloors),
    /** Off for hosts whose kernel settings someone else manages: then no sysctl file is written. */
    applyKernel: z.boolean().default(true),
  })
  .strict()
  .superRefine((limits, context) => {
    // systemd clamps LimitNOFILE to fs.nr_open: a floor below openFiles would cap our own limit.
    const nrOpen = limits.kernel['fs.nr_open'];
    if (limits.applyKernel && nrOpen !== undefined && Number(nrOpen) < limits.openFiles) {
      context.addIssue({ code: 'custom', path: ['kernel', 'fs.nr_open'], message: `must be at least openFiles (${limits.openFiles}): the kernel caps every process's open files at fs.nr_open` });
    }
  });

export type LimitsSettings = z.output<typeof limitsSchema>;

export const defaultLimits: LimitsSettings = { openFiles: defaultOpenFiles, maxConnections: -1, kernel: defaultKernelFloors, applyKernel: true };

/** The kernel floors as sysctl lines take them: every value a string. */
export function kernelFloors(limits: LimitsSettings): Array<{ key: string; value: string }> {
  return Object.entries(limits.kernel).map(([key, value]) => ({ key, value: String(value) }));
}
