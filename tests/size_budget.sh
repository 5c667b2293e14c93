#!/bin/sh
# Issue #13's budget: a static edgerl binary is at most 1,500,000 bytes (stripped) on every
# target (docs/edge.md, "Sizes"). make static-test checks x86-64's, tests/cross_smoke.sh the
# ARM ones.
#   usage: tests/size_budget.sh BINARY...
set -u
budget=1500000
status=0
for f in "$@"; do
  if ! size=$(stat -c %s "$f"); then
    status=1
    continue
  fi
  if [ "$size" -gt $budget ]; then
    echo "size_budget: $f is $size bytes, $((size - budget)) over issue #13's budget of $budget bytes (docs/edge.md)"
    status=1
  fi
done
exit $status
