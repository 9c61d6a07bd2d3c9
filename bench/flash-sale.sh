#!/usr/bin/env bash
# GroupPay's flash-sale benchmark with one command: builds (Release) and runs bench/FlashSaleBench, which starts every
# process it needs on 127.0.0.1 (Redis, the WeChat Pay sandbox, the silos, the gateway), sells one campaign of groups of
# two through the gateway's H5 API with every buyer invited by one KOL, reports groups/s, each call's p50/p99, CPU per
# group, the largest grain states, Redis and silo memory, and stops everything it started. Counts and durations are
# bounded. Options (./bench/flash-sale.sh --help): --units, --max-seconds, --concurrency, --baseline, --out, …
# Results and logs: .data/bench/<time>-flash-sale/.
set -euo pipefail
cd "$(dirname "$0")/.."

# One Redis-protocol server: Debian's redis-server when present (installed here when root and apt works, as .ci/run
# does), else an embedded Garnet. BENCH_INSTALL_REDIS=0 skips the install.
if ! command -v redis-server >/dev/null 2>&1 && [[ "${BENCH_INSTALL_REDIS:-1}" == 1 && "$(id -u)" == 0 ]]; then
  echo "bench: installing redis-server (Debian's)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } \
    || echo "bench: could not install redis-server; the benchmark uses an embedded Garnet instead"
fi

dotnet build bench/FlashSaleBench --configuration Release --nologo -v quiet -clp:NoSummary
# The built app itself (not `dotnet run`), so that Ctrl-C reaches it and it stops what it started.
exec dotnet bench/FlashSaleBench/bin/Release/net10.0/GroupPay.FlashSaleBench.dll run "$@"
