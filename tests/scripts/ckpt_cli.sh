# `edgerl ckpt` and `edgerl export` on checkpoint files written by an independent Python writer
# that follows only docs/checkpoint-format.md (so the spec, not just our own writer, is tested):
# verify/inspect/config/ls read them, exports load in numpy with the same values, and damaged
# files are one line on stderr naming the file, with exit status 2.
set -eu
. "$EDGERL_SRC/tests/script_lib.sh"


# Debian's python3 has python3-numpy; a python3 earlier on PATH may not.
PY= NP=
for p in /usr/bin/python3 python3; do
  command -v "$p" > /dev/null 2>&1 || continue
  [ -z "$PY" ] && "$p" -c 'import zlib, struct' 2> /dev/null && PY=$p
  [ -z "$NP" ] && "$p" -c 'import numpy' 2> /dev/null && NP=$p
done
[ -n "$PY" ] || fail "python3 is needed to write the test checkpoints (make deps installs it)"

cat > tensors.py << 'EOF'
# The test tensors: (name, dtype code, shape, flat values).
def tensors(seed):
    n = lambda shape: eval("*".join(map(str, shape)) or "1")
    t = []
    t.append(("actor/params", 0, [2, 3], [0.5 * i - 1.25 + seed for i in range(6)]))
    t.append(("opt/actor/m", 0, [2, 3], [1e-3 * i for i in range(6)]))
    t.append(("opt/step", 3, [], [-7 - seed]))
    t.append(("rng/state", 6, [6], [2**64 - 1 - i for i in range(6)]))
    t.append(("env/state", 1, [4, 4], [0.1 * i for i in range(16)]))
    t.append(("buffer/obs", 0, [64, 4], [0.0] * 256))
    t.append(("flags", 4, [5], [0, 1, 255, 7, 9]))
    t.append(("ids", 2, [3], [-2147483648, 0, 2147483647]))
    t.append(("counts", 5, [2], [4294967295, 3]))
    t.append(("empty", 0, [0, 3], []))
    assert all(len(v) == n(s) for _, _, s, v in t)
    return t
EOF

cat > writer.py << 'EOF'
# Writes an edgerl checkpoint from docs/checkpoint-format.md alone.
import os, struct, sys, zlib
from tensors import tensors

FMT = {0: "f", 1: "d", 2: "i", 3: "q", 4: "B", 5: "I", 6: "Q"}
align = lambda x: (x + 63) // 64 * 64
crc = lambda b: zlib.crc32(b) & 0xffffffff
s = lambda b: struct.pack("<I", len(b)) + b

path, seed, eval_step, ret, major = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
config = open("config.ini", "rb").read()
stored = []
for name, dt, shape, values in tensors(seed):
    raw = struct.pack("<%d%s" % (len(values), FMT[dt]), *values)
    data, comp = raw, 0
    if name == "buffer/obs":
        data, comp = zlib.compress(raw, 6), 1
    stored.append((name, dt, shape, raw, data, comp))

def header(offsets):
    h = struct.pack("<qqdq", 1000 * (eval_step + 1), eval_step, ret, 1767225600000 + eval_step)
    h += s(b"ff_ppo") + s(os.path.basename(os.path.dirname(path)).encode()) + s(b"py-writer")
    h += s(config) + struct.pack("<I", len(stored))
    for (name, dt, shape, raw, data, comp), off in zip(stored, offsets):
        h += s(name.encode()) + struct.pack("<BBBB", dt, comp, len(shape), 0)
        h += struct.pack("<%dQ" % len(shape), *shape)
        h += struct.pack("<QQQII", off, len(data), len(raw), crc(raw), crc(data))
    return h

hlen = len(header([0] * len(stored)))
pos, offsets = align(32 + hlen), []
for st in stored:
    offsets.append(pos)
    pos = align(pos + len(st[4]))
h = header(offsets)
pre = b"EDGERLCK" + struct.pack("<HHIQ", major, 0, 0, len(h))
hcrc = crc(pre + h)
out = bytearray(pre + struct.pack("<II", hcrc, 0) + h)
for st, off in zip(stored, offsets):
    out += bytes(off - len(out)) + st[4]
