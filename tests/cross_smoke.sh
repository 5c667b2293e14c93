#!/bin/sh
# make test's cross check: for aarch64 and armhf, when Debian's cross toolchain, its inih and
# zlib and qemu-user are installed (make deps installs them on x86-64), the static cross
# binary (make cross) fits the size budget (tests/size_budget.sh), trains short runs of every
# same-bits config to the bits of this machine's build, and resumes this machine's checkpoints
# to the same end (tests/same_bits.sh through qemu). A missing toolchain is one "skipped" line, never a failure. The whole unit
# suite under qemu is make test-cross (too slow for make test).
#   usage: tests/cross_smoke.sh path/to/native/edgerl
set -u
native=$1
status=0
for arch in aarch64 armhf; do
  case $arch in
    aarch64) triple=aarch64-linux-gnu qemu=qemu-aarch64-static ;;
    armhf) triple=arm-linux-gnueabihf qemu=qemu-arm-static ;;
  esac
  if ! command -v "$triple-g++" > /dev/null 2>&1 || ! command -v "$qemu" > /dev/null 2>&1 ||
     [ ! -e "/usr/lib/$triple/libinih.a" ] || [ ! -e "/usr/lib/$triple/libz.a" ]; then
    echo "cross_smoke: $arch skipped: $triple-g++, $qemu or its libinih/zlib is missing (make deps-cross ARCH=$arch)"
    continue
  fi
  start=$(date +%s)
  mkdir -p "build-$arch"
  if ! make --no-print-directory cross ARCH=$arch > "build-$arch/cross.log" 2>&1; then
    tail -20 "build-$arch/cross.log"
    echo "cross_smoke: $arch: the build failed (log: build-$arch/cross.log)"
    status=1
    continue
  fi
  built=$(date +%s)
  if ! tests/size_budget.sh "build-$arch/edgerl-static"; then
    status=1
    continue
  fi
  if ! SAME_BITS_STEPS=4096 SAME_BITS_OFFPOLICY_STEPS=200 \
    SAME_BITS_EXTRA="arch.absolute_metric=false arch.num_eval_episodes=8" tests/same_bits.sh "$native" "build-$arch/edgerl-qemu"; then
    echo "cross_smoke: $arch: trains to other bits than this machine"
    status=1
    continue
  fi
  echo "cross_smoke: $arch: $(stat -c %s "build-$arch/edgerl-static") bytes static, same bits and" \
    "cross-build resume under qemu (build $((built - start)) s, runs $(($(date +%s) - built)) s)"
done
exit $status
