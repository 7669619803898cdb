#!/usr/bin/env bash
# `specbias report`: a report of two small real runs (default ISA and scalar) and one kernel
# benchmark file has every figure it should (checked in figures.json and on disk), a
# self-contained index.html and a report.md whose images exist; compare verdicts (or the
# note that compare is unavailable); failed and interrupted runs; the history view and its
# change points; every bad-input path (exit 2 naming the file) and a missing matplotlib
# (exit 3).
# Usage: report.sh SPECBIAS [KEEP-DIR]: KEEP-DIR receives the report for report_chromium.sh.
set -u
bin=$1
keep=${2:-}
src=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
fx="$py $src/tests/report_fixtures.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/cli_lib.sh"

if ! "$py" -c 'import matplotlib, numpy' 2>/dev/null; then
  echo "SKIP: $py has no matplotlib (install python3-matplotlib)"
  exit 77
fi

# ---- inputs: two small real runs and a kernel benchmark file ----------------------------
# A small suite rather than `quick`: scalar quick runs take minutes on a loaded 2-core box.
cat >"$tmp/suite.json" <<'JSON'
{"schema": "specbias-suite/1", "name": "reporttest", "experiments": [
 {"name": "r/raw", "target": {"kind": "sines1d", "n": 256, "frequencies": [2, 5, 9]},
  "model": {"depth": 2, "width": 16}, "train": {"lr": 0.01, "steps": 12}, "checkpoints": 5,
  "target_loss": 2.0},
 {"name": "r/pe", "target": {"kind": "sines1d", "n": 256, "frequencies": [2, 5, 9]},
  "encoding": {"kind": "posenc", "octaves": [0, 4]},
  "model": {"depth": 2, "width": 16}, "train": {"lr": 0.01, "steps": 12}, "checkpoints": 5,
  "target_loss": 0.0001},
 {"name": "r/zone", "target": {"kind": "zoneplate", "size": 32},
  "encoding": {"kind": "gauss", "features": 16, "sigma": 4},
  "model": {"depth": 1, "width": 16, "output": "sigmoid"}, "train": {"lr": 0.01, "steps": 12},
  "checkpoints": 5, "target_psnr": 8}]}
JSON
"$bin" run --suite "$tmp/suite.json" --threads 1 --out "$tmp/A" --quiet >/dev/null 2>"$tmp/err" \
  || fail "run A failed: $(cat "$tmp/err")"
"$bin" run --suite "$tmp/suite.json" --threads 1 --isa scalar --out "$tmp/B" --quiet >/dev/null 2>"$tmp/err" \
  || fail "run B (scalar) failed: $(cat "$tmp/err")"
"$bin" kernels --benchmark_filter='dense_relu_fwd__(scalar|avx2)/2048x14x' --benchmark_min_time=0.01 \
  --benchmark_out="$tmp/K.json" --benchmark_out_format=json >/dev/null 2>"$tmp/err" \
  || fail "specbias kernels failed: $(cat "$tmp/err")"
# Snapshots (spec6): used as written when the run recorded them; otherwise A gets hand-made
# ones, so the snapshot figures are exercised either way, and B shows the file-without-them path.
snap_real=$($py -c "import json,sys; r=json.load(open(sys.argv[1])); print(int(any('snapshots' in p for e in r['experiments'] for p in e['repetitions'])))" "$tmp/A/results.json")
if [ "$snap_real" = 1 ]; then
  cp "$tmp/A/results.json" "$tmp/A1.json"
else
  echo "note: this build's results have no snapshots; injecting hand-made ones into A"
  $fx snapshots "$tmp/A/results.json" "$tmp/A1.json" || fail "snapshot fixture"
fi

# ---- the report -----------------------------------------------------------------------------
R=$tmp/out/nested/R   # the folder is created
"$bin" report "$tmp/A1.json" "$tmp/B/results.json" "$tmp/K.json" --out "$R" >"$tmp/stdout" 2>"$tmp/stderr" \
  || fail "report exited $?: $(cat "$tmp/stderr")"
