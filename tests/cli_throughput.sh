#!/usr/bin/env bash
# `specbias run --throughput GROUPS`: independent trainings (one per seed) at once on disjoint
# groups of cores, each a child run bound to its group; throughput.json's arithmetic against
# the children's results.json, each seed's trajectory equal to the same seed trained alone,
# never two trainings on a group at once, refusals, a failed child, an interrupted run. Never a
# speed: only what the numbers are made of, and which CPUs each training was given.
set -u
bin=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/cli_lib.sh"

one_d=$sb_exp_1d
two_d=$sb_exp_2d
suite "$tmp/ok.json" "$one_d" "$two_d"

# ---- --throughput core --seeds 3 ----------------------------------------------------------
"$bin" run --suite "$tmp/ok.json" --throughput core --seeds 3 --out "$tmp/t" >"$tmp/stdout" 2>"$tmp/stderr" \
  || fail "--throughput core --seeds 3 exited $?: $(cat "$tmp/stderr")"
ls -a "$tmp/t" | grep -q '\.tmp' && fail "a temporary file was left in the output folder"
grep -q "^throughput: .* by core, " "$tmp/stdout" || fail "no throughput table on stdout: $(cat "$tmp/stdout")"
grep -q "final loss" "$tmp/stdout" && fail "a child's summary table is on the parent's stdout"
for i in 0 1 2; do
  grep -q "seed $i started on group" "$tmp/stderr" && grep -q "seed $i ended on group [0-9]*: ok (exit 0)" "$tmp/stderr" \
    || fail "no start and end line for seed $i: $(cat "$tmp/stderr")"
done
python3 - "$tmp/t" "$tmp/stdout" <<'PY' || fail "throughput.json disagrees with the children's results.json"
import json, os, statistics, sys
d = sys.argv[1]; t = json.load(open(os.path.join(d, "throughput.json")))
assert t["schema"] == "specbias-throughput/1" and t["status"] == "complete", t["status"]
assert t["groups_by"] == "core" and t["seeds"] == 3, t
groups = t["groups"]["groups"]
assert groups and all(g["cores"] == 1 and len(g["cpus"]) == 1 for g in groups), groups
assert t["threads_per_training"] == 1, t["threads_per_training"]
assert t["concurrent"] == min(len(groups), 3), (t["concurrent"], len(groups))
runs = t["runs"]
assert [r["seed_index"] for r in runs] == [0, 1, 2] and [r["seed"] for r in runs] == [0, 1, 2], runs
for r in runs:
    assert r["status"] == "ok" and r["exit"] == 0 and r["folder"] == "seed-%d" % r["seed_index"], r
    g = groups[r["group"]]
    assert r["cpus"] == ",".join(map(str, g["cpus"])), (r, g)
    assert 0 <= r["start_seconds"] <= r["end_seconds"], r
    res = json.load(open(os.path.join(d, r["folder"], "results.json")))
    assert res["complete"] is True and res["context"]["threads"] == 1, res["context"]["threads"]
    assert res["context"]["run_options"]["cpus"] == r["cpus"], res["context"]["run_options"]
    # the parent put the peak in the cache (the tests' own, in the build tree) before the
    # first child: no child measured it next to another one's training
    assert all(p["source"] == "cache" for p in res["context"]["peak"].values()), res["context"]["peak"]
# never two trainings on one group at once, never more at once than groups
for a in runs:
    for b in runs:
        if a is not b and a["group"] == b["group"]:
            assert a["end_seconds"] <= b["start_seconds"] or b["end_seconds"] <= a["start_seconds"], (a, b)
    at_once = sum(1 for b in runs if b["start_seconds"] <= a["start_seconds"] < b["end_seconds"])
    assert at_once <= len(groups), (a, at_once)
