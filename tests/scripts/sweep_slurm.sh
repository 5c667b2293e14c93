# A sweep on a real Slurm: a private single-node cluster on localhost (tests/slurm/, Debian's
# slurm-wlm and munge, no systemd) runs the sbatch array script `edgerl sweep --slurm` writes.
# While the 4 tasks train, two are requeued with `scontrol requeue` and the time limit's
# --signal reaches the others (it is due a second after a task starts, so every long task gets
# it, saves, exits 75 and requeues itself). Every task must end COMPLETED with the tensors of
# the same run trained here, uninterrupted. Skipped, with one line, where Slurm is not installed
# (make deps installs it) or this is not root.
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
GRID="arch.total_timesteps=2048000,819200"
# shellcheck disable=SC2086
$EDGERL sweep --config builtin:ppo_cartpole.ini --seeds 1-2 $GRID $O --out sw \
  --slurm --time 1 --signal-grace 59 --submit > submit.txt || fail "submit: $(cat submit.txt)"
job=$(sed -n 's/^submitted job //p' submit.txt)
[ -n "$job" ] || fail "no job id: $(cat submit.txt)"
grep -q -- '--requeue' sw/sweep.sbatch && grep -q -- '--signal=B:USR1@59' sw/sweep.sbatch &&
  grep -q -- '--open-mode=append' sw/sweep.sbatch || fail "the script lacks its #SBATCH lines"

# Requeue tasks 1 and 2 while they train (once each has a checkpoint).
requeued=0
for t in "1 total_timesteps=2048000,seed=2" "2 total_timesteps=819200,seed=1"; do
  # shellcheck disable=SC2086
  set -- $t
  i=0
  while [ ! -e "sw/checkpoints/ff_ppo/$2/step_000001.ckpt" ]; do
    sleep 0.2
    i=$((i + 1))
    [ $i -lt 900 ] || fail "task $1 never saved a checkpoint"
  done
  if [ "$(squeue -h -j "${job}_$1" -o %T 2> /dev/null || true)" = RUNNING ] &&
     scontrol requeue "${job}_$1"; then
    requeued=$((requeued + 1))
    echo "sweep_slurm: requeued ${job}_$1 while it trained"
  fi
done
[ $requeued -ge 1 ] || fail "no task could be requeued while it ran"

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
  fail "no task was stopped by the time limit's signal: $(tail -20 slurm.out)"
n=$(grep -c 'stopped before the time limit' slurm.out || true)
echo "sweep_slurm: $n stops at the time limit's signal, each requeued and resumed"

# Every task equals the same run trained here without interruption.
# shellcheck disable=SC2086
$EDGERL sweep --config builtin:ppo_cartpole.ini --seeds 1-2 $GRID $O --out alone -j 2 > /dev/null ||
  fail "the local reference sweep"
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
