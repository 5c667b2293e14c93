# What guards a run besides its checkpoints: one command line that starts and resumes, run
# folders owned by one process, config changes on resume made explicit, and limits (file size,
# line length, output paths) that end in one clear line instead of a dead or broken run.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"

O="arch.total_timesteps=20480 arch.num_evaluation=4 arch.num_eval_episodes=4
   arch.absolute_metric=false logger.loggers.console.enabled=false"
# shellcheck disable=SC2086
train() { $EDGERL train $O "$@"; }

# 1. --resume auto starts a run when there is none, and a finished run is left alone.
train --resume auto logger.base_exp_path=r1 > out.txt 2> err.txt || fail "auto start: $(cat err.txt)"
grep -q '^final:' out.txt || fail "auto start did not train"
grep -q 'starting a new run' err.txt || fail "auto start did not say it starts a new run"
train --resume auto logger.base_exp_path=r1 > out.txt 2> err.txt || fail "auto on a finished run exited $?"
grep -q 'already finished' out.txt || fail "a finished run trained again: $(cat out.txt)"
grep -q '^final:' out.txt && fail "a finished run trained again"
# ... and keeps its logs as they were, the absolute metric's row included (a requeued job
# that had finished, or the same command run twice).
train --resume auto logger.base_exp_path=r1b arch.absolute_metric=true > /dev/null 2>&1 ||
  fail "r1b run failed"
(cd r1b/ff_ppo/CartPole-v1/* && cat eval.csv train.csv act.csv absolute.csv) > before.txt
[ "$(grep -c . r1b/ff_ppo/CartPole-v1/*/absolute.csv)" = 2 ] || fail "no absolute metric row"
train --resume auto logger.base_exp_path=r1b arch.absolute_metric=true > out.txt 2>&1 ||
  fail "auto on a finished run with its absolute metric exited $?"
