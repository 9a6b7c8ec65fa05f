#!/usr/bin/env bash
# make bench: the microbenchmarks, then `regiongate bench --self-contained`
# (starts direct / through the gateway / with a new connection each,
# failover under kill -9, Consul config propagation; then, with the stack
# stopped, the gateway's own ceiling against stub frontends, each measured
# process on its own CPU), and the results into docs/BENCHMARKS.md between
# its bench markers. Raw output in .dev/bench/.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${BIN:-$PWD/bin}
OUT=${BENCH_OUT:-.dev/bench}
DOC=${BENCH_DOC:-docs/BENCHMARKS.md}
mkdir -p "$OUT"
export REGIONGATE_TEMPORAL_BIN=$BIN/temporal REGIONGATE_CONSUL_BIN=$BIN/consul

# Written as one types them; the report lists them verbatim.
MICRO="go test -short -run '^\$' -bench . -benchmem -count 3 ./router/ ./regions/ ./gateway/"
E2E=(--self-contained --duration 20s --rounds 5 --modes direct,gateway,naive,gateway-memory,http-floor
  --ceiling --ceiling-modes gateway-memory,http-floor,gateway)

began=$(date +%s)
echo "== microbenchmarks: $MICRO"
eval "$MICRO" | tee "$OUT/micro.txt"

echo "== end to end: bin/regiongate bench ${E2E[*]}"
"$BIN/regiongate" bench "${E2E[@]}" --json --micro "$OUT/micro.txt" --command "$MICRO" \
  --failover-trace "$OUT/failover.csv" --write-doc "$DOC" >"$OUT/bench.json"

echo "== done in $(( $(date +%s) - began ))s: $DOC (between the bench markers), raw results in $OUT"
