#!/usr/bin/env bash
# The dev stack of the contract, on loopback: four Temporal dev servers (one
# per region, each with its own state file), one worker per region and the
# gateway; with CONSUL=1 a Consul server keeping its data in $STATE/consul
# and two gateway replicas; with REPLICATION=1 the regions as two replicated
# pairs (replication.sh). Run through `make dev`.
#
# Once it is up this script watches it: when a process dies the rest keeps
# running and it says which; `make dev-restart NAME=...` (restart.sh) brings
# it back and it is watched again. Ctrl-C (or SIGTERM) stops everything,
# restarted processes included. The process table is in lib.sh.
#
# Ports and state default to the contract's; a second stack (the tests')
# overrides them, space-separated in this order:
#   STATE                     state and logs (.dev)
#   DEV_TEMPORAL_PORTS        us-east us-west eu-west eu-central (7233 7234 7235 7236)
#   DEV_TEMPORAL_HTTP_PORTS   their HTTP ports, with REPLICATION=1 (7243 7244 7245 7246)
#   DEV_WORKER_METRICS_PORTS  each region's worker /metrics, same order (9101 9102 9103 9104)
#   DEV_GATEWAY_PORTS         client and admin API (8080 8081)
#   DEV_GATEWAY2_PORTS        replica 2's, with CONSUL=1 (8090 8091)
#   DEV_CONSUL_PORTS          HTTP, server RPC, Serf LAN, Serf WAN, with CONSUL=1 (8500 8300 8301 8302)
#   DEV_GATEWAY_REGION_PORTS  the port the gateways dial for each region, same order as
#                             DEV_TEMPORAL_PORTS (default: those), e.g. a fault-injecting
#                             proxy's in front of each (regiongate-chaos); the workers
#                             always dial the Temporal ports
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

LOGS=$STATE/logs
CONSUL=${CONSUL:-}
REPLICATION=${REPLICATION:-}
REGIONS=(us-east us-west eu-west eu-central)
if [ -n "$REPLICATION" ]; then
  # shellcheck source-path=SCRIPTDIR source=replication.sh
  . "$(dirname "$0")/replication.sh"
fi

