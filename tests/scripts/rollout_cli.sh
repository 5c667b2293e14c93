# `edgerl rollout`: CSV rows that match Gymnasium bit for bit (the values are those pinned in
# tests/test_envs.cpp, printed by tests/envs_reference.py), resets inside a rollout, and every
# mistake as one stderr line with exit status 2.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"

# expect_rollout_error TEXT cmd...: exit status 2, nothing on stdout, one stderr line that
# starts with "edgerl rollout: " and contains TEXT.
expect_rollout_error() {
  expect_error 2 "$@"
  [ ! -s out.txt ] || fail "'$*' printed to stdout: $(cat out.txt)"
  grep -q '^edgerl rollout: ' err.txt || fail "'$*' stderr '$(cat err.txt)' lacks the prefix"
}

# expect_line FILE N TEXT: line N of FILE is exactly TEXT.
expect_line() {
  got=$(sed -n "$2p" "$1")
  [ "$got" = "$3" ] || fail "$1 line $2 is '$got', expected '$3'"
}

# Every row has as many fields as the header.
check_fields() {
  awk -F, 'NR == 1 { n = NF } NF != n { print FILENAME ": line " NR " has " NF " fields"; bad = 1 }
           END { exit bad }' "$1" || fail "$1 has rows of the wrong width"
}

$EDGERL rollout --help > help.txt || fail "--help exited non-zero"
grep -q "usage: edgerl rollout" help.txt || fail "--help does not print the usage"

# CartPole-v1 reset(seed=0) (the default seed), pushed right three times.
$EDGERL rollout --env CartPole-v1 --actions 1,1,1 > cart.csv || fail "CartPole rollout failed"
[ "$(wc -l < cart.csv)" = 5 ] || fail "cart.csv has $(wc -l < cart.csv) lines, expected 5"
expect_line cart.csv 1 "t,obs_0,obs_1,obs_2,obs_3,action,reward,terminated,truncated"
expect_line cart.csv 2 "0,0.0136961685,-0.0230213292,-0.0459026471,-0.0483472347,,,,"
expect_line cart.csv 3 "1,0.0132357422,0.172727749,-0.0468695909,-0.35515219,1,1,0,0"
expect_line cart.csv 4 "2,0.0166902971,0.368483692,-0.0539726354,-0.66223824,1,1,0,0"
expect_line cart.csv 5 "3,0.0240599699,0.564313412,-0.0672174022,-0.971415341,1,1,0,0"
check_fields cart.csv

# The pole falls at step 8; the rollout resets (continuing the stream) and goes on.
$EDGERL rollout --env CartPole-v1 --seed 0 --actions 1,1,1,1,1,1,1,1,0,0 > fall.csv
[ "$(wc -l < fall.csv)" = 13 ] || fail "fall.csv has $(wc -l < fall.csv) lines, expected 13"
expect_line fall.csv 10 "8,0.119711742,1.54528797,-0.228205398,-2.60521603,1,1,1,0"
sed -n 11p fall.csv | grep -q '^8,.*,,,,$' || fail "no reset row after the fall: $(sed -n 11p fall.csv)"
sed -n 13p fall.csv | grep -q '^10,.*,0,1,0,0$' || fail "step 10 row: $(sed -n 13p fall.csv)"
check_fields fall.csv
# A different seed gives a different first observation.
$EDGERL rollout --env CartPole-v1 --seed 1 --actions 0 > seed1.csv
[ "$(sed -n 2p seed1.csv)" != "$(sed -n 2p cart.csv)" ] || fail "--seed 1 starts like seed 0"

# Acrobot-v1 started high (the internal float64 state) terminates at once with reward 0.
$EDGERL rollout --env Acrobot-v1 --init-state 3.0,0.1,0,0 --actions 1 > acro.csv
expect_line acro.csv 2 "0,-0.989992499,0.141120002,0.995004177,0.099833414,0,0,,,,"
expect_line acro.csv 3 "1,-0.986988544,0.160790563,0.992246389,0.12428616,-0.2036805,0.253113776,1,0,1,0"

