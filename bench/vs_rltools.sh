#!/bin/sh
# Side by side with RLtools: edgerl's ppo_pendulum.ini, sac_pendulum.ini and td3_pendulum.ini
# (RLtools' settings, the same work: steps, batch, networks, evaluations) against RLtools' own
# PPO, SAC and TD3 Pendulum-v1 examples, alternating the programs round by round so that the
# machine's load falls on all of them alike. Prints, per program, the best and median wall and
# user seconds over the rounds and the final evaluation return, then edgerl's speed-up: from
# the best and the median walls, and round by round (each round's edgerl run against the
# RLtools run just after it: on a virtual machine whose host changes state within minutes,
# the pairs are the like-for-like comparison).
#   usage: bench/vs_rltools.sh path/to/edgerl RLTOOLS_BIN_DIR [rounds]
# RLTOOLS_BIN_DIR holds what bench/build_rltools.sh builds from github.com/rl-tools/rl-tools
# (g++ -std=c++17 -O3 -march=native; src/rl/environments/pendulum/{ppo,sac}/cpu/training.cpp
# and td3/cpu/standalone.cpp): ppo_, sac_ and td3_openblas (with OpenBLAS) and ppo_, sac_
# and td3_noblas (without); missing ones are skipped. ALGOS (default "ppo sac td3") picks
# the pairs; NOBLAS_ROUNDS (default 1) limits the slow no-BLAS builds; EDGERL_EXTRA adds
# overrides (arch.num_threads=1: one core). OPENBLAS_NUM_THREADS is set to 1 (RLtools asks
# for it). With edgerl_bench beside the edgerl binary, the cores' cache-line round trip
# (machine/round_trip) is printed before, between and after the rounds: on a virtual machine
# it says where the host placed the two vCPUs, which moves edgerl's two-thread figures (not
# RLtools' one-thread ones); so is each core's speed on a critic's forward and backward
# (machine/cores), since a vCPU may run a quarter slower than the other for minutes and two
# threads wait for it.
set -eu
bin=${1:?usage: vs_rltools.sh path/to/edgerl RLTOOLS_BIN_DIR [rounds]}
rlt=${2:?usage: vs_rltools.sh path/to/edgerl RLTOOLS_BIN_DIR [rounds]}
rounds=${3:-3}
noblas_rounds=${NOBLAS_ROUNDS:-1}
export OPENBLAS_NUM_THREADS=1
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
case $rlt in /*) ;; *) rlt=$(pwd)/$rlt ;; esac
out=$(mktemp -d "${TMPDIR:-/tmp}/edgerl-vs-rltools.XXXXXX")
trap 'rm -rf "$out"' EXIT
cd "$out"

# run NAME CMD...: one timed run, appended to NAME.tsv as "wall user return".
run() {
  name=$1
  shift
  /usr/bin/time -f '%e %U' -o time.txt "$@" > run.log 2>&1 || { tail -5 run.log; exit 1; }
  ret=$(grep -h 'Mean return' run.log | tail -1 | sed 's/.*Mean return: *\([-0-9.e+]*\).*/\1/')
  [ -n "$ret" ] || ret=$(sed -n 's/^final: episode_return \([-0-9.]*\).*/\1/p' run.log)
  echo "$(cat time.txt) ${ret:--}" >> "$name.tsv"
}
quiet="logger.loggers.console.enabled=false logger.loggers.tensorboard.enabled=false
  logger.loggers.csv.enabled=false logger.checkpointing.save_model=false"

# round_trip WHEN: the cores' cache-line round trip and each core's speed, when edgerl_bench
# is there to measure them.
round_trip() {
  [ -x "$(dirname "$bin")/edgerl_bench" ] || return 0
  "$(dirname "$bin")/edgerl_bench" machine/round_trip machine/cores | sed -n "s/^  /$1: /p" >&2
}

algos=${ALGOS:-ppo sac td3}
round_trip before
for r in $(seq 1 "$rounds"); do
  for algo in $algos; do
    # shellcheck disable=SC2086
    run "edgerl_$algo" "$bin" train --config "builtin:${algo}_pendulum.ini" \
      logger.base_exp_path="$out/runs" $quiet ${EDGERL_EXTRA:-}
    [ -x "$rlt/${algo}_openblas" ] && run "rltools_${algo}_openblas" "$rlt/${algo}_openblas"
    if [ "$r" -le "$noblas_rounds" ] && [ -x "$rlt/${algo}_noblas" ]; then
      run "rltools_${algo}_noblas" "$rlt/${algo}_noblas"
    fi
  done
  echo "round $r of $rounds done ($(uptime | sed 's/.*load/load/'))" >&2
  if [ "$r" -lt "$rounds" ]; then round_trip "after round $r"; fi
done
round_trip after

# stats FILE COLUMN: "best median" of a column.
stats() {
  sort -g -k"$2" "$1" | awk -v c="$2" '{v[NR]=$c} END{m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.2f %.2f", v[1], m}'
}
printf '%-22s %5s %9s %9s %9s %9s %9s\n' program runs wall_best wall_med user_best user_med return
for f in edgerl_ppo rltools_ppo_openblas rltools_ppo_noblas edgerl_sac rltools_sac_openblas \
  rltools_sac_noblas edgerl_td3 rltools_td3_openblas rltools_td3_noblas; do
  [ -e "$f.tsv" ] || continue
  set -- $(stats "$f.tsv" 1) $(stats "$f.tsv" 2)
  printf '%-22s %5d %9s %9s %9s %9s %9s\n' "$f" "$(wc -l < "$f.tsv")" "$1" "$2" "$3" "$4" \
    "$(awk '{print $3}' "$f.tsv" | tr '\n' ' ' | sed 's/ $//')"
done
for algo in $algos; do
  for v in openblas noblas; do
    [ -e "rltools_${algo}_$v.tsv" ] || continue
    awk -v a="$(stats "edgerl_$algo.tsv" 1)" -v b="$(stats "rltools_${algo}_$v.tsv" 1)" \
      -v n="$algo vs RLtools $v" \
      'BEGIN{split(a, x, " "); split(b, y, " "); printf "%s: edgerl %.2fx faster (best wall), %.2fx (median wall)", n, y[1] / x[1], y[2] / x[2]}'
    # Each round's own ratio (its two runs were a few seconds apart, in the same host state).
    paste "edgerl_$algo.tsv" "rltools_${algo}_$v.tsv" | awk 'NF >= 6 && $1 > 0 {print $4 / $1}' | sort -g |
      awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
        printf "; round by round %.2fx to %.2fx, median %.2fx\n", v[1], v[NR], m}'
  done
done
