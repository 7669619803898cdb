#!/usr/bin/env bash
# `specbias run`: a smoke run and its results file, and every bad-input path (exit 2 with a
# message naming the file, field or value) and failed-run path (exit 3).
set -u
bin=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/cli_lib.sh"

one_d='{"name": "a/raw", "target": {"kind": "sines1d", "n": 256, "frequencies": [3, 7]},
        "model": {"depth": 2, "width": 16}, "train": {"lr": 0.001, "steps": 6}, "checkpoints": 3,
        "target_loss": 0.1}'
two_d='{"name": "b/zone", "target": {"kind": "zoneplate", "size": 16},
        "encoding": {"kind": "gauss", "features": 8, "sigma": 3},
        "model": {"depth": 1, "width": 8, "output": "sigmoid"}, "train": {"lr": 0.01, "steps": 4},
        "checkpoints": 2, "target_psnr": 5}'
suite "$tmp/ok.json" "$one_d" "$two_d"

# ---- a good run --------------------------------------------------------------------------
"$bin" run --suite "$tmp/ok.json" --out "$tmp/out" --repetitions 2 --threads 2 >"$tmp/stdout" 2>"$tmp/stderr" \
  || fail "smoke run exited $?: $(cat "$tmp/stderr")"
grep -q "a/raw" "$tmp/stdout" || fail "no summary table on stdout: $(cat "$tmp/stdout")"
# One unit for step time (ms/step, as compare and report), and the one definition of learned
grep -qE "^experiment +ms/step +GFLOP/s" "$tmp/stdout" || fail "the summary's step time is not in ms/step: $(cat "$tmp/stdout")"
grep -q "learned: final spectral error <= 0.1, median over repetitions" "$tmp/stdout" \
  || fail "the summary's footnote does not define learned as harness/util/learned.h: $(cat "$tmp/stdout")"
grep -q "ms/step" "$tmp/stderr" && ! grep -q "steps/s" "$tmp/stderr" || fail "the per-experiment line is not in ms/step: $(cat "$tmp/stderr")"
python3 - "$tmp/out/results.json" "$tmp/stdout" <<'PY' || fail "the summary's ms/step or learned count disagrees with results.json"
import json, statistics, sys
r = json.load(open(sys.argv[1])); rows = {l.split()[0]: l.split() for l in open(sys.argv[2]) if l[:2] in ("a/", "b/")}
for e in r["experiments"]:
    row = rows[e["name"]]
    ms = statistics.median(1000.0 / x["steps_per_second"] for x in e["repetitions"])
    assert abs(float(row[1]) - ms) <= 0.0005 + 1e-3 * ms, (row, ms)
    errs = [x["curve"][-1]["spectral_error"] for x in e["repetitions"]]
    # a band without energy has no spectral error (null): not learned
    med = [[v[j] for v in errs if v[j] is not None] for j in range(len(errs[0]))]
    learned = sum(bool(m) and statistics.median(m) <= 0.1 for m in med)
    assert row[-1 if e["name"] == "a/raw" else -2] == "%d/%d" % (learned, len(errs[0])), (row, learned)
PY
grep -q "\[1/2\] a/raw" "$tmp/stderr" || fail "no per-experiment progress line: $(cat "$tmp/stderr")"
ls -a "$tmp/out" | grep -q '\.tmp' && fail "a temporary file was left in the output folder"
python3 - "$tmp/out/results.json" <<'PY' || fail "results.json lacks required fields"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "specbias-results/1" and r["complete"] is True
c = r["context"]
for k in ["host", "cpu_model", "isa_available", "isa_used", "threads", "compiler", "build_flags",
          "git_commit", "topology", "peak_gflops", "counters"]:
    assert k in c, k
for k in ["cores", "l1d_bytes", "l2_bytes", "l3_bytes"]:
    assert k in c["topology"], k
for k in ["status", "reason", "events"]:
    assert k in c["counters"], k
assert c["threads"] == 2
assert [e["name"] for e in r["experiments"]] == ["a/raw", "b/zone"]
for e in r["experiments"]:
    assert e["status"] == "ok" and "config" in e and len(e["repetitions"]) == 2
    for k in ["median", "min", "max", "cv"]:
        assert k in e["summary"]["train_seconds"], k
    h = set()
    for rep in e["repetitions"]:
        for k in ["steps", "train_seconds", "steps_per_second", "gflops", "peak_fraction",
                  "final_loss", "final_psnr_db", "time_to_target_s", "convergence_per_second",
                  "trajectory_hash", "curve", "frequencies", "analysis"]:
            assert k in rep, k
        for p in rep["curve"]:
            for k in ["step", "seconds", "loss", "psnr_db", "spectral_error"]:
                assert k in p, k
        for k in ["regions", "dead_units", "hamming_local_mean", "hamming_global_mean",
                  "confusion_local", "confusion_global"]:
            assert k in rep["analysis"], k
        h.add(rep["trajectory_hash"])
    assert len(h) == 1, "repetitions of one seed must have one trajectory"
