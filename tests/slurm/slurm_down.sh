#!/bin/sh
# slurm_down.sh DIR [--keep-munge] [--rm]
#
# Tear down the private cluster that slurm_up.sh started in DIR: cancel its
# jobs, stop slurmd, slurmctld and munged (by their pid files under DIR/run,
# SIGTERM then SIGKILL) and wait until they are gone, then kill any leftover
# process of that cluster (slurmstepd / job processes carrying
# SLURM_CONF=DIR/slurm.conf, daemons whose command line names DIR).
# Safe to run after a partial or failed start-up, twice, or on a missing DIR.
#   --keep-munge  leave munged running (used by slurm_up.sh when retrying)
#   --rm          remove DIR afterwards
# exit: 0 when nothing of the cluster is left running, 1 otherwise.
set -u

PATH="$PATH:/usr/sbin:/sbin"
export PATH
log() { echo "slurm_down: $*" >&2; }

[ $# -ge 1 ] || { echo "usage: $0 DIR [--keep-munge] [--rm]" >&2; exit 2; }
KEEP_MUNGE=0; RM=0
RAW=$1; shift
for a in "$@"; do
    case "$a" in
        --keep-munge) KEEP_MUNGE=1 ;;
        --rm) RM=1 ;;
        *) echo "usage: slurm_down.sh DIR [--keep-munge] [--rm]" >&2; exit 2 ;;
    esac
done
[ -d "$RAW" ] || { log "$RAW: no such directory, nothing to do"; exit 0; }
DIR=$(CDPATH='' cd -- "$RAW" && pwd -P)
CONF="$DIR/slurm.conf"
T0=$(date +%s)

alive() {  # pid running (zombies count as dead: nobody may reap them soon)
    [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$st" ] && [ "$st" != Z ]
}
# pid from DIR/run/NAME.pid, only if that process still belongs to DIR
ourpid() {
    p=$(cat "$DIR/run/$1.pid" 2>/dev/null || true)
    case "$p" in ''|*[!0-9]*) return 1 ;; esac
    alive "$p" || return 1
    tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$DIR/" || return 1
    echo "$p"
}
# wait until none of the given pids is alive; $1 = seconds
wait_gone() {
    secs=$1; shift
    end=$(($(date +%s) + secs))
    while :; do
        left=""
        for p in "$@"; do alive "$p" && left="$left $p"; done
        [ -z "$left" ] && return 0
        [ "$(date +%s)" -lt "$end" ] || { echo "$left"; return 1; }
        sleep 0.2
    done
}
stop_pids() {  # $1 = grace seconds; SIGTERM, wait, SIGKILL
    grace=$1; shift
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null
    left=$(wait_gone "$grace" "$@") && return 0
    log "SIGKILL to$left"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null
    # shellcheck disable=SC2086
    wait_gone 5 $left >/dev/null
}
ancestors() {  # this shell and its ancestors: never to be killed
    p=$$
    while [ -n "$p" ] && [ "$p" -gt 1 ] 2>/dev/null; do
        echo "$p"
        p=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f2)
    done
}
# Processes of this cluster that are still around.
leftovers() {
    anc=$(ancestors)
    {
        # daemons started with DIR paths on their command line
        for f in $(grep -lzF -- "$DIR/" /proc/[0-9]*/cmdline 2>/dev/null); do
            p=${f#/proc/}; p=${p%/cmdline}
            case "$(cat "/proc/$p/comm" 2>/dev/null)" in
                munged|slurmctld|slurmd|slurmstepd) echo "$p" ;;
            esac
        done
        # slurmstepd and job processes inherit SLURM_CONF=DIR/slurm.conf
        for f in $(grep -lzxF -- "SLURM_CONF=$CONF" /proc/[0-9]*/environ 2>/dev/null); do
            p=${f#/proc/}; p=${p%/environ}
            c=$(cat "/proc/$p/comm" 2>/dev/null || true)
            case "$c" in
                slurmstepd|slurmd|slurmctld) echo "$p" ;;
                *) grep -qz '^SLURM_JOB_ID=' "/proc/$p/environ" 2>/dev/null && echo "$p" ;;
            esac
        done
    } | sort -un | while read -r p; do
        [ "$p" = "$$" ] && continue
        printf '%s\n' "$anc" | grep -qx "$p" && continue
        [ "$KEEP_MUNGE" = 1 ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = munged ] && continue
        alive "$p" && echo "$p"
    done
}

# 1. Cancel jobs while slurmctld is still there, so slurmd kills the job
#    process trees itself (KillWait=5).
ctld=$(ourpid slurmctld || true)
if [ -n "$ctld" ] && [ -f "$CONF" ]; then
    export SLURM_CONF="$CONF"
    parts=$(timeout 5 sinfo -h -o '%R' 2>/dev/null | sort -u)
    for part in $parts; do timeout 5 scancel --quiet --partition="$part" 2>/dev/null || true; done
    end=$(($(date +%s) + 15))
    while [ "$(date +%s)" -lt "$end" ]; do
        n=$(timeout 5 squeue -h -o '%i' 2>/dev/null | wc -l) || n=0
        [ "$n" -eq 0 ] && break
        sleep 0.3
    done
fi

# 2. Daemons by pid file: slurmd, slurmctld, then munged.
for d in slurmd slurmctld munged; do
    [ "$d" = munged ] && [ "$KEEP_MUNGE" = 1 ] && continue
    p=$(ourpid "$d" || true)
    [ -n "$p" ] && { stop_pids 10 "$p"; log "stopped $d (pid $p)"; }
done

# 3. Anything else of this cluster (daemons without pid file after a failed
#    start, slurmstepd, job processes).
rc=0
for _ in 1 2; do
    left=$(leftovers | tr '\n' ' ')
    [ -z "$left" ] && break
    log "leftover processes: $left"
    # shellcheck disable=SC2086
    stop_pids 3 $left
done
left=$(leftovers | tr '\n' ' ')
if [ -n "$left" ]; then log "ERROR: still running: $left"; rc=1; fi

if [ "$KEEP_MUNGE" = 0 ]; then rm -f "$DIR/munge/munge.socket" "$DIR/munge/munge.socket.lock"; fi
rm -f "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid"
[ "$KEEP_MUNGE" = 1 ] || rm -f "$DIR/run/munged.pid"
[ $RM = 1 ] && [ $rc = 0 ] && rm -rf -- "$DIR"
log "down in $(($(date +%s) - T0))s"
exit $rc
