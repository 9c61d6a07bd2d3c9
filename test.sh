#!/usr/bin/env bash
# Runs every test of the solution: restores, builds and starts whatever the tests need themselves.
# Usage: ./test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
dotnet test GroupPay.sln --configuration Release "$@" 2>&1 | tee "$log" || status=$?

# One closing line for CI: the sums of every test assembly's summary.
awk '/^(Passed|Failed)!/ {
        for (i = 1; i <= NF; i++) {
          if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
        }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' FS='[ ,]+' "$log"
exit "$status"
