#!/usr/bin/env bash
# Runs GroupPay locally with one command: builds (Release), then starts and wires
#   silo 1   (Development; hosts the embedded Garnet store unless ConnectionStrings__Redis is set),
#   silo 2   (other ports, same store),
#   the WeChat Pay sandbox (the Development merchant) and
#   the gateway,
# waits until each is ready, seeds the demo campaign through the admin API and prints the URL to open.
# Ctrl-C or SIGTERM stops everything it started (gateway, silo 2, silo 1, sandbox) and leaves nothing running.
#
# Ports: GATEWAY_PORT (5000), SANDBOX_PORT (5080), SILO1_PORT/SILO1_GATEWAY_PORT (11111/30000),
#        SILO2_PORT/SILO2_GATEWAY_PORT (11112/30001), REDIS_PORT (6379, the embedded store's).
# Store: ConnectionStrings__Redis=host:port uses that Redis instead of the embedded one.
# Logs:  GROUPPAY_LOG_DIR (.data/logs). The embedded store keeps its data in .data/garnet (delete it to start afresh).
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)

gateway_port="${GATEWAY_PORT:-5000}"
sandbox_port="${SANDBOX_PORT:-5080}"
silo1_port="${SILO1_PORT:-11111}"
silo1_gateway_port="${SILO1_GATEWAY_PORT:-30000}"
silo2_port="${SILO2_PORT:-11112}"
silo2_gateway_port="${SILO2_GATEWAY_PORT:-30001}"
redis_port="${REDIS_PORT:-6379}"
log_dir="${GROUPPAY_LOG_DIR:-${root}/.data/logs}"
# The Development admin key (Gateway/appsettings.Development.json) unless one is given.
admin_key="${Gateway__AdminKey:-dev-admin-key-change-me-0000}"

gateway_url="http://127.0.0.1:${gateway_port}"
sandbox_url="http://127.0.0.1:${sandbox_port}"
out="bin/Release/net10.0"

for tool in dotnet curl setsid npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "run.sh: '$tool' is required (dotnet: the .NET 10 SDK; npm: Node.js 20 or later, for the H5 app; curl and setsid: apt-get install curl util-linux)" >&2
    exit 1
  fi
done

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$gateway_port" "$sandbox_port" "$silo1_port" "$silo1_gateway_port" "$silo2_port" "$silo2_gateway_port"; do
  if listening "$port"; then
    echo "run.sh: port ${port} on 127.0.0.1 is already in use (another ./run.sh?); choose others with the *_PORT variables" >&2
    exit 1
  fi
done

echo "Building (Release; the Gateway's build also runs npm ci and the H5 app's Vite build when needed)…"
for project in Silo Gateway WeChatPay.Sandbox; do
  dotnet build "$project" --configuration Release --nologo -v quiet -clp:NoSummary
done

mkdir -p "$log_dir"
rm -f "$log_dir"/{silo1,silo2,sandbox,gateway}.log

# Every process: its own session (setsid), so a Ctrl-C in this terminal reaches only this script, which then stops
# them in order; plain single-line logs.
export Logging__Console__FormatterName=simple
export Logging__Console__FormatterOptions__SingleLine=true
export Logging__Console__FormatterOptions__ColorBehavior=Disabled
# What the silos and the gateway need to reach the sandbox and each other (Development's values, ports applied).
export WeChatPay__BaseUrl="$sandbox_url"
export WeChatPay__NotifyUrl="${gateway_url}/wechatpay/notify"
export WeChatPay__RefundNotifyUrl="${gateway_url}/wechatpay/refund-notify"
export WeChat__OAuthBaseUrl="$sandbox_url"
export WeChat__ApiBaseUrl="$sandbox_url"
export Gateway__AdminKey="$admin_key"
if [[ -n "${ConnectionStrings__Redis:-}" ]]; then
  silo_store=()
else
  # Silo 1 hosts Garnet at this endpoint (silo 2 finds it answering and uses it); the gateway connects to it too.
  export ConnectionStrings__Redis="127.0.0.1:${redis_port}"
  silo_store=(Redis__Embedded=true "Redis__DataDir=${root}/.data/garnet")
fi

names=()
pids=()
logs=()
start() { # name log command…
  local name=$1 log=$2
  shift 2
  setsid "$@" >"$log" 2>&1 </dev/null &
  names+=("$name")
  pids+=("$!")
  logs+=("$log")
}