# MountainCarContinuous-v0 at the edges of its action space (the CLI refuses actions outside
# it; tests/test_envs.cpp checks that the environment clips the force but charges the
# unclipped action, as Gymnasium does).
$EDGERL rollout --env MountainCarContinuous-v0 --seed 1 --actions 1,-1,0.5,0.3 > mcc.csv
expect_line mcc.csv 3 "1,-0.496330202,0.00130547362,1,-0.10000000000000001,0,0"
expect_line mcc.csv 4 "2,-0.496729016,-0.000398812641,-1,-0.10000000000000001,0,0"
expect_line mcc.csv 6 "4,-0.496181697,0.000397456926,0.300000012,-0.0090000007152557515,0,0"

# Pendulum-v1 from a spinning state, with a 2-step limit: truncation, then the same state again.
$EDGERL rollout --env=Pendulum-v1 --init-state=20,8 --max-episode-steps=2 --actions=2,2,2 > pend.csv
expect_line pend.csv 2 "0,0.408082068,0.912945271,8,,,,"
expect_line pend.csv 3 "1,0.0203508437,0.999792874,8,2,-7.7275215776665345,0,0"
sed -n 4p pend.csv | grep -q '^2,.*,2,-8.8078768404355241,0,1$' || fail "pend.csv line 4: $(sed -n 4p pend.csv)"
expect_line pend.csv 5 "2,0.408082068,0.912945271,8,,,,"
check_fields pend.csv

# MountainCar-v0 left alone is truncated at Gymnasium's limit of 200 steps.
actions=1
i=1
while [ $i -lt 200 ]; do actions="$actions,1"; i=$((i + 1)); done
$EDGERL rollout --env MountainCar-v0 --actions "$actions" > car.csv
expect_line car.csv 202 "200,-0.520281136,0.0044147321,1,-1,0,1"

expect_rollout_error "unknown environment 'Cartpole-v1' (did you mean CartPole-v1?); valid names: CartPole-v1, Acrobot-v1, MountainCar-v0, MountainCarContinuous-v0, Pendulum-v1" \
  $EDGERL rollout --env Cartpole-v1 --actions 1
expect_rollout_error "action 3 is 2, outside CartPole-v1's actions 0..1" $EDGERL rollout --env CartPole-v1 --actions 0,1,2
expect_rollout_error "action 1 is -1, outside Acrobot-v1's actions 0..2" $EDGERL rollout --env Acrobot-v1 --actions -1
expect_rollout_error "action 2 '0.5' is not an integer" $EDGERL rollout --env MountainCar-v0 --actions 1,0.5
expect_rollout_error "--init-state has 3 values; Pendulum-v1 needs 2 (theta,theta_dot)" \
  $EDGERL rollout --env Pendulum-v1 --init-state 1,2,3 --actions 0
expect_rollout_error "--init-state value 'abc' is not a finite number" \
  $EDGERL rollout --env Pendulum-v1 --init-state 1,abc --actions 0
expect_rollout_error "action 2 is 3, outside Pendulum-v1's action space -2..2" $EDGERL rollout --env Pendulum-v1 --actions 0.5,3
expect_rollout_error "action 1 is -1.5, outside MountainCarContinuous-v0's action space -1..1" \
  $EDGERL rollout --env MountainCarContinuous-v0 --actions -1.5
expect_rollout_error "action 1 'inf' is not a finite number" $EDGERL rollout --env Pendulum-v1 --actions inf
expect_rollout_error "--actions a1,a2,... is required" $EDGERL rollout --env CartPole-v1
expect_rollout_error "--env NAME is required" $EDGERL rollout --actions 1
expect_rollout_error "--seed 'x'" $EDGERL rollout --env CartPole-v1 --seed x --actions 1
expect_rollout_error "unknown option '--sed'" $EDGERL rollout --env CartPole-v1 --sed 1 --actions 1
expect_rollout_error "--max-episode-steps '-3'" $EDGERL rollout --env CartPole-v1 --max-episode-steps -3 --actions 1
echo "rollout_cli: all checks passed"
