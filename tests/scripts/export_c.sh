# The C header a microcontroller gets (`edgerl export FILE --format c`): it compiles as strict
# C99 with every warning an error, and on the observations of real episodes (`edgerl eval
# --trace`) it gives exactly the actions edgerl's policy gave, for a discrete tanh policy
# (PPO CartPole), a continuous policy with observation normalisation and ReLU (PPO Pendulum),
# a Q-network (DQN) and the tanh actors of SAC (its mean columns), TD3 and DDPG scaled to the
# Box. With the aarch64 cross compiler and qemu present it is checked there
# too.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"

CC=${CC:-gcc}
command -v "$CC" > /dev/null || fail "$CC is needed to compile the exported header"

# check.c: reads a trace (episode,t,obs...,action...,reward,terminated,truncated) and counts the
# steps whose action the header computes differently.
cat > check.c << 'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy.h"
int main(int argc, char** argv) {
  FILE* f = fopen(argv[1], "r");
  char line[4096];
  long rows = 0, wrong = 0, limit = argc > 2 ? atol(argv[2]) : 1000000;
  if (!f || !fgets(line, sizeof line, f)) return 2;
  while (rows < limit && fgets(line, sizeof line, f)) {
    float obs[EDGERL_POLICY_OBS_DIM], want[EDGERL_POLICY_ACTION_DIM], got[EDGERL_POLICY_ACTION_DIM];
    char* p = line;
    int j;
    strtol(p, &p, 10), ++p;
    strtol(p, &p, 10), ++p;
    for (j = 0; j < EDGERL_POLICY_OBS_DIM; ++j) obs[j] = strtof(p, &p), ++p;
    for (j = 0; j < EDGERL_POLICY_ACTION_DIM; ++j) want[j] = strtof(p, &p), ++p;
    edgerl_policy_act(obs, got);
    for (j = 0; j < EDGERL_POLICY_ACTION_DIM; ++j)
      if (memcmp(&got[j], &want[j], sizeof(float)) != 0) {
        if (wrong < 3) fprintf(stderr, "row %ld: action %.9g, edgerl %.9g\n", rows, got[j], want[j]);
        ++wrong;
      }
    ++rows;
  }
  printf("%ld rows, %ld different\n", rows, wrong);
  return rows >= 1000 && wrong == 0 ? 0 : 1;
}
EOF

O="logger.loggers.console.enabled=false logger.checkpointing.save_args.checkpoint_uid=run"
for case in "ppo_cartpole.ini arch.total_timesteps=40960 arch.num_evaluation=2 8" \
            "ppo_pendulum.ini arch.total_timesteps=49152 arch.num_evaluation=2 8" \
            "dqn_cartpole.ini arch.total_timesteps=30000 arch.num_evaluation=2 150" \
            "sac_pendulum.ini arch.total_timesteps=3000 arch.num_evaluation=2 8" \
            "td3_pendulum.ini arch.total_timesteps=3000 arch.num_evaluation=2 8" \
            "ddpg_pendulum.ini arch.total_timesteps=3000 arch.num_evaluation=2 8"; do
  # shellcheck disable=SC2086
  set -- $case
  cfg=$1 episodes=$4
  name=${cfg%.ini}
  # shellcheck disable=SC2086
  $EDGERL train --config "builtin:$cfg" $O "$2" "$3" logger.base_exp_path="$name" > /dev/null 2>&1 ||
    fail "$name: training failed"
  ckpt=$(find "$name/checkpoints" -name 'step_*.ckpt' | sort | tail -1)
  # The checkpoint's policy, then the run's best policy stored in it (--best).
  # shellcheck disable=SC2086
  for which in "" --best; do
    $EDGERL export "$ckpt" --format c $which -o policy.h > /dev/null || fail "$name: export --format c $which"
    $EDGERL eval "$ckpt" $which --episodes "$episodes" --trace trace.csv > /dev/null ||
      fail "$name: eval $which --trace"
    $CC -std=c99 -Wall -Wextra -Werror -pedantic -O2 -o check check.c || fail "$name: the header does not compile cleanly"
    ./check trace.csv > out.txt 2> err.txt || fail "$name $which: $(cat out.txt) $(cat err.txt)"
    echo "export_c: $name${which:+ $which}: $(cat out.txt) (x86-64, gcc -std=c99 -pedantic -Werror)"
    [ -z "$which" ] || continue
    if command -v aarch64-linux-gnu-gcc > /dev/null && command -v qemu-aarch64-static > /dev/null; then
      aarch64-linux-gnu-gcc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -static -o check-a64 check.c ||
        fail "$name: the header does not compile for aarch64"
      qemu-aarch64-static ./check-a64 trace.csv > out.txt 2> err.txt || fail "$name aarch64: $(cat out.txt) $(cat err.txt)"
      echo "export_c: $name: $(cat out.txt) (aarch64 under qemu)"
    fi
  done
done
# The default policy's flash size: its code and constants, compiled for the board.
printf '#include "policy.h"\nvoid act(const float* o, float* a) { edgerl_policy_act(o, a); }\n' > size.c
$EDGERL export "$(find ppo_cartpole/checkpoints -name 'step_*.ckpt' | sort | tail -1)" --format c -o policy.h > /dev/null
$CC -std=c99 -Os -c -o size.o size.c
echo "export_c: default policy (PPO CartPole 4-64-64-2) header compiled -Os: $(size size.o | awk 'NR == 2 {print $1 " bytes of code, " $2 " of data"}')"