assert min(r["start_seconds"] for r in runs) == 0
close = lambda a, b: abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-12)
wall = max(r["end_seconds"] for r in runs)
assert close(t["wall_seconds"], wall), (t["wall_seconds"], wall)
assert t["trainings"] == 6, t["trainings"]
assert close(t["trainings_per_hour"], 6 / t["wall_seconds"] * 3600), t["trainings_per_hour"]
assert [e["name"] for e in t["experiments"]] == ["a/raw", "b/zone"]
for e in t["experiments"]:
    assert e["trainings"] == 3, e
    train, ttt, work, hashes = [], [], [], []
    for r in runs:
        res = json.load(open(os.path.join(d, r["folder"], "results.json")))
        x = [x for x in res["experiments"] if x["name"] == e["name"]][0]
        assert x["status"] == "ok" and len(x["repetitions"]) == 1
        q = x["repetitions"][0]
        train.append(q["train_seconds"]); work.append(q["work_fraction"])
        ttt.append(q["time_to_target_s"]); hashes.append(q["trajectory_hash"])
    assert close(e["train_seconds_median"], statistics.median(train)), e
    assert close(e["work_fraction_median"], statistics.median(work)), e
    assert e["time_to_target_s"]["per_seed"] == ttt, (e, ttt)
    reached = [x for x in ttt if x is not None]
    assert (e["time_to_target_s"]["median"] is None) == (not reached), e
    if reached: assert close(e["time_to_target_s"]["median"], statistics.median(reached)), e
    assert e["trajectory_hashes"] == hashes and None not in hashes, e
    # the table's rows agree with the file
    row = [l.split() for l in open(sys.argv[2]) if l.startswith(e["name"] + " ")][0]
    assert row[1] == "3/3" and abs(float(row[2]) - e["train_seconds_median"]) <= 0.0005 + 1e-3 * e["train_seconds_median"], row
PY
# each seed's trajectory is that of the same seed trained alone
for i in 0 1 2; do
  "$bin" run --suite "$tmp/ok.json" --seed $i --threads 1 --quiet --out "$tmp/solo-$i" >/dev/null 2>"$tmp/solo.err" \
    || fail "solo run of seed $i exited $?: $(cat "$tmp/solo.err")"
done
python3 - "$tmp" <<'PY' || fail "a seed's trajectory differs from its solo run"
import json, os, sys
d = sys.argv[1]; t = json.load(open(os.path.join(d, "t/throughput.json")))
for e in t["experiments"]:
    for i, h in enumerate(e["trajectory_hashes"]):
        solo = json.load(open(os.path.join(d, "solo-%d/results.json" % i)))
        x = [x for x in solo["experiments"] if x["name"] == e["name"]][0]
        assert x["repetitions"][0]["trajectory_hash"] == h, (e["name"], i, h, x["repetitions"][0]["trajectory_hash"])
PY
ngroups=$(python3 -c "import json; print(len(json.load(open('$tmp/t/throughput.json'))['groups']['groups']))")
cpu0=$(python3 -c "import json; print(json.load(open('$tmp/t/throughput.json'))['groups']['groups'][0]['cpus'][0])")

# ---- two cores: two disjoint groups, each child bound to its own -------------------------
if [ "$ngroups" -ge 2 ]; then
  python3 - "$tmp/t" <<'PY' || fail "the groups' CPUs overlap, or a child ran outside its group"
import json, os, sys
d = sys.argv[1]; t = json.load(open(os.path.join(d, "throughput.json")))
groups = t["groups"]["groups"]
seen = set()
for g in groups:
    assert not seen & set(g["cpus"]), groups
    seen |= set(g["cpus"])
assert t["concurrent"] == 2 or t["concurrent"] == min(3, len(groups)), t["concurrent"]
assert len({r["group"] for r in t["runs"]}) >= 2, t["runs"]
for r in t["runs"]:
    b = json.load(open(os.path.join(d, r["folder"], "results.json")))["context"]["binding"]
    assert b["cpus"] == groups[r["group"]]["cpus"], (r, b)
PY
else
  echo "skip: two-group checks: this process may use $ngroups core (two are needed for two groups)"
fi

# ---- --cpus: one group, trainings one after the other; an earlier throughput.json kept ----
cp "$tmp/t/throughput.json" "$tmp/first.json"
"$bin" run --suite "$tmp/ok.json" --filter '^a/' --cpus "$cpu0" --throughput core --seeds 2 --quiet --out "$tmp/t" \
  >/dev/null 2>"$tmp/cpus.err" || fail "--cpus $cpu0 --throughput core --seeds 2 exited $?: $(cat "$tmp/cpus.err")"
grep -q "seed [0-9] started" "$tmp/cpus.err" && fail "--quiet did not reach the parent: $(cat "$tmp/cpus.err")"
k=$(cd "$tmp/t" && ls throughput-*.json)
[ -n "$k" ] && cmp -s "$tmp/first.json" "$tmp/t/$k" || fail "the earlier throughput.json was not kept: $(ls "$tmp/t")"
python3 - "$tmp/t" "$cpu0" <<'PY' || fail "--cpus: not one group, or not sequential"
import json, os, sys
d, cpu = sys.argv[1], int(sys.argv[2]); t = json.load(open(os.path.join(d, "throughput.json")))
assert t["status"] == "complete" and t["seeds"] == 2 and t["concurrent"] == 1, t
assert [g["cpus"] for g in t["groups"]["groups"]] == [[cpu]], t["groups"]
a, b = t["runs"]
assert a["group"] == b["group"] == 0 and a["end_seconds"] <= b["start_seconds"], (a, b)
assert t["trainings"] == 2 and [e["name"] for e in t["experiments"]] == ["a/raw"], t
PY

