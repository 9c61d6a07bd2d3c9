#!/usr/bin/env bash
# GroupPay's flash-sale benchmark with one command: builds (Release) and runs bench/FlashSaleBench, which starts every
# process it needs on 127.0.0.1 (Redis, the WeChat Pay sandbox, the silos, the gateway), sells one campaign of groups of
# two through the gateway's H5 API with every buyer invited by one KOL, reports groups/s, each call's p50/p99, CPU per
# group, the largest grain states, Redis and silo memory, and stops everything it started. Counts and durations are
# bounded. Options (./bench/flash-sale.sh --help): --units, --max-seconds, --concurrency, --baseline, --out, …
# Results and logs: .data/bench/<time>-flash-sale/.
set -euo pipefail
cd "$(dirname "$0")/.."

# One Redis-protocol server (bench/redis-server.sh).
source bench/redis-server.sh

dotnet build bench/FlashSaleBench --configuration Release --nologo -v quiet -clp:NoSummary
# The built app itself (not `dotnet run`), so that Ctrl-C reaches it and it stops what it started.
exec dotnet bench/FlashSaleBench/bin/Release/net10.0/GroupPay.FlashSaleBench.dll run "$@"
