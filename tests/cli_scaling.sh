#!/usr/bin/env bash
# `specbias run --threads LIST`: a scaling run of child runs in interleaved rounds, its folders,
# scaling.json's arithmetic against the children's results.json (with each point's
# threads_with_work and work_fraction), the bit-identical trajectories
# across thread counts, bad lists, a failed experiment, an interrupted scaling run and bad input
# refused before the first child. Never a speed: only what the numbers are made of.
set -u
bin=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/cli_lib.sh"

one_d=$sb_exp_1d
two_d=$sb_exp_2d
suite "$tmp/ok.json" "$one_d" "$two_d"

# ---- a scaling run -----------------------------------------------------------------------
"$bin" run --suite "$tmp/ok.json" --threads 2,1 --repetitions 2 --out "$tmp/s" >"$tmp/stdout" 2>"$tmp/stderr" \
  || fail "scaling run exited $?: $(cat "$tmp/stderr")"
for n in 1 2; do for r in 1 2; do
  [ -f "$tmp/s/threads-$n/round-$r/results.json" ] || fail "no threads-$n/round-$r/results.json: $(cd "$tmp/s" && find . | sort)"
done; done
ls -a "$tmp/s" | grep -q '\.tmp' && fail "a temporary file was left in the output folder"
# interleaved rounds: round 1 of every count before round 2 of any
grep -o "round [0-9]/2, [0-9] thread" "$tmp/stderr" | tr '\n' ';' | grep -q "^round 1/2, 1 thread;round 1/2, 2 thread;round 2/2, 1 thread;round 2/2, 2 thread;$" \
  || fail "the rounds are not interleaved: $(grep round "$tmp/stderr")"
# the parent's stdout holds its table only (the children's tables go to stderr)
grep -q "^strong scaling: median ms/step over 2 rounds; speedup and efficiency against 1 thread" "$tmp/stdout" \
  || fail "no scaling table on stdout: $(cat "$tmp/stdout")"
grep -q "^experiment  *threads  *ms/step  *speedup  *efficiency  *with work  *working  *rounds  *trajectory$" "$tmp/stdout" \
  || fail "the scaling table's header has no with work and working: $(cat "$tmp/stdout")"
grep -q "final loss" "$tmp/stdout" && fail "a child's summary table is on the parent's stdout"
python3 - "$tmp/s" "$tmp/stdout" <<'PY' || fail "scaling.json disagrees with the children's results.json"
import json, os, statistics, sys
d = sys.argv[1]; s = json.load(open(os.path.join(d, "scaling.json")))
assert s["schema"] == "specbias-scaling/1" and s["status"] == "complete", s["status"]
assert s["threads"] == [1, 2] and s["rounds"] == 2 and s["baseline_threads"] == 1, s
assert isinstance(s["cores"], int) and s["cores"] >= 1
assert s["runs"] == ["threads-1/round-1", "threads-2/round-1", "threads-1/round-2", "threads-2/round-2"], s["runs"]
rows = [l.split() for l in open(sys.argv[2])]
assert [e["name"] for e in s["experiments"]] == ["a/raw", "b/zone"]
for e in s["experiments"]:
    assert e["hashes_equal"] is True, e
    base = None
    hashes = set()
    for p in e["points"]:
        n = p["threads"]; rounds = []; work = []; busy = set()
        for r in (1, 2):
            res = json.load(open(os.path.join(d, "threads-%d/round-%d/results.json" % (n, r))))
            assert res["context"]["threads"] == n and res["complete"] is True
            x = [x for x in res["experiments"] if x["name"] == e["name"]][0]
            assert len(x["repetitions"]) == 1
            rounds.append(statistics.median(1000.0 / q["steps_per_second"] for q in x["repetitions"]))
            hashes.add(x["repetitions"][0]["trajectory_hash"])
            busy.add(x["parallel_split"]["threads_with_work"])
            work.append(x["summary"]["work_fraction"]["median"])
        close = lambda a, b: abs(a - b) <= 1e-9 * max(abs(a), abs(b))
        assert all(close(a, b) for a, b in zip(p["ms_per_step_rounds"], rounds)), (p, rounds)
        ms = statistics.median(rounds)
        assert close(p["ms_per_step"], ms), (p, ms)
        base = base or ms
        assert close(p["speedup"], base / ms) and close(p["efficiency"], base / ms / n), p
        assert p["status"] == "ok" and p["rounds_ok"] == 2
        assert p["trajectory_hash"] == x["repetitions"][0]["trajectory_hash"]
        # why efficiency drops: the children's split and their threads' time spent working
        assert len(busy) == 1 and type(p["threads_with_work"]) is int, (p, busy)
        assert p["threads_with_work"] == busy.pop() <= n, p
        assert all(isinstance(w, float) for w in work) and close(p["work_fraction"], statistics.median(work)), (p, work)
    # bit-identical across thread counts and rounds: a product guarantee
    assert len(hashes) == 1, hashes
    # the table's rows agree with the file
    name = e["name"]; i = next(k for k, r in enumerate(rows) if r and r[0] == name)
    for p, row in zip(e["points"], (rows[i][1:], rows[i + 1])):
        assert int(row[0]) == p["threads"] and abs(float(row[1]) - p["ms_per_step"]) <= 0.0005 + 1e-3 * p["ms_per_step"], (row, p)
        assert row[-1] == "identical" and row[-2] == "2/2", row
        # threads, ms/step, speedup, efficiency (2 words), with work, working (2 words)
        assert row[5] == str(p["threads_with_work"]) and row[7] == "%", (row, p)
        assert abs(int(row[6]) - 100 * p["work_fraction"]) <= 0.5 + 1e-6, (row, p)
