# Sourced by the benchmarks' scripts: their Redis-protocol server is Debian's redis-server when present (installed here
# when root and apt works, as .ci/run does), else an embedded Garnet. BENCH_INSTALL_REDIS=0 skips the install.
if ! command -v redis-server >/dev/null 2>&1 && [[ "${BENCH_INSTALL_REDIS:-1}" == 1 && "$(id -u)" == 0 ]]; then
  echo "bench: installing redis-server (Debian's)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; } \
    || echo "bench: could not install redis-server; the benchmark uses an embedded Garnet instead"
fi