grep -q 'already finished' out.txt || fail "r1b trained again: $(cat out.txt)"
(cd r1b/ff_ppo/CartPole-v1/* && cat eval.csv train.csv act.csv absolute.csv) > after.txt
cmp -s before.txt after.txt || { diff before.txt after.txt | head -5; fail "a finished run's logs changed when resumed"; }

# ... also when its last evaluation step is not a save step: the last one is always saved
# (else --resume auto would resume before the end and train the last interval again).
train --resume auto logger.base_exp_path=r1c arch.num_evaluation=3 \
  logger.checkpointing.save_args.save_interval_steps=2 > /dev/null 2>&1 || fail "r1c run failed"
ls r1c/checkpoints/ff_ppo/*/step_000002.ckpt > /dev/null 2>&1 ||
  fail "the last step was not saved: $(ls r1c/checkpoints/ff_ppo/*)"
train --resume auto logger.base_exp_path=r1c arch.num_evaluation=3 \
  logger.checkpointing.save_args.save_interval_steps=2 > out.txt 2>&1 ||
  fail "auto on a finished run (last step not a save step) exited $?"
grep -q 'already finished' out.txt || fail "r1c trained again: $(cat out.txt)"

# 2. A changed seed on resume is refused, listing the key; --allow-config-change resumes.
# shellcheck disable=SC2086
$EDGERL train $O logger.base_exp_path=r2 logger.checkpointing.save_args.checkpoint_uid=run \
  arch.total_timesteps=40960 arch.num_evaluation=8 > /dev/null 2>&1 &
pid=$!
while [ ! -e r2/checkpoints/ff_ppo/run/step_000001.ckpt ]; do sleep 0.02; done
kill -TERM $pid
wait_status $pid
[ $status = 75 ] || fail "SIGTERM: exit status $status, expected 75"
expect_error 2 "arch.seed = 7 (checkpoint: 42)" \
  train logger.base_exp_path=r2 logger.checkpointing.save_args.checkpoint_uid=run \
  arch.total_timesteps=40960 arch.num_evaluation=8 arch.seed=7 --resume
train logger.base_exp_path=r2 logger.checkpointing.save_args.checkpoint_uid=run \
  arch.total_timesteps=40960 arch.num_evaluation=8 arch.seed=7 --resume --allow-config-change \
  > out.txt 2> err.txt || fail "--allow-config-change: exit $?: $(cat err.txt)"
grep -q 'warning: resuming with a different config: arch.seed' err.txt ||
  fail "--allow-config-change did not warn: $(cat err.txt)"
grep -q '^final:.* 40960 timesteps' out.txt || fail "--allow-config-change did not finish"

# A third stop signal ends the process at once, whatever kinds the first two were (large
# networks: the stop's update and save take long enough to be still under way).
# shellcheck disable=SC2086
$EDGERL train $O logger.base_exp_path=r2b arch.total_timesteps=2048000 \
  network.actor_network.layer_sizes=1024,1024,1024 network.critic_network.layer_sizes=1024,1024,1024 \
  > /dev/null 2>&1 &
pid=$!
while [ ! -e r2b/ff_ppo/CartPole-v1 ]; do sleep 0.02; done
sleep 0.3
kill -TERM $pid
sleep 0.01
kill -INT $pid
sleep 0.01
kill -TERM $pid
wait_status $pid
[ $status = 143 ] || fail "TERM, INT, TERM: exit status $status, expected 143 (ended by the third)"

# 3. A larger total_timesteps on resume runs to the new total, spread over the evaluations
# left; with none left it asks for more.
train logger.base_exp_path=r3 logger.checkpointing.save_args.checkpoint_uid=run > /dev/null 2>&1 ||
  fail "r3 run failed"
expect_error 2 "raise arch.num_evaluation too" \
  train logger.base_exp_path=r3 logger.checkpointing.save_args.checkpoint_uid=run \
  arch.total_timesteps=40960 --resume
train logger.base_exp_path=r3 logger.checkpointing.save_args.checkpoint_uid=run \
  arch.total_timesteps=40960 arch.num_evaluation=8 --resume > out.txt 2> err.txt ||
  fail "extension: exit $?: $(cat err.txt)"
grep -q 'a new length: arch.total_timesteps = 40960 (checkpoint: 20480)' err.txt ||
  fail "the extension was not explained: $(cat err.txt)"
grep -q '^final:.* 40960 timesteps' out.txt || fail "the extended run stopped short: $(cat out.txt)"
[ "$(wc -l < r3/ff_ppo/CartPole-v1/run/eval.csv)" = 9 ] || fail "eval.csv of the extension"

# 4. One process per run folder: a second one on a running run is one line naming the pid.
# shellcheck disable=SC2086
$EDGERL train $O logger.base_exp_path=r4 logger.checkpointing.save_args.checkpoint_uid=run \
  arch.total_timesteps=2048000 arch.num_evaluation=4 > /dev/null 2>&1 &
pid=$!
while [ ! -e r4/checkpoints/ff_ppo/run/.lock ]; do sleep 0.02; done
sleep 0.2
expect_error 2 "is in use (locked by process $pid)" \
  train logger.base_exp_path=r4 logger.checkpointing.save_args.checkpoint_uid=run --resume
kill -INT $pid
set +e
wait $pid
set -e

# 5. Two runs started together in one base path, one per model_name: their own folders.
train logger.base_exp_path=r5 > a.txt 2>&1 &
pa=$!
train logger.base_exp_path=r5 logger.checkpointing.model_name=other > b.txt 2>&1 &
pb=$!
wait $pa || fail "first concurrent run: $(cat a.txt)"
wait $pb || fail "second concurrent run: $(cat b.txt)"
[ "$(ls r5/ff_ppo/CartPole-v1 | wc -l)" = 2 ] || fail "two runs shared a log folder: $(ls r5/ff_ppo/CartPole-v1)"
for d in r5/ff_ppo/CartPole-v1/*; do
  [ "$(wc -l < "$d/eval.csv")" = 5 ] || fail "$d/eval.csv does not hold one run's rows"
  $EDGERL plot "$d" -o "$d.svg" > /dev/null || fail "plot of $d"
done

# 6. A file-size limit is an I/O error handled by on_save_error, never a silent SIGXFSZ.
set +e
(ulimit -f 64 && train logger.base_exp_path=r6 > out.txt 2> err.txt)
status=$?
set -e
[ $status = 0 ] || fail "ulimit -f: exit status $status: $(cat err.txt)"
grep -q 'not saved' err.txt || fail "ulimit -f: no failed save reported: $(cat err.txt)"
set +e
(ulimit -f 64 && train logger.base_exp_path=r6b \
  logger.checkpointing.save_args.on_save_error=abort > out.txt 2> err.txt)
status=$?
set -e
[ $status = 3 ] || fail "ulimit -f with abort: exit status $status, expected 3"

# 7. Values the stored config could not hold, and outputs onto inputs, are one line each.
long=$(printf 'x%.0s' $(seq 1 190))
expect_error 2 "logger.base_exp_path is 190 characters long" train logger.base_exp_path="$long"
[ ! -e "$long" ] || fail "a refused run created its folder"
f=$(ls r3/checkpoints/ff_ppo/run/step_*.ckpt | tail -1)
expect_error 2 "is the input: it would be overwritten" $EDGERL export "$f" --format npz -o "$f"
$EDGERL ckpt verify "$f" > /dev/null || fail "export damaged its input"
expect_error 2 "is the input: it would be overwritten" \
  $EDGERL plot r3/ff_ppo/CartPole-v1/run -o r3/ff_ppo/CartPole-v1/run/eval.csv
expect_error 2 "^edgerl eval: --trace $f is the input: it would be overwritten" \
  $EDGERL eval "$f" --episodes 1 --trace "$f"
# No command writes onto a checkpoint (known by its bytes) or a run folder's files, and the
# error names the option used; the files stay as they were.
d=r3/ff_ppo/CartPole-v1/run
c=r3/checkpoints/ff_ppo/run
g=$(ls $c/step_*.ckpt | head -1)
cp "$g" copy.bin
[ "$g" != "$f" ] || fail "r3 has a single checkpoint"
for out in "$g" copy.bin $d/eval.csv $d/train.csv $d/act.csv $d/summary.ini $d/.lock $d/events.out.tfevents.* $c/.lock; do
  [ -f "$out" ] || fail "r3 lacks $out"
  cp "$out" before
  expect_error 2 "^edgerl eval: --trace $out is .*: it would be overwritten" \
    $EDGERL eval "$f" --episodes 1 --trace "$out"
  expect_error 2 "^edgerl export: -o $out is .*: it would be overwritten" \
    $EDGERL export "$f" --format c -o "$out"
  expect_error 2 "^edgerl plot: --output $out is .*: it would be overwritten" \
    $EDGERL plot $d --output "$out"
  cmp -s before "$out" || fail "$out was overwritten"
done
expect_error 2 "^edgerl plot: -o $d/summary.ini is a file of the run folder .*/$d: it would" \
  $EDGERL plot $d -o $d/summary.ini
expect_error 2 "^edgerl export: -o copy.bin is an edgerl checkpoint: it would" \
  $EDGERL export "$f" --format npz -o copy.bin
# ... while a new file in a run folder, and a user's own eval.csv elsewhere, are written.
$EDGERL plot $d -o $d/curve.svg > /dev/null || fail "plot -o into a run folder"
mkdir mine
echo old > mine/eval.csv
$EDGERL eval "$f" --episodes 1 --trace mine/eval.csv > /dev/null || fail "eval --trace mine/eval.csv"
head -1 mine/eval.csv | grep -q '^episode,t,' || fail "eval --trace did not write mine/eval.csv"
# A missing folder is named, not a temporary file.
for cmd in "eval $f --episodes 1 --trace" "export $f --format npz -o" "plot $d -o"; do
  # shellcheck disable=SC2086
  expect_error 2 "^edgerl [a-z]*: cannot write nodir/x.out: folder nodir does not exist$" \
    $EDGERL $cmd nodir/x.out
done
expect_error 2 "needs .* but this machine has" \
  $EDGERL train --config builtin:dqn_cartpole.ini system.total_buffer_size=1e9 logger.base_exp_path=r7
echo ok
