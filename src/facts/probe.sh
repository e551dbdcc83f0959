# The probe: one POSIX sh script, sent on stdin, that prints every fact as a tab-separated line.
# One round trip for all facts keeps a no-op converge at one SSH exec. Arguments name what to look
# at (pkg:NAME, file:PATH, dir:PATH, svc:NAME, sysctl:KEY, nofile:SERVICE). Files over 4 MiB are
# hashed but not sent: the largest file a planner reads back, the password file of the most users
# settings allow (10000, about 1.8 MB), must arrive whole, or its kept hashes are lost and every run rewrites it.
set -u
export LC_ALL=C
tab=$(printf '\t')
emit() { printf '%s\n' "$*"; }
if [ -r /etc/os-release ]; then
  . /etc/os-release
  emit "os${tab}id${tab}${ID:-}"
  emit "os${tab}id_like${tab}${ID_LIKE:-}"
  emit "os${tab}version_id${tab}${VERSION_ID:-}"
  emit "os${tab}pretty_name${tab}${PRETTY_NAME:-}"
fi
for c in apt-get dpkg-query dnf yum rpm systemctl firewall-cmd ufw mosquitto_passwd emqx curl; do
  command -v "$c" >/dev/null 2>&1 && emit "cmd${tab}$c"
done
pkgversion() {
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null | sed -n 's/^ii *//p'
  elif command -v rpm >/dev/null 2>&1; then
    rpm -q --qf '%{VERSION}-%{RELEASE}' "$1" 2>/dev/null | grep -v 'not installed'
  fi
}
# dpkg's "rc": removed, its config files still there (only a purge takes them).
pkgconfigonly() {
  command -v dpkg-query >/dev/null 2>&1 && dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^rc'
}
for arg in "$@"; do
  kind=${arg%%:*}; name=${arg#*:}
  case "$kind" in
    pkg)
      v=$(pkgversion "$name"); emit "pkg${tab}$name${tab}${v:--}"
      if [ -z "$v" ] && pkgconfigonly "$name"; then emit "pkgconf${tab}$name"; fi ;;
    file)
      if [ -f "$name" ]; then
        sum=$(sha256sum "$name" | cut -d' ' -f1)
        size=$(stat -c '%s' "$name")
        content=-
        [ "$size" -le 4194304 ] && content=$(base64 -w0 < "$name")
        emit "file${tab}$name${tab}$sum${tab}$(stat -c "%a${tab}%U${tab}%G" "$name")${tab}$content"
      else
        emit "file${tab}$name${tab}-"
      fi ;;
    dir)
      # The entry count lets removal take a directory that only our files kept from being empty.
      if [ -d "$name" ]; then emit "dir${tab}$name${tab}$(stat -c "%a${tab}%U${tab}%G" "$name")${tab}$(ls -A "$name" 2>/dev/null | wc -l)"; else emit "dir${tab}$name${tab}-"; fi ;;
    svc)
      a=$(systemctl is-active "$name" 2>/dev/null); e=$(systemctl is-enabled "$name" 2>/dev/null)
      emit "svc${tab}$name${tab}${a:-unknown}${tab}${e:-not-found}" ;;
    sysctl)
      # Read-only /proc/sys (a container) makes [ -w ] false even for root; tabs in a value (port range) become spaces.
      f=/proc/sys/$(printf %s "$name" | tr . /)
      if [ -e "$f" ]; then w=r; [ -w "$f" ] && w=w; emit "sysctl${tab}$name${tab}$w${tab}$(tr '\t\n' '  ' < "$f")"; else emit "sysctl${tab}$name${tab}-"; fi ;;
    nofile)
      # The limit in force, not the one asked: systemd clamps LimitNOFILE where it may not raise it.
      pid=$(systemctl show -p MainPID --value "$name" 2>/dev/null)
      lim=
      case "$pid" in ''|0) ;; *) lim=$(awk '/^Max open files/ { print $4 "\t" $5 }' "/proc/$pid/limits" 2>/dev/null) ;; esac
      emit "nofile${tab}$name${tab}${lim:--}" ;;
  esac
done
# firewall-cmd is Python and takes ~0.4 s a call: systemd says whether the daemon runs, and
# firewall-cmd is asked once per view (runtime, permanent) with --list-all, which holds the default
# zone's ports, services and rich rules (on a host where firewalld is installed but off, not at all).
firewalld_running() {
  if command -v systemctl >/dev/null 2>&1; then systemctl is-active --quiet firewalld 2>/dev/null
  else [ "$(firewall-cmd --state 2>/dev/null)" = running ]; fi
}
if command -v firewall-cmd >/dev/null 2>&1; then
  if firewalld_running; then
    rt=$(firewall-cmd --list-all 2>/dev/null); pm=$(firewall-cmd --permanent --list-all 2>/dev/null)
    zonefield() { printf '%s\n' "$1" | sed -n "s/^[[:space:]]*$2:[[:space:]]*//p" | head -n 1; }
    emit "firewalld${tab}running${tab}$(zonefield "$rt" ports)${tab}$(zonefield "$pm" ports)${tab}$(zonefield "$rt" services)${tab}$(zonefield "$pm" services)"
    # Rich rules come last in --list-all, one per line after "rich rules:".
    for view in runtime permanent; do
      if [ "$view" = runtime ]; then text=$rt; else text=$pm; fi
      printf '%s\n' "$text" | sed -n '/^[[:space:]]*rich rules:/,$p' | sed '1d; s/^[[:space:]]*//; /^$/d' |
        while IFS= read -r rule; do emit "firewalldrule${tab}${view}${tab}${rule}"; done
    done
  else
    emit "firewalld${tab}stopped"
  fi
fi
if command -v ufw >/dev/null 2>&1; then
  status=$(ufw status 2>/dev/null)
  case "$status" in
    # Ports open to everyone: `1883/tcp ALLOW Anywhere`, not `1883/tcp ALLOW 10.0.0.0/8` (restricted by
    # source). The whole listing follows, line by line, for the rules restricted by source.
    "Status: active"*)
      emit "ufw${tab}active${tab}$(printf '%s\n' "$status" | awk '$2 == "ALLOW" && $3 == "Anywhere" && $1 ~ /^[0-9]+\/tcp$/ {print $1}' | sort -u | tr '\n' ' ')"
      printf '%s\n' "$status" | while IFS= read -r line; do emit "ufwline${tab}${line}"; done ;;
    *) emit "ufw${tab}inactive" ;;
  esac
fi
# EPEL: 1 when its [epel] section is on (dnf's default without an enabled= line), 0 when it is
# configured but an admin turned it off.
if ls /etc/yum.repos.d/epel*.repo >/dev/null 2>&1; then
  e=$(awk -F= '/^[[:space:]]*\[/ { s = $0; gsub(/[[:space:]]/, "", s) }
    s == "[epel]" && $1 ~ /^[[:space:]]*enabled[[:space:]]*$/ { v = $2; gsub(/[[:space:]]/, "", v); print v }' /etc/yum.repos.d/epel*.repo | tail -n 1)
  case "$e" in 0|[Ff]alse|[Nn]o|[Oo]ff) emit "epel${tab}0" ;; *) emit "epel${tab}1" ;; esac
fi
# Which package build fits, and the names a cluster seed may use for this host.
emit "arch${tab}$(uname -m)"
emit "host${tab}name${tab}$(uname -n)"
emit "host${tab}addr${tab}$(hostname -I 2>/dev/null)"
# gather.ts appends the broker role's own section (FactQuery.probe) and `exit 0`.
