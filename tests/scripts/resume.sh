# Resume after kill equals the uninterrupted run: a run killed with SIGKILL mid-training and
# resumed from its newest checkpoint ends with the same learner state (every tensor's CRC) and
# the same CSV logs (apart from wall-clock columns) as a run that was never interrupted.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"
# Small enough to run in seconds, long enough to kill in the middle.
O="arch.total_timesteps=81920 arch.num_evaluation=16 logger.loggers.console.enabled=false
   logger.checkpointing.save_args.max_to_keep=3 logger.checkpointing.save_args.checkpoint_uid=run"

tensor_crcs() {  # the tensor table of a checkpoint: name and CRC-32 of the raw bytes
  $EDGERL ckpt inspect "$1" | awk '/^  name /{t=1; next} t && NF {print $1, $NF}'
}
strip_wall() { sed 's/,[^,]*$//' "$1"; }

for cfg in ppo_cartpole.ini dqn_cartpole.ini; do
  rm -rf full part
  extra=""
  [ $cfg = dqn_cartpole.ini ] && extra="system.warmup_steps=2000"
  $EDGERL config --show $cfg > $cfg
  # shellcheck disable=SC2086
  $EDGERL train --config $cfg $O $extra logger.base_exp_path=full > full.log 2>&1 || fail "uninterrupted $cfg run"
  model=$(sed -n 's/^system_name = //p' $cfg)
  scen=$(sed -n '/^\[env.scenario\]/,/^\[/s/^name = //p' $cfg)
  dir=checkpoints/$model/run

  # Kill the same run with SIGKILL once its third checkpoint is on disk, then resume it.
  # shellcheck disable=SC2086
  $EDGERL train --config $cfg $O $extra logger.base_exp_path=part > part1.log 2>&1 &
  pid=$!
  i=0
  while [ ! -e part/$dir/step_000003.ckpt ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
  kill -9 $pid 2>/dev/null || fail "$cfg run finished before it could be killed"
  wait $pid 2>/dev/null || true
  last=$(ls part/$dir | grep -c '\.ckpt$')
  [ "$last" -ge 1 ] || fail "no checkpoint survived the kill"
  $EDGERL ckpt verify part/$dir/*.ckpt > /dev/null || fail "a checkpoint left by the kill does not verify"
  # shellcheck disable=SC2086
  $EDGERL train --config $cfg $O $extra logger.base_exp_path=part logger.checkpointing.load_model=true \
    > part2.log 2>&1 || fail "resume: $(cat part2.log)"
  grep -q "^resumed from part/$dir/step_" part2.log || fail "resume did not say where it resumed from"

  tensor_crcs full/$dir/step_000015.ckpt > full.crc
  tensor_crcs part/$dir/step_000015.ckpt > part.crc
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
  echo "$cfg: resumed run equals the uninterrupted one"
done
