#!/usr/bin/env bash
# The "threads not fully used" note end to end (harness/util/util.c, sb_threads_note): in the
# summary `specbias run` prints and in the warnings of `specbias compare`. Real runs on 3 threads
# (the split does not depend on the machine's cores) of an experiment whose batch has fewer
# work items than threads, named with "1 with work", and of one with a work item for every
# thread, never named so; on 1 thread nothing is named. Then hand-edited copies of a results
# file with known answers: fewer threads with work than threads, a work fraction under, at and
# just under 75 %, none measured; named once per file, as BASE or NEW, and once per merged
# side; an unedited pair warns of nothing.
set -u
bin=$1
src=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/cli_lib.sh"

HEADER='threads not fully used (fewer work items than threads, or threads working under 75 % of the step):'
WARN='threads not fully used: '
# t/small: 256 rows, one 256-row tile; on 3 threads the layer path, 3 row blocks, but every
# layer of width 16 is one weight-gradient item (64 outputs a block, 16 inputs a panel), so 1
# thread with work. t/big: 2048 rows, 8 tiles, the tile path: 3 threads with work on 3 threads.
small='{"name": "t/small", "target": {"kind": "sines1d", "n": 256, "frequencies": [3, 7]},
        "model": {"depth": 2, "width": 16}, "train": {"lr": 0.001, "steps": 6}, "checkpoints": 3}'
big='{"name": "t/big", "target": {"kind": "sines1d", "n": 2048, "frequencies": [3, 7]},
      "model": {"depth": 2, "width": 32}, "train": {"lr": 0.001, "steps": 6}, "checkpoints": 3}'
suite "$tmp/suite.json" "$small" "$big"

# The note the rule of docs/results.md (parallel_split) gives an experiment of a results file,
# one line each, in file order: threads >= 2 and (threads_with_work < threads or the median
# work fraction under 0.75).
cat >"$tmp/oracle.py" <<'PY'
import json, math, sys
r = json.load(open(sys.argv[1]))
for e in r["experiments"]:
    sp = e["parallel_split"]
    wf = (e["summary"]["work_fraction"] or {}).get("median")
    threads, busy, tiles = sp["threads"], sp["threads_with_work"], sp["tiles"]
    low = isinstance(wf, (int, float)) and wf < 0.75
    if threads < 2 or (busy >= threads and not low):
        continue
    note = "%s: %d tile%s on %d threads" % (e["name"], tiles, "" if tiles == 1 else "s", threads)
    if busy < threads:
        note += ", %d with work" % busy
    if isinstance(wf, (int, float)) and math.isfinite(wf):
        note += ", threads working %.0f %% of the step" % (100.0 * wf)
    print(note)
PY
oracle() { $py "$tmp/oracle.py" "$1" || fail "oracle: cannot read $1"; }

# run THREADS NAME: the suite on THREADS threads, 5 repetitions (so that a file against itself
# can pass), stdout in $tmp/NAME.stdout, results in $tmp/NAME/results.json
run() {
  "$bin" run --suite "$tmp/suite.json" --threads "$1" --repetitions 5 --quiet --out "$tmp/$2" \
    >"$tmp/$2.stdout" 2>"$tmp/$2.err" || fail "run --threads $1 exited $?: $(cat "$tmp/$2.err")"
}
# summary_notes NAME: the note lines of the summary (between its header and the footnote)
summary_notes() { sed -n '/^threads not fully used/,/^(ms\/step/{/^  /p}' "$tmp/$1.stdout"; }

# ---- (a) the summary of real runs ------------------------------------------------------------
run 3 r3
r3=$tmp/r3/results.json
# what the machine cannot change: the split of each experiment on 3 threads
$py - "$r3" <<'PY' || fail "the split on 3 threads is not the one this test is built on: $(cat "$r3")"
import json, sys
s = {e["name"]: e["parallel_split"] for e in json.load(open(sys.argv[1]))["experiments"]}
assert (s["t/small"]["threads"], s["t/small"]["tiles"], s["t/small"]["threads_with_work"]) == (3, 1, 1), s
assert s["t/small"]["backward"] == "layers", s
assert (s["t/big"]["threads"], s["t/big"]["tiles"], s["t/big"]["threads_with_work"]) == (3, 8, 3), s
assert s["t/big"]["backward"] == "tiles", s
PY
grep -qxF "$HEADER" "$tmp/r3.stdout" || fail "3 threads: no '$HEADER' in the summary: $(cat "$tmp/r3.stdout")"
[ "$(grep -c '^threads not fully used' "$tmp/r3.stdout")" = 1 ] || fail "3 threads: the header twice: $(cat "$tmp/r3.stdout")"
# t/small is named for its one thread with work, whatever the machine
summary_notes r3 | grep -qE '^  t/small: 1 tile on 3 threads, 1 with work, threads working [0-9]+ % of the step$' ||
  fail "3 threads: the summary does not name t/small with 1 of 3 threads with work: $(cat "$tmp/r3.stdout")"
