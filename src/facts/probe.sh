# The probe: one POSIX sh script that prints every fact as a tab-separated line, run by the host
# lock's own session right after the lock is taken (src/engine/host-lock.ts), so a no-op converge
# is one SSH channel and one sudo. Arguments name what to look at (pkg:NAME, file:PATH, dir:PATH,
# svc:NAME, sysctl:KEY, nofile:SERVICE); src/facts/gather.ts sends them grouped by kind.
# Cost (issue 20): every exec on the host costs 1–10 ms of its CPU (systemctl ~8 ms), and 100
# hosts share two cores in the lab, so each kind of fact is ONE command for all its names
# (dpkg-query, stat, systemctl show) and the rest are shell builtins; measured 120–138 ms → see
# docs/performance.md. Files over 4 MiB are hashed but not sent: the largest file a planner reads
# back, the password file of the most users settings allow (10000, about 1.8 MB), must arrive
# whole, or its kept hashes are lost and every run rewrites it. A file sent whole gets `+` for its
# hash: parse-probe.ts hashes the bytes it received instead of a sha256sum per file here.
set -u
export LC_ALL=C
tab='	'
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

# only KIND FN ARGS…: calls FN with the names of one kind, as its own positional parameters (paths
# may hold spaces). `for a; do shift; … set -- "$@" x; done` leaves only what the loop added.
only() {
  kind=$1 fn=$2; shift 2
  for a; do shift; case $a in "$kind":*) set -- "$@" "${a#*:}" ;; esac; done
  "$fn" "$@"
}

# Packages: one dpkg-query (or rpm) for all. dpkg's "rc": removed, config files still there (only a purge takes them).
probe_packages() {
  [ $# -gt 0 ] || return 0
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\t${Version}\n' -- "$@" 2>/dev/null | while IFS="$tab" read -r n s v; do
      case $s in
        ii*) emit "pkg${tab}$n${tab}$v" ;;
        rc*) emit "pkgconf${tab}$n" ;;
      esac
    done
  elif command -v rpm >/dev/null 2>&1; then
    # "package X is not installed" has no tab; several installed versions (kernels): the last wins.
    rpm -q --qf "%{NAME}\t%{VERSION}-%{RELEASE}\n" -- "$@" 2>/dev/null | while IFS="$tab" read -r n v; do
      [ -n "${v:-}" ] && emit "pkg${tab}$n${tab}$v"
    done
  fi
}

