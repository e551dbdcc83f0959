#!/usr/bin/env bash
# The main job on the local lab (`npm run demo`): start a lab host, provision Mosquitto on it over
# SSH with the no-loss settings, then verify that it keeps QoS 1 messages for an offline subscriber.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="/usr/local/bin:$PATH"

node scripts/lab.mts up --count 1
if [ ! -s .lab/admin.pw ]; then
  umask 077
  node -e 'process.stdout.write(require("node:crypto").randomBytes(18).toString("base64url"))' > .lab/admin.pw
fi
node scripts/install-mosquitto.mts --inventory .lab/inventory.json --settings examples/lab-mosquitto.yaml \
  --admin-user admin --admin-password-file .lab/admin.pw "$@"
echo
echo "Converged and verified. Run it again to see a no-op converge; tear the lab down with: npm run lab -- down"
