#!/usr/bin/env bash
# The main job on the local lab (`npm run demo`): start a lab host, provision Mosquitto on it over
# SSH with the no-loss settings, then verify that it keeps QoS 1 messages for an offline subscriber.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="/usr/local/bin:$PATH"

# Keep a running lab host, so a second `npm run demo` shows the no-op converge.
if [ -f .lab/inventory.json ] && [ -n "$(docker ps -q --filter name=^mqtt-lab-1$ 2>/dev/null)" ]; then
  echo "lab: reusing the running host mqtt-lab-1 (npm run lab -- down removes it)"
else
  node scripts/lab.mts up --count 1
fi
if [ ! -s .lab/admin.pw ]; then
  umask 077
  node -e 'process.stdout.write(require("node:crypto").randomBytes(18).toString("base64url"))' > .lab/admin.pw
fi
node scripts/install-mosquitto.mts --inventory .lab/inventory.json --settings examples/lab-mosquitto.yaml \
  --admin-user admin --admin-password-file .lab/admin.pw --known-hosts .lab/known_hosts "$@"
echo
echo "Converged and verified. Run it again to see a no-op converge; tear the lab down with: npm run lab -- down"
