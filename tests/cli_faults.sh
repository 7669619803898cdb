#!/usr/bin/env bash
# Faults `specbias run` survives: signals at awkward moments, output
# folders that cannot be written, memory that is not there, absurd values, numbers that blow
# up, and --rerun reproducing a run. Usage: cli_faults.sh SPECBIAS [core|io|trace]
#   core (default): everything that needs nothing of the machine;
#   io: a read-only folder and a full disk, on tmpfs mounts (needs mount(2), so root or a user
#       namespace); exits 77 with the reason where mounting is not allowed;
#   trace: a signal delivered by strace as the final write renames (77 without strace).
set -u
bin=$1
group=${2:-core}
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
mounts=()
cleanup() {
  local m
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
source "$src/tests/cli_lib.sh"

no_tmp() { # no_tmp DIR WHAT: no temporary results file left behind
  ls -a "$1" | grep -q '\.tmp' && fail "$2 left a temporary file in $1: $(ls -a "$1")"
  return 0
}
tiny='{"name": "a/tiny", "target": {"kind": "sines1d", "n": 64, "frequencies": [3]},
       "model": {"depth": 1, "width": 8}, "train": {"lr": 0.01, "steps": 3}, "checkpoints": 2}'
suite "$tmp/tiny.json" "$tiny"

if [ "$group" = trace ]; then
  # ---- 3. a first signal during the final write (strace sends it at the last rename(2)) ------
  command -v strace >/dev/null || { echo "SKIP: strace is not installed (it holds the final write open)"; exit 77; }
  # LeakSanitizer cannot run under ptrace; leaks are checked by every other test of the
  # sanitizer build (scripts/test stage 2).
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
  # strace itself delivers SIGINT as the run enters its second rename(2), the one that puts the
  # final results in place (the first is the empty file written before training; the peak
  # cache, which renames too, is off): no polling of the child, no race. The rename still
  # happens; the handler runs when it returns.
  SPECBIAS_PEAK_CACHE=off strace -qq -f -o /dev/null -e trace=rename,renameat,renameat2 \
    -e inject=rename,renameat,renameat2:signal=SIGINT:when=2 \
    "$bin" run --suite "$tmp/tiny.json" --out "$tmp/t" --quiet --threads 1 >/dev/null 2>"$tmp/t.err"
  rc=$?
  grep -q "ptrace\|PTRACE" "$tmp/t.err" && [ ! -e "$tmp/t" ] && {
    echo "SKIP: strace cannot trace here: $(head -n 1 "$tmp/t.err")"; exit 77; }
  [ $rc -eq 130 ] || fail "SIGINT during the final write: exit $rc, want 130: $(cat "$tmp/t.err")"
  grep -q "after the last experiment had finished" "$tmp/t.err" || fail "no message for a late signal: $(cat "$tmp/t.err")"
  no_tmp "$tmp/t" "SIGINT during the final write"
  python3 - "$tmp/t/results.json" <<'PY' || fail "SIGINT during the final write: results.json is not the complete one"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["complete"] is True and r["interrupted"] is False, r
assert [e["status"] for e in r["experiments"]] == ["ok"], r["experiments"]
PY
  echo "cli_faults trace: all checks passed"
  exit 0
fi

