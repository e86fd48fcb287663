#!/usr/bin/env bash
# Runs our engine and DataScript (npm datascript, under node) on the same generated data in one
# command and prints one table: name, our ms/op, DataScript ms/op, ratio (DataScript / ours).
# Usage: bench/run.sh [names...]   (default: add-1 add-5 add-all)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${DATAHIKE_SHARED_DIR:-../shared}
BUILD_DIR=${BUILD_DIR:-build}
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(add-1 add-5 add-all)

bash scripts/setup.sh >/dev/null
[ -x "$BUILD_DIR/bench_tx" ] || bash scripts/build.sh >/dev/null
mkdir -p bench/data
if [ ! -f bench/data/people20k.edn ]; then
  NODE_PATH=bench/peer/node_modules node "$SHARED/bench/datascript_bench.js" --dump bench/data
fi

ours=$(mktemp); peer=$(mktemp)
trap 'rm -f "$ours" "$peer"' EXIT
"$BUILD_DIR/bench_tx" bench/data "${names[@]}" | tee "$ours" >&2
NODE_PATH=bench/peer/node_modules node "$SHARED/bench/datascript_bench.js" "${names[@]}" | tee "$peer" >&2

printf '\n%-16s %14s %16s %10s\n' benchmark "ours ms/op" "DataScript ms/op" ratio
for n in "${names[@]}"; do
  o=$(awk -v n="$n" '$1==n {print $2}' "$ours")
  p=$(awk -v n="$n" '$1==n {print $2}' "$peer")
  awk -v n="$n" -v o="$o" -v p="$p" 'BEGIN { printf "%-16s %14.3f %16.1f %9.1fx\n", n, o, p, (o > 0 ? p / o : 0) }'
done