a, b = r["experiments"]
assert len(a["repetitions"][0]["curve"][-1]["spectral_magnitude"]) == 2
assert "test_psnr_db" in b["repetitions"][0]["curve"][-1]
# Snapshots of the model's output for the reports: 1D values at the 256 inputs, 2D an 8-bit
# gray PNG of the 8 x 8 evaluation grid; the first and the last checkpoint among them.
import base64, struct
for e, want_steps in ((a, [0, 2, 6]), (b, [0, 4])):
    for rep in e["repetitions"]:
        snaps = rep["snapshots"]
        assert [s["step"] for s in snaps] == want_steps, [s["step"] for s in snaps]
        for s in snaps + [rep["snapshot_target"]]:
            if e is a:
                assert len(s["values"]) == 256 and all(isinstance(v, float) for v in s["values"])
            else:
                png = base64.b64decode(s["png_base64"], validate=True)
                assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
                assert struct.unpack(">II", png[16:24]) == (8, 8) == (s["width"], s["height"])
                # the zone plate is gray: 8-bit, colour type 0
                assert png[24:26] == bytes([8, 0]) and s["channels"] == 1
PY

# --steps overrides, --filter selects, --list lists, the seed changes the trajectory
"$bin" run --suite "$tmp/ok.json" --filter '^a/' --steps 2 --seed 5 --out "$tmp/o2" --quiet >/dev/null 2>&1 \
  || fail "--filter/--steps/--seed run failed"
python3 -c "
import json; r=json.load(open('$tmp/o2/results.json')); e=r['experiments']
assert len(e)==1 and e[0]['repetitions'][0]['steps']==2, e
a=json.load(open('$tmp/out/results.json'))['experiments'][0]['repetitions'][0]['trajectory_hash']
assert e[0]['repetitions'][0]['trajectory_hash'] != a" || fail "--filter/--steps/--seed not honoured"
# --list: each experiment with its steps and an estimated time at this machine's peak
list=$("$bin" run --suite "$tmp/ok.json" --list --steps 1000 2>/dev/null) || fail "--list exited $?"
[ "$(awk 'NR > 1 && /^[ab]\// {print $1, $2}' <<<"$list")" = $'a/raw 1000\nb/zone 1000' ] || fail "--list names and steps: $list"
grep -qE "^a/raw +1000 +[0-9.]+ +(<0.1 s|[0-9.]+ (s|min|h))$" <<<"$list" || fail "--list has no estimate for a/raw: $list"
grep -q "at this machine's FMA peak of [0-9.]* GFLOP/s .*a lower bound" <<<"$list" || fail "--list does not say what the estimate is: $list"
grep -qE "^a/raw +6 " <<<"$("$bin" run --suite "$tmp/ok.json" --list 2>/dev/null)" || fail "--list without --steps: the suite's steps"
# its FLOPs per step are those the run counts (results.json's flops_per_step)
LIST=$list python3 - "$tmp/out/results.json" <<'PY' || fail "--list's MFLOP/step differ from the run's flops_per_step: $list"
import json, os, sys
rows = {l.split()[0]: float(l.split()[2]) for l in os.environ["LIST"].splitlines() if l[:2] in ("a/", "b/")}
for e in json.load(open(sys.argv[1]))["experiments"]:
    assert abs(rows[e["name"]] - e["flops_per_step"] / 1e6) <= 0.0005 + 1e-6 * rows[e["name"]], (rows, e["flops_per_step"])