[ "$(cat "$tmp/stdout")" = "$R/index.html" ] || fail "report did not print the path of index.html: $(cat "$tmp/stdout")"
ls -aR "$R" | grep -q '\.tmp' && fail "a temporary file was left in $R"
$py - "$R" "$tmp/A1.json" "$tmp/B/results.json" "$tmp/K.json" "$snap_real" <<'PY' || fail "figures or pages incomplete"
import json, os, re, sys
R, A, B, K, snap_real = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
m = json.load(open(os.path.join(R, "figures.json")))
figs = m["figures"]
assert figs, "no figures"
for f in figs:
    p = os.path.join(R, f["file"])
    assert os.path.isfile(p) and os.path.getsize(p) > 1000, f"{p} missing or tiny"
    assert open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n", f"{p} is not a PNG"

def has(kind, exp=None, src=None):
    return any(f["kind"] == kind and (exp is None or exp in f["experiments"])
               and (src is None or src in f["sources"]) for f in figs)

one_d, two_d = ["r/raw", "r/pe"], ["r/zone"]
for s in (A, B):
    for e in one_d:
        assert has("heatmap", e, s), ("heatmap", e, s)
    for e in two_d:
        assert has("radial", e, s), ("radial", e, s)
    for e in one_d + two_d:
        for k in ("regions", "hamming", "confusion"):
            assert has(k, e, s), (k, e, s)
for e in one_d:
    assert has("signal", e, A), ("signal", e)
    assert has("loss", e, A) and has("loss", e, B), ("loss per file", e)
for e in two_d:
    assert has("image", e, A), ("image", e)
    assert has("psnr", e, A) and has("psnr", e, B), ("psnr per file", e)
for e in one_d + two_d:
    assert has("time_to_target", e), ("time_to_target", e)
assert has("kernels", src=K) and has("roofline", src=K), "kernel figures"
sk = m["skipped"]
if not snap_real:  # B has no snapshots: said so, not drawn
    assert any(x["kind"] == "signal" and x["source"] == B and "snapshots" in x["reason"] for x in sk), sk
    assert not has("signal", src=B) and not has("image", src=B)

html = open(os.path.join(R, "index.html"), encoding="utf-8").read()
assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html), "a network reference in index.html"
assert "<link" not in html and "@import" not in html, "external CSS"
imgs = re.findall(r"<img [^>]*>", html)
assert len(imgs) == len(figs), f"{len(imgs)} <img> for {len(figs)} figures"
assert all('src="data:image/png;base64,' in i for i in imgs), "an <img> without a data: URI"
assert sorted(re.search(r'data-file="([^"]+)"', i).group(1) for i in imgs) == \
    sorted(f["file"] for f in figs), "the page's images are not the manifest's"
for word in ("Summary", "Comparison", "Convergence per second", "Kernels", "context"):
    assert word in html, word

md = open(os.path.join(R, "report.md"), encoding="utf-8").read()
refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
assert len(refs) == len(figs), f"report.md references {len(refs)} of {len(figs)} figures"
for r in refs:
    assert not r.startswith("/") and os.path.isfile(os.path.join(R, r)), f"report.md: {r} missing"
print(f"{len(figs)} figures, {len(sk)} skipped with reasons")
PY

# Verdicts from the real `specbias compare`: B (scalar) against A is slower by far, but one
# repetition a side cannot show it significant: inconclusive (exit 4), said so.
grep -q "Regression gate" "$R/index.html" || fail "no regression gate table in the report"
grep -q "INCONCLUSIVE" "$R/index.html" || fail "the one-repetition scalar run is not shown as inconclusive"
grep -q "too few repetitions to test" "$R/index.html" || fail "the report does not say why it is inconclusive"
grep -q "compare unavailable" "$R/index.html" && fail "the report says compare is unavailable"
# The verdict rendering, with a stand-in compare (spec6.md's JSON): gate mode.
$fx compare gate regression "$tmp/cmp.json"
printf '#!/bin/sh\n[ "$1" = compare ] && cat %s && exit 1\nexit 2\n' "$tmp/cmp.json" >"$tmp/stub"
chmod +x "$tmp/stub"
$py "$src/reports/report.py" --specbias "$tmp/stub" --out "$tmp/RS" "$tmp/B/results.json" "$tmp/A/results.json" \
  >/dev/null 2>"$tmp/err" || fail "report with stub compare: $(cat "$tmp/err")"
