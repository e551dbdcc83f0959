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
}

export interface UfwFact {
  active: boolean;
  allowedPorts: string[];
}

/** `emqx ctl status`: exit 0 and "Node 'emqx@…' 5.8.6 is started" when up, "not responding to pings" (exit 1) when down. */
export interface EmqxStatusFact {
  code: number;
  /** First line of the output. */
  text: string;
}

/** A user of EMQX's built-in authentication database, as GET …/users lists it. */
export interface EmqxMqttUserFact {
  name: string;
  superuser: boolean;
}

/**
 * What EMQX's REST API (127.0.0.1, dashboard listener) says, gathered by a script on stdin so no
 * password reaches a command line. Null fields were not gathered (no login worked).
 */
export interface EmqxApiFact {
  /** GET /api/v5/status answered 200. */
  reachable: boolean;
  /** The tool's own dashboard account logs in with the password derived from the cookie. */
  serviceLogin: boolean;
  /** Wanted admin name → whether it logs in with its wanted password. */
  logins: Record<string, boolean>;
  /** admin/public still logs in; null when not checked (an admin named "admin" logs in with its wanted password). */
  defaultAdmin: boolean | null;
  mqttUsers: EmqxMqttUserFact[] | null;
  /** The rules of the `file` authorization source; present false when the source is missing. */
  acl: { present: boolean; rules: string } | null;
}

export interface EmqxFacts {
  status: EmqxStatusFact | null;
  api: EmqxApiFact | null;
  /** running_nodes of `emqx ctl cluster status --json`, read on a cluster node whose EMQX runs; absent otherwise. */
  clusterRunning?: string[] | null;
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
  /** The address the controller reached the host by (SSH), when known: a generated TLS certificate names it. */
  sshAddress?: string;
  /** Present when the `emqx` command exists on the host. */
  emqx?: EmqxFacts;
}

/** What the planner asks the probe to look at; derived from the broker definition. */
export interface FactQuery {
  packages: string[];
  files: string[];
  directories: string[];
  services: string[];
}
