#!/usr/bin/env bash
# The test command (`npm test`): brings Node 24 and the packages, starts Docker for the lab,
# typechecks, then runs unit and end-to-end tests in one node:test run (one summary).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="/usr/local/bin:$PATH"
node scripts/lab.mts engine
npx tsc --noEmit
echo "typecheck: ok"
# One host at a time: the machine has two cores and every e2e file starts real containers.
exec node --test --test-concurrency=1 'test/unit/**/*.test.ts' 'test/e2e/**/*.test.ts'
