# The shell library every EMQX REST script starts with (after set -u and $api, set by library() in rest-scripts.ts).
token=''
# call METHOD PATH: extra curl config (the body) on stdin; prints the body, then the HTTP status alone on the last line.
call() {
  {
    printf 'url = "%s%s"\nrequest = "%s"\n' "$api" "$2" "$1"
    if [ -n "$token" ]; then printf 'header = "Authorization: Bearer %s"\n' "$token"; fi
    cat
  } | curl -sS --max-time 30 -K - -H 'Content-Type: application/json' -w '\n%{http_code}' 2>/dev/null
  return 0
}
code_of() { c=$(printf '%s\n' "$1" | tail -n 1); case "$c" in [0-9][0-9][0-9]) printf '%s' "$c" ;; *) printf '000' ;; esac; }
body_of() { printf '%s\n' "$1" | sed '$d'; }
# login: credentials on stdin; sets $token when they are accepted.
login() {
  token=''
  resp=$(call POST /login)
  [ "$(code_of "$resp")" = 200 ] || return 1
  token=$(body_of "$resp" | sed -n 's/.*"token" *: *"\([^"]*\)".*/\1/p')
  [ -n "$token" ]
}
# check WHAT RESPONSE 'CODES': stops the script unless the status is one of CODES.
check() {
  case " $3 " in *" $(code_of "$2") "*) return 0 ;; esac
  printf '%s failed: HTTP %s %s\n' "$1" "$(code_of "$2")" "$(body_of "$2" | head -c 300)" >&2
  exit 1
}
# get_pages LABEL PATH LIMIT: GETs PATH (ending in ? or &) page by page until meta.hasnext is false
# (emqx_mgmt_api.erl), one 'LABEL<TAB>status<TAB>base64 body' line per page; the parsers join the pages.
get_pages() {
  page=1
  while [ "$page" -le 10000 ]; do
    resp=$(call GET "$2page=$page&limit=$3" </dev/null)
    printf '%s\t%s\t%s\n' "$1" "$(code_of "$resp")" "$(body_of "$resp" | base64 | tr -d '\n')"
    [ "$(code_of "$resp")" = 200 ] || break
    case "$(body_of "$resp" | tr -d ' \n')" in *'"hasnext":true'*) page=$((page + 1)) ;; *) break ;; esac
  done
}
api_up() { [ "$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$api/status" 2>/dev/null)" = 200 ]; }
wait_api() {
  i=0
  while [ "$i" -lt 120 ]; do
    if api_up; then return 0; fi
    i=$((i + 1))
    sleep 1
  done
  printf 'the EMQX REST API at %s did not answer within 120 s\n' "$api" >&2
  exit 1
}