PY
# Thread binding: done (or why not) is recorded; --no-bind and OMP_PROC_BIND turn it off.
python3 -c "
import json; b=json.load(open('$tmp/out/results.json'))['context']['binding']
assert b['enabled'] is True or b.get('reason'), b" || fail "context.binding says neither bound nor why not"
"$bin" run --suite "$tmp/ok.json" --filter '^a/' --steps 1 --no-bind --out "$tmp/o5" --quiet >/dev/null 2>&1 || fail "--no-bind run failed"
python3 -c "
import json; b=json.load(open('$tmp/o5/results.json'))['context']['binding']
assert b['enabled'] is False and b['reason'] == '--no-bind' and b['cpus'], b" || fail "--no-bind not recorded"
OMP_PROC_BIND=close "$bin" run --suite "$tmp/ok.json" --filter '^a/' --steps 1 --out "$tmp/o6" --quiet >/dev/null 2>&1 || fail "OMP_PROC_BIND run failed"
python3 -c "
import json; b=json.load(open('$tmp/o6/results.json'))['context']['binding']
assert not b['enabled'] and 'OMP_PROC_BIND' in b['reason'], b" || fail "OMP_PROC_BIND not respected"
# Threads: OMP_NUM_THREADS is the default, --threads overrides it.
OMP_NUM_THREADS=1 "$bin" run --suite "$tmp/ok.json" --filter '^a/' --steps 1 --out "$tmp/o7" --quiet >/dev/null 2>&1 || fail "OMP_NUM_THREADS run failed"
OMP_NUM_THREADS=1 "$bin" run --suite "$tmp/ok.json" --filter '^a/' --steps 1 --threads 3 --out "$tmp/o8" --quiet >/dev/null 2>&1 || fail "--threads run failed"
python3 -c "
import json
assert json.load(open('$tmp/o7/results.json'))['context']['threads'] == 1
assert json.load(open('$tmp/o8/results.json'))['context']['threads'] == 3" || fail "OMP_NUM_THREADS / --threads not honoured"
# Cache blocking: the sizes the kernels use are hwloc's, or the defaults with the reason.
python3 -c "
import json; r=json.load(open('$tmp/out/results.json'))['context']; b=r['blocking']; t=r['topology']
assert b['l1d_bytes'] >= 4096 and b['l2_bytes'] >= 4096, b
if b['source'] == 'hwloc': assert (b['l1d_bytes'], b['l2_bytes']) == (t['l1d_bytes'], t['l2_bytes']), (b, t)
else: assert b['source'] == 'default' and b['reason'], b
w = t['cache_estimate']['l1d_ways']   # None: no usable L1d, or hwloc gave no ways (then 64 sets)
assert b['l1d_ways'] == (w or b['l1d_bytes'] // 4096), (b, t)" || fail "context.blocking missing or inconsistent"
"$bin" run --suite quick --list | grep -q "lazzari1d/pe0-6" || fail "the quick suite is not found by name"

# ---- bad usage and bad input: exit 2 ---------------------------------------------------------
expect 2 "unknown option '--bogus'" run --bogus
expect 2 "--threads needs a whole number.*'0'" run --suite "$tmp/ok.json" --threads 0
expect 2 "--threads needs a whole number.*'two'" run --suite "$tmp/ok.json" --threads two
expect 2 "--steps needs a whole number.*'0'" run --suite "$tmp/ok.json" --steps 0
expect 2 "--repetitions needs a whole number" run --suite "$tmp/ok.json" --repetitions -1
expect 2 "--out needs a value" run --suite "$tmp/ok.json" --out
expect 2 "--filter '\(': " run --suite "$tmp/ok.json" --filter '('
expect 2 "no experiment of .*ok.json matches --filter 'nothing'; .*--list. lists them" run --suite "$tmp/ok.json" --filter nothing
expect 2 "unknown option '--fitler'; did you mean '--filter'\?" run --suite "$tmp/ok.json" --fitler a
expect 2 "unknown option '--repetiton=2'; did you mean '--repetitions'\?" run --repetiton=2
expect 2 "unknown command 'rnu'; did you mean 'run'\?" rnu
expect 2 "unknown ISA|not a known ISA|unknown" run --suite "$tmp/ok.json" --isa bogus
expect 2 "nosuchsuite.json: cannot open suite" run --suite nosuchsuite
expect 2 "the suites in .*suites: paper, quick \(or --suite FILE.json\)" run --suite nosuchsuite
expect 2 "missing.json: cannot open suite" run --suite "$tmp/missing.json"

printf '{"schema": "specbias-suite/1",\n "name": "t",\n "experiments": [ }\n' >"$tmp/syntax.json"
expect 2 "syntax.json:3:" run --suite "$tmp/syntax.json"
printf '{"schema": "specbias-suite/9", "name": "t", "experiments": [%s]}' "$one_d" >"$tmp/schema.json"
expect 2 'schema.json: schema is "specbias-suite/9"' run --suite "$tmp/schema.json"
suite "$tmp/field.json" '{"name": "x", "target": {"kind": "sines1d", "n": 64, "frequencies": [3]}, "model": {"depth": 1, "widht": 4}, "train": {"lr": 0.1, "steps": 1}}'
expect 2 "field.json: experiment 'x': unknown field 'model.widht'" run --suite "$tmp/field.json"
suite "$tmp/width.json" '{"name": "x", "target": {"kind": "sines1d", "n": 64, "frequencies": [3]}, "model": {"depth": 1, "width": 0}, "train": {"lr": 0.1, "steps": 1}}'
expect 2 "width.json: experiment 'x': 'model.width' = 0 is out of range" run --suite "$tmp/width.json"
suite "$tmp/freq.json" '{"name": "x", "target": {"kind": "sines1d", "n": 64, "frequencies": [40]}, "model": {"depth": 1, "width": 4}, "train": {"lr": 0.1, "steps": 1}}'
expect 2 "freq.json: experiment 'x': 'target.frequencies' value 40" run --suite "$tmp/freq.json"
suite "$tmp/dup.json" "$one_d" "$one_d"
expect 2 "dup.json: experiment 'a/raw': the name is used twice" run --suite "$tmp/dup.json"
suite "$tmp/enc.json" '{"name": "x", "target": {"kind": "sines1d", "n": 64, "frequencies": [3]}, "encoding": {"kind": "fancy"}, "model": {"depth": 1, "width": 4}, "train": {"lr": 0.1, "steps": 1}}'
expect 2 "'encoding.kind' = \"fancy\" is not one of" run --suite "$tmp/enc.json"

suite "$tmp/both.json" '{"name": "x", "target": {"kind": "sines1d", "n": 64, "frequencies": [3]}, "model": {"depth": 1, "width": 4}, "train": {"lr": 0.1, "steps": 1}, "target_psnr": 20}'
expect 2 "'target_psnr' is for 2D targets" run --suite "$tmp/both.json"
printf '{"schema": "specbias-suite/1", "experiments": [%s]}' "$one_d" >"$tmp/noname.json"
expect 2 "noname.json: missing field 'name'" run --suite "$tmp/noname.json"
suite "$tmp/huge.json" '{"name": "huge", "target": {"kind": "sines1d", "n": 16000000, "frequencies": [3]}, "model": {"depth": 64, "width": 8192}, "train": {"lr": 0.1, "steps": 1}}'
expect 2 "experiment 'huge' needs about [0-9.]+ GiB of buffers; this machine has" run --suite "$tmp/huge.json" --out "$tmp/huge"
[ -e "$tmp/huge/results.json" ] && fail "a refused run wrote a results file"
# --list estimates it without allocating its 17 GiB of parameters: under a 4 GiB address-space
# limit, except in a sanitizer build, whose shadow memory alone reserves terabytes of address
# space (there the list only has to succeed)
if "$bin" info | grep -q -- '-fsanitize=address'; then
  "$bin" run --suite "$tmp/huge.json" --list >"$tmp/huge.list" 2>&1 || fail "--list of a huge experiment: $(cat "$tmp/huge.list")"
else
  (ulimit -v 4194304 && "$bin" run --suite "$tmp/huge.json" --list >"$tmp/huge.list" 2>&1) || fail "--list of a huge experiment: $(cat "$tmp/huge.list")"
fi
grep -qE "^huge +1 +[0-9.]+ +[^?]+$" "$tmp/huge.list" || fail "--list of a huge experiment: $(cat "$tmp/huge.list")"
# A default's encoding does not leak into an experiment that picks another kind.
printf '{"schema": "specbias-suite/1", "name": "t", "defaults": {"encoding": {"kind": "posenc", "octaves": [0, 3]}}, "experiments": [%s]}' \
  '{"name": "x", "target": {"kind": "sines1d", "n": 64, "frequencies": [3]}, "encoding": {"kind": "none"}, "model": {"depth": 1, "width": 4}, "train": {"lr": 0.1, "steps": 1}}' >"$tmp/merge.json"
"$bin" run --suite "$tmp/merge.json" --list >/dev/null 2>&1 || fail "defaults' posenc octaves leaked into an encoding of kind none"
# A file name that is not UTF-8 still gives a complete, valid results file.
latin=$(printf '%s/caf\351.json' "$tmp")
cp "$tmp/ok.json" "$latin"
"$bin" run --suite "$latin" --filter '^a/' --out "$tmp/o4" --quiet >/dev/null 2>&1 || fail "a Latin-1 suite file name broke the run"
python3 -c "import json; r=json.load(open('$tmp/o4/results.json')); assert r['context']['suite']['path'].endswith('caf?.json')" \
  || fail "the suite path is missing from the results"

img() { # img FILE PATH-IN-SUITE SIZE
  suite "$1" "{\"name\": \"img\", \"target\": {\"kind\": \"image\", \"path\": \"$2\", \"size\": $3}, \"model\": {\"depth\": 1, \"width\": 4, \"output\": \"sigmoid\"}, \"train\": {\"lr\": 0.01, \"steps\": 1}}"
}
img "$tmp/nopng.json" "no-such.png" 64
expect 2 "no-such.png" run --suite "$tmp/nopng.json"
echo "not a png" >"$tmp/fake.png"
img "$tmp/fake.json" "fake.png" 64
expect 2 "fake.png" run --suite "$tmp/fake.json"
img "$tmp/small.json" "$src/suites/data/astronaut.png" 1024
expect 2 "astronaut.png: .*smaller" run --suite "$tmp/small.json"
head -c 3000 "$src/suites/data/astronaut.png" >"$tmp/cut.png"
img "$tmp/cut.json" "cut.png" 64
expect 2 "cut.png" run --suite "$tmp/cut.json"

# --out naming a file, or a path through one, is bad input
touch "$tmp/afile"
expect 2 "--out $tmp/afile: that is a file, not a folder" run --suite "$tmp/ok.json" --out "$tmp/afile"
expect 2 "afile/sub: cannot create folder: Not a directory" run --suite "$tmp/ok.json" --out "$tmp/afile/sub"
[ -s "$tmp/afile" ] && fail "--out FILE wrote into the file"

# ---- failed runs: exit 3 ---------------------------------------------------------------------
diverge='{"name": "c/diverge", "target": {"kind": "sines1d", "n": 256, "frequencies": [3]},
          "model": {"depth": 2, "width": 16}, "train": {"optimizer": "sgd", "lr": 100000, "steps": 50}}'
