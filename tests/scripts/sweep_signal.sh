# A local sweep stopped by SIGTERM (and then SIGINT, as an impatient user would) while its first
# run trains: the signal reaches the run at once, which saves and exits 75; the second run never
# starts; the sweep exits 75 long before the run could have finished and says how to go on. The
# same command then finishes both runs.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"

T=1000000
O="arch.total_timesteps=$T arch.num_evaluation=2 arch.num_eval_episodes=2
   logger.loggers.console.enabled=false logger.loggers.tensorboard.enabled=false"
A="--config builtin:ppo_cartpole.ini --seeds 1-2 $O --out sw --local -j 1"

# shellcheck disable=SC2086
$EDGERL sweep $A > first.txt 2>&1 & # not in a function: the signal goes to edgerl itself
pid=$!
# Signalled once the first run trains (its stop handlers are in place by then).
i=0
while ! grep -q 'checkpoint: saving to' sw/logs/seed=1.log 2> /dev/null && [ $i -lt 1000 ]; do
  sleep 0.02
  i=$((i + 1))
done
[ -d sw/checkpoints ] || fail "the first run did not start: $(cat first.txt)"
start=$(date +%s)
kill -TERM $pid
sleep 0.2
kill -INT $pid 2> /dev/null || true # a second signal changes nothing
wait_status $pid
took=$(($(date +%s) - start))
[ $status = 75 ] || fail "the stopped sweep exited $status, expected 75: $(cat first.txt)"
grep -q 'stopped by SIGTERM.*run the same command again' first.txt ||
  fail "the stopped sweep did not say how to go on: $(cat first.txt)"
summary=sw/ff_ppo/CartPole-v1/seed=1/summary.ini
grep -q '^status = stopped$' $summary || fail "the run was not stopped: $(cat $summary)"
steps=$(sed -n 's/^timesteps = //p' $summary)
[ "$steps" -lt $T ] || fail "the run trained to the end ($steps steps)"
[ "$(cat sw/status/seed=1)" = 75 ] || fail "the run exited $(cat sw/status/seed=1), expected 75"
grep -q 'stopped by SIGTERM' sw/logs/seed=1.log || fail "the run's log: $(cat sw/logs/seed=1.log)"
[ ! -e sw/logs/seed=2.log ] || fail "a run started after the stop: $(cat sw/logs/seed=2.log)"
[ $took -le 10 ] || fail "the sweep took $took s to stop"
if pgrep -f "logger.base_exp_path=$(pwd)/sw " > /dev/null; then fail "a run outlived the sweep"; fi

# The same command finishes both runs.
# shellcheck disable=SC2086
$EDGERL sweep $A > second.txt 2>&1 || fail "the resumed sweep exited $?: $(cat second.txt)"
grep -q '2/2 done' second.txt || fail "not every run is done: $(cat second.txt)"
grep -q '^status = finished$' $summary || fail "the resumed run did not finish: $(cat $summary)"
grep -q 'run the same command again' second.txt && fail "a finished sweep asks to go on"
echo "sweep_signal: SIGTERM stops the running run at once (75), the same command finishes it"