# Files: one stat for all that exist, then each file's bytes (base64) or, over 4 MiB, its hash.
probe_files() {
  for a; do shift; if [ -f "$a" ]; then set -- "$@" "$a"; else emit "file${tab}$a${tab}-"; fi; done
  [ $# -gt 0 ] || return 0
  stat -c "%n${tab}%s${tab}%a${tab}%U${tab}%G" -- "$@" | while IFS= read -r line; do
    f=${line%%"$tab"*}; rest=${line#*"$tab"}; size=${rest%%"$tab"*}; meta=${rest#*"$tab"}
    if [ "$size" -le 4194304 ]; then
      printf 'file\t%s\t+\t%s\t' "$f" "$meta"; base64 -w0 < "$f"; printf '\n'
    else
      sum=$(sha256sum < "$f"); emit "file${tab}$f${tab}${sum%% *}${tab}$meta${tab}-"
    fi
  done
}

# Directories: one stat; the entry count (removal takes a directory only our files kept from being
# empty) by globbing, a builtin, instead of ls | wc per directory.
count_entries() {
  n=0
  for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do { [ -e "$e" ] || [ -L "$e" ]; } && n=$((n + 1)); done
  echo "$n"
}
probe_directories() {
  for a; do shift; if [ -d "$a" ]; then set -- "$@" "$a"; else emit "dir${tab}$a${tab}-"; fi; done
  [ $# -gt 0 ] || return 0
  stat -c "%n${tab}%a${tab}%U${tab}%G" -- "$@" | while IFS= read -r line; do
    emit "dir${tab}${line}${tab}$(count_entries "${line%%"$tab"*}")"
  done
}

# Kernel settings: one awk reads every /proc/sys file (a key's dots become slashes; /proc/sys
# answers a 1-byte read, the shell's `read`, with one byte then end of file). A read-only /proc/sys
# (a container) makes [ -w ] false even for root; tabs in a value (port range) become spaces.
probe_sysctl() {
  for key; do
    shift
    p=$key; f=/proc/sys
    while :; do case $p in *.*) f="$f/${p%%.*}"; p=${p#*.} ;; *) f="$f/$p"; break ;; esac; done
    if [ -e "$f" ]; then
      w=r; [ -w "$f" ] && w=w
      set -- "$@" "k=$key" "w=$w" "$f"
    else
      emit "sysctl${tab}$key${tab}-"
    fi
  done
  [ $# -gt 0 ] || return 0
  awk -v t="$tab" 'FNR == 1 { gsub(/\t/, " "); print "sysctl" t k t w t $0 }' "$@"
}

# The open-files limit in force, not the one asked: systemd clamps LimitNOFILE where it may not raise it.
nofile_of() {
  unit=$1 lim=-
  case $2 in
    '' | 0) ;;
    *) if [ -r "/proc/$2/limits" ]; then
         while IFS= read -r l; do case $l in "Max open files"*) set -- $l; lim="$4${tab}$5"; break ;; esac; done < "/proc/$2/limits"
       fi ;;
  esac
  emit "nofile${tab}$unit${tab}$lim"
}

# Services and open-files limits: ONE `systemctl show` for every unit, blocks in argument order
# (is-active = ActiveState; is-enabled = UnitFileState, "not-found" when there is no unit file).
# $1: "svc:NAME" / "nofile:NAME" in the order of the units shown, as shifted per block.
read_units() {
  active=unknown enabled=not-found pid=
  while IFS= read -r l; do
    case $l in
      ActiveState=*) active=${l#*=} ;;
      UnitFileState=?*) enabled=${l#*=} ;;
      MainPID=*) pid=${l#*=} ;;
      '') if [ $# -gt 0 ]; then unit_line "$1"; shift; fi; active=unknown enabled=not-found pid= ;;
    esac
  done
  [ $# -gt 0 ] && unit_line "$1"
  return 0
}
unit_line() {
  case $1 in
    svc:*) emit "svc${tab}${1#svc:}${tab}${active:-unknown}${tab}${enabled}" ;;
    nofile:*) nofile_of "${1#nofile:}" "$pid" ;;
  esac
}
probe_units() {
  [ $# -gt 0 ] || return 0
  names=
  for a; do names="$names ${a#*:}"; done
  # Unit names hold no spaces; systemctl prints nothing when there is no systemd (the defaults stand).
  # shellcheck disable=SC2086
  systemctl show -p ActiveState,UnitFileState,MainPID -- $names 2>/dev/null | read_units "$@"
}

only pkg probe_packages "$@"
only file probe_files "$@"
only dir probe_directories "$@"
only sysctl probe_sysctl "$@"
units() { for a; do shift; case $a in svc:* | nofile:*) set -- "$@" "$a" ;; esac; done; probe_units "$@"; }
units "$@"

