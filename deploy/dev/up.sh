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

REGIONS=(us-east us-west eu-west eu-central)
declare -A PORT=([us-east]=7233 [us-west]=7234 [eu-west]=7235 [eu-central]=7236)

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

for p in 7233 7234 7235 7236 8080 8081; do
  port_free "$p" || { echo "port 127.0.0.1:$p is in use: is another dev stack running?" >&2; exit 1; }
done

for r in "${REGIONS[@]}"; do
  "$BIN/temporal" server start-dev --ip 127.0.0.1 --port "${PORT[$r]}" --headless \
    --namespace "dev-$r" --db-filename "$STATE/temporal-$r.db" --log-level warn \
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
  "$BIN/regiongate" worker --region "$r" --log-format text >"$LOGS/worker-$r.log" 2>&1 &
  pids+=($!)
done

"$BIN/regiongate" serve --dev-tokens --state-dir "$STATE/gateway" --log-format text \
  >"$LOGS/gateway.log" 2>&1 &
gw=$!; pids+=($gw)
wait_for gateway "$gw" curl -fsS http://127.0.0.1:8080/readyz

cat <<INFO

regiongate dev stack is up (logs in $LOGS)
  client API   http://127.0.0.1:8080   (POST /v1/workflows ...)
  admin API    http://127.0.0.1:8081   (tokens: dev-viewer dev-compliance dev-operator dev-admin)
  us-east      127.0.0.1:7233  namespace dev-us-east     residency US, CA
  us-west      127.0.0.1:7234  namespace dev-us-west     residency US, CA
  eu-west      127.0.0.1:7235  namespace dev-eu-west     residency EU, GB, CH
  eu-central   127.0.0.1:7236  namespace dev-eu-central  residency EU, GB, CH
Press Ctrl-C to stop everything.
INFO

# Stay up until Ctrl-C or until any process dies.
wait -n "${pids[@]}" || true
echo "a dev stack process exited; see $LOGS" >&2
exit 1