out += bytes(align(len(out)) - len(out))
tr = b"EDGERLND" + struct.pack("<QI", len(out) + 24, hcrc)
out += tr + struct.pack("<I", crc(tr))
os.makedirs(os.path.dirname(path), exist_ok=True)
open(path, "wb").write(out)
EOF

printf '[system]\nsystem_name = ff_ppo\n\n[arch]\nseed = 42  ; "quoted" \\ text\n' > config.ini
run1=results/checkpoints/ff_ppo/run1
run2=results/checkpoints/ff_ppo/run2
$PY writer.py $run1/step_000000.ckpt 0 0 12.5 1
$PY writer.py $run1/step_000001.ckpt 1 1 nan 1
$PY writer.py $run2/step_000004.ckpt 2 4 187.25 1
echo partial > $run2/step_000005.ckpt.99999999.tmp

# verify, inspect, config, ls
$EDGERL ckpt verify $run1/step_000000.ckpt $run1/step_000001.ckpt $run2/step_000004.ckpt > out.txt \
  || fail "verify of good files failed: $(cat out.txt)"
[ "$(grep -c ': ok (10 tensors' out.txt)" = 3 ] || fail "verify output: $(cat out.txt)"
$EDGERL ckpt inspect $run2/step_000004.ckpt > inspect.txt || fail "inspect failed"
for want in "edgerl checkpoint 1.0" "model_name      ff_ppo" "checkpoint_uid  run2" \
  "eval_step       4" "timestep        5000" "episode_return  187.25" "py-writer" \
  "2026-01-01 00:00:00 UTC" "buffer/obs" "zlib" "rng/state" "u64" "\[0, 3\]"; do
  grep -q -- "$want" inspect.txt || fail "inspect lacks '$want': $(cat inspect.txt)"
done
$EDGERL ckpt config $run1/step_000001.ckpt | cmp - config.ini || fail "ckpt config differs"
$EDGERL ckpt ls results > ls.txt || fail "ls failed"
grep -q "run1  (2 checkpoints" ls.txt || fail "ls: $(cat ls.txt)"
grep -q "run2  (1 checkpoint," ls.txt || fail "ls: $(cat ls.txt)"
grep -q "187.25" ls.txt || fail "ls lacks the return: $(cat ls.txt)"
grep -q "temporary file of an unfinished save: step_000005.ckpt.99999999.tmp" ls.txt \
  || fail "ls does not report the temporary file: $(cat ls.txt)"
$EDGERL ckpt ls $run1 | grep -q "step_000001.ckpt" || fail "ls of a run folder"
mkdir nothing && $EDGERL ckpt ls nothing | grep -q "no checkpoints" || fail "ls of an empty folder"

# export, read back with numpy (values, dtypes, shapes) and by hand for safetensors' header
$EDGERL export $run2/step_000004.ckpt --format npz -o state.npz > /dev/null || fail "export npz"
$EDGERL export $run2/step_000004.ckpt -o state.safetensors > /dev/null || fail "export safetensors"
$EDGERL export $run2/step_000004.ckpt --format=safetensors -o again.st > /dev/null
cmp state.safetensors again.st || fail "export is not deterministic"
if [ -n "$NP" ]; then
  cat > check.py << 'EOF'
