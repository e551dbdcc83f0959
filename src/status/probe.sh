# Status probe for `status.mts`: one round trip for what the install facts do not hold.
# Arguments: SERVICE DATA_DIR [CERT_FILE]. Output: one "key<TAB>value" line per fact.
service=$1
data_dir=$2
cert=${3:-}

# One systemctl call: Key=Value lines for the unit.
unit=$(systemctl show -p ActiveState -p SubState -p NRestarts -p ActiveEnterTimestampMonotonic "$service" 2>/dev/null)
show() { printf '%s\n' "$unit" | sed -n "s/^$1=//p"; }
printf 'active\t%s\n' "$(show ActiveState)"
printf 'sub\t%s\n' "$(show SubState)"
printf 'restarts\t%s\n' "$(show NRestarts)"
# Seconds since the unit became active: both clocks are the kernel's monotonic one.
mono=$(show ActiveEnterTimestampMonotonic)
up=$(cut -d' ' -f1 /proc/uptime 2>/dev/null)
if [ -n "$mono" ] && [ "$mono" != 0 ] && [ -n "$up" ]; then
  printf 'uptime\t%s\n' "$(awk -v m="$mono" -v u="$up" 'BEGIN { printf "%d", u - m / 1000000 }')"
fi
# Listening TCP ports from the kernel's own tables (state 0A is LISTEN): no ss or netstat needed.
ports=''
for hex in $(awk '$4 == "0A" { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u); do
  ports="$ports $(printf '%d' "0x$hex")"
done
printf 'listening\t%s\n' "${ports# }"
# Free and total KiB on the file system of the data directory (queued messages live there).
if [ -d "$data_dir" ]; then
  df -Pk "$data_dir" 2>/dev/null | awk 'NR == 2 { printf "disk\t%s %s\n", $4, $2 }'
fi
if [ -n "$cert" ] && [ -r "$cert" ]; then
  printf 'cert\t%s\n' "$(base64 < "$cert" | tr -d '\n')"
fi
