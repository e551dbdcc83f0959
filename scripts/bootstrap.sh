#!/usr/bin/env bash
# Brings what the project needs on a fresh Debian machine: Node.js >= 22.18 and the npm packages.
# (The Docker engine and debootstrap for the lab are brought by src/container/docker-engine.ts.)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/bin:$PATH"

node_is_new_enough() {
  node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 22 || (major === 22 && minor >= 18) ? 0 : 1)' 2>/dev/null
}

if ! node_is_new_enough; then
  echo "bootstrap: node is $(node --version 2>/dev/null || echo missing); installing Node.js 24 from the npm registry"
  if [ "$(id -u)" != 0 ]; then
    echo "bootstrap: this needs root; run: sudo npm i -g --prefix /usr/local node@24" >&2
    exit 1
  fi
  npm i -g --prefix /usr/local node@24 >/dev/null
  hash -r
  node_is_new_enough || { echo "bootstrap: node is still $(node --version) after installing node@24" >&2; exit 1; }
fi

# npm ci only when the lock file is newer than the last install: a re-run costs nothing.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund >/dev/null
fi