# ---- refusals: exit 2 naming the value, no output folder ---------------------------------
expect 2 "--throughput 'l9': not core, l2, l3, numa, package or a whole number" run --suite "$tmp/ok.json" --throughput l9 --out "$tmp/r1"
expect 2 "--throughput 'l9'" run --suite "$tmp/ok.json" --throughput=l9 --out "$tmp/r1"
expect 2 "--threads 1,2 \(a scaling run, one child run per count\) cannot be combined with --throughput" \
  run --suite "$tmp/ok.json" --throughput core --threads 1,2 --out "$tmp/r3"
expect 2 "--throughput core \(independent trainings, one child run each\) cannot be combined with --rerun" \
  run --throughput core --rerun "$tmp/solo-0/results.json" --out "$tmp/r4"
for opt in --list "--dump $tmp/dump"; do
  expect 2 "--throughput core \(independent trainings, one child run each\) cannot be combined with ${opt%% *}" \
    run --suite "$tmp/ok.json" --throughput core $opt --out "$tmp/r5"
done
expect 2 "--threads 2 is more than the 1 core of group 0 \(core #[0-9]+\) of --throughput core" \
  run --suite "$tmp/ok.json" --throughput core --threads 2 --out "$tmp/r6"
expect 2 "--cpus" run --suite "$tmp/ok.json" --throughput core --cpus 99999 --out "$tmp/r7"
for d in r1 r2 r3 r4 r5 r6 r7; do [ -e "$tmp/$d" ] && fail "a refused throughput run made $d"; done
# another machine's topology (expect runs "$bin" ARGS: the environment is set apart here)
HWLOC_SYNTHETIC="pack:1 l3:2 core:2 pu:1" "$bin" run --suite "$tmp/ok.json" --throughput l3 --out "$tmp/r2" >/dev/null 2>"$tmp/r2.err"
rc=$?
[ $rc -eq 2 ] && grep -q "\-\-throughput l3: hwloc's topology is not this machine's (HWLOC_SYNTHETIC is set)" "$tmp/r2.err" && [ ! -e "$tmp/r2" ] \
  || fail "--throughput under HWLOC_SYNTHETIC: exit $rc: $(cat "$tmp/r2.err")"

# ---- a child that fails: exit 3, its run marked failed, the others' trainings counted -----
diverge=$sb_exp_diverge
suite "$tmp/div.json" "$one_d" "$diverge"
"$bin" run --suite "$tmp/div.json" --throughput core --seeds 2 --out "$tmp/f" >/dev/null 2>"$tmp/f.err"
rc=$?
[ $rc -eq 3 ] || fail "a failed child: exit $rc, want 3: $(cat "$tmp/f.err")"
grep -q "seed 0 on group [0-9]* failed (exit 3); the others go on" "$tmp/f.err" || fail "no message for a failed child: $(cat "$tmp/f.err")"
python3 -c "
import json; t = json.load(open('$tmp/f/throughput.json'))
assert t['status'] == 'failed' and [r['status'] for r in t['runs']] == ['failed', 'failed'], t['runs']
assert [r['exit'] for r in t['runs']] == [3, 3], t['runs']
a, c = t['experiments']
assert a['trainings'] == 2 and None not in a['trajectory_hashes'], a
assert c['trainings'] == 0 and c['trajectory_hashes'] == [None, None] and c['train_seconds_median'] is None, c
assert t['trainings'] == 2, t['trainings']
" || fail "a failed child is not marked failed in throughput.json, or the finished trainings are not counted"

