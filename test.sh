#!/usr/bin/env bash
# Runs every test of the solution: restores, builds and starts whatever the tests need themselves.
# Usage: ./test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")"

# The browser test drives Debian's Chromium (Playwright cannot download a browser here): install it when missing.
if ! command -v chromium >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing Debian's chromium for the browser test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test.sh: chromium is missing and cannot be installed here (needs root and apt-get); the browser test will fail" >&2
  fi
fi

# A Chinese font, so that the browser tests' screenshots of the H5 app are legible (the tests pass without it).
if ! fc-list :lang=zh 2>/dev/null | grep -q . && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "test.sh: installing Debian's fonts-wqy-microhei for the browser tests' screenshots"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null || true
fi

# The archive's tests run Debian's PostgreSQL server (tests/Testing/PostgresServer.cs): install it when missing.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && [[ -z "${GROUPPAY_TEST_POSTGRES:-}" ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing Debian's postgresql for the archive's tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "test.sh: PostgreSQL is missing and cannot be installed here (needs root and apt-get); the archive's tests will fail" >&2
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
dotnet test GroupPay.sln --configuration Release "$@" 2>&1 | tee "$log" || status=$?

# The H5 app's unit tests (Vitest; h5/tests). The Gateway's build above ran npm ci; run it here if that build did not.
if [[ ! -d h5/node_modules ]]; then
  (cd h5 && npm ci --no-audit --no-fund --loglevel=error)
fi
h5_status=0
(cd h5 && NO_COLOR=1 npx vitest run) 2>&1 | tee -a "$log" || h5_status=$?
if ((h5_status != 0)) && ((status == 0)); then
  status=$h5_status
fi

# The deployment manifests: parsed, cross-checked and schema-checked (deploy/README.md), without a cluster.
deploy_status=0
if python3 -c 'import yaml' 2>/dev/null; then
  npm ci --prefix deploy/schema --no-audit --no-fund --loglevel=error >/dev/null 2>&1 || echo "test.sh: could not install deploy/schema; the schema check is skipped" >&2
  python3 deploy/validate.py 2>&1 | tee -a "$log" || deploy_status=$?
else
  echo "test.sh: PyYAML is missing (apt-get install python3-yaml); deploy/validate.py is skipped" >&2
fi
if ((deploy_status != 0)) && ((status == 0)); then
  status=$deploy_status
fi

# One closing line for CI: the sums of every test assembly's summary.
awk '/^(Passed|Failed)!/ {
        for (i = 1; i <= NF; i++) {
          if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
        }
     }
     END { printf "tests: %d passed, %d failed, %d skipped (.NET)\n", p, f, s }' FS='[ ,]+' "$log"
# Vitest's own summary line, without its colours.
grep -E '^ *Tests +' "$log" | sed 's/\x1b\[[0-9;]*m//g; s/^ */h5 /' | tail -n 1 || true
exit "$status"
