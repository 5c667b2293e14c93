#!/bin/sh
# shellcheck disable=SC2317  # functions run from traps
# with_slurm.sh CMD [ARGS...] - run CMD against a fresh private Slurm cluster.
#
# Makes a temporary DIR (mktemp -d, or $WITH_SLURM_DIR if set), runs
# slurm_up.sh DIR, runs CMD with SLURM_CONF (and TESTSLURM_*) exported, and
# always runs slurm_down.sh DIR afterwards - also when CMD fails or this
# script gets SIGINT/SIGTERM/SIGHUP.  Exit status: CMD's, or 1 if the cluster
# did not come up / could not be torn down cleanly.  (CMD's stdin is kept.)  DIR is removed on success
# unless WITH_SLURM_KEEP=1; it is kept (logs under DIR/log) when CMD failed.
set -u
HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

if [ -n "${WITH_SLURM_DIR:-}" ]; then DIR=$WITH_SLURM_DIR; mkdir -p "$DIR"; else DIR=$(mktemp -d /tmp/slurm.XXXXXX); fi
rc=0
done_=0
child=""
teardown() {
    [ "$done_" = 1 ] && return
    done_=1
    sh "$HERE/slurm_down.sh" "$DIR" || { [ "$rc" = 0 ] && rc=1; }
    if [ "$rc" = 0 ] && [ "${WITH_SLURM_KEEP:-0}" != 1 ]; then rm -rf -- "$DIR"
    else echo "with_slurm: cluster files kept in $DIR" >&2; fi
}
trap 'teardown; exit "$rc"' EXIT
# CMD runs in the background so that a signal to this script is handled at
# once (sh defers traps while a foreground command runs); it is passed on.
descendants() {  # pids of $1 and all its descendants (from /proc)
    awk '{ f = FILENAME; sub("^/proc/", "", f); sub("/stat$", "", f)
           sub(/^.*\) /, ""); print f, $2 }' /proc/[0-9]*/stat 2>/dev/null |
    awk -v root="$1" '{ kids[$2] = kids[$2] " " $1 }
        END { q[1] = root; n = 1; for (i = 1; i <= n; i++) { print q[i]
              m = split(kids[q[i]], k, " "); for (j = 1; j <= m; j++) q[++n] = k[j] } }'
}
on_sig() {
    rc=$1
    # shellcheck disable=SC2046
    [ -n "$child" ] && kill -TERM $(descendants "$child") 2>/dev/null
    exit "$rc"
}
trap 'on_sig 130' INT
trap 'on_sig 143' TERM
trap 'on_sig 129' HUP

env_text=$(sh "$HERE/slurm_up.sh" "$DIR") || { rc=1; exit 1; }
eval "$env_text"
exec 3<&0                  # an async command would get /dev/null as stdin
"$@" <&3 3<&- &
child=$!
wait "$child"
rc=$?
child=""
exit "$rc"