PY
# each count is a folder of runs for compare: it reads them (0 or 1, or 4 with 2 runs a side)
"$bin" compare "$tmp/s/threads-1" "$tmp/s/threads-2" >"$tmp/cmp.out" 2>&1; rc=$?
[ $rc -eq 0 ] || [ $rc -eq 1 ] || [ $rc -eq 4 ] || fail "compare threads-1 threads-2 exited $rc: $(cat "$tmp/cmp.out")"
# a second scaling run into the same folder keeps the first scaling.json
cp "$tmp/s/scaling.json" "$tmp/first.json"
"$bin" run --suite "$tmp/ok.json" --threads 1,2 --filter '^a/' --quiet --out "$tmp/s" >/dev/null 2>"$tmp/again.err" \
  || fail "a second scaling run exited $?: $(cat "$tmp/again.err")"
k=$(cd "$tmp/s" && ls scaling-*.json)
[ -n "$k" ] && cmp -s "$tmp/first.json" "$tmp/s/$k" || fail "the earlier scaling.json was not kept: $(ls "$tmp/s")"
grep -q "the earlier $tmp/s/scaling.json is kept as $tmp/s/$k" "$tmp/again.err" || fail "no message for the kept scaling.json: $(cat "$tmp/again.err")"
grep -qE "round [0-9]/|final loss" "$tmp/again.err" && fail "--quiet did not reach the parent: $(cat "$tmp/again.err")"
python3 -c "
import json; s = json.load(open('$tmp/s/scaling.json'))
assert s['rounds'] == 1 and [e['name'] for e in s['experiments']] == ['a/raw'], s
" || fail "the second scaling run's scaling.json is not its own"

# ---- max and the lists -------------------------------------------------------------------
cores=$(python3 -c "import json; print(json.load(open('$tmp/s/scaling.json'))['cores'])")
"$bin" run --suite "$tmp/ok.json" --filter '^b/' --threads 1,max --quiet --out "$tmp/m" >/dev/null 2>"$tmp/m.err" \
  || fail "--threads 1,max exited $?: $(cat "$tmp/m.err")"
python3 -c "
import json; s = json.load(open('$tmp/m/scaling.json'))
want = sorted({1, $cores})
assert s['threads'] == want and s['cores'] == $cores, (s['threads'], want)
" || fail "max did not resolve to the $cores cores"
if [ "$cores" -eq 1 ]; then
  # 1,max is one count there: an ordinary run
  [ -f "$tmp/m/results.json" ] || fail "--threads 1,max on 1 core was not an ordinary run"
fi
# a count above the cores is run, and said
over=$((cores + 1))
"$bin" run --suite "$tmp/ok.json" --filter '^b/' --threads "$cores,$over" --quiet --out "$tmp/ov" >"$tmp/ov.out" 2>"$tmp/ov.err" \
  || fail "--threads $cores,$over exited $?: $(cat "$tmp/ov.err")"
grep -q "$over threads on $cores core" "$tmp/ov.out" || fail "no note for $over threads on $cores cores: $(cat "$tmp/ov.out")"
[ "$cores" -eq 1 ] || grep -q "against $cores threads (the smallest count: 1 is not in the list)" "$tmp/ov.out" \
  || fail "the baseline is not said when 1 is not in the list: $(cat "$tmp/ov.out")"