grep -q "FIXTURE-GATE-ROW" "$tmp/RS/index.html" && grep -q "REGRESSION" "$tmp/RS/index.html" \
  || fail "the compare gate rows and verdict are not in the page"
# Deterministic: the same inputs give the same bytes (no timestamps, fixed sizes and seeds).
$py "$src/reports/report.py" --specbias "$tmp/stub" --out "$tmp/RS2" "$tmp/B/results.json" "$tmp/A/results.json" \
  >/dev/null 2>&1 || fail "second report with stub compare"
for f in index.html report.md figures.json; do
  cmp -s "$tmp/RS/$f" "$tmp/RS2/$f" || fail "$f differs between two reports of the same files"
done
[ -n "$keep" ] && { rm -rf "$keep"; cp -r "$R" "$keep"; }

# ---- one vocabulary: learned as run defines it, units, time to target across seeds ---------
# A real run that learns some of its frequencies, with 3 seeds; its summary table on stdout.
cat >"$tmp/learn.json" <<'JSON'
{"schema": "specbias-suite/1", "name": "learn", "experiments": [
 {"name": "l/pe", "target": {"kind": "sines1d", "n": 256, "frequencies": [1, 2, 9, 17, 30]},
  "encoding": {"kind": "posenc", "octaves": [0, 3]},
  "model": {"depth": 2, "width": 32}, "train": {"lr": 0.01, "steps": 60}, "checkpoints": 4,
  "target_loss": 1.5}]}
JSON
"$bin" run --suite "$tmp/learn.json" --seeds 3 --threads 1 --out "$tmp/L" >"$tmp/L.stdout" 2>"$tmp/err" \
  || fail "the --seeds run for the report failed: $(cat "$tmp/err")"
"$bin" report "$tmp/L/results.json" --out "$tmp/RL" >/dev/null 2>"$tmp/err" || fail "report of a --seeds run: $(cat "$tmp/err")"
$py - "$tmp/RL/report.md" "$tmp/L/results.json" "$src/harness/util/learned.h" "$tmp/L.stdout" <<'PY' \
  || fail "the report's learned count, units or seeds column are not run's"
import json, re, statistics, sys
md_path, res, header, stdout = sys.argv[1:]
md = open(md_path, encoding="utf-8").read()
t = float(re.search(r"^#define SB_LEARNED_MAX_SPECTRAL_ERROR\s+(\S+)", open(header).read(), re.M)[1])
(e,) = json.load(open(res))["experiments"]
# run's definition, computed here: per frequency the median over repetitions of the final error
per = {}
for rep in e["repetitions"]:
    for k, v in enumerate(rep["curve"][-1]["spectral_error"]):
        if v is not None:
            per.setdefault(k, []).append(v)
want = (sum(statistics.median(v) <= t for v in per.values()), len(per))
assert 0 < want[0] < want[1], f"the run should learn some frequencies, not all: {want}"
lines = md.splitlines()
i = next(i for i, l in enumerate(lines) if l.startswith("| experiment |") and "| learned |" in l)
head = [c.strip() for c in lines[i].strip("|").split("|")]
row = [c.strip() for c in lines[i + 2].strip("|").split("|")]
assert row[0] == "l/pe", row
assert row[head.index("learned")] == f"{want[0]}/{want[1]}", (row[head.index("learned")], want)
# and run's own summary table says the same
line = next(l for l in open(stdout) if l.startswith("l/pe"))
assert f"{want[0]}/{want[1]}" in line.split(), (line, want)
# units: ms/step, dB, s; the seeds' trimmed mean and spread as the summary has them
assert re.fullmatch(r"[0-9.e+]+ ms/step", row[head.index("time per step")]), row
assert row[head.index("final PSNR")].endswith(" dB"), row
tt = e["summary"]["seeds"]["time_to_target_s"]
cell = row[head.index("time to target across seeds")]
assert tt["trimmed_mean"] is not None, e["summary"]["seeds"]
assert cell.startswith(f"{tt['trimmed_mean']:.3g} s (") and cell.endswith("3/3 seeds reached)"), cell
assert "s/step" not in md.replace("ms/step", ""), "a time per step not in ms/step"
PY