# t/big has work for every thread: never "with work"; named only if its threads worked under
# 75 % of the step (a loaded machine, 3 threads on fewer cores), which results.json says
summary_notes r3 | grep -q '^  t/big: .*with work' && fail "3 threads: t/big named for threads without work: $(cat "$tmp/r3.stdout")"
summary_notes r3 | grep -qvE '^  t/(small|big): ' && fail "3 threads: a note for no experiment: $(cat "$tmp/r3.stdout")"
# the whole note block, line for line, is the rule applied to results.json
want=$(oracle "$r3" | sed 's/^/  /')
got=$(summary_notes r3)
[ "$got" = "$want" ] || fail "3 threads: the summary's notes are not results.json's
got:
$got
want:
$want"
# sanity of the oracle itself: it names t/small, and t/big exactly when its fraction is low
oracle "$r3" | grep -q '^t/small: 1 tile on 3 threads, 1 with work, ' || fail "oracle misses t/small"

# one thread: nothing to share, no note, no header
run 1 r1
r1=$tmp/r1/results.json
grep -qE "^t/small +[0-9.]+ " "$tmp/r1.stdout" || fail "1 thread: no summary table: $(cat "$tmp/r1.stdout")"
grep -q 'not fully used' "$tmp/r1.stdout" && fail "1 thread: a threads note: $(cat "$tmp/r1.stdout")"
[ -z "$(oracle "$r1")" ] || fail "1 thread: the oracle names $(oracle "$r1")"

# ---- (b) compare's warnings --------------------------------------------------------------------
# cmpw WANT-RC WANT-WARNINGS ARGS...: specbias compare ARGS in text and in JSON; exit WANT-RC
# both times, and its "threads not fully used" warnings are exactly WANT-WARNINGS (lines, in
# order; empty: none), in the text's warnings list and in JSON's "warnings" and "audit_warnings".
cmpw() {
  local want_rc=$1 want=$2 rc got
  shift 2
  "$bin" compare "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  [ "$rc" -eq "$want_rc" ] || fail "compare $* exited $rc, want $want_rc: $(cat "$tmp/err" "$tmp/out")"
  got=$(sed -n "s/^  - \(.*: $WARN.*\)/\1/p" "$tmp/out")
  [ "$got" = "$want" ] || fail "compare $*: text warnings
got:
$got
want:
$want
stdout: $(cat "$tmp/out")"
  grep -q "$WARN" "$tmp/err" && fail "compare $*: the note on stderr: $(cat "$tmp/err")"
  "$bin" compare "$@" --format json >"$tmp/out.json" 2>"$tmp/err"; rc=$?
  [ "$rc" -eq "$want_rc" ] || fail "compare $* --format json exited $rc, want $want_rc: $(cat "$tmp/err")"
  $py - "$tmp/out.json" "$want" "$WARN" <<'PY' || fail "compare $* --format json: the warnings differ"
import json, sys
d = json.load(open(sys.argv[1]))
want = [w for w in sys.argv[2].split("\n") if w]
for key in ("warnings", "audit_warnings"):
    got = [w for w in d[key] if sys.argv[3] in w]
    assert got == want, (key, got, want)
assert d["counts"]["warnings"] == len(d["warnings"]), d["counts"]
PY
}
# edit IN OUT CODE: loads IN as r, runs the Python CODE (exp(name): that experiment), writes OUT
edit() {
  $py - "$1" "$2" "$3" <<'PY' || fail "could not derive $2"
import json, sys
r = json.load(open(sys.argv[1]))
def exp(name): return next(e for e in r["experiments"] if e["name"] == name)
exec(sys.argv[3])
json.dump(r, open(sys.argv[2], "w"), indent=1)
PY
}
# the audit may call a real run disturbed; that adds its own warnings, not these, and the
# verdict stays pass: set aside, so that the exit codes below are the comparison's
for f in "$r1" "$r3"; do
  edit "$f" "$f" "r['context']['audit']['disturbed'] = False; r['context']['audit']['warnings'] = []"
