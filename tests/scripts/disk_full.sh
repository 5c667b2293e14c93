# A full disk never crashes training or costs a checkpoint: with on_save_error = warn each
# failed save is one line and training goes on; with abort the run stops with exit status 3.
# First through the free-space check (min_free_bytes larger than any disk), then, when this
# machine lets us mount a tiny tmpfs (root), through a real ENOSPC from write().
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"
O="arch.total_timesteps=20480 arch.num_evaluation=4 logger.loggers.console.enabled=false
   logger.loggers.tensorboard.enabled=false"

# 1. Not enough free space by min_free_bytes: warn keeps training, nothing is written.
# shellcheck disable=SC2086
$EDGERL train $O logger.base_exp_path=warn logger.checkpointing.save_args.min_free_bytes=4e18 \
  > out.txt 2> err.txt || fail "warn run exited $?: $(cat err.txt)"
grep -q '^final:' out.txt || fail "warn run did not finish"
[ "$(grep -c 'not saved' err.txt)" = 4 ] || fail "expected 4 'not saved' lines: $(cat err.txt)"
[ -z "$(find warn -name '*.ckpt*')" ] || fail "a checkpoint or temporary file was left"

# abort: exit status 3 and one line saying why it stopped.
set +e
# shellcheck disable=SC2086
$EDGERL train $O logger.base_exp_path=abort logger.checkpointing.save_args.min_free_bytes=4e18 \
  logger.checkpointing.save_args.on_save_error=abort > out.txt 2> err.txt
status=$?
set -e
[ $status = 3 ] || fail "abort run exited $status, expected 3"
grep -q 'on_save_error = abort' err.txt || fail "abort run did not say why it stopped"

# 2. A real full disk (a 256 KiB tmpfs: room for logs and two checkpoints of ~110 KiB; write
# errors themselves (ENOSPC, EIO, short writes) are injected in tests/test_io_faults.cpp).
mkdir -p small
if mount -t tmpfs -o size=256k tmpfs small 2> /dev/null; then
  trap 'umount small 2>/dev/null || true' EXIT
  # shellcheck disable=SC2086
  $EDGERL train $O logger.base_exp_path=small logger.checkpointing.save_args.min_free_bytes=0 \
    logger.checkpointing.save_args.max_to_keep=5 > out.txt 2> err.txt || fail "ENOSPC run exited $?"
  grep -q '^final:' out.txt || fail "ENOSPC run did not finish"
  grep -q 'not saved' err.txt || fail "no save failed on a 256 KiB disk: $(cat err.txt)"
  ls small/checkpoints/ff_ppo/*/*.ckpt > /dev/null 2>&1 || fail "no earlier checkpoint survived"
  [ -z "$(find small -name '*.tmp')" ] || fail "a temporary file was left on the full disk"
  $EDGERL ckpt verify small/checkpoints/ff_ppo/*/*.ckpt > /dev/null || fail "a surviving checkpoint does not verify"
  umount small
  trap - EXIT
  echo "real full disk: saves refused cleanly, earlier checkpoints verify"
else
  echo "skipped the real ENOSPC part: cannot mount a tmpfs here (needs root)"
fi
echo ok
