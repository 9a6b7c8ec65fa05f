# shellcheck shell=bash
# make dev REPLICATION=1: the four regions as two replicated pairs,
# eu-west <-> eu-central and us-east <-> us-west. Each region's Temporal
# server is bin/temporal-replica (the pinned CLI's dev server with cluster
# metadata, tools/replication), its cluster named after the region; the
# pairs are connected both ways and every region's namespaces are global
# namespaces active in its own cluster, replicated to its peer's. Sourced
# by up.sh; the state files are apart from plain make dev's
# (temporal-REGION-replica.db): a cluster's metadata cannot change mode.

# The pairs, as region=peer.
declare -A PEER=([us-east]=us-west [us-west]=us-east [eu-west]=eu-central [eu-central]=eu-west)

# add_replicas FILE: the stack config with each region's replica after its
# failover line.
add_replicas() {
  local spec='' r
  for r in "${!PEER[@]}"; do spec+="$r=${PEER[$r]} "; done
  awk -v peers="$spec" '
    BEGIN { n = split(peers, kv, " "); for (i = 1; i <= n; i++) { split(kv[i], p, "="); peer[p[1]] = p[2] } }
    $1 == "-" && $2 == "name:" { region = $3 }
    { print }
    $1 == "failover:" && (region in peer) { print "    replica: " peer[region]; done[region] = 1 }
    END { for (r in peer) if (!(r in done)) { print "configs/dev.yaml: no failover line for " r > "/dev/stderr"; exit 1 } }
  ' "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

# start_cluster I: region I's replicated Temporal server (failover version
# I+1, distinct in each pair).
start_cluster() {
  local i=$1 r=${REGIONS[$1]}
  start "$r" "$LOGS/temporal-$r.log" \
    "$(q "$BIN/temporal" operator cluster describe --address "127.0.0.1:${TEMPORAL_PORTS[$i]}")" \
    "$BIN/temporal-replica" --ip 127.0.0.1 --port "${TEMPORAL_PORTS[$i]}" --http-port "${TEMPORAL_HTTP_PORTS[$i]}" \
    --cluster "$r" --failover-version $((i + 1)) --db-filename "$STATE/temporal-$r-replica.db" --log-level warn
}

# addr REGION: its frontend.
addr() {
  local i
  for i in "${!REGIONS[@]}"; do [ "${REGIONS[$i]}" = "$1" ] && echo "127.0.0.1:${TEMPORAL_PORTS[$i]}"; done
}

# replicate: connect each pair both ways (idempotent), then register every
# region's namespaces as global namespaces active in its own cluster; the
# services learn of a new remote cluster within a second (temporal-replica
# sets system.clusterMetadataRefreshInterval), so a registration naming it
# is retried until then. A namespace registered by an earlier run stays.
replicate() {
  local r ns out deadline
  for r in "${REGIONS[@]}"; do
    "$BIN/temporal" operator cluster upsert --frontend-address "$(addr "${PEER[$r]}")" --enable-connection \
      --address "$(addr "$r")" >/dev/null || die "connecting $r to ${PEER[$r]}"
  done
  for r in "${REGIONS[@]}"; do
    for ns in $("$BIN/regiongate" config namespaces "$r" --config "$CONFIG"); do
      deadline=$((SECONDS + 60))
      until out=$("$BIN/temporal" operator namespace create --namespace "$ns" --global --cluster "$r" \
        --cluster "${PEER[$r]}" --active-cluster "$r" --address "$(addr "$r")" 2>&1) ||
        [[ $out == *"already"* ]]; do
        ((SECONDS < deadline)) || die "registering $ns in $r: $out"
        sleep 0.5
      done
      deadline=$((SECONDS + 60))
      until "$BIN/temporal" operator namespace describe --namespace "$ns" --address "$(addr "${PEER[$r]}")" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "$ns never reached ${PEER[$r]}"
        sleep 0.25
      done
    done
    echo "namespaces of $r: global, active in $r, replicated to ${PEER[$r]}"
  done
}
