#!/bin/sh
# Two builds of edgerl (e.g. -march=native and PORTABLE=1: AVX-512 vs SSE2; x86-64 and aarch64
# under qemu) must train to the same bits: every tensor of the final checkpoint (by CRC-32)
# and every logged number. Then the second build resumes the first one's run from its first
# checkpoint and must end on the same bits again (a checkpoint written by one build continues
# on the other).
#   usage: tests/same_bits.sh path/to/edgerl path/to/other/edgerl
#   SAME_BITS_STEPS   timesteps per run (default 40960; make test's qemu checks use fewer)
#   SAME_BITS_OFFPOLICY_STEPS   the same for SAC, TD3 and DDPG (default 3000)
#   SAME_BITS_EXTRA   more overrides for every run (the qemu checks evaluate less)
#   SAME_BITS_A, SAME_BITS_B   more overrides for the first / the second build's runs only:
#                     make same-bits trains one build with arch.num_threads=1 and the other
#                     with 2, so the thread count is checked along with the builds
set -eu
abspath() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
a=$(abspath "$1") b=$(abspath "$2")
steps=${SAME_BITS_STEPS:-40960}
work=$(mktemp -d "${TMPDIR:-/tmp}/edgerl-same-bits.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
O="arch.total_timesteps=$steps arch.num_evaluation=2 logger.loggers.console.enabled=false
   logger.checkpointing.save_args.checkpoint_uid=run logger.checkpointing.save_args.max_to_keep=2 ${SAME_BITS_EXTRA:-}"
crcs() { "$a" ckpt inspect "$1" | awk '/^  name /{t=1; next} t && NF {print $1, $NF}'; }
# same_run DIR1 DIR2 WHAT: the final checkpoints' tensors and the logs (without the wall-clock
# column) of two run trees are equal.
same_run() {
  f=$(cd "$1" && find checkpoints -name 'step_000001.ckpt')
  [ -n "$f" ] || { echo "same_bits: $cfg: $1 wrote no final checkpoint"; exit 1; }
  crcs "$1/$f" > 1.crc
  crcs "$2/$f" > 2.crc
  if ! cmp -s 1.crc 2.crc; then
    echo "same_bits: $cfg: $3 trained to different tensors:"
    diff 1.crc 2.crc | head
    exit 1
  fi
  for csv in $(cd "$1" && find . -name 'eval.csv' -o -name 'train.csv' -o -name 'absolute.csv'); do
    sed 's/,[^,]*$//' "$1/$csv" > 1.csv
    sed 's/,[^,]*$//' "$2/$csv" > 2.csv
    cmp -s 1.csv 2.csv || { echo "same_bits: $cfg: $3: $csv differs"; exit 1; }
  done
}
# config|extra overrides (DQN's warm-up shortened so that short runs still learn)
# (Acrobot: its RK4 integrator turns any 1-ulp difference of sin/cos into other training.)
# The off-policy learners do one gradient step per environment step: SAME_BITS_OFFPOLICY_STEPS
# (default 3000) are enough to differ.
off=${SAME_BITS_OFFPOLICY_STEPS:-3000}
# PPO Pendulum collects 4096 steps per update: at least two updates.
pend=$((steps > 8192 ? steps : 8192))
for entry in "ppo_cartpole.ini|" "ppo_pendulum.ini|arch.total_timesteps=$pend" "dqn_cartpole.ini|system.warmup_steps=2000" \
  "ppo_acrobot.ini|" "sac_pendulum.ini|arch.total_timesteps=$off" \
  "td3_pendulum.ini|arch.total_timesteps=$off" "ddpg_pendulum.ini|arch.total_timesteps=$off"; do
  cfg=${entry%%|*} extra=${entry#*|}
  # shellcheck disable=SC2086
  "$a" train --config builtin:$cfg $O $extra ${SAME_BITS_A:-} logger.base_exp_path=a > /dev/null 2>&1
  # shellcheck disable=SC2086
  "$b" train --config builtin:$cfg $O $extra ${SAME_BITS_B:-} logger.base_exp_path=b > /dev/null 2>&1
  same_run a b "the two builds"
  # The first build's run cut back to its first checkpoint, resumed by the second build.
  cp -r a c
  find c -name 'step_000001.ckpt' -delete
  find c -name 'summary.ini' -delete
  # shellcheck disable=SC2086
  if ! "$b" train --config builtin:$cfg $O $extra ${SAME_BITS_B:-} logger.base_exp_path=c --resume > resume.log 2>&1; then
    tail -3 resume.log
    echo "same_bits: $cfg: the second build could not resume the first one's checkpoint"
    exit 1
  fi
  grep -q 'resumed from' resume.log || { echo "same_bits: $cfg: the second build did not resume"; exit 1; }
  same_run a c "a run resumed by the other build"
  rm -rf a b c
  echo "same_bits: $cfg: identical tensors and logs, also when resumed across the builds${SAME_BITS_B:+ ($SAME_BITS_A / $SAME_BITS_B)}"
done