import json, struct, sys, zipfile
import numpy as np
from tensors import tensors
DT = {0: "<f4", 1: "<f8", 2: "<i4", 3: "<i8", 4: "|u1", 5: "<u4", 6: "<u8"}
ST = {0: "F32", 1: "F64", 2: "I32", 3: "I64", 4: "U8", 5: "U32", 6: "U64"}
want = tensors(2)
assert zipfile.ZipFile("state.npz").testzip() is None  # every zip CRC holds
npz = np.load("state.npz")
assert sorted(npz.files) == sorted(n for n, _, _, _ in want), npz.files
raw = open("state.safetensors", "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert n % 8 == 0
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__")
assert meta["model_name"] == "ff_ppo" and meta["timestep"] == "5000", meta
assert meta["episode_return"] == "187.25" and meta["config"] == open("config.ini").read(), meta
end = 0
for name, dt, shape, values in want:
    expect = np.array(values, dtype=DT[dt]).reshape(shape)
    a = npz[name]
    assert a.dtype == expect.dtype and a.shape == tuple(shape), (name, a.dtype, a.shape)
    assert np.array_equal(a, expect), name
    h = header[name]
    assert h["dtype"] == ST[dt] and h["shape"] == shape, (name, h)
    b, e = h["data_offsets"]
    end = max(end, e)
    s = np.frombuffer(raw[8 + n + b:8 + n + e], dtype=DT[dt]).reshape(shape)
    assert np.array_equal(s, expect), name
assert 8 + n + end == len(raw), "safetensors byte buffer has holes or trailing bytes"
print("numpy check ok")
EOF
  $NP check.py || fail "exports do not read back in numpy"
else
  echo "note: numpy not found; exports written but not read back"
fi

# damaged files: one line naming the file and the problem, exit status 2
good=$run2/step_000004.ckpt
size=$(wc -c < $good)
head -c $((size - 100)) $good > cut.ckpt
expect_error 2 "cut.ckpt: truncated or damaged" $EDGERL ckpt verify cut.ckpt
cp $good flip.ckpt
printf 'X' | dd of=flip.ckpt bs=1 seek=$((size - 400)) conv=notrunc 2> /dev/null
expect_error 2 "flip.ckpt: .*CRC mismatch" $EDGERL ckpt verify flip.ckpt
$PY writer.py newer/step_000000.ckpt 0 0 1 2
expect_error 2 "step_000000.ckpt: format version 2.0 is newer than this edgerl reads" \
  $EDGERL ckpt inspect newer/step_000000.ckpt
expect_error 2 "config.ini: not an edgerl checkpoint" $EDGERL ckpt config config.ini
expect_error 2 "missing.ckpt: No such file" $EDGERL ckpt inspect missing.ckpt
expect_error 2 "is a folder" $EDGERL ckpt verify results
expect_error 2 "flip.ckpt" $EDGERL ckpt verify $good flip.ckpt
grep -q "step_000004.ckpt: ok" out.txt || fail "verify does not report the good file"
expect_error 2 "flip.ckpt: .*CRC mismatch" $EDGERL export flip.ckpt -o bad.npz
[ ! -e bad.npz ] || fail "export of a damaged file left an output"
expect_error 2 "No such file" $EDGERL ckpt ls missing_dir

# usage
expect_error 2 "needs a sub-command" $EDGERL ckpt
expect_error 2 "unknown sub-command 'frob'" $EDGERL ckpt frob x
expect_error 2 "inspect takes exactly one file" $EDGERL ckpt inspect
expect_error 2 "unknown option '--bogus'" $EDGERL ckpt ls --bogus
expect_error 2 "needs -o OUT" $EDGERL export $good
expect_error 2 "unknown format 'hdf5'" $EDGERL export $good --format hdf5 -o x.h5
expect_error 2 "needs --format npz|safetensors" $EDGERL export $good -o x.bin
# -o names a stream or a device: written into, never renamed over (as root that would replace
# /dev/null with a plain file); the report goes to stderr, out of the data's way. A folder is
# refused; through a link, its target is written and the link stays.
# (A link of its own to the process's stdout, as /dev/stdout is: a regression replaces only it.)
ln -s /proc/self/fd/1 stdout_link
$EDGERL export $good --format npz -o stdout_link 2> report.txt | cmp -s - state.npz ||
  fail "export -o stdout_link did not write the npz to stdout"
grep -q "written as npz" report.txt || fail "export -o stdout_link: no report on stderr"
[ -L stdout_link ] || fail "export replaced the link to stdout"
if [ "$(id -u)" = 0 ] && mknod fakefull c 1 7 2> /dev/null; then
  expect_error 2 "fakefull: No space left on device" $EDGERL export $good -o fakefull --format npz
  [ -c fakefull ] || fail "export replaced a device node with a plain file"
fi
mkdir outdir
expect_error 2 "^edgerl export: -o outdir is a folder; name a file$" $EDGERL export $good -o outdir --format npz
echo old > target.npz
ln -s target.npz link.npz
$EDGERL export $good -o link.npz > /dev/null || fail "export through a link"
[ -L link.npz ] && cmp -s target.npz state.npz || fail "export through a link: not its target"
$EDGERL ckpt --help | grep -q "usage: edgerl ckpt" || fail "ckpt --help"
$EDGERL export --help | grep -q "usage: edgerl export" || fail "export --help"
echo ok
