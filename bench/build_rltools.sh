#!/bin/sh
# Builds the RLtools programs bench/vs_rltools.sh times: RLtools' own PPO, SAC and TD3
# Pendulum-v1 examples, each with OpenBLAS and without BLAS, with g++ -O3 -march=native.
#   usage: bench/build_rltools.sh RLTOOLS_CHECKOUT OUT_DIR
# RLTOOLS_CHECKOUT is a checkout of github.com/rl-tools/rl-tools (docs/benchmarks.md names the
# commit measured); OUT_DIR receives ppo_openblas, ppo_noblas, sac_openblas, sac_noblas,
# td3_openblas and td3_noblas.
# Needs libopenblas-dev (apt-get install libopenblas-dev) for the OpenBLAS pair; without it
# only the no-BLAS pair is built. Exit status: 0 built, 2 bad arguments, 1 a build failed.
set -eu
src=${1:-}
out=${2:-}
if [ -z "$src" ] || [ -z "$out" ] || [ ! -d "$src/include/rl_tools" ]; then
  echo "usage: bench/build_rltools.sh RLTOOLS_CHECKOUT OUT_DIR (the checkout holds include/rl_tools)" >&2
  exit 2
fi
mkdir -p "$out"
cxx=${CXX:-g++}
flags="-std=c++17 -O3 -march=native -I$src/include -DRL_TOOLS_DISABLE_HDF5 -DRL_TOOLS_DISABLE_TENSORBOARD"
ppo=$src/src/rl/environments/pendulum/ppo/cpu/training.cpp
sac=$src/src/rl/environments/pendulum/sac/cpu/training.cpp
td3=$src/src/rl/environments/pendulum/td3/cpu/standalone.cpp
blas=
if [ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ] ||
  ls /usr/include/*/cblas.h > /dev/null 2>&1; then
  blas=yes
fi
for algo in ppo sac td3; do
  eval file=\$$algo
  echo "building ${algo}_noblas"
  # shellcheck disable=SC2086
  $cxx $flags -DRL_TOOLS_BACKEND_DISABLE_BLAS "$file" -o "$out/${algo}_noblas" -pthread
  if [ -n "$blas" ]; then
    echo "building ${algo}_openblas"
    # shellcheck disable=SC2086
    $cxx $flags -DRL_TOOLS_BACKEND_ENABLE_OPENBLAS -DRL_TOOLS_BACKEND_ENABLE_BLAS "$file" \
      -o "$out/${algo}_openblas" -lopenblas -pthread
  fi
done
[ -n "$blas" ] || echo "no cblas.h: the OpenBLAS builds were skipped (apt-get install libopenblas-dev)" >&2
echo "built in $out"
