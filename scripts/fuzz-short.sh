#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a bounded time each (FUZZTIME, default 10s).
# Longer runs: FUZZTIME=10m make fuzz
#
# FUZZMINIMIZETIME bounds the shrinking of each new interesting input (go test's default is 60s).
# A parser target such as FuzzParse finds a new interesting input every few dozen executions, so
# with the default a short run spends its whole time shrinking one input and executes almost
# nothing; the short run in the suite turns shrinking off and spends its time on new inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
minimizetime="${FUZZMINIMIZETIME:-60s}"
found=0
while IFS=: read -r file line; do
  name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"$line")
  dir="./$(dirname "$file")"
  found=$((found + 1))
  echo "fuzz $dir $name for $fuzztime"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$dir"
done < <(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | sort)
echo "fuzz targets run: $found"