# ---- the machine audit (context.audit) --------------------------------------------------------
# Each file's context table has the audit's rows (the real runs have an audit; a run shorter
# than one /proc/stat tick has no steal share: "-").
for row in "peak of [a-z0-9]+ \(ISA used\)</td><td[^>]*>[0-9.]+ GFLOP/s \((measured|cache)" \
  "<td>clock</td><td>measured [0-9]+ MHz" "<td>governor</td>" "<td>boost \(turbo\)</td>" \
  "<td>core to core</td><td[^>]*>([0-9]+ ns a round trip of a cache line( between CPUs [0-9]+ and [0-9]+)? \(median of 7 trials|not measured: )" \
  "<td>SMT</td><td>active (yes|no|\?), control " "<td>load average at start</td>" \
  "<td>steal, others \(the run\)</td><td>steal ([0-9.]+ %|-)" "<td>disturbed</td>"; do
  [ "$(grep -cE "$row" "$R/index.html")" -ge 2 ] || fail "the audit row '$row' is not on the page for both runs"
done
# Made-up audits: a disturbed run, two machines that differ, none, one of the wrong types.
$py - "$tmp/A/results.json" "$tmp/AD.json" "$tmp/AG1.json" "$tmp/AG2.json" "$tmp/AN.json" "$tmp/AB.json" <<'PY' || fail "audit fixtures"
import copy, json, sys
r = json.load(open(sys.argv[1]))
a = r["context"]["audit"]
def write(path, f):
    d = copy.deepcopy(r); f(d["context"]); json.dump(d, open(path, "w"))
def disturbed(c):
    c["audit"].update(disturbed=True, warnings=["AUDIT-W1 steal time was 9.9 % of the run's CPU time",
                                                "AUDIT-W2 the load average at the start was high"])
def calm(c, governor, mhz):
    c["audit"].update(disturbed=False, warnings=[], governor=governor)
    c["audit"]["clock"]["measured_mhz"] = mhz
write(sys.argv[2], disturbed)
write(sys.argv[3], lambda c: calm(c, "performance", 3000.0))
write(sys.argv[4], lambda c: calm(c, "powersave", 3900.0))
write(sys.argv[5], lambda c: c.pop("audit"))
def wrong(c):
    c["audit"].update(clock=[], core_to_core="x", governor=7, boost="on", smt=None, run="x", disturbed="yes",
                      warnings={"a": 1}, load_average_start=["x"], cpus_used=3)
    c["peak"] = {c["isa_used"]: {"gflops": "fast", "spread": [], "stable": 1}}
write(sys.argv[6], wrong)
PY
# a disturbed run alone: its warnings on the page (banner and row), the summary says disturbed
"$bin" report "$tmp/AD.json" --out "$tmp/RA1" >/dev/null 2>"$tmp/err" || fail "report of a disturbed run: $(cat "$tmp/err")"
[ "$(grep -c "was disturbed while it ran: AUDIT-W1 steal time was 9.9 %[^<]*; AUDIT-W2 the load" "$tmp/RA1/index.html")" -eq 2 ] \
  || fail "the disturbed run's warnings are not on the page (summary and its section)"
