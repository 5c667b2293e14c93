#!/bin/sh
# Trains each shipped config on 5 seeds and prints one row per run and a verdict per config
# against the figures of issues #5 and #12: final greedy evaluation mean return (and the
# absolute metric), wall seconds (including every evaluation), training steps per second.
#   usage: bench/solve.sh [path/to/edgerl] [config:goal...]   (default: build/edgerl, all)
set -eu
bin=${1:-build/edgerl}
[ $# -gt 0 ] && shift
configs=${*:-"ppo_cartpole.ini:475 ppo_acrobot.ini:-100 ppo_pendulum.ini:-250 dqn_cartpole.ini:475
  sac_pendulum.ini:-250 td3_pendulum.ini:-250 ddpg_pendulum.ini:-300 td3_mountaincar.ini:90"}
seeds=${SEEDS:-"1 2 3 4 5"}
out=$(mktemp -d "${TMPDIR:-/tmp}/edgerl-solve.XXXXXX")
trap 'rm -rf "$out"' EXIT
printf '%-18s %4s %10s %10s %8s %10s\n' config seed return absolute wall_s steps/s
for entry in $configs; do
  cfg=${entry%%:*}
  goal=${entry#*:}
  [ "$goal" = "$entry" ] && goal=""
  solved=0 runs=0
  for s in $seeds; do
    "$bin" train --config "builtin:$cfg" arch.seed="$s" logger.base_exp_path="$out/$cfg-$s" \
      logger.loggers.console.enabled=false logger.loggers.tensorboard.enabled=false \
      logger.checkpointing.save_model=false > /dev/null
    sum=$(find "$out/$cfg-$s" -name summary.ini)
    get() { sed -n "s/^$1 = //p" "$sum"; }
    ret=$(get episode_return_mean)
    printf '%-18s %4s %10.2f %10.2f %8.2f %10.0f\n' "$cfg" "$s" "$ret" \
      "$(get absolute_episode_return_mean)" "$(get wall_seconds)" "$(get steps_per_second)" |
      tee -a "$out/rows"
    runs=$((runs + 1))
    [ -n "$goal" ] && awk -v r="$ret" -v g="$goal" 'BEGIN{exit !(r >= g)}' && solved=$((solved + 1))
  done
  [ -n "$goal" ] && echo "$cfg: $solved of $runs seeds reach $goal; mean return $(awk -v c="$cfg" '$1 == c {s += $3; n++} END {printf "%.2f", s / n}' "$out/rows")"
done
