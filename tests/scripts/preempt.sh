# Preemption: each system (PPO discrete and continuous, DQN, SAC, TD3) trains once
# uninterrupted (A), and once (B) under a schedule of random SIGTERMs and SIGKILLs, restarted
# every time with the same `--resume auto` command line, as a cluster scheduler would requeue
# it. B must end with A's tensors (every one, by CRC-32) and A's log rows (but for wall-clock
# and speed columns), with every checkpoint on disk verifying and no temporary file left. One
# config has a large network, so that kills also land inside its saves. PREEMPT_SEED fixes the
# schedule (it is printed); PREEMPT_KILLS the kills per run. The kills' delays are drawn from a
# system's [lo, hi) seconds, shrunk on a machine fast enough to finish the whole run in less
# than 4 hi (to [lo, hi) times its duration over 4 hi), so that they land inside the run there
# too.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"

seed=${PREEMPT_SEED:-$(date +%s)}
kills_per_run=${PREEMPT_KILLS:-13}
echo "preempt: schedule seed $seed, $kills_per_run kills per run"

# uniform DELAY in [lo, hi) seconds and a kill signal (TERM or KILL), from the schedule's stream.
draw() {
  awk -v s="$1" -v lo="$2" -v hi="$3" 'BEGIN { srand(s); d = lo + (hi - lo) * rand();
    printf "%.3f %s\n", d, (rand() < 0.5 ? "TERM" : "KILL") }'
}

tensor_crcs() { $EDGERL ckpt inspect "$1" | awk '/^  name /{t=1; next} t && NF {print $1, $NF}'; }
strip_wall() { sed 's/,[^,]*$//' "$1"; }

total_kills=0
n=0
check_system() {  # NAME CONFIG LO HI OVERRIDES...
  name=$1 cfg=$2 lo=$3 hi=$4
  shift 4
  rm -rf "A_$name" "B_$name"
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  $EDGERL train --config "builtin:$cfg" "$@" logger.base_exp_path="A_$name" > "A_$name.log" 2>&1 ||
    fail "$name: the uninterrupted run failed: $(tail -3 "A_$name.log")"
  took=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  read -r lo hi << EOF
$(awk -v lo="$lo" -v hi="$hi" -v d="$took" 'BEGIN { f = d < 4 * hi ? d / (4 * hi) : 1;
  printf "%.4f %.4f\n", lo * f, hi * f }')
EOF
  kills=0 runs=0
  while :; do
    runs=$((runs + 1))
    [ $runs -le 200 ] || fail "$name: did not finish in 200 restarts"
    $EDGERL train --config "builtin:$cfg" --resume auto "$@" logger.base_exp_path="B_$name" \
      >> "B_$name.log" 2>&1 &
    pid=$!
    if [ $kills -lt "$kills_per_run" ]; then
      n=$((n + 1))
      read -r delay sig << EOF
$(draw $((seed + n)) "$lo" "$hi")
EOF
      sleep "$delay"
      kill -s "$sig" $pid 2> /dev/null && kills=$((kills + 1))
    fi
    set +e
    wait $pid 2> /dev/null  # no "Killed" line from the shell
    status=$?
    set -e
    case $status in
      0) break ;;            # finished (or found finished)
      75 | 137 | 143) ;;     # stopped by SIGTERM and saved, or killed
      *) fail "$name: exit status $status after $kills kills: $(tail -3 "B_$name.log")" ;;
    esac
  done
  total_kills=$((total_kills + kills))
  model=$(cd "A_$name/checkpoints" && ls)
  last=$(cd "A_$name/checkpoints/$model/run" && ls step_*.ckpt | tail -1)
  tensor_crcs "A_$name/checkpoints/$model/run/$last" > a.crc
  tensor_crcs "B_$name/checkpoints/$model/run/$last" > b.crc
  [ -s a.crc ] || fail "$name: no tensors in $last"
  cmp -s a.crc b.crc || { diff a.crc b.crc | head -5; fail "$name: the preempted run ended with other tensors"; }
  logs=$(cd "A_$name" && find . -name eval.csv -exec dirname {} \;)
  for f in eval train act absolute; do
    [ -e "A_$name/$logs/$f.csv" ] || continue
    strip_wall "A_$name/$logs/$f.csv" > a.csv
    strip_wall "B_$name/$logs/$f.csv" > b.csv
    cmp -s a.csv b.csv || { diff a.csv b.csv | head -5; fail "$name: $f.csv differs after preemption"; }
  done
  $EDGERL ckpt verify "B_$name/checkpoints/$model/run/"*.ckpt > /dev/null ||
    fail "$name: a checkpoint left by the kills does not verify"
  [ -z "$(find "B_$name" -name '*.tmp')" ] || fail "$name: a temporary file was left: $(find "B_$name" -name '*.tmp')"
  grep -q 'status = finished' "B_$name/$logs/summary.ini" || fail "$name: no finished summary"
  echo "preempt: $name: $kills kills over $runs starts, same tensors and logs"
}

Q="logger.loggers.console.enabled=false logger.checkpointing.save_args.checkpoint_uid=run
   logger.checkpointing.save_args.max_to_keep=2"
# shellcheck disable=SC2086
check_system ppo ppo_cartpole.ini 0.03 0.25 $Q arch.total_timesteps=122880 arch.num_evaluation=8
# shellcheck disable=SC2086
check_system ppo_continuous ppo_pendulum.ini 0.02 0.12 $Q arch.total_timesteps=196608 arch.num_evaluation=12
# shellcheck disable=SC2086
check_system dqn dqn_cartpole.ini 0.03 0.25 $Q arch.total_timesteps=50000 arch.num_evaluation=5 \
  system.warmup_steps=2000
# The continuous off-policy learners: their replay buffers, random streams, twin critics with
# targets and SAC's temperature resume exactly, whether a kill lands inside an interval or a
# save.
# shellcheck disable=SC2086
check_system sac sac_pendulum.ini 0.03 0.25 $Q arch.total_timesteps=5000 arch.num_evaluation=10
# shellcheck disable=SC2086
check_system td3 td3_pendulum.ini 0.03 0.25 $Q arch.total_timesteps=5000 arch.num_evaluation=10
# A larger network (2 x 67k parameters, 1.6 MB of state, saved at every evaluation): kills
# land inside its saves too.
# shellcheck disable=SC2086
check_system ppo_large ppo_cartpole.ini 0.03 0.3 $Q arch.total_timesteps=20480 arch.num_evaluation=20 \
  network.actor_network.layer_sizes=256,256 network.critic_network.layer_sizes=256,256
# A run that finished before its kills (a fast machine) leaves the count short: more rounds.
round=0
while [ $total_kills -lt 50 ] && [ $round -lt 3 ]; do
  round=$((round + 1))
  # shellcheck disable=SC2086
  check_system "ppo_round$round" ppo_cartpole.ini 0.02 0.15 $Q arch.total_timesteps=163840 \
    arch.num_evaluation=16
done
echo "preempt: $total_kills kills in all"
[ $total_kills -ge 50 ] || fail "only $total_kills kills (at least 50 wanted)"