# ---- SIGTERM: interrupted, the finished trainings kept, no child after it ----------------
# One group (--cpus): seed 1 would start after seed 0. The signal comes once seed 0 has
# finished a/raw and is in its long experiment.
long=$(sb_exp_long b/long)
suite "$tmp/sig.json" "$one_d" "$long"
"$bin" run --suite "$tmp/sig.json" --cpus "$cpu0" --throughput core --seeds 2 --out "$tmp/i" >/dev/null 2>"$tmp/i.err" &
pid=$!
for i in $(seq 1200); do grep -qs a/raw "$tmp/i/seed-0/results.json" && break; sleep 0.05; done
grep -qs a/raw "$tmp/i/seed-0/results.json" || { kill $pid; fail "seed 0 did not finish a/raw within a minute"; }
sleep 0.3  # into b/long's steps (a run stops between steps from there on)
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 143 ] || fail "SIGTERM: exit $rc, want 143: $(cat "$tmp/i.err")"
ls -a "$tmp/i" | grep -q '\.tmp' && fail "SIGTERM left a temporary file"
[ -e "$tmp/i/seed-1" ] && fail "a child started after the signal"
python3 -c "
import json; t = json.load(open('$tmp/i/throughput.json'))
assert t['status'] == 'interrupted', t['status']
assert [r['status'] for r in t['runs']] == ['interrupted'] and t['runs'][0]['exit'] == 143, t['runs']
a, b = t['experiments']
assert a['trainings'] == 1 and a['trajectory_hashes'][0] is not None, a
assert b['trainings'] == 0, b
assert t['trainings'] == 1 and t['trainings_per_hour'] > 0, t
r = json.load(open('$tmp/i/seed-0/results.json'))
assert r['interrupted'] is True and r['experiments'][1]['status'] == 'interrupted', r['experiments']
" || fail "SIGTERM: throughput.json or the child's results are not as an interrupted run leaves them"
grep -q "throughput run interrupted" "$tmp/i.err" || fail "no message for the interrupted throughput run: $(cat "$tmp/i.err")"

# ---- a child refusing its input stops the run with 2 ------------------------------------
# One group: the suite file is broken while seed 0 trains (each child reads it again), so
# seed 1 refuses it.
suite "$tmp/ref.json" "$long"
"$bin" run --suite "$tmp/ref.json" --cpus "$cpu0" --throughput core --seeds 3 --quiet --out "$tmp/x" >/dev/null 2>"$tmp/x.err" &
pid=$!
for i in $(seq 1200); do grep -qs b/long "$tmp/x/seed-0/results.json" && break; sleep 0.05; done
echo '{"schema": ' >"$tmp/ref.json"
wait $pid; rc=$?
[ $rc -eq 2 ] || fail "a child's exit 2: the throughput run exited $rc, want 2: $(cat "$tmp/x.err")"
grep -q "seed 1 refused its input (exit 2): the throughput run stops" "$tmp/x.err" || fail "no message for a child's exit 2: $(cat "$tmp/x.err")"
[ -e "$tmp/x/seed-2" ] && fail "a child started after a child's exit 2"
python3 -c "
import json; t = json.load(open('$tmp/x/throughput.json'))
assert t['status'] == 'failed' and [r['status'] for r in t['runs']] == ['ok', 'refused'], t['runs']
assert t['runs'][1]['exit'] == 2 and t['trainings'] == 1, t
" || fail "a child's exit 2 did not leave a failed throughput.json with the finished training"

# ---- a child killed alone: the others are stopped, the run exits as it did ---------------
if [ "$ngroups" -ge 2 ]; then
  "$bin" run --suite "$tmp/sig.json" --throughput core --seeds 3 --quiet --out "$tmp/k" >/dev/null 2>"$tmp/k.err" &
  pid=$!
  for i in $(seq 1200); do grep -qs a/raw "$tmp/k/seed-0/results.json" && grep -qs a/raw "$tmp/k/seed-1/results.json" && break; sleep 0.05; done
  sleep 0.3
  # the child training seed 0 (this test's own process tree)
  child=$(grep -l -- "seed-0" /proc/[0-9]*/cmdline 2>/dev/null | while read -r f; do d=${f%/cmdline}; [ "$(awk '{print $4}' "$d/stat" 2>/dev/null)" = "$pid" ] && echo "${d#/proc/}"; done | head -1)
  [ -n "$child" ] || { kill $pid; fail "no child process for seed 0 of $pid"; }
  kill -KILL "$child"
  wait $pid; rc=$?
  [ $rc -eq 137 ] || fail "a child killed alone: exit $rc, want 137: $(cat "$tmp/k.err")"
  [ -e "$tmp/k/seed-2" ] && fail "a child started after a child was killed"
  python3 -c "
import json; t = json.load(open('$tmp/k/throughput.json'))
assert t['status'] == 'interrupted', t['status']
assert [(r['seed_index'], r['exit'], r['status']) for r in t['runs']] == [(0, 137, 'interrupted'), (1, 143, 'interrupted')], t['runs']
r = json.load(open('$tmp/k/seed-1/results.json'))
# the other child was sent SIGTERM: it stopped between steps and kept its record
assert r['interrupted'] is True and r['experiments'][1]['status'] == 'interrupted', r['experiments']
" || fail "a child killed alone: the other child was not stopped as an interrupted run"
else
  echo "skip: a child killed alone while another runs: this process may use $ngroups core (two are needed)"
fi

echo "cli_throughput: all checks passed"