suite "$tmp/div.json" "$one_d" "$diverge"
expect 3 "c/diverge failed: .*at step [0-9]+ \(diverged\)" run --suite "$tmp/div.json" --out "$tmp/o3"
python3 -c "
import json; r=json.load(open('$tmp/o3/results.json')); e=r['experiments']
assert r['complete'] and e[0]['status']=='ok' and e[1]['status']=='failed' and 'diverged' in e[1]['error'], e" \
  || fail "a diverged experiment is not recorded as failed beside the finished one"

# ---- counters: tests/cli_counters.sh; here only that none are requested by default -------
python3 -c "
import json; c=json.load(open('$tmp/out/results.json'))['context']['counters']
assert c['status'] == 'not_requested' and c['events'] == [], c" || fail "counters without --counters"
expect 2 "--counters: bad event name" run --suite "$tmp/ok.json" --counters 'perf::TASK-CLOCK,,x' --out "$tmp/ox"
[ -e "$tmp/ox" ] && fail "a refused --counters list created the output folder"

# ---- nothing lost: an earlier results.json is kept under a dated name ----------------------
kept() { ls "$1" | grep -E '^results-.+\.json$' | sort; }
"$bin" run --suite "$tmp/ok.json" --filter '^a/' --out "$tmp/k" --quiet >"$tmp/k.stdout" 2>"$tmp/k.err" || fail "keep: first run: $(cat "$tmp/k.err")"
# --quiet drops the progress, not the summary table
grep -qE "^a/raw +[0-9.]+ " "$tmp/k.stdout" || fail "--quiet dropped the summary table: $(cat "$tmp/k.stdout")"
grep -q '^\[1/1\]' "$tmp/k.err" && fail "--quiet printed progress: $(cat "$tmp/k.err")"
[ -z "$(kept "$tmp/k")" ] || fail "a first run kept something: $(kept "$tmp/k")"
grep -q "kept" "$tmp/k.err" && fail "a first run said it kept something: $(cat "$tmp/k.err")"
cp "$tmp/k/results.json" "$tmp/k1.json"
"$bin" run --suite "$tmp/ok.json" --filter '^a/' --out "$tmp/k" --quiet >/dev/null 2>"$tmp/k.err" || fail "keep: second run"
[ "$(kept "$tmp/k" | wc -l)" -eq 1 ] || fail "the second run did not keep exactly one file: $(kept "$tmp/k")"
one=$(kept "$tmp/k")
date=$(python3 -c "import json; print(json.load(open('$tmp/k1.json'))['context']['date'].replace(':', '-'))")
[ "$one" = "results-$date.json" ] || fail "kept as $one, want results-$date.json (the earlier run's date)"
cmp -s "$tmp/k1.json" "$tmp/k/$one" || fail "the kept file is not the earlier results byte for byte"
cmp -s "$tmp/k1.json" "$tmp/k/results.json" && fail "the second run did not write new results"
grep -q "the earlier $tmp/k/results.json is kept as $tmp/k/$one" "$tmp/k.err" || fail "the run did not say what it kept: $(cat "$tmp/k.err")"
cp "$tmp/k/results.json" "$tmp/k2.json"
# a third run keeps the second's too, never over the first's (same second: a -2 suffix)
"$bin" run --suite "$tmp/ok.json" --filter '^a/' --out "$tmp/k" --quiet >/dev/null 2>&1 || fail "keep: third run"
[ "$(kept "$tmp/k" | wc -l)" -eq 2 ] || fail "the third run does not leave two kept files: $(kept "$tmp/k")"
cmp -s "$tmp/k1.json" "$tmp/k/$one" || fail "the third run changed the first kept file"
found=
for f in $(kept "$tmp/k"); do cmp -s "$tmp/k2.json" "$tmp/k/$f" && found=$f; done
[ -n "$found" ] && [ "$found" != "$one" ] || fail "the second run's results were not kept: $(kept "$tmp/k")"
# --rerun of the file in the very folder it writes: the same rules, rerun_of names the kept file
cp "$tmp/k/results.json" "$tmp/k3.json"
"$bin" run --rerun "$tmp/k/results.json" --out "$tmp/k" --quiet >/dev/null 2>&1 || fail "keep: --rerun into its own folder"
[ "$(kept "$tmp/k" | wc -l)" -eq 3 ] || fail "--rerun did not keep the file it repeated: $(kept "$tmp/k")"
python3 - "$tmp/k" "$tmp/k3.json" <<'PY' || fail "--rerun's rerun_of does not name the kept copy of what it repeated"
import json, sys
r = json.load(open(sys.argv[1] + "/results.json"))
assert open(r["context"]["rerun_of"], "rb").read() == open(sys.argv[2], "rb").read(), r["context"]["rerun_of"]
PY

