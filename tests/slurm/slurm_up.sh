#!/bin/sh
# slurm_up.sh DIR - bring up a private single-node Slurm cluster on localhost.
#
# Everything (munge key/socket, slurm.conf, state, spool, logs, pid files)
# lives under DIR.  Needs root (slurmd must run as root) and Debian's
# slurm-wlm + munge packages (see slurm_deps.sh).  No systemd is used.
#
# stdout: shell assignments only, for   eval "$(slurm_up.sh DIR)"
#         (the same lines are written to DIR/env for `. DIR/env`).
# stderr: progress and, on failure, the tail of the daemons' logs.
# exit:   0 when the node is idle; 1 on failure, after slurm_down.sh DIR has
#         stopped whatever had been started (set SLURM_UP_KEEP=1 to skip that).
#
# Environment knobs (all optional):
#   SLURM_UP_TIMEOUT=30         seconds to wait for the node to become idle
#   SLURM_UP_CTLD_PORT=N        fixed SlurmctldPort (default: a free random one)
#   SLURM_UP_SLURMD_PORT=N      fixed SlurmdPort    (default: a free random one)
#   SLURM_UP_DEBUG=info         SlurmctldDebug/SlurmdDebug level
#   SLURM_UP_EXTRA_CONF=FILE    lines appended verbatim to slurm.conf
set -eu

PATH="$PATH:/usr/sbin:/sbin"
export PATH
HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

log() { echo "slurm_up: $*" >&2; }
die() { log "ERROR: $*"; fail_cleanup; exit 1; }

[ $# -ge 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { log "ERROR: must run as root (slurmd needs root)"; exit 1; }
for c in munged mungekey munge unmunge slurmctld slurmd sinfo scontrol; do
    command -v "$c" >/dev/null 2>&1 ||
        { log "ERROR: '$c' not found; run slurm_deps.sh (apt-get install slurm-wlm munge)"; exit 1; }
done

mkdir -p -- "$1"
DIR=$(CDPATH='' cd -- "$1" && pwd -P)
# Unix socket paths (munge socket, slurmstepd sockets in the spool dir such as
# spool/<node>_<job>.4294967291) must fit in sun_path (108 bytes).
[ ${#DIR} -le 80 ] || { log "ERROR: DIR path too long (${#DIR} > 80 chars): unix sockets under it would not fit"; exit 1; }
case "$DIR" in *[!A-Za-z0-9_./+-]*) log "ERROR: DIR must not contain spaces or shell/conf special characters: $DIR"; exit 1;; esac

T0=$(date +%s)
fail_cleanup() {
    for f in "$DIR"/log/munged.log "$DIR"/log/slurmctld.log "$DIR"/log/slurmd.log; do
        [ -s "$f" ] && { echo "---- tail $f" >&2; tail -n 15 "$f" >&2; }
    done
    if [ "${SLURM_UP_KEEP:-0}" = 1 ]; then
        log "SLURM_UP_KEEP=1: leaving daemons as they are; run slurm_down.sh $DIR"
    else
        sh "$HERE/slurm_down.sh" "$DIR" >&2 || true
    fi
}

# A previous cluster in DIR that is still up would be clobbered: refuse.
for f in munged slurmctld slurmd; do
    pf="$DIR/run/$f.pid"
    if [ -s "$pf" ]; then
        p=$(cat "$pf" 2>/dev/null || true)
        if [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF -- "$DIR/"; then
            log "ERROR: $f (pid $p) of a cluster in $DIR is still running; run slurm_down.sh $DIR first"
            exit 1
        fi
    fi
done

umask 022
rm -rf "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log"
mkdir -p "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log"
chmod 0755 "$DIR" "$DIR/munge"   # munged: socket dir must be executable by all
chmod 0700 "$DIR/state"

# ---------------------------------------------------------------- munge ----
SOCK="$DIR/munge/munge.socket"
KEY="$DIR/munge/munge.key"
if [ ! -s "$KEY" ]; then
    mungekey --create --bits=1024 --keyfile="$KEY" 2>/dev/null ||
        { dd if=/dev/urandom of="$KEY" bs=128 count=1 2>/dev/null; }
fi
chmod 0600 "$KEY"
rm -f "$SOCK" "$SOCK.lock"
munged --key-file="$KEY" --socket="$SOCK" --pid-file="$DIR/run/munged.pid" \
       --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed" \
       </dev/null >>"$DIR/log/munged.out" 2>&1 || die "munged failed to start (see $DIR/log/munged.log)"
i=0
until munge -S "$SOCK" -n 2>/dev/null | unmunge -S "$SOCK" >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -le 50 ] || die "munged socket $SOCK does not answer"
    sleep 0.1
done
T_MUNGE=$(date +%s)

# ---------------------------------------------------------------- ports ----
# Listening/bound TCP ports (IPv4 + IPv6), decimal, one per line.
used_ports() {
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '
        BEGIN { h = "0123456789ABCDEF" }
        NR > 0 && $2 ~ /:/ { n = split($2, a, ":"); x = toupper(a[n]); v = 0
            for (i = 1; i <= length(x); i++) v = v * 16 + index(h, substr(x, i, 1)) - 1
            print v }'
}
rand16() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }
pick_ports() {
    used=$(used_ports | sort -u)
    n=0
    while :; do
        n=$((n + 1)); [ $n -le 200 ] || return 1
        # 20000-29998: below the Linux ephemeral range (32768+), off 6817/6818.
        p=$((20000 + ($(rand16) % 5000) * 2))
        if ! printf '%s\n' "$used" | grep -qx -e "$p" -e "$((p + 1))"; then
            CTLD_PORT=$p; SLURMD_PORT=$((p + 1)); return 0
        fi
    done
}

# -------------------------------------------------------------- node info --
NODE=$(hostname -s 2>/dev/null || hostname)
[ -n "$NODE" ] || die "empty hostname"
# slurmd -C prints e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1
# CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
HW=$(slurmd -C 2>/dev/null | awk '/^NodeName=/ { $1 = ""; print; exit }' | sed 's/^ *//')
case "$HW" in *CPUs=*RealMemory=*) ;; *) die "cannot read hardware from 'slurmd -C'";; esac
# Bind to loopback.  With CommunicationParameters=NoCtldInAddrAny
# (slurmctld) and NoInAddrAny (slurmd, srun, salloc) the daemons bind to the
# address the hostname resolves to instead of 0.0.0.0.
#  - hostname -> 127.0.0.1 (this VM): both; everything is loopback-only.
#  - hostname -> other 127.x (Debian's default 127.0.1.1): only
#    NoCtldInAddrAny, with that address as SlurmctldHost/NodeAddr; NoInAddrAny
#    would make srun listen on 127.0.1.1 while slurmstepd connects back to the
#    source address of srun's request (127.0.0.1): "connect io: Connection
#    refused" and srun hangs.  slurmd then listens on all addresses.
#  - hostname unresolvable or not loopback: neither (bind all), 127.0.0.1.
HOSTADDR=$(getent ahostsv4 "$(hostname)" 2>/dev/null | awk 'NR == 1 { print $1 }')
ADDR=127.0.0.1
case "$HOSTADDR" in
    127.0.0.1) COMM="CommunicationParameters=NoInAddrAny,NoCtldInAddrAny" ;;
    127.*)     COMM="CommunicationParameters=NoCtldInAddrAny"; ADDR=$HOSTADDR
               log "note: $(hostname) resolves to $HOSTADDR: slurmctld binds to it, slurmd to all addresses" ;;
    *)         COMM="#CommunicationParameters: hostname resolves to '${HOSTADDR:-nothing}', not loopback: binding to all addresses"
               log "WARNING: $(hostname) does not resolve to 127.x (got '${HOSTADDR:-nothing}'); daemons bind to all addresses" ;;