# firewalld, when its daemon runs (systemd says so): the default zone's runtime and permanent
# settings over D-Bus with busctl (C, ~15 ms a call) as JSON, parsed by parse-probe.ts, instead of
# firewall-cmd (Python, ~0.4 s a call, twice). Where busctl cannot (no --json before systemd 240,
# a firewalld without getZoneSettings2), firewall-cmd --list-all per view, which holds the default
# zone's ports, services and rich rules. Installed but off: not asked at all.
firewalld_running() {
  if command -v systemctl >/dev/null 2>&1; then systemctl is-active --quiet firewalld 2>/dev/null
  else [ "$(firewall-cmd --state 2>/dev/null)" = running ]; fi
}
# The first string of a busctl --json=short reply: {"type":"s","data":["public"]} → public.
first_string() { v=${1#*'"data":["'}; printf '%s' "${v%%'"'*}"; }
firewalld_dbus() {
  command -v busctl >/dev/null 2>&1 || return 1
  fw=org.fedoraproject.FirewallD1
  reply=$(busctl --json=short call $fw /org/fedoraproject/FirewallD1 $fw getDefaultZone 2>/dev/null) || return 1
  zone=$(first_string "$reply"); [ -n "$zone" ] || return 1
  rt=$(busctl --json=short call $fw /org/fedoraproject/FirewallD1 $fw.zone getZoneSettings2 s "$zone" 2>/dev/null) || return 1
  reply=$(busctl --json=short call $fw /org/fedoraproject/FirewallD1/config $fw.config getZoneByName s "$zone" 2>/dev/null) || return 1
  pm=$(busctl --json=short call $fw "$(first_string "$reply")" $fw.config.zone getSettings2 2>/dev/null) || return 1
  emit "firewalldjson${tab}runtime${tab}$rt"
  emit "firewalldjson${tab}permanent${tab}$pm"
}
if command -v firewall-cmd >/dev/null 2>&1; then
  if ! firewalld_running; then
    emit "firewalld${tab}stopped"
  elif ! firewalld_dbus; then
    rt=$(firewall-cmd --list-all 2>/dev/null); pm=$(firewall-cmd --permanent --list-all 2>/dev/null)
    zonefield() { printf '%s\n' "$1" | sed -n "s/^[[:space:]]*$2:[[:space:]]*//p" | head -n 1; }
    emit "firewalld${tab}running${tab}$(zonefield "$rt" ports)${tab}$(zonefield "$pm" ports)${tab}$(zonefield "$rt" services)${tab}$(zonefield "$pm" services)"
    # Rich rules come last in --list-all, one per line after "rich rules:".
    for view in runtime permanent; do
      if [ "$view" = runtime ]; then text=$rt; else text=$pm; fi
      printf '%s\n' "$text" | sed -n '/^[[:space:]]*rich rules:/,$p' | sed '1d; s/^[[:space:]]*//; /^$/d' |
        while IFS= read -r rule; do emit "firewalldrule${tab}${view}${tab}${rule}"; done
    done
  fi
fi
# ufw is Python too (~0.2 s). `ufw status` says inactive exactly when `iptables -L ufw-user-input`
# exits 1 (ufw 0.36 backend_iptables.get_status), so that C command answers for an inactive ufw
# (Ubuntu's default: installed, off); any other answer asks ufw itself.
ufw_loaded() {
  command -v iptables >/dev/null 2>&1 || return 0
  iptables -n -L ufw-user-input >/dev/null 2>&1
  [ $? -ne 1 ]
}
if command -v ufw >/dev/null 2>&1; then
  if ufw_loaded; then status=$(ufw status 2>/dev/null); else status='Status: inactive'; fi
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
for repo in /etc/yum.repos.d/epel*.repo; do
  [ -e "$repo" ] || break
  e=$(awk -F= '/^[[:space:]]*\[/ { s = $0; gsub(/[[:space:]]/, "", s) }
    s == "[epel]" && $1 ~ /^[[:space:]]*enabled[[:space:]]*$/ { v = $2; gsub(/[[:space:]]/, "", v); print v }' /etc/yum.repos.d/epel*.repo | tail -n 1)
  case "$e" in 0|[Ff]alse|[Nn]o|[Oo]ff) emit "epel${tab}0" ;; *) emit "epel${tab}1" ;; esac
  break
done
# Which package build fits, and the names a cluster seed may use for this host.
emit "arch${tab}$(uname -m)"
read -r node < /proc/sys/kernel/hostname 2>/dev/null || node=$(uname -n)
emit "host${tab}name${tab}$node"
emit "host${tab}addr${tab}$(hostname -I 2>/dev/null)"
# gather.ts appends the broker role's own section (FactQuery.probe) and `exit 0`.
