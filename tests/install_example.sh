#!/bin/sh
# examples/run_policy.cpp, built the way a program on a board builds against an installed
# edgerl (pkg-config), then run on a checkpoint the installed binary trains.
#   usage: tests/install_example.sh PREFIX [CXX]
set -eu
prefix=$1 cxx=${2:-c++}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/edgerl-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/$($cxx -dumpmachine)/pkgconfig"
pkg-config --exists edgerl || { echo "install-test: pkg-config finds no edgerl in $prefix"; exit 1; }
# shellcheck disable=SC2046
$cxx -std=c++17 -O2 "$here/examples/run_policy.cpp" $(pkg-config --cflags --libs edgerl) \
  -o "$work/run_policy" || { echo "install-test: the example does not build against $prefix"; exit 1; }
cd "$work"
"$prefix/bin/edgerl" train arch.total_timesteps=40960 arch.num_evaluation=2 \
  logger.loggers.console.enabled=false logger.base_exp_path=r \
  logger.checkpointing.save_args.checkpoint_uid=run > /dev/null
out=$(./run_policy r/checkpoints/ff_ppo/run/step_000001.ckpt) || { echo "install-test: run_policy failed"; exit 1; }
echo "$out" | grep -q '^CartPole-v1: return [0-9]' || { echo "install-test: unexpected output: $out"; exit 1; }
echo "install-test: $out"
