#!/usr/bin/env bash
# Runs our engine and DataScript (npm datascript, under node) on the same generated data in one
# command and prints one table: name, our ms/op, DataScript ms/op, ratio (DataScript / ours).
# Usage: bench/run.sh [names...]
#   write benchmarks (build/bench_tx):    add-1 add-5 add-all
#   query benchmarks (build/bench_query): q1 q2 q2-switch q3 q4 q5 qpred1 qpred2 pull-wide-4x5
#                                         rules-wide-5x3 rules-long-30x5 reach-20k
# (default: all of them). reach-20k has no DataScript figure: DataScript runs out of a 4 GB heap.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DATAHIKE_SHARED_DIR:-../shared}
BUILD_DIR=${BUILD_DIR:-build}
tx_names=(add-1 add-5 add-all)
query_names=(q1 q2 q2-switch q3 q4 q5 qpred1 qpred2 pull-wide-4x5 rules-wide-5x3 rules-long-30x5 reach-20k)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${tx_names[@]}" "${query_names[@]}")

bash scripts/setup.sh >/dev/null
[ -x "$BUILD_DIR/bench_tx" ] && [ -x "$BUILD_DIR/bench_query" ] || bash scripts/build.sh >/dev/null
mkdir -p bench/data
if [ ! -f bench/data/people20k.edn ]; then
  NODE_PATH=bench/peer/node_modules node "$SHARED/bench/datascript_bench.js" --dump bench/data
fi

ours=$(mktemp); peer=$(mktemp)
trap 'rm -f "$ours" "$peer"' EXIT
tx=(); q=(); peer_names=()
for n in "${names[@]}"; do
  if [[ " ${tx_names[*]} " == *" $n "* ]]; then tx+=("$n"); else q+=("$n"); fi
  [ "$n" != reach-20k ] && peer_names+=("$n")
done
[ ${#tx[@]} -gt 0 ] && "$BUILD_DIR/bench_tx" bench/data "${tx[@]}" | tee -a "$ours" >&2
[ ${#q[@]} -gt 0 ] && "$BUILD_DIR/bench_query" bench/data "${q[@]}" | tee -a "$ours" >&2
[ ${#peer_names[@]} -gt 0 ] &&
  NODE_PATH=bench/peer/node_modules node "$SHARED/bench/datascript_bench.js" "${peer_names[@]}" |
  tee "$peer" >&2

printf '\n%-16s %14s %16s %10s\n' benchmark "ours ms/op" "DataScript ms/op" ratio
for n in "${names[@]}"; do
  o=$(awk -v n="$n" '$1==n {print $2}' "$ours")
  p=$(awk -v n="$n" '$1==n {print $2}' "$peer")
  awk -v n="$n" -v o="$o" -v p="$p" 'BEGIN {
    if (p == "") printf "%-16s %14.3f %16s %10s\n", n, o, "-", "-";
    else printf "%-16s %14.3f %16.1f %9.1fx\n", n, o, p, (o > 0 ? p / o : 0) }'
done
