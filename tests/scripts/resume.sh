# Resume after kill equals the uninterrupted run: a run killed with SIGKILL mid-training and
# resumed from its newest checkpoint, or stopped with SIGTERM at a random moment (it saves
# after the current update, exits 75) and resumed with --resume, ends with the same learner
# state (every tensor's CRC) and the same CSV logs (apart from wall-clock columns) as a run
# that was never interrupted. The off-policy continuous learners run with a replay buffer
# smaller than the run, so it is full and wrapping when they are stopped.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"
COMMON="logger.loggers.console.enabled=false logger.checkpointing.save_args.max_to_keep=3
   logger.checkpointing.save_args.checkpoint_uid=run"

tensor_crcs() {  # the tensor table of a checkpoint: name and CRC-32 of the raw bytes
  $EDGERL ckpt inspect "$1" | awk '/^  name /{t=1; next} t && NF {print $1, $NF}'
}
strip_wall() { sed 's/,[^,]*$//' "$1"; }

# same_end CFG LAST: the final checkpoint and the logs of full/ and part/ agree.
same_end() {
  cfg=$1 last=$2
  tensor_crcs full/$dir/$last > full.crc
  tensor_crcs part/$dir/$last > part.crc
  [ -s full.crc ] || fail "no tensor table"
  cmp full.crc part.crc || { diff full.crc part.crc | head; fail "$cfg: resumed state differs"; }
  for f in eval train act absolute misc; do
    [ $f = misc ] && continue  # throughput differs by nature
    a=full/$model/$scen/run/$f.csv b=part/$model/$scen/run/$f.csv
    [ -e "$a" ] || continue
    strip_wall "$a" > a.csv
    strip_wall "$b" > b.csv
    cmp a.csv b.csv || { diff a.csv b.csv | head; fail "$cfg: $f.csv differs after resume"; }
  done
  cmp full/$model/$scen/run/summary.ini part/$model/$scen/run/summary.ini > /dev/null 2>&1 ||
    [ "$(grep episode_return full/$model/$scen/run/summary.ini)" = "$(grep episode_return part/$model/$scen/run/summary.ini)" ] ||
    fail "$cfg: summary returns differ"
}

# check CFG EVALS "OVERRIDES": SIGKILL once the third checkpoint is on disk, then SIGTERM at
# a random moment; both resumed runs must end as the uninterrupted one.
check() {
  cfg=$1 evals=$2 O="$COMMON $3"
  last=$(printf 'step_%06d.ckpt' $((evals - 1)))
  rm -rf full part
  $EDGERL config --show $cfg > $cfg
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  $EDGERL train --config $cfg $O logger.base_exp_path=full > full.log 2>&1 || fail "uninterrupted $cfg run"
  took=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  $EDGERL config --config builtin:$cfg > resolved.ini
  model=$(sed -n 's/^system_name = //p' resolved.ini)
  scen=$(sed -n '/^\[env.scenario\]/,/^\[/s/^name = //p' resolved.ini)
  [ -n "$model" ] && [ -n "$scen" ] || fail "$cfg: no system or scenario name"
  [ -e full/$model/$scen/run/train.csv ] || fail "$cfg: no train.csv to compare" 
  dir=checkpoints/$model/run

  # shellcheck disable=SC2086
  $EDGERL train --config $cfg $O logger.base_exp_path=part > part1.log 2>&1 &
  pid=$!
  i=0
  while [ ! -e part/$dir/step_000003.ckpt ] && [ $i -lt 6000 ]; do sleep 0.005; i=$((i + 1)); done
  kill -9 $pid 2>/dev/null || fail "$cfg run finished before it could be killed"
  wait $pid 2>/dev/null || true
  last_kept=$(ls part/$dir | grep -c '\.ckpt$')
  [ "$last_kept" -ge 1 ] || fail "no checkpoint survived the kill"
  $EDGERL ckpt verify part/$dir/*.ckpt > /dev/null || fail "a checkpoint left by the kill does not verify"
  # shellcheck disable=SC2086
  $EDGERL train --config $cfg $O logger.base_exp_path=part logger.checkpointing.load_model=true \
    > part2.log 2>&1 || fail "resume: $(cat part2.log)"
  grep -q "^resumed from part/$dir/step_" part2.log || fail "resume did not say where it resumed from"
  same_end $cfg $last
  echo "$cfg: resumed after SIGKILL equals the uninterrupted run"

  # SIGTERM at a random moment of the run (10% to 90% of the uninterrupted run's time): it
  # saves after its current update (inside an interval, usually) and exits 75; --resume
  # finishes it.
  rm -rf part
  delay=$(awk -v s="$(date +%N)" -v d="$took" 'BEGIN{srand(s); printf "%.3f", d * (0.1 + 0.8 * rand())}')
  # shellcheck disable=SC2086
  $EDGERL train --config $cfg $O logger.base_exp_path=part > part1.log 2>&1 &
  pid=$!
  sleep "$delay"
  kill -TERM $pid 2>/dev/null || true
  wait_status $pid
  if [ $status = 75 ]; then
    # shellcheck disable=SC2086
    $EDGERL train --config $cfg $O logger.base_exp_path=part --resume > part2.log 2>&1 ||
      fail "resume after SIGTERM: $(cat part2.log)"
  else
    [ $status = 0 ] || fail "$cfg: SIGTERM after $delay s gave exit status $status: $(cat part1.log)"
  fi
  same_end $cfg $last
  echo "$cfg: stopped by SIGTERM after $delay s (status $status) and resumed, equals the uninterrupted run"
}

# Long enough that a fast machine (PPO CartPole at 0.5M steps/s) is still training when the
# third checkpoint appears and the kill follows.
check ppo_cartpole.ini 16 "arch.total_timesteps=327680 arch.num_evaluation=16"
check dqn_cartpole.ini 16 "arch.total_timesteps=163840 arch.num_evaluation=16 system.warmup_steps=2000"
for cfg in sac_pendulum.ini td3_pendulum.ini ddpg_pendulum.ini; do
  check $cfg 12 "arch.total_timesteps=6000 arch.num_evaluation=12 system.total_buffer_size=1000"
done