done

# unedited pairs: on 1 thread nothing; on 3 threads exactly what the summary said, once (the
# same file twice is named once, as BASE)
cmpw 0 "" "$r1" "$r1"
cmpw 0 "$(oracle "$r3" | sed "s|^|$r3 (BASE): $WARN|")" "$r3" "$r3"
grep -qF -- "  - $r3 (BASE): ${WARN}t/small: 1 tile on 3 threads, 1 with work, threads working " "$tmp/out" ||
  fail "3 threads against itself: t/small not warned: $(cat "$tmp/out")"

# Edits with known answers, from t/big alone on 3 threads with its work fraction set to 1 (a
# real one may be anything on a loaded machine): clean.json warns of nothing.
T='t/big: 8 tiles on 3 threads'
clean=$tmp/clean.json
edit "$r3" "$clean" "r['experiments'] = [exp('t/big')]
exp('t/big')['summary']['work_fraction']['median'] = 1.0"
cmpw 0 "" "$clean" "$clean"
# 2 of 3 threads with work, in NEW, in BASE, in both (each file named once)
edit "$clean" "$tmp/busy.json" "exp('t/big')['parallel_split']['threads_with_work'] = 2"
cmpw 0 "$tmp/busy.json (NEW): $WARN$T, 2 with work, threads working 100 % of the step" "$clean" "$tmp/busy.json"
cmpw 0 "$tmp/busy.json (BASE): $WARN$T, 2 with work, threads working 100 % of the step" "$tmp/busy.json" "$clean"
cmpw 0 "$tmp/busy.json (BASE): $WARN$T, 2 with work, threads working 100 % of the step" "$tmp/busy.json" "$tmp/busy.json"
# the work fraction: under 75 % named with it; 75 % itself is not under; 74.9 % rounds to 75
edit "$clean" "$tmp/half.json" "exp('t/big')['summary']['work_fraction']['median'] = 0.5"
cmpw 0 "$tmp/half.json (NEW): $WARN$T, threads working 50 % of the step" "$clean" "$tmp/half.json"
edit "$clean" "$tmp/at75.json" "exp('t/big')['summary']['work_fraction']['median'] = 0.75"
cmpw 0 "" "$clean" "$tmp/at75.json"
edit "$clean" "$tmp/under75.json" "exp('t/big')['summary']['work_fraction']['median'] = 0.749"
cmpw 0 "$tmp/under75.json (NEW): $WARN$T, threads working 75 % of the step" "$clean" "$tmp/under75.json"
# no work fraction measured: named for the threads without work alone, without a percentage
edit "$tmp/busy.json" "$tmp/nowf.json" "exp('t/big')['summary']['work_fraction'] = None"
cmpw 0 "$tmp/nowf.json (NEW): $WARN$T, 2 with work" "$clean" "$tmp/nowf.json"
# both files, each with its own reason, BASE first
cmpw 0 "$tmp/busy.json (BASE): $WARN$T, 2 with work, threads working 100 % of the step
$tmp/half.json (NEW): $WARN$T, threads working 50 % of the step" "$tmp/busy.json" "$tmp/half.json"
# a table of 3 files: each named by its index
cmpw 0 "$tmp/busy.json ([1]): $WARN$T, 2 with work, threads working 100 % of the step
$tmp/half.json ([2]): $WARN$T, threads working 50 % of the step" "$clean" "$tmp/busy.json" "$tmp/half.json"
# a side of two runs that both hold the experiment: named once (2 samples against 5: inconclusive)
mkdir -p "$tmp/runs/a" "$tmp/runs/b"
cp "$tmp/busy.json" "$tmp/runs/a/results.json"
cp "$tmp/busy.json" "$tmp/runs/b/results.json"
cmpw 4 "$tmp/runs (NEW): $WARN$T, 2 with work, threads working 100 % of the step" "$clean" "$tmp/runs"
echo "cli_threads_note: all checks passed"
