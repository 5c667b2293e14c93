#!/bin/sh
# Two builds of edgerl (e.g. -march=native and PORTABLE=1: AVX-512 vs SSE2 here) must train to
# the same bits: every tensor of the final checkpoint (by CRC-32) and every logged number.
#   usage: tests/same_bits.sh path/to/edgerl path/to/other/edgerl
set -eu
abspath() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
a=$(abspath "$1") b=$(abspath "$2")
work=$(mktemp -d "${TMPDIR:-/tmp}/edgerl-same-bits.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
O="arch.total_timesteps=40960 arch.num_evaluation=2 logger.loggers.console.enabled=false
   logger.checkpointing.save_args.checkpoint_uid=run"
crcs() { "$a" ckpt inspect "$1" | awk '/^  name /{t=1; next} t && NF {print $1, $NF}'; }
for cfg in ppo_cartpole.ini ppo_pendulum.ini dqn_cartpole.ini sac_pendulum.ini td3_pendulum.ini \
  ddpg_pendulum.ini; do
  # The off-policy continuous learners: 3000 steps (2900 gradient steps) are enough to differ.
  case $cfg in
    sac_* | td3_* | ddpg_*) extra="arch.total_timesteps=3000" ;;
    *) extra="" ;;
  esac
  # shellcheck disable=SC2086
  "$a" train --config builtin:$cfg $O $extra logger.base_exp_path=a > /dev/null 2>&1
  # shellcheck disable=SC2086
  "$b" train --config builtin:$cfg $O $extra logger.base_exp_path=b > /dev/null 2>&1
  f=$(cd a && find checkpoints -name 'step_000001.ckpt')
  [ -n "$f" ] || { echo "same_bits: $cfg wrote no checkpoint"; exit 1; }
  crcs "a/$f" > a.crc
  crcs "b/$f" > b.crc
  if ! cmp -s a.crc b.crc; then
    echo "same_bits: $cfg: the two builds trained to different tensors:"
    diff a.crc b.crc | head
    exit 1
  fi
  for csv in $(cd a && find . -name 'eval.csv' -o -name 'train.csv'); do
    sed 's/,[^,]*$//' "a/$csv" > a.csv
    sed 's/,[^,]*$//' "b/$csv" > b.csv
    cmp -s a.csv b.csv || { echo "same_bits: $cfg: $csv differs"; exit 1; }
  done
  rm -rf a b
  echo "same_bits: $cfg: identical tensors and logs"
done
