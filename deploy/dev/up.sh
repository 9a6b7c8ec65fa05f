#!/usr/bin/env bash
# The dev stack of the contract, on loopback: four Temporal dev servers (one
# per region, each with its own state file), one worker per region, and the
# gateway. Run through `make dev`; Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-$PWD/bin}
STATE=${STATE:-$PWD/.dev}
LOGS=$STATE/logs
mkdir -p "$LOGS"

# Payload encryption: a throwaway key made on first start and kept with the
# Temporal state, so a restarted stack still reads its workflows (make clean
# deletes both). No key lives in the repo or the binary.
CODEC_KEYS=$STATE/codec-keys
if [ ! -s "$CODEC_KEYS" ]; then
  (umask 077 && printf 'dev-1:%s\n' "$(head -c 32 /dev/urandom | base64)" >"$CODEC_KEYS")
fi
export REGIONGATE_CODEC_KEYFILE=$CODEC_KEYS

REGIONS=(us-east us-west eu-west eu-central)
declare -A PORT=([us-east]=7233 [us-west]=7234 [eu-west]=7235 [eu-central]=7236)
declare -A WORKER_METRICS=([us-east]=9101 [us-west]=9102 [eu-west]=9103 [eu-central]=9104)

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping the dev stack..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped."
}
trap stop_all EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for NAME PID CMD...: poll CMD until it succeeds, failing fast if the
# process died (its log says why).
wait_for() {
  local name=$1 pid=$2; shift 2
  for _ in $(seq 1 240); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited; see its log in $LOGS" >&2; exit 1
    fi
    sleep 0.25
  done
  echo "$name did not become ready within 60s; see $LOGS" >&2; exit 1
}

CONSUL=${CONSUL:-}
PORTS="7233 7234 7235 7236 8080 8081"
if [ -n "$CONSUL" ]; then PORTS="$PORTS 8500 8090 8091"; fi
for p in $PORTS; do
  port_free "$p" || { echo "port 127.0.0.1:$p is in use: is another dev stack running?" >&2; exit 1; }
done

for r in "${REGIONS[@]}"; do
  # The region's namespace and every isolated tenant's, from the config.
  ns_args=()
  for ns in $("$BIN/regiongate" config namespaces "$r"); do ns_args+=(--namespace "$ns"); done
  "$BIN/temporal" server start-dev --ip 127.0.0.1 --port "${PORT[$r]}" --headless \
    "${ns_args[@]}" --db-filename "$STATE/temporal-$r.db" --log-level warn \
    >"$LOGS/temporal-$r.log" 2>&1 &
  pids+=($!)
done
i=0
for r in "${REGIONS[@]}"; do
  pid=${pids[$i]}; i=$((i+1))
  wait_for "temporal $r" "$pid" "$BIN/temporal" operator namespace describe \
    --address "127.0.0.1:${PORT[$r]}" --namespace "dev-$r"
  echo "temporal $r ready on 127.0.0.1:${PORT[$r]} (namespace dev-$r)"
done

for r in "${REGIONS[@]}"; do
  "$BIN/regiongate" worker --region "$r" --log-format text --metrics-addr "127.0.0.1:${WORKER_METRICS[$r]}" \
    >"$LOGS/worker-$r.log" 2>&1 &
  pids+=($!)
done

if [ -n "$CONSUL" ]; then
  # Consul mode: a real Consul dev agent holds the config (seeded from
  # configs/dev.yaml when the key is empty), routing records, drains, drills
  # and the audit log, shared by two gateway replicas.
  "$BIN/consul" agent -dev -client 127.0.0.1 -bind 127.0.0.1 -http-port 8500 \
    -grpc-port -1 -grpc-tls-port -1 -dns-port -1 -log-level warn >"$LOGS/consul.log" 2>&1 &
  cpid=$!; pids+=($cpid)
  # The leader endpoint answers "" until there is one; the gateway needs one.
  wait_for consul "$cpid" sh -c 'curl -fsS http://127.0.0.1:8500/v1/status/leader | grep -q :'
  "$BIN/regiongate" serve --dev-tokens --consul 127.0.0.1:8500 --config configs/dev.yaml \
    --state-dir "$STATE/gateway-1" --log-format text >"$LOGS/gateway-1.log" 2>&1 &
  gw=$!; pids+=($gw)
  wait_for gateway-1 "$gw" curl -fsS http://127.0.0.1:8080/readyz
  "$BIN/regiongate" serve --dev-tokens --consul 127.0.0.1:8500 \
    --client-addr 127.0.0.1:8090 --admin-addr 127.0.0.1:8091 \
    --state-dir "$STATE/gateway-2" --log-format text >"$LOGS/gateway-2.log" 2>&1 &
  gw2=$!; pids+=($gw2)
  wait_for gateway-2 "$gw2" curl -fsS http://127.0.0.1:8090/readyz
else
  # The gateway watches (and PUT writes) a copy of configs/dev.yaml made
  # afresh at every start, so an edit to the repo's file always takes effect
  # and the workers, which embed it, agree with the gateway.
  mkdir -p "$STATE/gateway" && cp configs/dev.yaml "$STATE/gateway/config.yaml"
  "$BIN/regiongate" serve --dev-tokens --state-dir "$STATE/gateway" --config "$STATE/gateway/config.yaml" --log-format text \
    >"$LOGS/gateway.log" 2>&1 &
  gw=$!; pids+=($gw)
  wait_for gateway "$gw" curl -fsS http://127.0.0.1:8080/readyz
fi

cat <<INFO

regiongate dev stack is up (logs in $LOGS)
  client API   http://127.0.0.1:8080   (POST /v1/workflows ...)
  admin API    http://127.0.0.1:8081   (tokens: dev-viewer dev-compliance dev-operator dev-admin)
  us-east      127.0.0.1:7233  namespace dev-us-east     residency US, CA
  us-west      127.0.0.1:7234  namespace dev-us-west     residency US, CA
  eu-west      127.0.0.1:7235  namespace dev-eu-west     residency EU, GB, CH
  eu-central   127.0.0.1:7236  namespace dev-eu-central  residency EU, GB, CH
  worker metrics  http://127.0.0.1:9101/metrics .. 9104 (us-east, us-west, eu-west, eu-central)
INFO
if [ -n "$CONSUL" ]; then
  cat <<INFO
  consul       http://127.0.0.1:8500   (config key regiongate/config)
  replica 2    client http://127.0.0.1:8090, admin http://127.0.0.1:8091
INFO
fi
echo "Press Ctrl-C to stop everything."

# Stay up until Ctrl-C or until any process dies.
wait -n "${pids[@]}" || true
echo "a dev stack process exited; see $LOGS" >&2
exit 1