if [ "$group" = io ]; then
  # ---- 4. I/O faults on real file systems: exit 3 naming the path, the earlier file intact --
  mnt() { # mnt DIR OPTIONS: a tmpfs, unmounted on exit
    mkdir -p "$1"
    mount -t tmpfs -o "$2" specbias-test "$1" 2>"$tmp/mount.err" || return 1
    mounts+=("$1")
  }
  if ! mnt "$tmp/ro" size=64k; then
    echo "SKIP: cannot mount a tmpfs here ($(cat "$tmp/mount.err")): the read-only folder and disk-full cases need one"
    exit 77
  fi
  "$bin" run --suite "$tmp/tiny.json" --out "$tmp/earlier" --quiet >/dev/null 2>&1 || fail "the earlier run failed"
  # Read-only: root ignores permissions, a read-only mount it cannot.
  cp "$tmp/earlier/results.json" "$tmp/ro/results.json"
  mount -o remount,ro "$tmp/ro" || fail "cannot remount $tmp/ro read-only"
  # The earlier file cannot be kept under its dated name there: nothing is written.
  expect 3 "$tmp/ro/results.json: cannot keep the earlier results as $tmp/ro/results-.*\.json before writing new ones: Read-only file system" \
    run --suite "$tmp/tiny.json" --out "$tmp/ro" --quiet
  cmp -s "$tmp/earlier/results.json" "$tmp/ro/results.json" || fail "read-only: the earlier results.json changed"
  no_tmp "$tmp/ro" "a read-only folder"
  expect 3 "$tmp/ro/sub: cannot create folder: Read-only file system" \
    run --suite "$tmp/tiny.json" --out "$tmp/ro/sub/deeper" --quiet
  # Disk full: a 16 KiB tmpfs holding the earlier results, the rest taken by a filler.
  mnt "$tmp/full" size=16k || fail "cannot mount the disk-full tmpfs"
  cp "$tmp/earlier/results.json" "$tmp/full/results.json" 2>/dev/null \
    || fail "the earlier results.json ($(stat -c %s "$tmp/earlier/results.json") bytes) does not fit 16 KiB"
  dd if=/dev/zero of="$tmp/full/filler" bs=1k count=64 2>/dev/null  # stops at ENOSPC
  expect 3 "$tmp/full/results.json: cannot write results .*No space left on device" \
    run --suite "$tmp/tiny.json" --out "$tmp/full" --quiet
  cmp -s "$tmp/earlier/results.json" "$tmp/full/results.json" || fail "disk full: the earlier results.json changed"
  for f in "$tmp"/full/results-*.json; do  # kept as a hard link, which takes no space
    cmp -s "$tmp/earlier/results.json" "$f" || fail "disk full: the kept copy $f differs"
  done
  no_tmp "$tmp/full" "a full disk"
  echo "cli_faults io: all checks passed"
  exit 0
fi

# ---- 3. interruption ----------------------------------------------------------------------
long='{"name": "b/long", "target": {"kind": "sines1d", "n": 256, "frequencies": [3]},
       "model": {"depth": 2, "width": 16}, "train": {"lr": 0.001, "steps": 100000000}, "checkpoints": 3}'
wait_for() { # wait_for FILE PATTERN: until FILE exists and matches (10 s at most)
  local i
  for i in $(seq 1000); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.01; done
  fail "$1 never matched '$2'"
}
# A signal during the very first experiment: nothing finished, the file still says what ran.
suite "$tmp/first.json" "$long" "$tiny"
"$bin" run --suite "$tmp/first.json" --out "$tmp/i1" --quiet >/dev/null 2>"$tmp/i1.err" &
pid=$!
wait_for "$tmp/i1/results.json" '"experiments"'
sleep 0.3
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 130 ] || fail "SIGINT in the first experiment: exit $rc, want 130"
grep -q "interrupted before any experiment finished; $tmp/i1/results.json holds no finished experiment" "$tmp/i1.err" \
  || fail "SIGINT in the first experiment: the message does not say that none finished: $(cat "$tmp/i1.err")"
grep -q "finished so far" "$tmp/i1.err" && fail "the message claims finished experiments: $(cat "$tmp/i1.err")"
no_tmp "$tmp/i1" "SIGINT in the first experiment"
python3 - "$tmp/i1/results.json" <<'PY' || fail "SIGINT in the first experiment: results.json does not say what happened"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["interrupted"] is True and r["complete"] is False, r
e = r["experiments"]
assert [x["name"] for x in e] == ["b/long"], e  # the second one never started
assert e[0]["status"] == "interrupted" and "interrupted by signal 2" in e[0]["error"], e[0]
assert e[0]["repetitions"][0]["curve"][0]["step"] == 0, e[0]
PY

# A signal while a results file is being written. The temporary file is made a FIFO, so the
# write blocks in open() for as long as the test likes: a first signal must not fail it
# (EINTR), a second must exit at once, removing the temporary file, the last whole
# results.json left as it was.
suite "$tmp/one.json" '{"name": "c/short", "target": {"kind": "sines1d", "n": 256, "frequencies": [3]},
       "model": {"depth": 2, "width": 32}, "train": {"lr": 0.001, "steps": 3000}, "checkpoints": 3}'