# duplicates removed, sorted; one count is an ordinary run with the same results.json
"$bin" run --suite "$tmp/ok.json" --filter '^b/' --threads 2,2 --quiet --out "$tmp/one" >/dev/null 2>&1 || fail "--threads 2,2 failed"
[ -f "$tmp/one/results.json" ] && [ ! -e "$tmp/one/scaling.json" ] || fail "--threads 2,2 is not an ordinary run"
python3 -c "import json; assert json.load(open('$tmp/one/results.json'))['context']['threads'] == 2" || fail "--threads 2,2 did not run 2 threads"
for bad in 0 x 1025 -1 ''; do
  expect 2 "--threads needs a whole number in \[1, 1024\], got '$bad' in the list '1,$bad'" run --suite "$tmp/ok.json" --threads "1,$bad" --out "$tmp/bad"
done
expect 2 "got '' in the list '1,,2'" run --suite "$tmp/ok.json" --threads 1,,2 --out "$tmp/bad"
expect 2 "--threads needs a whole number in \[1, 1024\], got 'two'" run --suite "$tmp/ok.json" --threads two
for opt in "--rerun $tmp/one/results.json" --list "--dump $tmp/dump"; do
  expect 2 "--threads 1,2 \(a scaling run, one child run per count\) cannot be combined with ${opt%% *}" run --suite "$tmp/ok.json" --threads 1,2 $opt
done
[ -e "$tmp/bad" ] && fail "a bad list made the output folder"

# ---- bad input before the first child: exit 2, no scaling.json ---------------------------
expect 2 "cannot open suite" run --suite "$tmp/none.json" --threads 1,2 --out "$tmp/b1"
expect 2 "no experiment of .* matches --filter" run --suite "$tmp/ok.json" --filter zzz --threads 1,2 --out "$tmp/b2"
touch "$tmp/afile"
expect 2 "that is a file, not a folder" run --suite "$tmp/ok.json" --threads 1,2 --out "$tmp/afile"
[ -e "$tmp/b1" ] || [ -e "$tmp/b2" ] && fail "bad input made an output folder"
# an image that is not there is refused by the parent
img='{"name": "c/img", "target": {"kind": "image", "path": "missing.png", "size": 16},
      "model": {"depth": 1, "width": 8}, "train": {"lr": 0.01, "steps": 2}}'
suite "$tmp/img.json" "$img"
expect 2 "missing.png" run --suite "$tmp/img.json" --threads 1,2 --out "$tmp/b3"
[ -e "$tmp/b3" ] && fail "a missing image made an output folder"
# a child refusing its input stops everything with 2: here the suite file is broken while the
# first child trains (each child reads it again). Into a copy of an earlier scaling run: the
# results.json the refusing child did not write is not counted as its.
slow=$(sb_exp_long b/slow)
suite "$tmp/slow.json" "$slow"
cp -r "$tmp/s" "$tmp/b4"
"$bin" run --suite "$tmp/slow.json" --threads 1,2 --quiet --out "$tmp/b4" >/dev/null 2>"$tmp/b4.err" &
pid=$!
for i in $(seq 1200); do grep -qs b/slow "$tmp/b4/threads-1/round-1/results.json" && break; sleep 0.05; done
echo '{"schema": ' >"$tmp/slow.json"
wait $pid; rc=$?
[ $rc -eq 2 ] || fail "a child's exit 2: the scaling run exited $rc, want 2: $(cat "$tmp/b4.err")"
grep -q "the run with 2 threads refused its input (exit 2): the scaling run stops" "$tmp/b4.err" || fail "no message for a child's exit 2: $(cat "$tmp/b4.err")"
python3 -c "
import json; s = json.load(open('$tmp/b4/scaling.json'))
assert s['status'] == 'failed' and s['runs'] == ['threads-1/round-1'], s
" || fail "a child's exit 2 did not leave a failed scaling.json with the finished run"

