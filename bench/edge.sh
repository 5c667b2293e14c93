#!/bin/sh
# The figures of docs/edge.md for this machine: binary sizes (dynamic, static and every cross
# build present), peak resident memory of the default PPO CartPole run and of PPO Pendulum
# (summary.ini's peak_resident_kib, getrusage), for the dynamic and the static binary, and the
# C header's flash size for the default policy.
#   usage: bench/edge.sh [path/to/edgerl] [path/to/edgerl-static]
set -eu
bin=${1:-build/edgerl}
static=${2:-build/edgerl-static}
out=$(mktemp -d "${TMPDIR:-/tmp}/edgerl-edge.XXXXXX")
trap 'rm -rf "$out"' EXIT
echo "binary sizes (bytes):"
for f in "$bin" "$static" build-aarch64/edgerl-static build-armhf/edgerl-static build-riscv64/edgerl-static; do
  [ -e "$f" ] && printf '  %-30s %9s\n' "$f" "$(stat -c %s "$f")"
done
echo "peak resident memory (KiB), whole runs with their checkpoints and logs:"
for b in "$bin" "$static"; do
  [ -x "$b" ] || continue
  for cfg in ppo_cartpole.ini ppo_pendulum.ini; do
    dir="$out/$(basename "$b")-$cfg"
    "$b" train --config "builtin:$cfg" logger.base_exp_path="$dir" \
      logger.loggers.console.enabled=false > /dev/null 2>&1
    printf '  %-30s %-18s %8s\n' "$b" "$cfg" "$(sed -n 's/^peak_resident_kib = //p' "$(find "$dir" -name summary.ini)")"
  done
done
ckpt=$(find "$out/$(basename "$bin")-ppo_cartpole.ini" -name 'step_*.ckpt' | sort | tail -1)
"$bin" export "$ckpt" --format c -o "$out/policy.h" > /dev/null
printf '#include "policy.h"\nvoid act(const float* o, float* a) { edgerl_policy_act(o, a); }\n' > "$out/size.c"
for cc in gcc aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc; do
  command -v $cc > /dev/null 2>&1 || continue
  $cc -std=c99 -Os -c -I"$out" -o "$out/size.o" "$out/size.c"
  echo "C header of the default policy (PPO CartPole 4-64-64-2), $cc -Os: $(size "$out/size.o" | awk 'NR == 2 {print $1 " bytes of code and constants, " $2 " of data"}')"
done
