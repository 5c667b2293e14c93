#!/bin/sh
# Runs every tests/scripts/*.sh against an edgerl binary: EDGERL=<binary> script, each in its
# own temporary folder. Prints one line per script and fails if any script fails.
set -u
bin=${1:?usage: run_scripts.sh path/to/edgerl}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
here=$(cd "$(dirname "$0")" && pwd)
fails=0
count=0
for s in "$here"/scripts/*.sh; do
  [ -e "$s" ] || continue
  count=$((count + 1))
  name=$(basename "$s" .sh)
  work=$(mktemp -d "${TMPDIR:-/tmp}/edgerl-$name.XXXXXX")
  start=$(date +%s)
  if (cd "$work" && EDGERL="$bin" EDGERL_SRC="$here/.." sh "$s") > "$work.log" 2>&1; then
    echo "PASS $name ($(($(date +%s) - start)) s)"
    rm -rf "$work" "$work.log"
  else
    echo "FAIL $name: log in $work.log, files in $work"
    tail -n 20 "$work.log" | sed 's/^/    /'
    # The reason, also when more than 20 lines of output followed it.
    tail -n 20 "$work.log" | grep -q '^FAIL:' || grep '^FAIL:' "$work.log" | sed 's/^/    /'
    fails=$((fails + 1))
  fi
done
echo "$((count - fails))/$count script tests passed"
[ "$fails" -eq 0 ]
