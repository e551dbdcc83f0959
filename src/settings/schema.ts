import { z } from 'zod';
import { Secret } from '../secret.ts';
import { consumerSchema } from './consumers.ts';
import { defaultLimits, limitsSchema } from './limits.ts';

/**
 * The one description of a broker deployment, shared by the zx front doors, the Pulumi program and
 * the tests. Every default is the no-loss choice; the comment beside it says why.
 */

const port = z.number().int().min(1).max(65535);

/**
 * Admins and users together. The probe sends back files up to 4 MiB (src/facts/probe.sh): the
 * password file of this many users (~1.8 MB) arrives whole, so kept hashes make a re-run change
 * nothing; EMQX's user listing (rest-scripts.ts) asks for this many in one page.
 */
export const maxUsers = 10000;

/** Names MQTT brokers, password files and shells all accept without escaping surprises. */
export const userNamePattern = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const userName = z
  .string()
  .regex(userNamePattern, 'must start with a letter and hold only letters, digits, "_", "." or "-" (at most 64)');

/** A password may hold any printable character; NUL and line breaks would corrupt the files it ends up in. */
const password = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .refine((value) => !/[\0\r\n]/.test(value), 'must not contain NUL or line breaks');

const credentials = {
  name: userName,
  password: password.optional(),
  passwordFile: z.string().min(1).optional(),
};

/**
 * Why `topic` is not an MQTT topic filter (MQTT 3.1.1 §4.7.1, MQTT 5 §4.7.1), or null: `#` only
 * as the whole last level, `+` only as a whole level. Both brokers refuse anything else; Mosquitto
 * only when it re-reads its ACL file, which would leave it down at the next restart.
 */
export function topicFilterProblem(topic: string): string | null {
  const levels = topic.split('/');
  for (const [index, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || index !== levels.length - 1)) {
      return `"${topic}" is not an MQTT topic filter: "#" must be a whole level and the last one (e.g. sensors/#)`;
    }
    if (level.includes('+') && level !== '+') return `"${topic}" is not an MQTT topic filter: "+" must be a whole level (e.g. sensors/+/temperature)`;
  }
  return null;
}

const aclRule = z
  .object({
    topic: z
      .string()
      .min(1)
      .max(512)
      .refine((value) => !/[\0\r\n]/.test(value), 'must not contain NUL or line breaks')
      .superRefine((value, context) => {
        const problem = topicFilterProblem(value);
        if (problem !== null) context.addIssue({ code: 'custom', message: problem });
      }),
    access: z.enum(['read', 'write', 'readwrite']),
  })
  .strict();

/** An Erlang node name as EMQX accepts it: `name@host`, the name part ^[0-9A-Za-z_-]+$ (bin/emqx). */
export const emqxNodeNamePattern = /^[0-9A-Za-z_-]{1,64}@[0-9A-Za-z_.:-]{1,253}$/;
const emqxNodeName = z.string().regex(emqxNodeNamePattern, 'must be an Erlang node name like emqx@10.0.0.1');

/** Cookie characters that need no quoting anywhere EMQX passes the cookie (HOCON, vm.args, erl's argv). */
export const emqxCookiePattern = /^[A-Za-z0-9_.+=-]{16,255}$/;

export const listenerNames = ['mqtt', 'websocket', 'mqtts', 'wss', 'dashboard'] as const;

/** One listener's `listenerAccess` entry; see the block's comment in settingsSchema. */
const listenerAccess = z
  .object({
    /** One local address to listen on (e.g. the plant NIC's); default all addresses (0.0.0.0 and ::). */
    bind: z.string().min(1).max(64).optional(),
    /**
     * CIDRs or single addresses the firewall admits to this port (firewalld rich rules, ufw `from`
     * rules); default anyone. Connections already open when a range is removed stay open (both
     * firewalls accept established traffic first): a broker restart cuts them.
     */
    allowFrom: z
      .array(z.string().min(1).max(64))
      .min(1, 'must list at least one range; to serve no one remove the listener, or bind it to 127.0.0.1')
      .max(256)
      .optional(),
  })
  .strict();

