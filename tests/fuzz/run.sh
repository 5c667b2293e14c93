#!/bin/sh
# Builds the two fuzzers with clang++-14 (libFuzzer, AddressSanitizer, UndefinedBehaviorSanitizer)
# and runs each for SECONDS (default $FUZZ_SECONDS, else 60):
#  - fuzz_ckpt_reader, the checkpoint reader, seeded with the valid checkpoint files that
#    make_seeds writes; its corpus grows in build-fuzz/corpus;
#  - fuzz_config, the config loader (INI text and overrides), seeded with configs/*.ini and a
#    few overrides; its corpus grows in build-fuzz/corpus-config;
#  - fuzz_logs, resuming over a run folder's damaged CSV and TensorBoard files, seeded with
#    whole and torn logs of a short run; its corpus grows in build-fuzz/corpus-logs.
# A crashing input is saved as build-fuzz/crash-*; the script fails when one is found.
#   usage: tests/fuzz/run.sh [SECONDS]
set -eu
secs=${1:-${FUZZ_SECONDS:-60}}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_BUILD:-$root/build-fuzz}
cxx=${FUZZ_CXX:-clang++-14}
if ! command -v "$cxx" > /dev/null 2>&1; then
  echo "fuzz: $cxx not found (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
mkdir -p "$out/corpus" "$out/seeds" "$out/corpus-config" "$out/seeds-config" "$out/corpus-logs" \
  "$out/seeds-logs"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
flags="-std=c++17 -O1 -g -fno-omit-frame-pointer -I$root/include -I$root/src $san"
lib="$root/src/core/text.cpp $root/src/io/io.cpp $root/src/ckpt/format.cpp $root/src/ckpt/export.cpp"
headers="$root/include/edgerl/io.hpp $root/include/edgerl/ckpt_format.hpp $root/include/edgerl/ckpt_export.hpp $root/include/edgerl/tensor.hpp"
jobs=$(nproc 2> /dev/null || echo 2)

# Rebuilds only when a source is newer than the binaries (make test calls this every time).
stale() {
  [ -x "$1" ] || return 0
  for f in $2; do [ "$f" -nt "$1" ] && return 0; done
  return 1
}
fuzzer=$out/fuzz_ckpt_reader
seeder=$out/make_seeds
if stale "$fuzzer" "$root/tests/fuzz/fuzz_ckpt_reader.cpp $lib $headers"; then
  echo "fuzz: building $fuzzer"
  $cxx $flags -fsanitize=fuzzer "$root/tests/fuzz/fuzz_ckpt_reader.cpp" $lib -lz -o "$fuzzer"
fi
if stale "$seeder" "$root/tests/fuzz/make_seeds.cpp $root/src/core/rng.cpp $lib $headers"; then
  $cxx $flags "$root/tests/fuzz/make_seeds.cpp" $lib "$root/src/core/rng.cpp" -lz -o "$seeder"
fi

# The config and log fuzzers link the whole library (the learners declare their own keys).
# Only the code under test is built with the sanitizers, and for coverage too (not the text
# helpers: the edit distances of "did you mean" would take most of the time); the rest is
# built plainly at -O0, which keeps the build short. All is rebuilt when any source changed.
config_fuzzer=$out/fuzz_config
logs_fuzzer=$out/fuzz_logs
if [ ! -x "$config_fuzzer" ] || [ ! -x "$logs_fuzzer" ] ||
  [ -n "$(find "$root/src" "$root/include" "$root/configs" "$root/tests/fuzz" \
    -newer "$config_fuzzer" -print 2> /dev/null | head -n 1)" ]; then
  echo "fuzz: building $config_fuzzer and $logs_fuzzer"
  rm -rf "$out/obj-config"
  mkdir -p "$out/obj-config" "$out/gen"
  "$root/tools/embed_configs.sh" "$out/gen/builtin_configs.inc" "$root"/configs/*.ini
  covered="src/config/config.cpp src/config/schema.cpp src/learners/registry.cpp
    src/log/logger.cpp src/log/csv.cpp src/log/files.cpp src/log/tensorboard.cpp
    src/log/tfevents.cpp"
  checked="src/core/text.cpp src/io/io.cpp src/log/console.cpp"
  covered=$(echo $covered)
  common="-std=c++17 -I$root/include -I$root/src -I$out/gen -DEDGERL_VERSION=\"fuzz\""
  export cxx common flags out root covered checked
  # One object per source, $(nproc) at a time.
  tr ' ' '\n' < "$root/src/sources.txt" | grep . | xargs -P "$jobs" -I {} sh -c '
    o="$out/obj-config/$(echo "{}" | tr / _).o"
    if echo " $covered " | grep -q " {} "; then
      $cxx $flags $common -fsanitize=fuzzer-no-link -c "$root/{}" -o "$o"
    elif echo " $checked " | grep -q " {} "; then
      $cxx $flags $common -c "$root/{}" -o "$o"
    else
      $cxx $common -O0 -c "$root/{}" -o "$o"
    fi' || { echo "fuzz: building the config and log fuzzers failed" >&2; exit 1; }
  for f in fuzz_config fuzz_logs; do
    $cxx $flags $common -fsanitize=fuzzer "$root/tests/fuzz/$f.cpp" "$out"/obj-config/*.o \
      -linih -lz -pthread -o "$out/$f.new"
  done
  mv "$out/fuzz_logs.new" "$logs_fuzzer"
  mv "$out/fuzz_config.new" "$config_fuzzer"  # last: its time stamps the build
fi
cp "$root"/configs/*.ini "$out/seeds-config/"
# INI text, then overrides, separated by NUL bytes.
printf '[arch]\nseed = 3\n\000system.system_name=ff_sac\000arch.num_envs=4\000network.q_network.layer_sizes=32,32' \
  > "$out/seeds-config/overrides_1"
printf 'base = td3_pendulum.ini\n[system]\ntau = 0.01\n\000system.policy_frequency=3\000logger.checkpointing.save_args.max_to_keep=2' \
  > "$out/seeds-config/overrides_2"
printf 'base = dqn_cartpole.ini\n\000system.system_name=ff_ppo\000env.scenario.name=Acrobot-v1\000arch.total_timesteps=1e6' \
  > "$out/seeds-config/overrides_3"

"$seeder" "$out/seeds"
# run NAME BINARY MAX_LEN CORPUS SEEDS
run() {
  echo "fuzz: running $1 for $secs s"
  status=0
  EDGERL_FUZZ_SEEDS="$5" "$2" -max_total_time="$secs" -max_len="$3" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/" -print_final_stats=1 "$4" "$5" > "$out/$1.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$out/$1.log"
    echo "fuzz: $1 FAILED (exit $status); log in $out/$1.log, input saved as $out/crash-*" >&2
    exit 1
  fi
  grep -E '^(Done|stat::(number_of_executed_units|new_units_added|peak_rss_mb))' "$out/$1.log"
}
run fuzz_ckpt_reader "$fuzzer" 16384 "$out/corpus" "$out/seeds"
run fuzz_config "$config_fuzzer" 8192 "$out/corpus-config" "$out/seeds-config"
# Its run folders in memory where there is a tmpfs (every log write is fsynced).
shm=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && shm=/dev/shm
TMPDIR=$shm run fuzz_logs "$logs_fuzzer" 16384 "$out/corpus-logs" "$out/seeds-logs"
echo "fuzz: ok"
