/** install-*.mts --help: every flag of parseInstallOptions, grouped as an operator looks for them. */
export const installUsage = (script: string): string => `Usage: npx zx scripts/${script} [options]

Targets (at least one, unless --render-to):
  --host [user@]host[:port]   a host to converge over SSH; repeat for more (they run in parallel)
  --inventory FILE            hosts from a YAML/JSON inventory (e.g. .lab/inventory.json)
  --limit PATTERNS            only these hosts: comma-separated names, addresses or patterns
                              (* and ?), "!" in front to leave some out, e.g. 'broker-*,!broker-3'
  --identity FILE             SSH private key (default: ssh-agent / the inventory's key)
  --ssh-password-file FILE    SSH password instead of a key (or env MQTT_SSH_PASSWORD)
  --known-hosts FILE          host keys to check against (default ~/.ssh/known_hosts)
  --host-key-check MODE       accept-new (default: record unknown hosts, refuse changed keys),
                              strict (known hosts only) or off
  --docker                    converge a broker container instead of SSH hosts
  --docker-host URL           with --docker: unix:///path/docker.sock, or ssh://[user@]host[:port]
                              to run docker on that host over SSH (default: the local engine)
  --image IMAGE               with --docker: the image (default: the official one, pinned:
                              eclipse-mosquitto:2.0.22 / emqx:5.8.8; "local" builds a Mosquitto
                              image here from Debian packages)
  --container-name NAME       with --docker: the container (default mqtt-provision-BROKER)
  --bind ADDRESS              with --docker: publish the ports on ADDRESS (default 0.0.0.0)
  --memory SIZE               with --docker: memory limit, e.g. 512m or 2g (default 512m, EMQX 2g)
  --cpus N                    with --docker: CPU limit, e.g. 1 or 0.5 (default 1)

Settings:
  --settings FILE.yaml        the deployment settings (see README, "Settings")
  --admin-user NAME           admin user to create or update
  --admin-password-file FILE  its password (or env MQTT_ADMIN_PASSWORD)
  --version VERSION           package version to pin
  --package FILE              EMQX only: upload and install this .rpm/.deb instead of downloading

Behaviour:
  --dry-run                   gather facts and show what would change, with diffs; change nothing
  --check                     drift check (for CI): a dry run that exits 3 when anything would change
  --render-to DIR             write the rendered config files to DIR and contact no host
                              (consumer configs too, in DIR/consumers, unless --consumer-configs)
  --consumer-configs DIR      write each consumer's config (Flume, Telegraf, JSON + env) and its
                              0600 password file to DIR/<name>/ (see README, "Consumers")
  --consumer-broker HOST[:PORT]  the address those configs connect to (default: the first
                              tls.generate.subjectAltNames entry, else the first --host)
  --json                      print one JSON document with per-host, per-step results
  --no-verify                 skip the broker verification after converging
  --concurrency N             hosts converged at once (default 10)
  --max-fail N                start no new host once N hosts failed
  --connect-timeout SECONDS   per SSH connection attempt (default 10)
  --retries N                 extra SSH connection attempts with backoff (default 2)
  --lock-timeout SECONDS      wait this long for another run's lock on a host or container,
                              then fail naming it (default 120; 0 fails at once)
  -h, --help                  this text

Exit codes: 0 success (--check: in sync), 1 a host failed or did not verify, 2 invalid input
(nothing was touched), 3 --check found drift.`;