grep -q '<p class="warn">F1 (.*AD.json) was disturbed while it ran: AUDIT-W1' "$tmp/RA1/index.html" || fail "no disturbed banner"
grep -qE '<td>disturbed</td><td class="bad">yes: AUDIT-W1 .*; AUDIT-W2 ' "$tmp/RA1/index.html" || fail "no disturbed row"
grep -q '<td class="warn">complete, disturbed</td>' "$tmp/RA1/index.html" || fail "the summary does not mark the run disturbed"
grep -q "Warning:.* was disturbed while it ran: AUDIT-W1" "$tmp/RA1/report.md" || fail "report.md lacks the disturbed warning"
# two machines that differ: compare's warnings in the summary, files named by their tags
"$bin" report "$tmp/AG1.json" "$tmp/AG2.json" --out "$tmp/RA2" >/dev/null 2>"$tmp/err" || fail "report of two machines: $(cat "$tmp/err")"
grep -q '<p class="warn">Machine audit: the frequency governor differs: performance in F1 (.*AG1.json, BASE), powersave in F2 (.*AG2.json, NEW)</p>' \
  "$tmp/RA2/index.html" || fail "no governor warning in the summary"
grep -q '<p class="warn">Machine audit: the measured clock differs by +30.0 % (above 5 %): 3000 MHz in F1 ' \
  "$tmp/RA2/index.html" || fail "no clock warning in the summary"
grep -q "compare warnings: [^<]*Machine\|compare warnings: [^<]*governor differs" "$tmp/RA2/index.html" \
  && fail "the audit warnings are repeated among compare's other warnings"
# no audit, an audit of the wrong types, and a disturbed run: rows say so, nothing crashes
"$bin" report "$tmp/AN.json" "$tmp/AB.json" "$tmp/AD.json" --out "$tmp/RA3" >/dev/null 2>"$tmp/err" \
  || fail "report of files without a sound audit: $(cat "$tmp/err")"
grep -q '<td>machine audit</td><td class="muted">none: the file was written before specbias recorded one' \
  "$tmp/RA3/index.html" || fail "no 'none' audit row for a file without one"
grep -q 'Machine audit: F1 (.*AN.json) has no machine audit' "$tmp/RA3/index.html" || fail "no warning for a file without an audit"
grep -q 'Machine audit: F3 (.*AD.json) was disturbed while it ran: AUDIT-W1' "$tmp/RA3/index.html" || fail "no disturbed warning among three files"
grep -qE '<td>governor</td><td>unknown(<|:)' "$tmp/RA3/index.html" || fail "a governor of the wrong type is not unknown"
# deterministic with the audit too
"$bin" report "$tmp/AG1.json" "$tmp/AG2.json" --out "$tmp/RA2b" >/dev/null 2>&1 || fail "second report of two machines"
for f in index.html report.md figures.json; do
  cmp -s "$tmp/RA2/$f" "$tmp/RA2b/$f" || fail "$f differs between two reports of the same audited files"
done

# ---- failed and interrupted experiments ---------------------------------------------------
$py - "$tmp/A/results.json" "$tmp/FI.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["interrupted"], r["complete"] = True, False
e = r["experiments"]
e[1]["status"], e[1]["error"], e[1]["repetitions"] = "failed", "r/pe failed: at step 3 (diverged)", []
e[2]["status"], e[2]["error"] = "interrupted", "r/zone: interrupted by signal 2 before step 7 of 12"
e[2]["repetitions"][0]["status"] = "interrupted"
json.dump(r, open(sys.argv[2], "w"))
PY
"$bin" report "$tmp/FI.json" --out "$tmp/RF" >/dev/null 2>"$tmp/err" || fail "report on a failed/interrupted file: $(cat "$tmp/err")"
for w in "diverged" "interrupted by signal" "This run was interrupted" "1/3 ok"; do
  grep -q "$w" "$tmp/RF/index.html" || fail "failed/interrupted file: '$w' not in the page"
done
$py -c "
import json; m = json.load(open('$tmp/RF/figures.json'))
assert any(f['kind'] == 'psnr' and 'r/zone' in f['experiments'] for f in m['figures']), 'partial curve not drawn'
assert any(x['experiment'] == 'r/pe' and 'failed' in x['reason'] for x in m['skipped']), m['skipped']" \
  || fail "failed/interrupted experiments not handled"

