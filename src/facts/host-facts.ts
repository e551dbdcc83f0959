/** Everything the planners may know about a host, gathered in one round trip by the probe. */
export interface OsRelease {
  id: string;
  idLike: string[];
  versionId: string;
  prettyName: string;
}

export interface FileFact {
  sha256: string;
  mode: string;
  owner: string;
  group: string;
  /** Text of small files, so planners can diff and check password hashes without another trip. */
  content: string | null;
}

export interface DirectoryFact {
  mode: string;
  owner: string;
  group: string;
  /** How many entries it holds (`ls -A`); absent when the probe did not say. */
  entries?: number;
}

export interface ServiceFact {
  /** `systemctl is-active`: active, inactive, failed, activating, unknown… */
  active: string;
  /** `systemctl is-enabled`: enabled, disabled, masked, not-found… */
  enabled: string;
}

export interface FirewalldFact {
  running: boolean;
  runtimePorts: string[];
  permanentPorts: string[];
  /** `rich rules` of the default zone, one per line as firewall-cmd lists them (runtime view); absent when the probe did not say. */
  runtimeRichRules?: string;
  permanentRichRules?: string;
  /** `services` of the default zone (firewalld's `mqtt` and `mqtt-tls` open 1883 and 8883 to everyone). */
  runtimeServices?: string[];
  permanentServices?: string[];
}

export interface UfwFact {
  active: boolean;
  /** Ports open to everyone (`1883/tcp ALLOW Anywhere`); a rule restricted by source does not count. */
  allowedPorts: string[];
  /** The whole `ufw status` listing, for the rules restricted by source; absent when the probe did not say. */
  status?: string;
}

export interface HostFacts {
  os: OsRelease;
  /** Commands found on PATH, e.g. apt-get, dnf, yum, firewall-cmd, ufw. */
  commands: string[];
  /** Installed version per queried package, null when not installed. */
  packages: Record<string, string | null>;
  /** Queried packages that are removed but whose config files remain (dpkg's `rc`): a purge takes them. */
  packagesConfigOnly?: string[];
  /** Managed files, null when absent. */
  files: Record<string, FileFact | null>;
  directories: Record<string, DirectoryFact | null>;
  services: Record<string, ServiceFact>;
  firewalld: FirewalldFact | null;
  ufw: UfwFact | null;
  /** RHEL family: whether the EPEL repository is configured and enabled. */
  epelEnabled: boolean;
  /** RHEL family: an EPEL .repo file exists, even with its [epel] section turned off (absent means no). */
  epelConfigured?: boolean;
  /** `uname -m`, e.g. x86_64 or aarch64; absent when the probe did not say. */
  arch?: string;
  /** `uname -n` and the addresses of `hostname -I`: the names a cluster seed may give this host. */
  hostNames?: string[];
  /**
   * Kernel settings asked for (FactQuery.sysctl): the value in /proc/sys (spaces between numbers)
   * and whether root may write it (false on a container's read-only /proc/sys); null when absent.
   */
  sysctl?: Record<string, { value: string; writable: boolean } | null>;
  /**
   * The open-file limit the running service really has (FactQuery.openFiles), read from
   * /proc/<MainPID>/limits: systemd's own view (`systemctl show`) says what was asked, not what a
   * container let it have. null when the service has no main process.
   */
  openFiles?: Record<string, { soft: number; hard: number } | null>;
  /** The address the controller reached the host by (SSH), when known: a generated TLS certificate names it. */
  sshAddress?: string;
  // A broker role adds its own facts to this interface (declaration merging), e.g.
  // src/brokers/emqx/facts.ts adds `emqx`: the generic layer knows no broker.
}

/** What the planner asks the probe to look at; derived from the broker definition. */
export interface FactQuery {
  packages: string[];
  files: string[];
  directories: string[];
  services: string[];
  /** Kernel keys to read from /proc/sys (the `limits.kernel` floors). */
  sysctl?: string[];
  /** Services whose running process's open-file limit to read. */
  openFiles?: string[];
  /** POSIX sh the role adds to the probe, run after the generic part in the same round trip: its own section. */
  probe?: string;
  /**
   * Probe lines of a kind this layer does not know (a broker's own section, e.g. `emqx`), handed to
   * the role that asked for the facts; lines no one asked for are skipped.
   */
  sections?: Record<string, (facts: HostFacts, fields: string[]) => void>;
}