# ---- --seeds: time to quality across seeds ------------------------------------------------
# An experiment whose target every seed reaches during training, each at its own step.
reach='{"name": "s/reach", "target": {"kind": "sines1d", "n": 256, "frequencies": [1, 2]},
        "model": {"depth": 2, "width": 32}, "train": {"lr": 0.01, "steps": 40}, "checkpoints": 4,
        "target_loss": 0.7, "seed": 9}'
suite "$tmp/seeds.json" "$reach" "$one_d"
"$bin" run --suite "$tmp/seeds.json" --filter '^s/' --seeds 3 --seed 2 --repetitions 2 --threads 1 \
  --out "$tmp/s3" --quiet >/dev/null 2>&1 || fail "--seeds 3 run failed"
"$bin" run --suite "$tmp/seeds.json" --filter '^s/' --seed 2 --threads 1 --out "$tmp/s1" --quiet >/dev/null 2>&1 \
  || fail "the plain run beside the --seeds run failed"
"$bin" run --suite "$tmp/seeds.json" --filter '^s/' --seed 4 --threads 1 --out "$tmp/s1b" --quiet >/dev/null 2>&1 \
  || fail "the plain run with --seed 4 failed"
python3 - "$tmp/s3/results.json" "$tmp/s1/results.json" "$tmp/s1b/results.json" <<'PY' || fail "--seeds results wrong"
import json, math, statistics, sys
r, plain, plain4 = (json.load(open(p)) for p in sys.argv[1:])
assert r["context"]["run_options"]["seeds"] == 3, r["context"]["run_options"]
assert plain["context"]["run_options"]["seeds"] == 1
(e,), (p,), (p4,) = r["experiments"], plain["experiments"], plain4["experiments"]
assert "seeds" not in p and "seeds" not in p["summary"], "a plain run has no seeds"
# the experiment's own seed (9) + --seed (2) + i
assert [s["seed"] for s in e["seeds"]] == [11, 12, 13], e["seeds"]
assert e["config"]["seed"] == p["config"]["seed"] == 11 and e["config"] == p["config"]
runs = [e["repetitions"]] + [s["repetitions"] for s in e["seeds"][1:]]
assert "repetitions" not in e["seeds"][0] and all(len(x) == 2 for x in runs), runs
# the first seed is the plain run, bit for bit; the third is the plain run with --seed 4
assert e["seeds"][0]["trajectory_hash"] == p["repetitions"][0]["trajectory_hash"]
assert e["seeds"][2]["trajectory_hash"] == p4["repetitions"][0]["trajectory_hash"]
assert len({s["trajectory_hash"] for s in e["seeds"]}) == 3, "the seeds gave the same trajectory"
times = []
for s, reps in zip(e["seeds"], runs):
    assert s["status"] == "ok" and all(x["trajectory_hash"] == s["trajectory_hash"] for x in reps)
    t = [x["time_to_target_s"] for x in reps]
    assert all(v is not None for v in t), ("a seed did not reach the target", s["seed"])
    # 10 significant digits in the file
    assert math.isclose(s["time_to_target_s"], statistics.median(t), rel_tol=1e-9), (s["seed"], t)
    times.append(s["time_to_target_s"])
