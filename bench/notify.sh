#!/usr/bin/env bash
# GroupPay's notify-path benchmark with one command: builds (Release) and runs bench/NotifyBench, which starts every
# process it needs on 127.0.0.1 (Redis, the comparison servers, the sandbox, the silos, the gateway), measures the three
# paths, prints notifies/s and p50/p99 for each, and stops everything it started. Counts and durations are bounded.
# Options (./bench/notify.sh --help): --concurrency, --warmup, --requests, --max-seconds, --paths, --silos, --store,
# --profile, --out. Results and logs: .data/bench/<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."

# Paths 2 and 3 share one Redis-protocol server (bench/redis-server.sh).
source bench/redis-server.sh

dotnet build bench/NotifyBench --configuration Release --nologo -v quiet -clp:NoSummary
# The built app itself (not `dotnet run`), so that Ctrl-C reaches it and it stops what it started.
exec dotnet bench/NotifyBench/bin/Release/net10.0/GroupPay.NotifyBench.dll run "$@"