export const settingsSchema = z
  .object({
    broker: z.enum(['mosquitto', 'emqx']),
    /** Package version to install; empty means the OS repository's (Mosquitto) or the pinned default (EMQX). */
    version: z.string().regex(/^[0-9A-Za-z.+~:-]*$/, 'must be a package version like 2.0.11 or 5.8.6').default(''),
    /** `absent` uninstalls the broker (data kept unless `purgeData`), symmetric with install. */
    state: z.enum(['present', 'absent']).default('present'),
    purgeData: z.boolean().default(false),
    /** Listener name → port. Only listed listeners are served and opened in the firewall. */
    listeners: z
      .object({
        mqtt: port.optional(),
        websocket: port.optional(),
        mqtts: port.optional(),
        wss: port.optional(),
        dashboard: port.optional(),
      })
      .strict()
      .default({ mqtt: 1883 }),
    /**
     * Per listener (same names as `listeners`): where it listens and who may reach it. A separate
     * block, not a new form of `listeners`, because `listeners` stays name → port everywhere it is
     * read (front doors, consumers, status, the Pulumi `listeners` output) and every existing file
     * stays valid. Absent means what the tool always did: all addresses, open to anyone — a broker
     * is useless to clients the firewall refuses, and only the operator knows the plant network.
     */
    listenerAccess: z
      .object({
        mqtt: listenerAccess.optional(),
        websocket: listenerAccess.optional(),
        mqtts: listenerAccess.optional(),
        wss: listenerAccess.optional(),
        dashboard: listenerAccess.optional(),
      })
      .strict()
      .default({}),
    session: z
      .object({
        /** Keep the sessions of clean-session=false clients, so an offline subscriber's QoS 1 messages wait for it. */
        persistent: z.boolean().default(true),
        /** 7 days: long enough to cover a weekend outage of a consumer; Mosquitto rounds up to whole hours (0 → 1 hour). */
        expirySeconds: z.number().int().min(0).max(4294967295).default(604800),
        /** Both brokers default to 1000 and silently drop beyond it; the field report needed 100000. */
        maxQueuedMessages: z.number().int().min(1).max(100000000).default(100000),
        /** In-flight window per client; the brokers' defaults (20 and 32) are fine for ordered delivery. */
        maxInflightMessages: z.number().int().min(1).max(65535).default(32),
        /** Queue QoS 0 messages for offline clients too, because publishers often forget to set QoS 1. */
        queueQos0: z.boolean().default(true),
      })
      .strict()
      .default({ persistent: true, expirySeconds: 604800, maxQueuedMessages: 100000, maxInflightMessages: 32, queueQos0: true }),
    persistence: z
      .object({
        /** Write sessions and queued messages to disk so a broker restart loses none of them. */
        enabled: z.boolean().default(true),
        /** Save every 60 s instead of Mosquitto's 30 min default: a crash loses at most a minute. */
        autosaveIntervalSeconds: z.number().int().min(1).max(86400).default(60),
      })
      .strict()
      .default({ enabled: true, autosaveIntervalSeconds: 60 }),
    /** EMQX kills a client process whose mailbox or heap passes these limits; the defaults (1000 / 32MB) lose messages. */
    forceShutdown: z
      .object({
        enabled: z.boolean().default(true),
        maxMailboxSize: z.number().int().min(1000).max(100000000).default(100000),
        maxHeapSize: z.string().regex(/^[1-9][0-9]*(KB|MB|GB)$/, 'must be a size like 1024MB').default('1024MB'),
      })
      .strict()
      .default({ enabled: true, maxMailboxSize: 100000, maxHeapSize: '1024MB' }),
    /** Administrators: full access to every topic (Mosquitto) and the dashboard (EMQX). */
    admins: z.array(z.object(credentials).strict()).default([]),
    /** MQTT client users with topic rules; without rules a user may read and write every topic. */
    users: z
      .array(z.object({ ...credentials, acl: z.array(aclRule).default([]) }).strict())
      .default([]),
    /** Subscribers that must not lose messages: fixed client id, a read-only user for their topics, a rendered config (see src/settings/consumers.ts). */
    consumers: z.array(consumerSchema).default([]),
    /**
     * TLS for the `mqtts` and `wss` listeners (required when either is set). Either supplied
     * certificates (`ca`, `cert`, `key`: all three, PEM files on the controller) or `generate`:
     * a per-environment CA kept on the controller issues each host's server certificate.
     */
    tls: z
      .object({
        /** Supplied: the CA certificate clients trust (also the one client certificates must chain to). */
        ca: z.string().min(1).optional(),
        /** Supplied: the server certificate (PEM; intermediates after it). */
        cert: z.string().min(1).optional(),
        /** Supplied: its private key (PEM, unencrypted: the broker starts unattended). */
        key: z.string().min(1).optional(),
        generate: z
          .object({
            /** Directory on the controller holding the environment's CA (ca.crt, ca.key 0600), created on the first run. */
            caDir: z.string().min(1),
            /** Names and addresses clients use; the SSH host address is always added. */
            subjectAltNames: z.array(z.string().min(1).max(253)).max(100).default([]),
            /** 365 days: short enough to limit a leaked key, and re-issued automatically 30 days before expiry (so at least 31). */
            validDays: z.number().int().min(31).max(825).default(365),
            /**
             * 30 days: a certificate with fewer days left is re-issued by the next run (time for a
             * monthly run to catch it). Raise it above the days the current one has left to renew now;
             * it must stay under validDays, or every run would re-issue. Mosquitto picks a renewed
             * certificate up by reload (connected clients stay), docs/tls.md.
             */
            renewBeforeDays: z.number().int().min(1).max(824).default(30),
          })
          .strict()
          .optional(),
        /** Off: MQTT clients authenticate with user name and password; on, they must also show a certificate signed by the CA. */
        requireClientCertificate: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /**
     * Prometheus metrics (docs/metrics.md). Off by default: on Mosquitto it installs and runs a second
     * package and service (Debian's prometheus-mqtt-exporter) with its own broker user, and opens one
     * more port; a deployment nobody scrapes should not carry them. EMQX serves its endpoint anyway.
     */
    metrics: z
      .object({
        /** Mosquitto: install and run prometheus-mqtt-exporter fed from $SYS (Debian family only); EMQX: render its prometheus block. */
        enabled: z.boolean().default(false),
        /** Mosquitto: the exporter's port. 9641 is the exporter's own default (its registered port); EMQX serves on the dashboard port instead. */
        port: port.default(9641),
        /**
         * CIDRs (or single addresses) of the Prometheus servers. Only they get the metrics port through the
         * firewall; empty (the default) opens it to no one, so only a scraper on the host itself, or one
         * behind a firewall we do not manage, reaches it: an exporter is never exposed by accident.
         */
        scrapers: z.array(z.string().min(1).max(64)).max(64).default([]),
        /**
         * EMQX only: `prometheus.enable_basic_auth`. On by default: EMQX's endpoint (on the dashboard
         * port, which admins reach too) otherwise answers anyone; Prometheus then scrapes with an API key.
         */
        emqxBasicAuth: z.boolean().default(true),
      })
      .strict()
      .default({ enabled: false, port: 9641, scrapers: [], emqxBasicAuth: true }),
    /** Open files, connections and kernel floors for thousands of clients (src/settings/limits.ts says why each default). */
    limits: limitsSchema.default(defaultLimits),
    /** `auto` opens the served ports in firewalld or ufw when one is running; `off` leaves the firewall alone. */
    firewall: z.enum(['auto', 'off']).default('auto'),
    /** Replace a shipped template with your own: config file name → path of a handlebars file. */
    templates: z.record(z.string(), z.string().min(1)).default({}),
    /** Raw lines appended to the main config file: the escape hatch for settings this schema lacks. */
    extraConfig: z.string().max(65536).default(''),
    /** EMQX only (Mosquitto ignores it): node identity, clustering, durable sessions, air-gapped package. */
    emqx: z
      .object({
        /** Single node only; default emqx@127.0.0.1. A cluster node takes its name from `cluster.seeds`. */
        nodeName: emqxNodeName.optional(),
        /** The Erlang cookie: generated per host and kept when absent; required (and shared) for a cluster. */
        cookie: z
          .string()
          .regex(emqxCookiePattern, 'must be 16–255 characters of A-Z a-z 0-9 _ . + = -')
          .transform((value) => new Secret(value))
          .optional(),
        cookieFile: z.string().min(1).optional(),
        /** Sessions and their queues on disk (EMQX 5.7+); off by default, single node only on the Community Edition. */
        durableSessions: z.boolean().default(false),
        cluster: z
          .object({ seeds: z.array(emqxNodeName).max(64).default([]) })
          .strict()
          .default({ seeds: [] }),
        /** A local .rpm/.deb to upload instead of downloading from EMQX (air-gapped hosts); also `--package`. */
        package: z.string().min(1).optional(),
      })
      .strict()
      .default({ durableSessions: false, cluster: { seeds: [] } }),
  })
  .strict();

/** Settings as written by a user, before defaults. */
export type SettingsInput = z.input<typeof settingsSchema>;
/** Settings after validation and defaults; passwords are still unresolved here. */
export type ParsedSettings = z.output<typeof settingsSchema>;
