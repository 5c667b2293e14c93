# A sweep on a real Slurm: a private single-node cluster on localhost (tests/slurm/, Debian's
# slurm-wlm and munge, no systemd) runs the sbatch array script `edgerl sweep --slurm` writes.
# While the 4 tasks train, two are requeued with `scontrol requeue` and one is stopped by the
# time limit's --signal: it is due a second after a task starts, but slurmctld sends it only at
# its time-limit check, every 31 s from its start (PERIODIC_TIMEOUT, not configurable). So the
# array is submitted held and task 0, the longest, is released 5 s before the first
# check (give or take a second: uptime counts whole seconds). It trains 4M steps, at least
# 9 s where PPO CartPole runs 430k steps/s on one thread (2M took 4.8 s on a fast Zen 5
# window and finished before the check), so the check finds it running; it saves, exits 75
# and requeues itself. Every task must end COMPLETED with the tensors of the same run trained here,
# uninterrupted (those reference runs train meanwhile, on the cores the held task leaves free).
# Skipped, with one line, where Slurm is not installed (make deps installs it) or this is not
# root.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"

for c in sbatch squeue scontrol slurmctld slurmd munged; do
  command -v "$c" > /dev/null 2>&1 || { echo "sweep_slurm: skipped: $c is not installed (make deps installs slurm-wlm and munge)"; exit 0; }
done
[ "$(id -u)" = 0 ] || { echo "sweep_slurm: skipped: a private slurmd needs root"; exit 0; }

cat > body.sh << 'EOF'
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"
O="arch.num_evaluation=20 arch.num_eval_episodes=4 arch.absolute_metric=false
   logger.loggers.console.enabled=false logger.loggers.tensorboard.enabled=false"
GRID="arch.total_timesteps=4096000,819200"
# shellcheck disable=SC2086
# slurmctld's first time-limit check: 31 s after it started (its start, in seconds since boot).
ctld=$(cat "$(dirname "$SLURM_CONF")/run/slurmctld.pid")
check_at=$(awk -v hz="$(getconf CLK_TCK)" '{print int($22 / hz) + 31}' "/proc/$ctld/stat")
uptime_s() { awk '{print int($1)}' /proc/uptime; }
# shellcheck disable=SC2086
$EDGERL sweep --config builtin:ppo_cartpole.ini --seeds 1-2 $GRID $O --out sw \
  --slurm --time 1 --signal-grace 59 --sbatch-arg=--hold --submit > submit.txt ||
  fail "submit: $(cat submit.txt)"
job=$(sed -n 's/^submitted job //p' submit.txt)
[ -n "$job" ] || fail "no job id: $(cat submit.txt)"
grep -q -- '--requeue' sw/sweep.sbatch && grep -q -- '--signal=B:USR1@59' sw/sweep.sbatch &&
  grep -q -- '--open-mode=append' sw/sweep.sbatch || fail "the script lacks its #SBATCH lines"
for t in 1 2 3; do scontrol release "${job}_$t" || fail "scontrol release ${job}_$t"; done

# The same runs, uninterrupted, trained here meanwhile.
# shellcheck disable=SC2086
$EDGERL sweep --config builtin:ppo_cartpole.ini --seeds 1-2 $GRID $O --out alone -j 1 \
  > alone.txt 2>&1 &
alone=$!
trap 'kill $alone 2> /dev/null || true' EXIT

# Requeue tasks 1 and 2 while they train (once each has a checkpoint); a task that finished
# first is left alone.
requeued=0
todo="1:total_timesteps=4096000,seed=2 2:total_timesteps=819200,seed=1"
i=0
while [ -n "$todo" ]; do
  left=""
  for t in $todo; do
    n=${t%%:*} run=${t#*:}
    state=$(squeue -h -j "${job}_$n" -o %T 2> /dev/null || true)
    if [ -z "$state" ]; then
      continue
    elif [ "$state" = RUNNING ] && ls "sw/checkpoints/ff_ppo/$run/"step_*.ckpt > /dev/null 2>&1 &&
      scontrol requeue "${job}_$n"; then
      requeued=$((requeued + 1))
      echo "sweep_slurm: requeued ${job}_$n while it trained"
    else
      left="$left $t"
    fi
  done
  todo=$left
  [ -z "$todo" ] || sleep 0.2
  i=$((i + 1))
  [ $i -lt 900 ] || fail "tasks$todo neither saved a checkpoint nor finished in 3 minutes"
done
[ $requeued -ge 1 ] || fail "no task could be requeued while it ran"

# Task 0 starts 5 s before the first time-limit check (or later, once a core is free: then the
# tasks on the cores are the ones the check finds).
while [ "$(uptime_s)" -lt $((check_at - 5)) ]; do sleep 0.2; done
scontrol release "${job}_0" || fail "scontrol release ${job}_0"

# Wait for the whole array.
i=0
while [ -n "$(squeue -h -j "$job" 2> /dev/null)" ]; do
  sleep 1
  i=$((i + 1))
  [ $i -lt 300 ] || fail "the array did not finish in 5 minutes: $(squeue -j "$job")"
done
$EDGERL sweep status sw > status.txt
grep -q '4 runs: 4 done' status.txt || fail "not every task finished: $(cat status.txt)"
cat sw/logs/slurm-*.out > slurm.out
grep -q 'stopped before the time limit; requeueing' slurm.out ||
  { tail -20 slurm.out; fail "no task was stopped by the time limit's signal (slurm.out above)"; }
n=$(grep -c 'stopped before the time limit' slurm.out || true)
echo "sweep_slurm: $n stops at the time limit's signal, each requeued and resumed"

# Every task equals the same run trained here without interruption.
wait $alone || { tail -5 alone.txt; fail "the local reference sweep failed (output above)"; }
crcs() { $EDGERL ckpt inspect "$1" | awk '/^  name /{t=1; next} t && NF {print $1, $NF}'; }
for d in sw/checkpoints/ff_ppo/*; do
  id=$(basename "$d")
  crcs "$d/step_000019.ckpt" > a.crc
  crcs "alone/checkpoints/ff_ppo/$id/step_000019.ckpt" > b.crc
  cmp -s a.crc b.crc || fail "$id: the Slurm run differs from the run alone"
done
echo "sweep_slurm: 4 array tasks, requeued and signalled, equal the runs alone"
EOF
sh "$EDGERL_SRC/tests/slurm/with_slurm.sh" sh ./body.sh