mkdir -p "$tmp/w"
"$bin" run --suite "$tmp/one.json" --out "$tmp/w" --quiet --threads 1 >/dev/null 2>&1 &
pid=$!
wait_for "$tmp/w/results.json" '"experiments"'
cp "$tmp/w/results.json" "$tmp/w.before"
mkfifo "$tmp/w/.results.json.$pid.tmp"
case $(uname -m) in x86_64) openat=257 ;; aarch64) openat=56 ;; *) openat= ;; esac
blocked=
for i in $(seq 3000); do  # 30 s: until the main thread sits in openat(2) on the FIFO
  read -r nr _ <"/proc/$pid/syscall" 2>/dev/null || break
  if [ -n "$openat" ] && [ "$nr" = "$openat" ]; then blocked=1; break; fi
  [ -z "$openat" ] && [ $i -gt 1000 ] && { blocked=1; break; }
  sleep 0.01
done
[ -n "$blocked" ] || fail "the run never reached its final write (syscall: $(cat /proc/$pid/syscall 2>&1))"
kill -INT $pid
sleep 0.5
kill -0 $pid 2>/dev/null || { wait $pid; fail "a first signal during a write ended the run (exit $?)"; }
cmp -s "$tmp/w.before" "$tmp/w/results.json" || fail "results.json changed while its replacement was being written"
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 143 ] || fail "a second signal during a write: exit $rc, want 143"
no_tmp "$tmp/w" "a second signal during a write"
cmp -s "$tmp/w.before" "$tmp/w/results.json" || fail "a second signal during a write changed results.json"
python3 -c "import json; json.load(open('$tmp/w/results.json'))" || fail "results.json does not parse"

# ---- 4. I/O faults that need no mount --------------------------------------------------------
"$bin" run --suite "$tmp/tiny.json" --out "$tmp/new/a/b" --quiet >/dev/null 2>&1 || fail "a missing output folder is not created"
[ -s "$tmp/new/a/b/results.json" ] || fail "no results.json in the created folder"
touch "$tmp/afile"
expect 2 "$tmp/afile/sub: cannot create folder: Not a directory" run --suite "$tmp/tiny.json" --out "$tmp/afile/sub" --quiet
expect 2 "--out $tmp/afile: that is a file, not a folder" run --suite "$tmp/tiny.json" --out "$tmp/afile" --quiet

# ---- 5. resource limits ------------------------------------------------------------------------
# Buffers that do not fit under ulimit -v are refused before they are allocated, with the size;
# the same limit lets a small experiment run (the estimate of what is mapped already is sane).
big='{"name": "m/big", "target": {"kind": "sines1d", "n": 131072, "frequencies": [3]},
      "model": {"depth": 4, "width": 256}, "train": {"lr": 0.01, "steps": 3}, "checkpoints": 2}'
suite "$tmp/big.json" "$big"
# AddressSanitizer reserves terabytes of address space for its shadow memory, so a sanitized
# binary cannot start under any ulimit -v (scripts/test's stage 2); the check needs a plain build.
if "$bin" info | grep -q -- '-fsanitize=address'; then
  echo "note: ulimit -v cases not run: this binary is built with AddressSanitizer"
else
  err=$(ulimit -v 524288 && "$bin" run --suite "$tmp/big.json" --out "$tmp/m1" --threads 2 2>&1 >/dev/null); rc=$?
  [ $rc -eq 2 ] || fail "ulimit -v: an experiment that cannot fit exited $rc, want 2: $err"
  grep -qE "big.json: experiment 'm/big' needs about [0-9]+ MiB of buffers; the address-space limit \(ulimit -v\) of 512 MiB leaves" <<<"$err" \
    || fail "ulimit -v: the refusal does not give the size: $err"
  [ -e "$tmp/m1" ] && fail "a refused run created its output folder"
  (ulimit -v 524288 && "$bin" run --suite "$tmp/tiny.json" --out "$tmp/m2" --threads 2 --quiet >/dev/null 2>&1) \
    || fail "ulimit -v 512 MiB refused a tiny experiment"
fi
# A huge width within the parser's bounds, beyond this machine's memory.
suite "$tmp/wide.json" '{"name": "m/wide", "target": {"kind": "sines1d", "n": 1048576, "frequencies": [3]},
      "model": {"depth": 8, "width": 8192}, "train": {"lr": 0.01, "steps": 1}}'
