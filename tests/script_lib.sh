# Helpers for tests/scripts/*.sh, which source it as . "$EDGERL_SRC/tests/script_lib.sh".

fail() { echo "FAIL: $*"; exit 1; }

# wait_status PID: waits for a background process and sets `status` to its exit status.
wait_status() {
  set +e
  wait "$1"
  status=$?
  set -e
}

# expect_error STATUS TEXT cmd...: the command exits with STATUS and prints exactly one line
# on stderr (kept in err.txt; stdout in out.txt) that matches TEXT (a grep basic regex).
expect_error() {
  want=$1 text=$2
  shift 2
  set +e
  "$@" > out.txt 2> err.txt
  got=$?
  set -e
  [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want; stderr: $(cat err.txt)"
  [ "$(wc -l < err.txt)" = 1 ] || fail "'$*' printed $(wc -l < err.txt) stderr lines: $(cat err.txt)"
  grep -q -- "$text" err.txt || fail "'$*' stderr '$(cat err.txt)' lacks '$text'"
}
