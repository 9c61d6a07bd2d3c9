#!/usr/bin/env bash
# GroupPay's notify-path benchmark with one command: builds (Release) and runs bench/NotifyBench, which starts every
# process it needs on 127.0.0.1 (Redis, the comparison servers, the sandbox, the silos, the gateway), measures the three
# paths, prints notifies/s and p50/p99 for each, and stops everything it started. Counts and durations are bounded.
# Options (./bench/notify.sh --help): --concurrency, --warmup, --requests, --max-seconds, --paths, --silos, --store,
# --profile, --out. Results and logs: .data/bench/<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."

# Paths 2 and 3 share one Redis-protocol server: Debian's redis-server when present (installed here when root and
# apt works, as .ci/run does), else an embedded Garnet. BENCH_INSTALL_REDIS=0 skips the install.
if ! command -v redis-server >/dev/null 2>&1 && [[ "${BENCH_INSTALL_REDIS:-1}" == 1 && "$(id -u)" == 0 ]]; then
  echo "bench: installing redis-server (Debian's)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } \
    || echo "bench: could not install redis-server; the benchmark uses an embedded Garnet instead"
fi

dotnet build bench/NotifyBench --configuration Release --nologo -v quiet -clp:NoSummary
# The built app itself (not `dotnet run`), so that Ctrl-C reaches it and it stops what it started.
exec dotnet bench/NotifyBench/bin/Release/net10.0/GroupPay.NotifyBench.dll run "$@"
