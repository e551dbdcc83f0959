#!/usr/bin/env bash
# Provides the Pulumi CLI for the tests and prints the PATH entries to put first:
#   export PATH="$(bash scripts/pulumi-cli.sh):$PATH"
#  - `pulumi` and `pulumi-language-nodejs` already on PATH (an official install): that directory,
#    nothing built (MQTT_PULUMI_BUILD=1 builds anyway).
#  - otherwise the CLI is built ONCE from the Go module proxy into a cache outside the checkout
#    (CI runs in fresh clones; a cache inside the clone would rebuild every run), pinned to
#    PULUMI_VERSION, and reused at no cost afterwards.
# `go install …/pkg/v3/cmd/pulumi@vX` is refused (pkg/v3's go.mod has replace directives), so a small
# module generated in the cache requires pkg/v3 and sdk/v3 at the same version and copies pkg/v3's
# non-path replace directive. Nothing from that module is committed here.
# The Node.js language host is scripts/pulumi-plugins/pulumi-language-nodejs (its header says why
# it is ours); the dynamic-provider host is the script @pulumi/pulumi ships. Pulumi finds both on
# PATH (bundled plugins are looked up beside `pulumi`, then on PATH, and never downloaded).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PULUMI_VERSION="v3.274.1"
if [ -z "${MQTT_PULUMI_BUILD:-}" ] && command -v pulumi >/dev/null 2>&1 \
  && command -v pulumi-language-nodejs >/dev/null 2>&1; then
  dirname "$(command -v pulumi)"
  exit 0
fi
CACHE="${MQTT_PROVISION_CACHE:-$HOME/.cache/mqtt-provision}/pulumi/$PULUMI_VERSION"
BIN="$CACHE/bin"
mkdir -p "$CACHE"
# Checkouts on one machine share the cache: one build at a time, the others wait and reuse it.
exec 9>"$CACHE/.lock"
flock 9
if [ ! -x "$BIN/pulumi" ]; then
  GO="$(command -v go || echo /usr/local/go/bin/go)"
  [ -x "$GO" ] || { echo "pulumi-cli: no pulumi on PATH and no Go toolchain to build it" >&2; exit 1; }
  mkdir -p "$CACHE/module" "$BIN"
  cd "$CACHE/module"
  cat > go.mod <<EOF
module mqtt-provision.local/pulumi-cli

go 1.26

require (
	github.com/pulumi/pulumi/pkg/v3 $PULUMI_VERSION
	github.com/pulumi/pulumi/sdk/v3 $PULUMI_VERSION
)

// Copied from pkg/v3's go.mod at $PULUMI_VERSION (its only replace that is not a local path).
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
EOF
  # A blank import keeps `go mod tidy` from dropping the requirement the build needs.
  printf 'package tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' > tools.go
  echo "pulumi-cli: building pulumi $PULUMI_VERSION from the Go module proxy into $CACHE (once)" >&2
  start=$(date +%s)
  GOFLAGS=-mod=mod "$GO" mod tidy >&2
  "$GO" build -trimpath -o "$BIN/pulumi.tmp" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
  mv "$BIN/pulumi.tmp" "$BIN/pulumi"
  echo "pulumi-cli: built in $(( $(date +%s) - start )) s, $(du -m "$BIN/pulumi" | cut -f1) MB" >&2
fi
# The plugins are found on PATH (Pulumi's "ambient" plugin lookup), from this checkout, so a moved
# or re-cloned checkout, or two checkouts sharing the cache, never point at each other's files.
flock -u 9
echo "$BIN:$ROOT/scripts/pulumi-plugins:$ROOT/node_modules/@pulumi/pulumi"
