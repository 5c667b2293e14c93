# The command line's contract: help and version work, every mistake is one line on stderr
# with exit status 2, and `edgerl config` output reads back as the same config.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"


$EDGERL --help | grep -q "usage: edgerl <command>" || fail "--help"
$EDGERL --version | grep -q "^edgerl [0-9]" || fail "--version"
for c in train eval config ckpt rollout export plot; do
  $EDGERL $c --help > h.txt 2>&1 || fail "$c --help exited non-zero"
  grep -q "usage: edgerl $c" h.txt || fail "$c --help does not print its usage"
done

expect_error 2 "unknown command 'trian' (did you mean train?)" $EDGERL trian
expect_error 2 "unknown option '--frobnicate'" $EDGERL --frobnicate
expect_error 2 "did you mean arch.num_envs?" $EDGERL config arch.num_envz=3
expect_error 2 "expected section.key=value" $EDGERL config arch.num_envs
expect_error 2 "arch.num_envs = 0 is out of range (allowed: 1 to 65536)" $EDGERL config arch.num_envs=0
expect_error 2 "no such config file" $EDGERL config --config missing.ini
printf '[arch]\nseed = 1\nnum_envz = 2\n' > bad.ini
expect_error 2 "bad.ini:3: unknown key arch.num_envz (did you mean arch.num_envs?)" $EDGERL config --config bad.ini
expect_error 2 "needs a file name" $EDGERL config --config
expect_error 2 "unknown option '--bogus'" $EDGERL config --bogus

expect_error 2 "no built-in config named 'nope.ini'" $EDGERL config --config builtin:nope.ini
$EDGERL config --config builtin:ppo_pendulum.ini | grep -q '^name = Pendulum-v1$' || fail "builtin: config"

# Round trip: the printed config, read back, prints identically.
$EDGERL config arch.seed=7 system.actor_lr=0.001 > resolved.ini
$EDGERL config --config resolved.ini > again.ini
cmp resolved.ini again.ini || fail "config round trip differs"
grep -q '^seed = 7$' resolved.ini || fail "override not applied"

# Every built-in config is listed and prints as shipped.
for n in $($EDGERL config --list); do
  $EDGERL config --show "$n" | cmp - "$EDGERL_SRC/configs/$n" || fail "built-in $n differs from configs/$n"
done
echo ok