# MLPerf: sorted, the fastest and the slowest dropped, the rest averaged (one left of three)
ss = e["summary"]["seeds"]
want = sum(sorted(times)[1:-1]) / (len(times) - 2)
got = ss["time_to_target_s"]["trimmed_mean"]
assert math.isclose(got, want, rel_tol=1e-9), (got, want, times)
assert ss["requested"] == ss["finished"] == ss["reached"] == 3, ss
assert ss["time_to_target_s"]["min"] == min(times) and ss["time_to_target_s"]["max"] == max(times)
assert e["summary"]["repetitions"] == 2
PY
# --rerun repeats every seed: the same hashes, seed by seed and repetition by repetition
"$bin" run --rerun "$tmp/s3/results.json" --out "$tmp/s3r" --quiet >/dev/null 2>&1 || fail "--rerun of a --seeds run failed"
python3 - "$tmp/s3/results.json" "$tmp/s3r/results.json" <<'PY' || fail "--rerun did not reproduce the --seeds run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert b["context"]["run_options"]["seeds"] == 3
def hashes(r):
    return [[x["trajectory_hash"] for x in e["repetitions"]] +
            [(s["seed"], s["trajectory_hash"], [x["trajectory_hash"] for x in s.get("repetitions", [])])
             for s in e["seeds"]] for e in r["experiments"]]