# ---- history: a +25 % step after run 7 of 12 is found there; a flat series has none -------
$fx history "$tmp/A/results.json" "$tmp/H" 12 --step-after 7 --step 25 --noise 2
mkdir -p "$tmp/H/sub" && cp "$tmp/K.json" "$tmp/H/sub/results.json"   # not a results file
"$bin" report --history "$tmp/H" --out "$tmp/RH" >/dev/null 2>"$tmp/err" || fail "history report: $(cat "$tmp/err")"
grep -q "skipped .*H/sub/results.json" "$tmp/err" || fail "a non-results file in the history folder is not warned about: $(cat "$tmp/err")"
$py - "$tmp/RH" <<'PY' || fail "history change points wrong"
import json, os, re, sys
md = open(os.path.join(sys.argv[1], "report.md")).read()
rows = [l for l in md.splitlines() if re.match(r"\| M1 \| r/", l)]
sps = [l for l in rows if "| seconds_per_step |" in l]
assert len(sps) == 3, f"want one seconds_per_step change point per experiment: {rows}"
for l in sps:  # the 8th run (2026-01-08, commit ...abc007) is the first after the step
    assert "| 2026-01-08T03:00:00Z | 000000abc007 | 000000abc006 |" in l, l
    ch = float(re.search(r"\| \**([+-][0-9.]+) %", l).group(1))
    assert 20 < ch < 30, l
assert all("seconds_per_step" in l for l in rows), f"spurious change points: {rows}"
m = json.load(open(os.path.join(sys.argv[1], "figures.json")))
assert sorted(f["experiment"] for f in m["figures"] if f["kind"] == "history") == ["r/pe", "r/raw", "r/zone"]
PY
# A smoke run (--steps overrode the suite) is its own series, not a step change of the real one.
cp -r "$tmp/H" "$tmp/Hs"
$py - "$tmp/Hs" <<'PY' || fail "cannot make the smoke-run history"
import glob, json, os, sys
f = sorted(glob.glob(os.path.join(sys.argv[1], "*.json")))[-1]
r = json.load(open(f))
r["context"]["date"] = "2026-12-31T00:00:00Z"
for e in r["experiments"]:
    e["config"]["train"]["steps_overridden_from"] = e["config"]["train"]["steps"]
    e["config"]["train"]["steps"] = 3
    for x in e["repetitions"]:
        x["train_seconds"] *= 0.01
json.dump(r, open(os.path.join(sys.argv[1], "smoke.json"), "w"))
PY
"$bin" report --history "$tmp/Hs" --out "$tmp/RHs" >/dev/null 2>"$tmp/err" || fail "smoke history report: $(cat "$tmp/err")"
$py - "$tmp/RH" "$tmp/RHs" <<'PY' || fail "a smoke run in the history is not kept apart"
import json, os, re, sys
cps = [[l for l in open(os.path.join(d, "report.md")) if re.match(r"\| M1 \| r/", l)] for d in sys.argv[1:]]
assert cps[0] == cps[1], cps
m = json.load(open(os.path.join(sys.argv[2], "figures.json")))
names = sorted(f["experiment"] for f in m["figures"] if f["kind"] == "history")
assert "r/pe [3 steps]" in names and "r/pe" in names, names
PY
$fx history "$tmp/A/results.json" "$tmp/Hf" 12 --noise 2 --seed 3
"$bin" report --history "$tmp/Hf" --out "$tmp/RHf" >/dev/null 2>"$tmp/err" || fail "flat history report: $(cat "$tmp/err")"
grep -q "No change point found" "$tmp/RHf/report.md" || fail "a flat noisy history has change points: $(grep '| M1 |' "$tmp/RHf/report.md")"

# ---- strong scaling: a real scaling run's folder; a hand-made one with a count over the cores
# and a differing trajectory ----------------------------------------------------------------
"$bin" run --suite "$tmp/suite.json" --filter 'r/(raw|zone)' --threads 1,2 --repetitions 2 --quiet \
  --out "$tmp/S" >/dev/null 2>"$tmp/err" || fail "the scaling run failed: $(cat "$tmp/err")"
