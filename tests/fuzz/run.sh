#!/bin/sh
# Builds the checkpoint-reader fuzzer with clang++-14 (libFuzzer, AddressSanitizer,
# UndefinedBehaviorSanitizer) and runs it for SECONDS (default $FUZZ_SECONDS, else 60), seeded
# with valid checkpoint files that make_seeds writes. The corpus grows in build-fuzz/corpus and
# a crashing input is saved as build-fuzz/crash-*; the script fails when one is found.
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
mkdir -p "$out/corpus" "$out/seeds"
flags="-std=c++17 -O1 -g -fno-omit-frame-pointer -I$root/include -I$root/src -fsanitize=address,undefined -fno-sanitize-recover=all"
lib="$root/src/core/text.cpp $root/src/io/io.cpp $root/src/ckpt/format.cpp $root/src/ckpt/export.cpp"
headers="$root/include/edgerl/io.hpp $root/include/edgerl/ckpt_format.hpp $root/include/edgerl/ckpt_export.hpp $root/include/edgerl/tensor.hpp"

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
"$seeder" "$out/seeds"
echo "fuzz: running for $secs s"
status=0
"$fuzzer" -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$out/" -print_final_stats=1 "$out/corpus" "$out/seeds" > "$out/fuzz.log" 2>&1 \
  || status=$?
if [ "$status" -ne 0 ]; then
  tail -n 60 "$out/fuzz.log"
  echo "fuzz: FAILED (exit $status); log in $out/fuzz.log, input saved as $out/crash-*" >&2
  exit 1
fi
grep -E '^(Done|stat::(number_of_executed_units|new_units_added|peak_rss_mb))' "$out/fuzz.log"
echo "fuzz: ok"