expect 2 "wide.json: experiment 'm/wide' needs about [0-9.]+ GiB of buffers; this machine has" \
  run --suite "$tmp/wide.json" --out "$tmp/m3"
# Absurd values: exit 2 at parse time, naming the file, the field and the value.
absurd() { # absurd NAME PATTERN EXPERIMENT-JSON
  suite "$tmp/$1.json" "$3"
  expect 2 "$1.json: experiment 'x': $2" run --suite "$tmp/$1.json" --out "$tmp/never"
}
absurd width "'model.width' = 10000000 is out of range" \
  '{"name": "x", "target": {"kind": "sines1d", "n": 64, "frequencies": [3]}, "model": {"depth": 1, "width": 10000000}, "train": {"lr": 0.1, "steps": 1}}'
absurd steps "'train.steps' = 1000000000000 is out of range" \
  '{"name": "x", "target": {"kind": "sines1d", "n": 64, "frequencies": [3]}, "model": {"depth": 1, "width": 4}, "train": {"lr": 0.1, "steps": 1000000000000}}'
absurd n "'target.n' = 1000000000 is out of range" \
  '{"name": "x", "target": {"kind": "sines1d", "n": 1000000000, "frequencies": [3]}, "model": {"depth": 1, "width": 4}, "train": {"lr": 0.1, "steps": 1}}'
absurd batch "'train.batch' = 1000000000000 is out of range" \
  '{"name": "x", "target": {"kind": "zoneplate", "size": 16}, "model": {"depth": 1, "width": 4}, "train": {"lr": 0.1, "steps": 1, "batch": 1000000000000}}'
absurd zero "'target.size' = 0 is out of range" \
  '{"name": "x", "target": {"kind": "zoneplate", "size": 0}, "model": {"depth": 1, "width": 4}, "train": {"lr": 0.1, "steps": 1}}'
absurd depth "'model.depth' = 100000 is out of range" \
  '{"name": "x", "target": {"kind": "sines1d", "n": 64, "frequencies": [3]}, "model": {"depth": 100000, "width": 4}, "train": {"lr": 0.1, "steps": 1}}'
# Zero-size and one-pixel PNGs: exit 2 naming the file.
python3 - "$tmp" <<'PY'
import struct, sys, zlib
def png(w, h):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    raw = b"".join(b"\0" + bytes(w) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
open(sys.argv[1] + "/zero.png", "wb").write(png(0, 16))
open(sys.argv[1] + "/dot.png", "wb").write(png(1, 1))
PY
for p in zero dot; do
  suite "$tmp/png-$p.json" "{\"name\": \"x\", \"target\": {\"kind\": \"image\", \"path\": \"$p.png\"}, \"model\": {\"depth\": 1, \"width\": 4, \"output\": \"sigmoid\"}, \"train\": {\"lr\": 0.01, \"steps\": 1}}"
  expect 2 "$p.png" run --suite "$tmp/png-$p.json" --out "$tmp/never"
done
[ -e "$tmp/never" ] && fail "a refused suite created its output folder"
# The command line's counts.
expect 2 "--threads needs a whole number in \[1, 1024\], got '100000'" run --suite "$tmp/tiny.json" --threads 100000
expect 2 "--steps needs a whole number .*'1000000000000'" run --suite "$tmp/tiny.json" --steps 1000000000000
expect 2 "--repetitions needs a whole number .*'1000000'" run --suite "$tmp/tiny.json" --repetitions 1000000
expect 2 "--steps needs a whole number .*'99999999999999999999999'" run --suite "$tmp/tiny.json" --steps 99999999999999999999999
expect 2 "--seed needs a whole number .*'4294967296'" run --suite "$tmp/tiny.json" --seed 4294967296

# ---- 6. numerical faults ---------------------------------------------------------------------
# Adam at lr 1e6 with a linear output: the loss overflows. With a sigmoid output the loss stays
# bounded and the gradient goes first: caught at the step it happened, not one step later as a
# NaN loss. Either way the experiment fails with the step, the others run, the file is complete.
lr6='{"name": "n/lr1e6", "target": {"kind": "sines1d", "n": 256, "frequencies": [3, 7]},
      "model": {"depth": 2, "width": 16}, "train": {"optimizer": "adam", "lr": 1000000, "steps": 200}, "checkpoints": 3}'