$py - "$tmp/S/scaling.json" "$tmp/S2.json" <<'PY' || fail "scaling fixture"
import json, sys
s = json.load(open(sys.argv[1]))
s["threads"] = [1, 2, s["cores"] + 2]; s["status"] = "interrupted"
e = s["experiments"][0]
e["points"].append({"threads": s["cores"] + 2, "ms_per_step": None, "ms_per_step_rounds": [],
                    "speedup": None, "efficiency": None, "trajectory_hash": None,
                    "status": "incomplete", "rounds_ok": 0})
s["experiments"][1]["hashes_equal"] = False
json.dump(s, open(sys.argv[2], "w"))
PY
for input in "$tmp/S" "$tmp/S2.json"; do
  RS=$tmp/RS-$(basename "$input")
  "$bin" report "$input" --out "$RS" >/dev/null 2>"$tmp/err" || fail "report of $input exited $?: $(cat "$tmp/err")"
  $py - "$RS" "$input" <<'PY' || fail "the Strong scaling section of $input"
import json, os, sys
R, inp = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(R, "figures.json")))
f = [x for x in m["figures"] if x["kind"] == "scaling"]
assert len(f) == 1 and f[0]["section"] == "scaling" and f[0]["experiments"] == ["r/raw", "r/zone"], m
assert os.path.isfile(os.path.join(R, f[0]["file"]))
md = open(os.path.join(R, "report.md"), encoding="utf-8").read()
html = open(os.path.join(R, "index.html"), encoding="utf-8").read()
assert "## Strong scaling" in md and "Strong scaling" in html
head = "| experiment | threads | ms/step | speedup | efficiency | with work | working | rounds | trajectory |"
assert head in md, md
rows = [l for l in md.splitlines() if l.startswith("| r/raw |") or l.startswith("| r/zone |")]
assert len(rows) == 2, rows
# every point's row, in order: with work and working are scaling.json's threads_with_work and
# work_fraction ("-" where a point has none)
lines = md.splitlines()
k = lines.index(head) + 2
cells = []
while lines[k].startswith("|"):
    cells.append([c.strip() for c in lines[k].split("|")[1:-1]])
    k += 1
s = json.load(open(inp if inp.endswith(".json") else os.path.join(inp, "scaling.json")))
pts = [p for e in s["experiments"] for p in e["points"]]
assert len(cells) == len(pts), (cells, pts)
for c, p in zip(cells, pts):
    assert c[1].split()[0] == str(p["threads"]), (c, p)
    w = p.get("threads_with_work")
    assert c[5] == ("-" if w is None else str(w)), (c, p)
    wf = p.get("work_fraction")
    assert c[6] == ("-" if wf is None else "%.0f %%" % (100 * wf)), (c, p)
if not inp.endswith(".json"):
    # the real run: both fields are there at every count
    assert all(isinstance(p["threads_with_work"], int) and 0 < p["work_fraction"] <= 1 for p in pts), pts
    assert "dotted: the share of the threads' time spent working" in f[0]["caption"], f[0]
else:
    assert cells[2][5:7] == ["-", "-"], cells  # the hand-made point has neither
if inp.endswith(".json"):
    assert "(over the cores)" in md and "| incomplete |" in md and "DIFFERS" in md, md
    assert "the scaling run is interrupted" in md and "the trajectory differs" in md, md
else:
    assert rows[0].split("|")[2].strip() == "1" and "1.00" in rows[0] and "100 %" in rows[0], rows
    assert md.count("| identical |") == 4, md
