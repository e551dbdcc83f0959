# The EMQX role's section of the fact probe (src/facts/probe.sh runs first, in the same sh and the
# same round trip, so `emit` and `tab` are defined): `emqx ctl status` when the command exists.
# Parsed by emqxProbe.sections in facts.ts.
if command -v emqx >/dev/null 2>&1; then
  out=$(timeout 30 emqx ctl status 2>&1); code=$?
  emit "emqx${tab}status${tab}$code${tab}$(printf '%s\n' "$out" | head -n 1 | tr '\t' ' ')"
fi
