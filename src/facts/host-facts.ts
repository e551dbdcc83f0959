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

export interface HostFacts {
  os: OsRelease;
  /** Commands found on PATH, e.g. apt-get, dnf, yum, firewall-cmd, ufw. */
  commands: string[];
  /** Installed version per queried package, null when not installed. */
  packages: Record<string, string | null>;
  /** Managed files, null when absent. */
  files: Record<string, FileFact | null>;
  directories: Record<string, DirectoryFact | null>;
  services: Record<string, ServiceFact>;
  firewalld: FirewalldFact | null;
  ufw: UfwFact | null;
  /** RHEL family: whether the EPEL repository is configured. */
  epelEnabled: boolean;
}

/** What the planner asks the probe to look at; derived from the broker definition. */
export interface FactQuery {
  packages: string[];
  files: string[];
  directories: string[];
  services: string[];
}