PY
done
echo '{"schema": "specbias-scaling/1", "threads": [1, "x"], "experiments": []}' >"$tmp/badscale.json"
expect 2 "badscale.json: 'threads' is not a list of thread counts" report "$tmp/badscale.json" --out "$tmp/X"
echo '{"schema": "specbias-scaling/1", "threads": [1], "experiments": [{"name": "a", "points": [{}]}]}' >"$tmp/badpts.json"
expect 2 "badpts.json: experiment 'a': points\[0\] has no 'threads' count" report "$tmp/badpts.json" --out "$tmp/X"
expect 2 "$tmp/A: not a file \(nor a scaling run's folder: no scaling.json in it; nor a throughput run's: no throughput.json\)" report "$tmp/A" --out "$tmp/X"

# ---- throughput: a real throughput run's folder adds a Throughput section ------------------
"$bin" run --suite "$tmp/suite.json" --filter 'r/(raw|zone)' --throughput core --seeds 2 --quiet \
  --out "$tmp/T" >/dev/null 2>"$tmp/err" || fail "the throughput run failed: $(cat "$tmp/err")"
"$bin" report "$tmp/T" --out "$tmp/RT" >/dev/null 2>"$tmp/err" || fail "report of a throughput run exited $?: $(cat "$tmp/err")"
$py - "$tmp/RT" "$tmp/T/throughput.json" <<'PY' || fail "the Throughput section"
import json, os, sys
R, t = sys.argv[1], json.load(open(sys.argv[2]))
md = open(os.path.join(R, "report.md"), encoding="utf-8").read()
html = open(os.path.join(R, "index.html"), encoding="utf-8").read()
assert "## Throughput" in md and "Throughput" in html, md
assert "| groups | trainings at a time | wall | trainings | trainings per hour |" in md, md
row = [l for l in md.splitlines() if l.startswith("| %d | %d |" % (len(t["groups"]["groups"]), t["concurrent"]))]
assert row and ("| %.1f |" % t["trainings_per_hour"]) in row[0] and ("| %d |" % t["trainings"]) in row[0], (row, t)
for name in ("r/raw", "r/zone"):
    assert any(l.startswith("| %s | 2/2 |" % name) for l in md.splitlines()), md
assert "1 throughput run(s)" in md, md
PY
echo '{"schema": "specbias-throughput/1", "seeds": 0, "experiments": [], "runs": []}' >"$tmp/badtput.json"
expect 2 "badtput.json: 'seeds' is not a count of trainings" report "$tmp/badtput.json" --out "$tmp/X"

# ---- bad input: exit 2 naming the file; missing matplotlib: exit 3 --------------------------
head -c 300 "$tmp/A/results.json" >"$tmp/trunc.json"
expect 2 "trunc.json:[0-9]+:[0-9]+: not valid JSON" report "$tmp/trunc.json" --out "$tmp/X"
expect 2 "quick.json: schema is \"specbias-suite/1\"" report "$src/suites/quick.json" --out "$tmp/X"
expect 2 "nosuch.json: cannot open" report "$tmp/A/results.json" "$tmp/nosuch.json" --out "$tmp/X"
echo '[1, 2]' >"$tmp/list.json"
expect 2 "list.json: neither a specbias results file" report "$tmp/list.json" --out "$tmp/X"
expect 2 "no results files given" report
expect 2 "unknown option '--bogus'" report "$tmp/A/results.json" --bogus
expect 2 "--out needs a value" report "$tmp/A/results.json" --out
expect 2 "--history .*not a folder" report --history "$tmp/A/results.json"
[ -e "$tmp/X" ] && fail "a refused report created its output folder"
printf '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n' >"$tmp/nompl" && chmod +x "$tmp/nompl"
SPECBIAS_PYTHON="$tmp/nompl" expect 3 "install python3-matplotlib" report "$tmp/A/results.json" --out "$tmp/X"
SPECBIAS_PYTHON="$tmp/none" expect 3 "install python3-matplotlib" report "$tmp/A/results.json" --out "$tmp/X"
SPECBIAS_REPORTS_DIR="$tmp" expect 3 "cannot find the report code" report "$tmp/A/results.json" --out "$tmp/X"
touch "$tmp/afile"
expect 3 "afile" report "$tmp/A/results.json" --out "$tmp/afile/sub"
echo "report: all checks passed"
