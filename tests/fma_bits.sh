#!/bin/sh
# The FMA=1 build (make FMA=1, build-fma/edgerl) trains to its own pinned bits: the CRC-32 of
# every tensor of the final checkpoint of short runs of five configs, hashed, must equal the
# line in tests/fma_hashes.txt, with 1 and with 2 threads. The hashes hold for the compiler and
# architecture named in that file's first line; elsewhere the check says so and is skipped
# (FMA contraction is the compiler's choice: another GCC may fuse other operations).
#   usage: tests/fma_bits.sh path/to/build-fma/edgerl [--pin]   (--pin rewrites the file)
set -eu
abspath() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
bin=$(abspath "$1")
here=$(cd "$(dirname "$0")" && pwd)
pins="$here/fma_hashes.txt"
"$bin" --version | grep -q 'FMA=1 build' || { echo "fma_bits: $bin is not an FMA=1 build"; exit 1; }
where="$(${CXX:-g++} --version | head -1) on $(uname -m)"
if [ "${2:-}" != --pin ]; then
  want=$(head -1 "$pins" | sed 's/^# //')
  if [ "$want" != "$where" ]; then
    echo "fma_bits: skipped: the hashes are pinned for $want, this is $where"
    exit 0
  fi
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/edgerl-fma-bits.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
O="arch.num_evaluation=2 logger.loggers.console.enabled=false
   logger.checkpointing.save_args.checkpoint_uid=run"
out="# $where"
for entry in "ppo_cartpole.ini|arch.total_timesteps=40960" "ppo_pendulum.ini|arch.total_timesteps=8192" \
  "dqn_cartpole.ini|arch.total_timesteps=40960 system.warmup_steps=2000" \
  "sac_pendulum.ini|arch.total_timesteps=3000" "td3_pendulum.ini|arch.total_timesteps=3000"; do
  cfg=${entry%%|*} extra=${entry#*|}
  for t in 1 2; do
    rm -rf r
    # shellcheck disable=SC2086
    "$bin" train --config builtin:$cfg $O $extra arch.num_threads=$t logger.base_exp_path=r > /dev/null 2>&1 ||
      { echo "fma_bits: $cfg: training failed"; exit 1; }
    f=$(find r/checkpoints -name 'step_000001.ckpt')
    h=$("$bin" ckpt inspect "$f" | awk '/^  name /{t=1; next} t && NF {print $1, $NF}' | cksum | cut -d' ' -f1)
    if [ $t = 1 ]; then h1=$h; elif [ "$h" != "$h1" ]; then
      echo "fma_bits: $cfg: 2 threads trained to other bits than 1"; exit 1
    fi
  done
  out="$out
$cfg $h1"
  if [ "${2:-}" != --pin ]; then
    grep -qx "$cfg $h1" "$pins" || { echo "fma_bits: $cfg: $h1, but tests/fma_hashes.txt pins $(grep "^$cfg " "$pins" | cut -d' ' -f2)"; exit 1; }
    echo "fma_bits: $cfg: the pinned bits, with 1 and 2 threads"
  fi
done
if [ "${2:-}" = --pin ]; then printf '%s\n' "$out" > "$pins"; cat "$pins"; fi