grad='{"name": "n/grad", "target": {"kind": "sines1d", "n": 256, "frequencies": [3, 7]},
       "encoding": {"kind": "posenc", "octaves": [0, 4]}, "model": {"depth": 8, "width": 16, "output": "sigmoid"},
       "train": {"optimizer": "adam", "lr": 1000000, "steps": 300}, "checkpoints": 3}'
suite "$tmp/num.json" "$lr6" "$tiny" "$grad"
err=$("$bin" run --suite "$tmp/num.json" --out "$tmp/n" 2>&1 >/dev/null); rc=$?
[ $rc -eq 3 ] || fail "diverging experiments: exit $rc, want 3: $err"
grep -q "n/lr1e6 failed: n/lr1e6: the loss is infinite at step 1 (diverged)" <<<"$err" || fail "lr 1e6: no failure with its step: $err"
grep -q "n/grad failed: n/grad: the gradient is NaN (parameter [0-9]* of 2097) at step 1 (diverged)" <<<"$err" \
  || fail "a NaN gradient under a finite loss is not caught at its step: $err"
python3 - "$tmp/n/results.json" <<'PY' || fail "the diverged experiments are not recorded as failed beside the finished one"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["complete"] is True and r["interrupted"] is False, r
e = {x["name"]: x for x in r["experiments"]}
assert list(e) == ["n/lr1e6", "a/tiny", "n/grad"], list(e)
assert e["a/tiny"]["status"] == "ok", e["a/tiny"]
for n, what in (("n/lr1e6", "loss is infinite at step 1"), ("n/grad", "gradient is NaN")):
    x = e[n]
    assert x["status"] == "failed" and what in x["error"], x
    rep = x["repetitions"][0]
    assert rep["status"] == "failed" and what in rep["error"] and rep["curve"], rep
PY

# ---- 7. repeatability: --rerun -----------------------------------------------------------------
cp "$src/suites/data/astronaut.png" "$tmp/photo.png"
suite "$tmp/re.json" \
  '{"name": "r/1d", "target": {"kind": "sines1d", "n": 128, "frequencies": [3, 5]}, "encoding": {"kind": "posenc", "octaves": [0, 3]},
    "model": {"depth": 2, "width": 16}, "train": {"lr": 0.01, "steps": 50}, "checkpoints": 3}' \
  '{"name": "r/photo", "target": {"kind": "image", "path": "photo.png", "size": 32}, "encoding": {"kind": "gauss", "features": 8, "sigma": 3},
    "model": {"depth": 1, "width": 8, "output": "sigmoid"}, "train": {"lr": 0.01, "steps": 50}, "checkpoints": 2}' \
  '{"name": "r/zone", "target": {"kind": "zoneplate", "size": 16}, "model": {"depth": 1, "width": 8, "output": "sigmoid"},
    "train": {"lr": 0.01, "steps": 50, "batch": 16}, "checkpoints": 2}' \
  '{"name": "skipped", "target": {"kind": "sines1d", "n": 64, "frequencies": [3]}, "model": {"depth": 1, "width": 4}, "train": {"lr": 0.1, "steps": 5}}'
"$bin" run --suite "$tmp/re.json" --filter '^r/' --seed 7 --steps 20 --repetitions 2 --threads 1 \
  --out "$tmp/r1" --quiet >/dev/null 2>&1 || fail "the run to repeat failed"
mv "$tmp/re.json" "$tmp/re.moved"  # a rerun needs only the results file (and the image)
err=$("$bin" run --rerun "$tmp/r1/results.json" --out "$tmp/r2" --quiet 2>&1 >/dev/null) || fail "--rerun failed: $err"
grep -q "warning: .*written by a build" <<<"$err" && fail "--rerun by the same binary warned: $err"
python3 - "$tmp/r1/results.json" "$tmp/r2/results.json" <<'PY' || fail "--rerun did not reproduce the run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
ca, cb = a["context"], b["context"]
assert ca["suite"]["content_hash"] == cb["suite"]["content_hash"], (ca["suite"], cb["suite"])
assert ca["suite"]["content"] == cb["suite"]["content"]
assert ca["isa_used"] == cb["isa_used"] and ca["threads"] == cb["threads"] == 1
assert cb["rerun_of"] == sys.argv[1], cb.get("rerun_of")
ra, rb = ca["run_options"], cb["run_options"]
for k in ("filter", "seed", "steps", "repetitions"):
    assert ra[k] == rb[k], (k, ra, rb)