esac

write_conf() {
    : >"$DIR/plugstack.conf"       # no system SPANK plugins
    cat >"$DIR/slurm.conf" <<EOF
# Generated by slurm_up.sh for a private test cluster in $DIR
ClusterName=$CLUSTER
SlurmctldHost=$NODE($ADDR)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
$COMM
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK,cred_expire=5
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=${SLURM_UP_DEBUG:-info}
SlurmdDebug=${SLURM_UP_DEBUG:-info}
PlugStackConfig=$DIR/plugstack.conf
TmpFS=/tmp
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=1
SlurmctldTimeout=10
SlurmdTimeout=10
MessageTimeout=5
InactiveLimit=0
KillWait=5
MinJobAge=60
ReturnToService=2
MaxJobCount=2000
MaxArraySize=1001
NodeName=$NODE NodeAddr=$ADDR NodeHostname=$NODE $HW State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    if [ -n "${SLURM_UP_EXTRA_CONF:-}" ]; then cat "$SLURM_UP_EXTRA_CONF" >>"$DIR/slurm.conf"; fi
}

alive() {  # pid running (zombies count as dead)
    [ -r "/proc/$1/stat" ] || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$st" ] && [ "$st" != Z ]
}
pidof_file() { cat "$1" 2>/dev/null || true; }
# Is daemon $1 (slurmctld|slurmd) of this cluster running?  By pid file, or,
# before the pid file exists (slurmd binds its port before writing it), by
# a process named $1 whose command line names our slurm.conf.
running() {
    p=$(pidof_file "$DIR/run/$1.pid")
    if [ -n "$p" ] && alive "$p"; then return 0; fi
    for f in $(grep -lzF -- "$SLURM_CONF" /proc/[0-9]*/cmdline 2>/dev/null); do
        q=${f#/proc/}; q=${q%/cmdline}
        [ "$(cat "/proc/$q/comm" 2>/dev/null)" = "$1" ] && alive "$q" && return 0
    done
    return 1
}
port_clash() { grep -qi 'address already in use' "$DIR/log/$1.log" 2>/dev/null; }
can_retry() { [ "$attempt" -lt 3 ] && [ -z "${SLURM_UP_CTLD_PORT:-}" ]; }

SLURM_CONF="$DIR/slurm.conf"
export SLURM_CONF
TIMEOUT=${SLURM_UP_TIMEOUT:-30}

attempt=0
while :; do
    attempt=$((attempt + 1))
    if [ -n "${SLURM_UP_CTLD_PORT:-}" ]; then
        CTLD_PORT=$SLURM_UP_CTLD_PORT; SLURMD_PORT=${SLURM_UP_SLURMD_PORT:-$((CTLD_PORT + 1))}
    else
        pick_ports || die "no free port pair found"
    fi
    CLUSTER="t$CTLD_PORT"        # lower case, unique per port
    write_conf
    rm -rf "$DIR/state"/* "$DIR/spool"/*
    : >"$DIR/log/slurmctld.log"; : >"$DIR/log/slurmd.log"
    t=$(($(date +%s) + TIMEOUT))

    # slurmctld daemonizes and writes its pid file; -c: no old state.
    slurmctld -c -f "$SLURM_CONF" </dev/null >>"$DIR/log/slurmctld.out" 2>&1 ||
        die "slurmctld exited with $? (see $DIR/log/slurmctld.log)"
    ok=0
    while [ "$(date +%s)" -le "$t" ]; do
        running slurmctld || break
        grep -q 'fatal:' "$DIR/log/slurmctld.log" 2>/dev/null && break
        # a short timeout: a foreign listener on the port never answers
        if timeout 2 scontrol ping 2>/dev/null | grep -q 'is UP'; then ok=1; break; fi
        sleep 0.2
    done
    if [ $ok = 0 ]; then
        if can_retry && port_clash slurmctld; then
            log "port $CTLD_PORT taken, retrying with other ports"
            sh "$HERE/slurm_down.sh" "$DIR" --keep-munge >&2 || true
            continue
        fi
        die "slurmctld did not come up (see $DIR/log/slurmctld.log)"
    fi
    T_CTLD=$(date +%s)

    slurmd -f "$SLURM_CONF" -N "$NODE" </dev/null >>"$DIR/log/slurmd.out" 2>&1 ||
        die "slurmd exited with $? (see $DIR/log/slurmd.log)"
    state=""
    while [ "$(date +%s)" -le "$t" ]; do
        state=$(timeout 5 sinfo -h -N -n "$NODE" -o '%T' 2>/dev/null | head -n1 || true)
        [ "$state" = idle ] && break
        if ! running slurmd || grep -q 'fatal:' "$DIR/log/slurmd.log" 2>/dev/null; then
            state=dead; break
        fi
        sleep 0.2
    done
    if [ "$state" = dead ]; then
        if can_retry && port_clash slurmd; then
            log "port $SLURMD_PORT taken, retrying with other ports"
            sh "$HERE/slurm_down.sh" "$DIR" --keep-munge >&2 || true
            continue
        fi
        die "slurmd died (see $DIR/log/slurmd.log)"
    fi
    [ "$state" = idle ] || die "node $NODE not idle after ${TIMEOUT}s (state '${state:-?}')"
    break
done
T_END=$(date +%s)

ENV_TEXT="SLURM_CONF=$SLURM_CONF; export SLURM_CONF
TESTSLURM_DIR=$DIR; export TESTSLURM_DIR
TESTSLURM_NODE=$NODE; export TESTSLURM_NODE
TESTSLURM_PARTITION=debug; export TESTSLURM_PARTITION
TESTSLURM_CTLD_PORT=$CTLD_PORT; export TESTSLURM_CTLD_PORT
TESTSLURM_SLURMD_PORT=$SLURMD_PORT; export TESTSLURM_SLURMD_PORT
TESTSLURM_MUNGE_SOCKET=$SOCK; export TESTSLURM_MUNGE_SOCKET"
printf '%s\n' "$ENV_TEXT" >"$DIR/env"
log "up in $((T_END - T0))s (munge $((T_MUNGE - T0))s, slurmctld +$((T_CTLD - T_MUNGE))s, slurmd idle +$((T_END - T_CTLD))s): node $NODE, ports $CTLD_PORT/$SLURMD_PORT, SLURM_CONF=$SLURM_CONF"
printf '%s\n' "$ENV_TEXT"