# ports VAR "DEFAULT" COUNT: the array VAR from $DEV_VAR, else DEFAULT.
ports() {
  local -n out=$1
  local env=DEV_$1
  read -r -a out <<<"${!env:-$2}"
  ((${#out[@]} == $3)) || die "$env needs $3 ports, got '${!env:-}'"
}
ports TEMPORAL_PORTS "7233 7234 7235 7236" 4
ports WORKER_METRICS_PORTS "9101 9102 9103 9104" 4
ports GATEWAY_PORTS "8080 8081" 2
ports GATEWAY2_PORTS "8090 8091" 2
ports CONSUL_PORTS "8500 8300 8301 8302" 4
ports GATEWAY_REGION_PORTS "${TEMPORAL_PORTS[*]}" 4
ports TEMPORAL_HTTP_PORTS "7243 7244 7245 7246" 4

NAMES=("${REGIONS[@]}" "${REGIONS[@]/#/worker-}")
PORTS=("${TEMPORAL_PORTS[@]}" "${WORKER_METRICS_PORTS[@]}" "${GATEWAY_PORTS[@]}")
if [ -n "$CONSUL" ]; then
  NAMES+=(consul gateway-1 gateway-2)
  PORTS+=("${CONSUL_PORTS[@]}" "${GATEWAY2_PORTS[@]}")
else
  NAMES+=(gateway)
fi
if [ -n "$REPLICATION" ]; then PORTS+=("${TEMPORAL_HTTP_PORTS[@]}"); fi

# Refuse to start over a running stack, or over processes a killed up.sh
# left behind.
mkdir -p "$RUN" "$LOGS"
if supervisor_running; then
  die "a dev stack is already running from $STATE (up.sh, pid $supervisor)"
fi
left=()
for n in $(entries); do
  if alive "$n"; then left+=("$pid"); fi
done
if ((${#left[@]})); then
  die "processes of an earlier dev stack are still running; stop them (kill ${left[*]}) and try again"
fi
rm -f "$RUN"/*
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "${PORTS[@]}"; do
  port_free "$p" || die "port 127.0.0.1:$p is in use: is another dev stack running?"
done

# Payload encryption: a throwaway key made on first start and kept with the
# Temporal state, so a restarted stack still reads its workflows (make clean
# deletes both). No key lives in the repo or the binary.
CODEC_KEYS=$STATE/codec-keys
if [ ! -s "$CODEC_KEYS" ]; then
  (umask 077 && printf 'dev-1:%s\n' "$(head -c 32 /dev/urandom | base64)" >"$CODEC_KEYS")
fi
# The routing records' key (records are keyed by an HMAC of the workflow id,
# docs/regions.md): made once and kept, as both replicas of CONSUL=1 and a
# restarted gateway must key records alike.
RECORDS_KEYS=$STATE/records-keys
if [ ! -s "$RECORDS_KEYS" ]; then
  (umask 077 && printf 'dev-1:%s\n' "$(head -c 32 /dev/urandom | base64)" >"$RECORDS_KEYS")
fi

# The stack's config: configs/dev.yaml with this stack's Temporal ports,
# made afresh at every start so an edit to the repo's file takes effect. The
# workers read it, and it seeds the gateway's config (below), with the
# gateway's region ports when they differ.
# stack_config PORT...: configs/dev.yaml with each region's endpoint on its
# port (regions in REGIONS order).
stack_config() {
  local spec='' i ports=("$@")
  for i in "${!REGIONS[@]}"; do spec+="${REGIONS[$i]}=${ports[$i]} "; done
  awk -v ports="$spec" '
    BEGIN { n = split(ports, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); port[p[1]] = p[2] } }
    $1 == "-" && $2 == "name:" { region = $3 }
    $1 == "endpoint:" && (region in port) { sub(/:[0-9]+$/, ":" port[region]); seen[region] = 1 }
    { print }
    END { for (r in port) if (!(r in seen)) { print "configs/dev.yaml: no endpoint for " r > "/dev/stderr"; exit 1 } }
  ' configs/dev.yaml
}
CONFIG=$STATE/stack.yaml
stack_config "${TEMPORAL_PORTS[@]}" >"$CONFIG"
if [ -n "$REPLICATION" ]; then add_replicas "$CONFIG"; fi
GATEWAY_CONFIG=$CONFIG
if [ "${GATEWAY_REGION_PORTS[*]}" != "${TEMPORAL_PORTS[*]}" ]; then
  GATEWAY_CONFIG=$STATE/gateway-stack.yaml
  stack_config "${GATEWAY_REGION_PORTS[@]}" >"$GATEWAY_CONFIG"
  if [ -n "$REPLICATION" ]; then add_replicas "$GATEWAY_CONFIG"; fi
fi

read -r supervisor_comm 2>/dev/null </proc/$$/comm || supervisor_comm=''
printf 'supervisor=%q\nsupervisor_comm=%q\nstack_names=(%s)\n' "$$" "$supervisor_comm" "${NAMES[*]}" >"$RUN/supervisor"

# stop_all: TERM every process in the table (KILL after 20s) until none is
# left, including one a dev-restart records meanwhile: restart.sh stops what
# it started itself once the supervisor file is gone.
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping the dev stack..."
  rm -f "$RUN/supervisor"
  local deadline=$((SECONDS + 20)) sig=TERM n left
  declare -A sent=()
  while :; do
    left=()
    for n in "${NAMES[@]}"; do
      if alive "$n"; then left+=("$pid"); fi
    done
    ((${#left[@]})) || break
    if ((SECONDS >= deadline + 5)); then
      echo "could not stop pids ${left[*]}" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then sig=KILL; fi
    for p in "${left[@]}"; do
      if [ "${sent[$p]:-}" != "$sig" ]; then
        kill -s "$sig" "$p" 2>/dev/null || true
        sent[$p]=$sig
      fi
    done
    sleep 0.2
  done
  rm -f "$RUN"/*
  echo "stopped."
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME LOG READY CMD...: record NAME and start it.
start() {
  record "$@"
  launch "$1"
}
ready() { wait_ready "$1" || exit 1; }

if [ -n "$CONSUL" ]; then
  # Consul mode: a single-node Consul server holds the config (seeded from
  # the stack's config when the key is empty), routing records, drains,
  # drills and the audit log, shared by two gateway replicas. Its data dir
  # survives a kill and a restart (make clean deletes it).
  CONSUL_HTTP=127.0.0.1:${CONSUL_PORTS[0]}
  start consul "$LOGS/consul.log" "curl -fsS http://$CONSUL_HTTP/v1/status/leader | grep -q :" \
    "$BIN/consul" agent -server -bootstrap-expect 1 -node regiongate-dev -data-dir "$STATE/consul" -ui \
    -client 127.0.0.1 -bind 127.0.0.1 -http-port "${CONSUL_PORTS[0]}" -server-port "${CONSUL_PORTS[1]}" \
    -serf-lan-port "${CONSUL_PORTS[2]}" -serf-wan-port "${CONSUL_PORTS[3]}" \
    -grpc-port -1 -grpc-tls-port -1 -dns-port -1 -log-level warn \
    -hcl 'performance { raft_multiplier = 1 }' -hcl 'disable_update_check = true'
fi

for i in "${!REGIONS[@]}"; do
  r=${REGIONS[$i]}
  if [ -n "$REPLICATION" ]; then
    start_cluster "$i"
    continue
  fi
  # The region's namespace and every isolated tenant's, from the config.
  ns_args=()
  for ns in $("$BIN/regiongate" config namespaces "$r" --config "$CONFIG"); do ns_args+=(--namespace "$ns"); done
  start "$r" "$LOGS/temporal-$r.log" \
    "$(q "$BIN/temporal" operator namespace describe --address "127.0.0.1:${TEMPORAL_PORTS[$i]}" --namespace "${ns_args[1]}")" \
    "$BIN/temporal" server start-dev --ip 127.0.0.1 --port "${TEMPORAL_PORTS[$i]}" --headless \
    "${ns_args[@]}" --db-filename "$STATE/temporal-$r.db" --log-level warn
done
for i in "${!REGIONS[@]}"; do
  ready "${REGIONS[$i]}"
  echo "temporal ${REGIONS[$i]} ready on 127.0.0.1:${TEMPORAL_PORTS[$i]}"
done
if [ -n "$REPLICATION" ]; then replicate; fi

for i in "${!REGIONS[@]}"; do
  r=${REGIONS[$i]}
  # Ready once the SDK has started its pollers (it counts them in /metrics).
  start "worker-$r" "$LOGS/worker-$r.log" \
    "curl -fsS http://127.0.0.1:${WORKER_METRICS_PORTS[$i]}/metrics | grep -q '^temporal_worker_start'" \
    "$BIN/regiongate" worker --region "$r" --config "$CONFIG" --codec-keys-file "$CODEC_KEYS" \
    --log-format text --metrics-addr "127.0.0.1:${WORKER_METRICS_PORTS[$i]}"
done
for r in "${REGIONS[@]}"; do ready "worker-$r"; done

# gateway NAME CLIENT_PORT ADMIN_PORT ARGS...: one gateway replica.
gateway() {
  local name=$1 client=127.0.0.1:$2 admin=127.0.0.1:$3
  shift 3
  start "$name" "$LOGS/$name.log" "curl -fsS http://$client/readyz" \
    "$BIN/regiongate" serve --dev-tokens --dev-client-keys --client-addr "$client" --admin-addr "$admin" \
    --codec-keys-file "$CODEC_KEYS" --records-key-file "$RECORDS_KEYS" --log-format text "$@"
  ready "$name"
}
if [ -n "$CONSUL" ]; then
  ready consul
  # Replica 1 seeds an empty config key; replica 2 reads what it finds.
  gateway gateway-1 "${GATEWAY_PORTS[@]}" --consul "$CONSUL_HTTP" --config "$GATEWAY_CONFIG" --state-dir "$STATE/gateway-1"
  gateway gateway-2 "${GATEWAY2_PORTS[@]}" --consul "$CONSUL_HTTP" --state-dir "$STATE/gateway-2"
else
  # The gateway watches (and PUT writes) a copy of the stack's config made
  # afresh at every start; a dev-restart keeps it, edits included.
  mkdir -p "$STATE/gateway" && cp "$GATEWAY_CONFIG" "$STATE/gateway/config.yaml"
  gateway gateway "${GATEWAY_PORTS[@]}" --config "$STATE/gateway/config.yaml" --state-dir "$STATE/gateway"
fi

cat <<INFO

regiongate dev stack is up (logs in ${LOGS#"$DEV_ROOT"/})
  client API   http://127.0.0.1:${GATEWAY_PORTS[0]}   (POST /v1/workflows ...; anonymous callers are served too)
  client keys  Authorization: Bearer dev-client-acme (tenant acme), dev-client-globex (globex), dev-client-northwind (northwind, isolated)
  admin API    http://127.0.0.1:${GATEWAY_PORTS[1]}   (tokens: dev-viewer dev-compliance dev-operator dev-admin)
  console      http://127.0.0.1:${GATEWAY_PORTS[1]}/console   (sign in with one of those tokens)
  us-east      127.0.0.1:${TEMPORAL_PORTS[0]}  namespace dev-us-east     residency US, CA
  us-west      127.0.0.1:${TEMPORAL_PORTS[1]}  namespace dev-us-west     residency US, CA
  eu-west      127.0.0.1:${TEMPORAL_PORTS[2]}  namespace dev-eu-west     residency EU, GB, CH
  eu-central   127.0.0.1:${TEMPORAL_PORTS[3]}  namespace dev-eu-central  residency EU, GB, CH
  worker metrics  http://127.0.0.1:${WORKER_METRICS_PORTS[0]}/metrics .. ${WORKER_METRICS_PORTS[3]} (us-east, us-west, eu-west, eu-central)
INFO
if [ -n "$REPLICATION" ]; then
  cat <<INFO
  replication  eu-west <-> eu-central, us-east <-> us-west (global namespaces; regiongate regions failover NAME --mode planned|forced)
INFO
fi
if [ -n "$CONSUL" ]; then
  cat <<INFO
  consul       http://$CONSUL_HTTP   (config key regiongate/config; data in ${STATE#"$DEV_ROOT"/}/consul)
  replica 2    client http://127.0.0.1:${GATEWAY2_PORTS[0]}, admin http://127.0.0.1:${GATEWAY2_PORTS[1]}
INFO
fi
if [ "$GATEWAY_CONFIG" != "$CONFIG" ]; then
  echo "  the gateways dial the regions at 127.0.0.1:${GATEWAY_REGION_PORTS[*]} (DEV_GATEWAY_REGION_PORTS; same order), the workers directly"
fi
echo "If one of them dies the rest keeps running; $(restart_hint '<name>') brings it back."
echo "Names: ${NAMES[*]}. Press Ctrl-C to stop everything."

# Watch: every second, say which process died and which came back (a
# dev-restart marks it ready). up[NAME] is the pid last seen running, empty
# once its death has been reported.
declare -A up=()
for n in "${NAMES[@]}"; do
  load "$n"
  up[$n]=$pid
done
while :; do
  for n in "${NAMES[@]}"; do
    was=${up[$n]}
    if [ -n "$was" ] && ! { alive "$n" && [ "$pid" = "$was" ]; }; then
      how=$(exit_status "$n" "$was") && how=" (exit $how)"
      echo "$n died$how; the rest keeps running. Bring it back: $(restart_hint "$n")"
      up[$n]=''
    fi
    if [ -z "${up[$n]}" ] && alive "$n" && [ "$status" = ready ]; then
      echo "$n is back (pid $pid)."
      up[$n]=$pid
    fi
  done
  sleep 1 &
  wait $! || true
done
