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
# The Pulumi CLI for test/e2e/pulumi-cli.test.ts: `pulumi` from PATH, or built once from the Go module
# proxy into a cache outside the checkout (minutes the first time, nothing afterwards).
pulumi_path="$(bash scripts/pulumi-cli.sh)"
echo "pulumi CLI: ${pulumi_path%%:*}/pulumi"
# One host at a time: the machine has two cores and every e2e file starts real containers.
exec node --test --test-concurrency=1 'test/unit/**/*.test.ts' 'test/e2e/**/*.test.ts'