assert (ra["filter"], ra["seed"], ra["steps"], ra["repetitions"]) == ("^r/", 7, 20, 2), ra
for k in ("git_commit", "build_flags", "compiler"):
    assert ca[k], k
names = [e["name"] for e in a["experiments"]]
assert names == [e["name"] for e in b["experiments"]] == ["r/1d", "r/photo", "r/zone"], names
for x, y in zip(a["experiments"], b["experiments"]):
    assert x["config"] == y["config"], (x["config"], y["config"])
    ha = [r["trajectory_hash"] for r in x["repetitions"]]
    hb = [r["trajectory_hash"] for r in y["repetitions"]]
    assert len(ha) == 2 and ha == hb, (x["name"], ha, hb)
    assert x["repetitions"][0]["steps"] == 20
PY
# A different build warns, and still runs.
python3 - "$tmp/r1/results.json" "$tmp/other.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["context"]["git_commit"] = "0123456789ab"
r["context"]["build_flags"] = "-O0 -ffast-math"
json.dump(r, open(sys.argv[2], "w"))
PY
err=$("$bin" run --rerun "$tmp/other.json" --out "$tmp/r3" --quiet 2>&1 >/dev/null) || fail "--rerun of another build's file failed: $err"
grep -q "warning: .*other.json was written by a build with git_commit \"0123456789ab\"" <<<"$err" || fail "no warning for another git commit: $err"
grep -q "warning: .*build_flags \"-O0 -ffast-math\"" <<<"$err" || fail "no warning for other build flags: $err"
# Files that cannot be rerun: exit 2 naming the file and what it lacks.
edit() { # edit NAME PYTHON-STATEMENT (on r)
  python3 -c "
import json; r = json.load(open('$tmp/r1/results.json'))
$2
json.dump(r, open('$tmp/$1.json', 'w'))"
}
edit nocontent 'del r["context"]["suite"]["content"]'
expect 2 "nocontent.json: cannot rerun: it lacks context.suite.content" run --rerun "$tmp/nocontent.json" --out "$tmp/never"
edit noopts 'del r["context"]["run_options"]'
expect 2 "noopts.json: cannot rerun: it lacks context.run_options.seed" run --rerun "$tmp/noopts.json" --out "$tmp/never"
edit edited 'r["context"]["suite"]["content"] = r["context"]["suite"]["content"].replace("\"lr\": 0.01", "\"lr\": 0.02")'
expect 2 "edited.json: the embedded suite does not match context.suite.content_hash" run --rerun "$tmp/edited.json" --out "$tmp/never"
edit schema 'r["schema"] = "something-else"'
expect 2 "schema.json: not a specbias results file" run --rerun "$tmp/schema.json" --out "$tmp/never"
echo '{"schema": ' >"$tmp/broken.json"
expect 2 "broken.json:" run --rerun "$tmp/broken.json" --out "$tmp/never"
expect 2 "missing.json:" run --rerun "$tmp/missing.json" --out "$tmp/never"
expect 2 "--seed cannot be combined with it" run --rerun "$tmp/r1/results.json" --seed 1
[ -e "$tmp/never" ] && fail "a refused --rerun created its output folder"
# The image's pixels changed since: exit 2 naming the file.
python3 - "$tmp/photo.png" <<'PY'
import struct, sys, zlib
w = h = 64
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
raw = b"".join(b"\0" + bytes((x * y) & 255 for x in range(w)) for y in range(h))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
expect 2 "experiment 'r/photo': the pixels of .*photo.png are not the ones the run in .*r1/results.json trained on \(data_hash [0-9a-f]{16} there, [0-9a-f]{16} now\)" \
  run --rerun "$tmp/r1/results.json" --out "$tmp/never"
[ -e "$tmp/never" ] && fail "a refused --rerun created its output folder"
echo "cli_faults: all checks passed"
