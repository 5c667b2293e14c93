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

expect_error 2 "needs a file name" $EDGERL config --config ""
# A value-taking option followed by another option lost its value: not a file named --best.
expect_error 2 "--trace needs a value" $EDGERL eval x.ckpt --trace --best
expect_error 2 "--seed needs a value" $EDGERL rollout --env CartPole-v1 --seed --actions 0
expect_error 2 "--title needs a value" $EDGERL plot x --title -o
# Options that would be ignored, or given twice, are refused rather than dropped.
expect_error 2 "--greedy given twice" $EDGERL eval x.ckpt --greedy --greedy
expect_error 2 "--fps needs --render ascii" $EDGERL eval x.ckpt --fps 10
expect_error 2 "--doc, --list and --show take nothing else" $EDGERL config --doc arch.seed=1
expect_error 2 "--doc, --list and --show take nothing else" $EDGERL config --doc --list
expect_error 2 "--doc, --list and --show take nothing else" $EDGERL config --list --config x.ini
# No command: the help, on stderr, and exit 2.
set +e
$EDGERL > out.txt 2> err.txt
got=$?
set -e
[ "$got" = 2 ] && [ ! -s out.txt ] && grep -q "usage: edgerl <command>" err.txt ||
  fail "edgerl without a command: exit $got, stdout $(wc -c < out.txt) bytes"

# Overrides resolve as one layer, whatever their order: a key set before system_name is the
# new learner's, or an error if that learner has no such key.
$EDGERL config system.epochs=7 system.system_name=ff_dqn | grep -q '^epochs = 7$' ||
  fail "an override before system.system_name was lost"
$EDGERL config network.actor_network.layer_sizes=8 system.system_name=ff_dqn |
  grep -q '^layer_sizes = 8$' || fail "a network override before system.system_name was lost"
expect_error 2 "system.actor_lr is not a key of ff_dqn" \
  $EDGERL config system.actor_lr=0.1 system.system_name=ff_dqn

expect_error 2 "system.actor_lr = 1e-400 is too small for a double" $EDGERL config system.actor_lr=1e-400

printf '[ arch ]\nseed = 5\n' > spaced.ini
$EDGERL config --config spaced.ini | grep -q '^seed = 5$' || fail "[ arch ] is not [arch]"

# `config` checks what `train` would: the environment exists and fits the learner.
expect_error 2 "env.scenario.name: unknown environment 'Foo-v9'" $EDGERL config env.scenario.name=Foo-v9
expect_error 2 "ff_ppo needs discrete actions, but Pendulum-v1 has continuous actions" \
  $EDGERL config env.scenario.name=Pendulum-v1

# base = takes a built-in config as --config does, and says what is wrong with a folder.
printf 'base = builtin:dqn_cartpole.ini\n[arch]\nseed = 3\n' > bb.ini
$EDGERL config --config bb.ini | grep -q '^system_name = ff_dqn$' || fail "base = builtin:"
mkdir -p basedir
printf 'base = basedir\n' > bd.ini
expect_error 2 "base = basedir: not a regular file" $EDGERL config --config bd.ini
expect_error 2 "no such built-in config" sh -c "printf 'base = builtin:nope.ini\n' > bn.ini; $EDGERL config --config bn.ini"
# The longest line the reader takes is the one the messages and docs/config.md name.
long=$(printf 'x%.0s' $(seq 1 180))
printf '[logger]\nbase_exp_path = %s\n' "$long" > len.ini  # 16 + 180 = 196 characters: taken
$EDGERL config --config len.ini > /dev/null || fail "a 196-character line"
printf '[logger]\nbase_exp_path = %sxxx\n' "$long" > len.ini  # 199
expect_error 2 "len.ini:2: line longer than 198 characters" $EDGERL config --config len.ini

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
