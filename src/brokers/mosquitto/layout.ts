/**
 * Where Mosquitto lives on a host. Debian's package and EPEL's agree on these paths, the
 * `mosquitto` user and the `mosquitto` systemd unit, so no per-OS table is needed here.
 */
export const mosquittoLayout = {
  packageName: 'mosquitto',
  service: 'mosquitto',
  user: 'mosquitto',
  configFile: '/etc/mosquitto/mosquitto.conf',
  passwordFile: '/etc/mosquitto/passwd',
  aclFile: '/etc/mosquitto/acl',
  dataDir: '/var/lib/mosquitto',
  pidFile: '/run/mosquitto/mosquitto.pid',
  /** CA certificate, server certificate and key of the TLS listeners (mqtts, wss). */
  tlsDir: '/etc/mosquitto/tls',
} as const;
