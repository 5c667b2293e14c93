# A local sweep: 2 grid points x 3 seeds, stopped by SIGTERM in the middle and run again with
# the same command; every run then ends with the tensors of the same run trained alone and
# uninterrupted, and the report's numbers equal those recomputed here from the summaries.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"

O="arch.total_timesteps=40960 arch.num_evaluation=4 arch.num_eval_episodes=8
   logger.loggers.console.enabled=false logger.loggers.tensorboard.enabled=false"
GRID="system.actor_lr=2.5e-4,1e-3"
# shellcheck disable=SC2086
sweep() { $EDGERL sweep --config builtin:ppo_cartpole.ini --seeds 1-3 $GRID $O --out sw -j 2; }

expect_error 2 "needs --out DIR" $EDGERL sweep --seeds 1-3
expect_error 2 "the values of a list key are written in brackets" \
  $EDGERL sweep network.actor_network.layer_sizes=[64,64],32 --out bad
# Seeds past 64 bits, repeated, or too many: refused at once (no run folder, no wait).
expect_error 2 "seed 99999999999999999999 is larger than 18446744073709551615" \
  $EDGERL sweep --seeds 1,99999999999999999999 --out bad
expect_error 2 "seed 3 twice" $EDGERL sweep --seeds 1-5,3 --out bad
expect_error 2 "more than 100000 seeds" $EDGERL sweep --seeds 1-100000,100001-200000 --out bad
expect_error 2 "the sweep has more than 100000 runs" \
  $EDGERL sweep --seeds 1-1001 system.actor_lr=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1 \
  system.gamma=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.99 --out bad
[ ! -e bad ] || fail "a refused sweep left its folder"

# Stopped in the middle by SIGTERM: every run stops gracefully, the sweep exits 75.
# shellcheck disable=SC2086
$EDGERL sweep --config builtin:ppo_cartpole.ini --seeds 1-3 $GRID $O --out sw -j 2 \
  > first.txt 2>&1 &
pid=$!
i=0
while [ -z "$(find sw -name 'step_000001.ckpt' 2> /dev/null)" ] && [ $i -lt 500 ]; do
  sleep 0.02
  i=$((i + 1))
done
kill -TERM $pid
wait_status $pid
[ $status = 75 ] || fail "a stopped sweep exited $status, expected 75: $(cat first.txt)"
grep -q 'run the same command again' first.txt || fail "the stopped sweep did not say how to go on"
$EDGERL sweep status sw > status.txt
grep -q 'resumable\|pending' status.txt || fail "nothing left after the stop: $(cat status.txt)"
grep -q 'running' status.txt && fail "a run still runs after the sweep stopped: $(cat status.txt)"

# The same command again finishes it; once more does nothing.
sweep > second.txt 2>&1 || fail "the resumed sweep exited $?: $(cat second.txt)"
$EDGERL sweep status sw > status.txt
grep -q '6 runs: 6 done' status.txt || fail "not every run is done: $(cat status.txt)"
sweep > third.txt 2>&1 || fail "a finished sweep run again exited $?"
grep -q '6/6 done' third.txt || fail "a finished sweep trained again: $(cat third.txt)"

# Each run equals the same run trained alone, uninterrupted.
crcs() { $EDGERL ckpt inspect "$1" | awk '/^  name /{t=1; next} t && NF {print $1, $NF}'; }
for lr in 2.5e-4 1e-3; do
  for seed in 1 2 3; do
    id="actor_lr=$lr,seed=$seed"
    # shellcheck disable=SC2086
    $EDGERL train --config builtin:ppo_cartpole.ini $O system.actor_lr=$lr arch.seed=$seed \
      logger.base_exp_path=alone logger.checkpointing.save_args.checkpoint_uid="$id" > /dev/null 2>&1 ||
      fail "$id alone"
    crcs "alone/checkpoints/ff_ppo/$id/step_000003.ckpt" > a.crc
    crcs "sw/checkpoints/ff_ppo/$id/step_000003.ckpt" > b.crc
    cmp -s a.crc b.crc || fail "$id: the sweep's run differs from the run alone"
  done
done

# The report, recomputed from the summaries: mean, population std, median and IQM (n = 3: the
# IQM of 3 values trims none, scipy's trim_mean(x, 0.25)).
$EDGERL sweep report sw > report.txt || fail "sweep report: $(cat report.txt)"
[ -s sw/report.svg ] || fail "no report.svg"
for lr in 2.5e-4 1e-3; do
  for seed in 1 2 3; do
    sed -n 's/^episode_return_mean = //p' "sw/ff_ppo/CartPole-v1/actor_lr=$lr,seed=$seed/summary.ini"
  done | sort -g > v.txt
  want=$(awk '{ x[NR] = $1; s += $1 } END { m = s / NR; for (i = 1; i <= NR; i++) q += (x[i] - m) ^ 2;
              printf "%.6g %.6g %.6g %.6g", m, sqrt(q / NR), x[2], m }' v.txt)
  got=$(awk -F, -v p="actor_lr=$lr" '$1 == p { print $4, $5, $6, $7 }' sw/report.csv)
  awk -v a="$want" -v b="$got" 'BEGIN { n = split(a, x, " "); split(b, y, " ");
    for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-4 * (1 + (x[i] < 0 ? -x[i] : x[i]))) exit 1 } }' ||
    fail "report for actor_lr=$lr: got '$got', recomputed '$want'"
done
echo "sweep_local: stopped and resumed sweep equals runs alone; report recomputed"