stop_one() { # index
  local pid=${pids[$1]} name=${names[$1]}
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 400); do # up to 40 s: a silo deactivates its grains and leaves the cluster
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; echo "  stopped ${name}"; return 0; }
    sleep 0.1
  done
  echo "  ${name} did not stop within 40 s: killed"
  kill -KILL -- "-${pid}" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if ((${#pids[@]} > 0)); then
    echo
    echo "Stopping…"
    # The gateway first, then silo 2, then silo 1 (it hosts the embedded store), the sandbox last.
    for name in gateway "silo 2" "silo 1" sandbox; do
      for i in "${!names[@]}"; do
        [[ "${names[$i]}" == "$name" ]] && stop_one "$i"
      done
    done
    echo "Everything stopped. Logs: ${log_dir}"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { # index message
  echo "run.sh: ${names[$1]} $2; the end of ${logs[$1]}:" >&2
  tail -n 30 "${logs[$1]}" >&2 || true
  exit 1
}

wait_for_log() { # index text seconds
  for _ in $(seq $(($3 * 5))); do
    grep -q "$2" "${logs[$1]}" 2>/dev/null && return 0
    kill -0 "${pids[$1]}" 2>/dev/null || fail "$1" "exited"
    sleep 0.2
  done
  fail "$1" "did not log '$2' within $3 s"
}

wait_for_http() { # index url seconds
  for _ in $(seq $(($3 * 5))); do
    curl -fsS -o /dev/null --max-time 5 "$2" 2>/dev/null && return 0
    kill -0 "${pids[$1]}" 2>/dev/null || fail "$1" "exited"
    sleep 0.2
  done
  fail "$1" "did not answer ${2} within $3 s"
}

echo "Starting (logs in ${log_dir})…"
start sandbox "${log_dir}/sandbox.log" env ASPNETCORE_ENVIRONMENT=Development \
  dotnet "WeChatPay.Sandbox/${out}/GroupPay.WeChatPay.Sandbox.dll" --contentRoot "${root}/WeChatPay.Sandbox" --urls "$sandbox_url"
sandbox=$((${#pids[@]} - 1))
start "silo 1" "${log_dir}/silo1.log" env DOTNET_ENVIRONMENT=Development "${silo_store[@]}" \
  Orleans__SiloPort="$silo1_port" Orleans__GatewayPort="$silo1_gateway_port" \
  dotnet "Silo/${out}/GroupPay.Silo.dll" --contentRoot "${root}/Silo"
silo1=$((${#pids[@]} - 1))
wait_for_log "$silo1" "GroupPay silo started" 120
# Silo 2 after silo 1, so that it finds silo 1's store answering rather than racing it for the port.
start "silo 2" "${log_dir}/silo2.log" env DOTNET_ENVIRONMENT=Development "${silo_store[@]}" \
  Orleans__SiloPort="$silo2_port" Orleans__GatewayPort="$silo2_gateway_port" \
  dotnet "Silo/${out}/GroupPay.Silo.dll" --contentRoot "${root}/Silo"
silo2=$((${#pids[@]} - 1))
start gateway "${log_dir}/gateway.log" env ASPNETCORE_ENVIRONMENT=Development \
  dotnet "Gateway/${out}/GroupPay.Gateway.dll" --contentRoot "${root}/Gateway" --urls "$gateway_url"
gateway=$((${#pids[@]} - 1))
wait_for_http "$sandbox" "${sandbox_url}/sandbox/health" 90
wait_for_log "$silo2" "GroupPay silo started" 120
wait_for_http "$gateway" "${gateway_url}/health/ready" 120
echo "  store: $(grep -o 'Store: .*' "${logs[$silo1]}" | head -n 1 | sed 's/^Store: //')"

# The demo campaign, through the admin API (docs/api.md §8.1: PUT /admin/campaigns/{id}); idempotent, so a restart keeps it.
# Its picture ships with the H5 app (h5/public/images, served by the gateway at /images/).
campaign='{"title":"阳山水蜜桃 6 只装","description":"无锡阳山产地直发，现摘现发。\n3 人成团享拼团价，24 小时内未成团自动原路退款。","imageUrl":"/images/demo-peach.svg","soloPriceFen":2990,"groupPriceFen":1990,"groupSize":3,"windowMinutes":1440,"holdMinutes":15,"stock":1000,"perUserLimit":5,"inviterRewardFen":100,"rewardFreezeMinutes":1,"virtualFill":false}'
seed=$(curl -sS -o "${log_dir}/seed.json" -w '%{http_code}' --max-time 30 -X PUT "${gateway_url}/admin/campaigns/demo" \
  -H "X-Admin-Key: ${admin_key}" -H 'Content-Type: application/json' --data "$campaign" || true)
case "$seed" in
  200) echo "  demo campaign 'demo' defined (PUT /admin/campaigns/demo)" ;;
  404) echo "  demo campaign NOT seeded: this gateway has no /admin/campaigns yet (404)" ;;
  *) echo "  demo campaign NOT seeded: PUT /admin/campaigns/demo answered ${seed:-nothing}; see ${log_dir}/seed.json" ;;
esac

cat <<EOF

GroupPay is running.
  Open:              ${gateway_url}/
  WeChat Pay sandbox: ${sandbox_url}  (cashier, OAuth test users, /sandbox/faults)
  Silos:             127.0.0.1:${silo1_port} and :${silo2_port} (clients on :${silo1_gateway_port}, :${silo2_gateway_port})
  Logs:              ${log_dir}/{silo1,silo2,sandbox,gateway}.log
Press Ctrl-C to stop everything.
EOF

# Until Ctrl-C, or until one of them exits by itself (then the others are stopped too).
set +e
wait -n "${pids[@]}"
for i in "${!pids[@]}"; do
  kill -0 "${pids[$i]}" 2>/dev/null || { echo "run.sh: ${names[$i]} exited; the end of ${logs[$i]}:" >&2; tail -n 20 "${logs[$i]}" >&2; }
done
exit 1
