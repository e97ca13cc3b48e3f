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
  # Go before 1.27 may end a duration-bounded run with a bare "context deadline exceeded" and no
  # failing input (go.dev/issue/75804, a race in the fuzzing coordinator): such a run is tried once
  # more. A failure that wrote an input under testdata/fuzz still fails at once.
  corpus="$dir/testdata/fuzz/$name"
  before=$({ ls "$corpus" 2>/dev/null || true; } | wc -l)
  out=$(mktemp)
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$dir" 2>&1 | tee "$out"; then
    after=$({ ls "$corpus" 2>/dev/null || true; } | wc -l)
    if [ "$after" -eq "$before" ] && grep -qx '    context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
      echo "fuzz $dir $name: the coordinator's deadline race (go.dev/issue/75804), no failing input; running it again"
      go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$dir"
    else
      rm -f "$out"
      exit 1
    fi
  fi
  rm -f "$out"
done < <(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | sort)
echo "fuzz targets run: $found"
