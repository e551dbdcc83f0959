/**
 * Where EMQX lives on a host. EMQX's own .deb and .rpm agree on these paths, the `emqx` user and
 * group and the `emqx` systemd unit (deploy/packages in emqx/emqx), so no per-OS table is needed.
 */
export const emqxLayout = {
  packageName: 'emqx',
  service: 'emqx',
  user: 'emqx',
  configFile: '/etc/emqx/emqx.conf',
  dataDir: '/var/lib/emqx',
  /** EMQX's own config layers, read with emqx.conf by `emqx check_config` (bin/emqx): never written here. */
  baseHocon: '/etc/emqx/base.hocon',
  clusterHocon: '/var/lib/emqx/configs/cluster.hocon',
  /** CA certificate, server certificate and key of the TLS listeners (ssl, wss); not the package's certs/ examples. */
  tlsDir: '/etc/emqx/tls',
  /** Hashes of the MQTT passwords last sent to the REST API: how a re-run knows nothing changed. */
  usersStateFile: '/etc/emqx/mqtt-provision-users',
  /** Downloaded or uploaded packages wait here (root-owned, not world-writable) until installed. */
  packageCacheDir: '/var/cache/mqtt-provision',
  /** The dashboard account this tool logs in with; its password derives from the Erlang cookie. */
  serviceAccount: 'mqtt_provision',
  /**
   * LimitNOFILE of EMQX's own unit: 1048576 in deploy/packages/emqx.service at both pinned tags
   * (v5.7.2, v5.8.6). `limits.openFiles` up to this needs no drop-in; verify reads what is in force.
   */
  unitOpenFiles: 1048576,
  /** The dashboard listener also serves the REST API (/api/v5); nothing listens on 8080/8081 in EMQX 5. */
  defaultDashboardPort: 18083,
} as const;