# ---- a failed experiment: recorded, the rest runs, exit 3 --------------------------------
diverge=$sb_exp_diverge
suite "$tmp/div.json" "$one_d" "$diverge"
expect 3 "the run with 2 threads, round 1, failed \(exit 3\); the other runs go on" run --suite "$tmp/div.json" --threads 1,2 --out "$tmp/f"
python3 -c "
import json; s = json.load(open('$tmp/f/scaling.json'))
assert s['status'] == 'failed' and len(s['runs']) == 2, s
a, c = s['experiments']
assert all(p['status'] == 'ok' for p in a['points']) and a['hashes_equal'] is True, a
assert all(p['status'] == 'failed' and p['ms_per_step'] is None for p in c['points']), c
# no round finished ok: no work_fraction; the split is the children's all the same
for p in c['points']:
    r = json.load(open('$tmp/f/threads-%d/round-1/results.json' % p['threads']))
    x = [x for x in r['experiments'] if x['name'] == c['name']][0]
    assert p['work_fraction'] is None and p['threads_with_work'] == x['parallel_split']['threads_with_work'], p
" || fail "a failed experiment is not marked failed in scaling.json"

# ---- SIGTERM during the second child: interrupted, the first child's results kept --------
# Children share their options, so each trains the same long experiment; the signal goes to
# the parent once the second child has started (2 rounds: whatever the machine's speed, runs
# are left when it comes).
long=$(sb_exp_long b/long)
suite "$tmp/sig.json" "$long"
"$bin" run --suite "$tmp/sig.json" --threads 1,2 --repetitions 2 --quiet --out "$tmp/i" >/dev/null 2>"$tmp/i.err" &
pid=$!
for i in $(seq 1200); do [ -f "$tmp/i/threads-2/round-1/results.json" ] && break; sleep 0.05; done
[ -f "$tmp/i/threads-2/round-1/results.json" ] || { kill $pid; fail "the second child did not start within a minute"; }
sleep 0.3  # past its setup, into training (a run stops between steps from there on)
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 143 ] || fail "SIGTERM: exit $rc, want 143 as run's: $(cat "$tmp/i.err")"
ls -a "$tmp/i" | grep -q '\.tmp' && fail "SIGTERM left a temporary file"
[ -e "$tmp/i/threads-1/round-2" ] && fail "a child started after the signal"
python3 -c "
import json; s = json.load(open('$tmp/i/scaling.json'))
assert s['status'] == 'interrupted', s['status']
assert s['runs'][0] == 'threads-1/round-1', s['runs']
p1 = s['experiments'][0]['points'][0]
assert p1['threads'] == 1 and p1['rounds_ok'] == 1 and p1['ms_per_step'] > 0 and p1['status'] == 'incomplete', p1
r = json.load(open('$tmp/i/threads-1/round-1/results.json'))
assert r['complete'] is True and r['experiments'][0]['status'] == 'ok', r['experiments'][0]['status']
# one round finished: its work_fraction, exactly (a median of one)
assert p1['work_fraction'] == r['experiments'][0]['summary']['work_fraction']['median'], p1
assert p1['threads_with_work'] == r['experiments'][0]['parallel_split']['threads_with_work'] == 1, p1
r2 = json.load(open('$tmp/i/threads-2/round-1/results.json'))
# the signal reached the running child once: it stopped between steps and kept its record
assert r2['interrupted'] is True and r2['experiments'][0]['status'] == 'interrupted', r2['experiments'][0]['status']
" || fail "SIGTERM: scaling.json or the children's results are not as interrupted runs leave them"
grep -q "scaling run interrupted" "$tmp/i.err" || fail "no message for the interrupted scaling run: $(cat "$tmp/i.err")"

# ---- Ctrl-C at a terminal: it reaches the children (the parent's process group) -----------
# and the running one stops between steps, keeping its interrupted record
python3 - "$bin" "$tmp/sig.json" "$tmp/c" <<'PY' || fail "Ctrl-C at a terminal"
import json, os, pty, sys, time
exe, suite, out = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(exe, [exe, "run", "--suite", suite, "--threads", "1,2", "--repetitions", "2",
                   "--quiet", "--out", out])
first = os.path.join(out, "threads-2/round-1/results.json")
for _ in range(1200):
    if os.path.exists(first):
        break
    time.sleep(0.05)
time.sleep(0.3)
os.write(fd, b"\x03")  # the terminal sends SIGINT to its foreground process group
text = b""
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    text += b
_, status = os.waitpid(pid, 0)
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 130, (status, text[-2000:])
s = json.load(open(os.path.join(out, "scaling.json")))
assert s["status"] == "interrupted", s["status"]
r2 = json.load(open(first))
assert r2["interrupted"] is True and r2["experiments"][-1]["status"] == "interrupted", r2["experiments"]
PY

echo "cli_scaling: all checks passed"