assert hashes(a) == hashes(b), (hashes(a), hashes(b))
PY
# A file written before --seeds (no run_options.seeds) reruns with one seed; a bad value is refused
python3 -c "
import json; r = json.load(open('$tmp/s1/results.json')); del r['context']['run_options']['seeds']
json.dump(r, open('$tmp/old.json', 'w'))
r['context']['run_options']['seeds'] = '3'; json.dump(r, open('$tmp/badseeds.json', 'w'))
r['context']['run_options']['seeds'] = 0; json.dump(r, open('$tmp/zeroseeds.json', 'w'))"
"$bin" run --rerun "$tmp/old.json" --out "$tmp/s1r" --quiet >/dev/null 2>&1 || fail "--rerun of a file without run_options.seeds failed"
python3 -c "
import json; r = json.load(open('$tmp/s1r/results.json'))
assert r['context']['run_options']['seeds'] == 1 and 'seeds' not in r['experiments'][0], r['context']['run_options']
assert r['experiments'][0]['repetitions'][0]['trajectory_hash'] == json.load(open('$tmp/s1/results.json'))['experiments'][0]['repetitions'][0]['trajectory_hash']" \
  || fail "a file without run_options.seeds did not rerun as one seed"
expect 2 "badseeds.json: cannot rerun: it lacks context.run_options.seeds" run --rerun "$tmp/badseeds.json" --out "$tmp/never"
expect 2 "zeroseeds.json: cannot rerun: context.run_options.seeds 0 is out of range" run --rerun "$tmp/zeroseeds.json" --out "$tmp/never"
# compare reads a --seeds file as it reads any (the first seed's repetitions): no bad input
for pair in "s3 s3r" "s1 s3"; do
  set -- $pair
  "$bin" compare "$tmp/$1/results.json" "$tmp/$2/results.json" >"$tmp/cmp.out" 2>&1; rc=$?
  { [ $rc -ne 2 ] && [ $rc -ne 3 ]; } || fail "compare $pair on --seeds files exited $rc: $(cat "$tmp/cmp.out")"
  grep -q "trajectory_hash.*identical" "$tmp/cmp.out" || fail "compare $pair: the first seeds' hashes are not identical: $(cat "$tmp/cmp.out")"
done
# with seeds on both sides the time-to-target gate takes one sample per seed (3 + 3), with
# repetitions of the first seed only on one side it says so
"$bin" compare "$tmp/s3/results.json" "$tmp/s3r/results.json" --format json >"$tmp/cmp.json" 2>/dev/null
python3 - "$tmp/cmp.json" <<'PY' || fail "compare did not gate time to target on the seeds' samples"
import json, sys
d = json.load(open(sys.argv[1]))
(r,) = [x for x in d["rows"] if x["metric"] == "time_to_target_s"]
assert r["base"]["n"] == 3 and r["new"]["n"] == 3, r
assert "reached in 3 of 3 seeds (BASE), 3 of 3 (NEW)" in r["note"], r["note"]
PY
"$bin" compare "$tmp/s1/results.json" "$tmp/s3/results.json" >"$tmp/cmp.out" 2>&1
grep -q "BASE has 1 seeds, NEW 3: compared on the first seed's repetitions only" "$tmp/cmp.out" \
  || fail "compare of a plain file against a --seeds file did not warn: $(cat "$tmp/cmp.out")"
expect 2 "--seeds needs a whole number.*'0'" run --suite "$tmp/ok.json" --seeds 0
expect 2 "--seeds needs a whole number.*'x'" run --suite "$tmp/ok.json" --seeds x
expect 2 "--seeds needs a whole number.*'101'" run --suite "$tmp/ok.json" --seeds 101
expect 2 "--seeds cannot be combined with it" run --rerun "$tmp/s3/results.json" --seeds 2

# ---- interruption: SIGINT / SIGTERM keep what finished, mark the rest, exit 130 / 143 -------
long='{"name": "b/long", "target": {"kind": "sines1d", "n": 256, "frequencies": [3]},
       "model": {"depth": 2, "width": 16}, "train": {"lr": 0.001, "steps": 100000000}, "checkpoints": 3}'
suite "$tmp/sig.json" "$one_d" "$long"
# interrupt SIGNAL WANT-RC OUT [SIGNALS...]: starts a run, waits for its first experiment to be
# written, sends the signal(s), checks the exit code and that results.json is whole.
interrupt() {
  local sig=$1 want=$2 o=$3 n=${4:-1} pid rc i
  "$bin" run --suite "$tmp/sig.json" --out "$o" --quiet >/dev/null 2>"$o.err" &
  pid=$!
  for i in $(seq 200); do grep -q '"a/raw"' "$o/results.json" 2>/dev/null && break; sleep 0.05; done
  sleep 0.5  # into the second experiment (its setup takes milliseconds; this leaves room under load)
  for i in $(seq "$n"); do kill -"$sig" $pid; done
  wait $pid; rc=$?
  [ $rc -eq "$want" ] || fail "SIG$sig x $n: exit $rc, want $want"
  ls -a "$o" | grep -q '\.tmp' && fail "SIG$sig x $n left a temporary file"
  python3 -c "
import json, sys; r = json.load(open('$o/results.json')); e = r['experiments']
assert e[0]['name'] == 'a/raw' and e[0]['status'] == 'ok', e
assert r['complete'] is False, r['complete']
if $n == 1:
    assert r['interrupted'] is True and e[1]['status'] == 'interrupted', e
    assert 'interrupted by signal' in e[1]['error'] and e[1]['repetitions'][0]['curve'], e[1]
" || fail "SIG$sig x $n: results.json does not keep the finished experiment or mark the interrupted one"
  # the message tells what finished
  [ "$n" -eq 2 ] || grep -q "interrupted after 1 of 2 experiments finished (a/raw); they are in $o/results.json; the other 1 did not finish" "$o.err" \
    || fail "SIG$sig: the message does not say what finished: $(cat "$o.err")"
}
interrupt INT 130 "$tmp/i1"
interrupt TERM 143 "$tmp/i2"
interrupt INT 130 "$tmp/i3" 2   # a second signal exits at once; the file is still whole
# An interrupted earlier file is kept too, named as incomplete.
cp "$tmp/i1/results.json" "$tmp/i1.json"
"$bin" run --suite "$tmp/ok.json" --filter '^a/' --out "$tmp/i1" --quiet >/dev/null 2>"$tmp/i1.err" || fail "a run over an interrupted one failed"
k=$(kept "$tmp/i1")
[[ "$k" == results-*-incomplete.json ]] && cmp -s "$tmp/i1.json" "$tmp/i1/$k" || fail "the interrupted earlier file was not kept as incomplete: $k"
grep -q "(incomplete: interrupted or still being written) is kept as" "$tmp/i1.err" || fail "no message for keeping an incomplete file: $(cat "$tmp/i1.err")"
echo "cli_run: all checks passed"
