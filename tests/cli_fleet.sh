#!/usr/bin/env bash
# specbias fleet against a real Slurm: a private localhost munged + slurmctld + slurmd
# (tests/slurm_local.sh; config, ports, state and logs under a temporary folder, stopped by pid
# on any exit). Usage: cli_fleet.sh SPECBIAS
#   1. bad input is refused before anything is submitted: an unsatisfiable constraint, an
#      unknown partition, a suite that does not parse, a missing binary, no binary for the
#      node's architecture, an output folder that cannot be written, no Slurm client on PATH;
#   2. a fleet of 5 tasks (machine kinds a and b, 2 sets each, and one kind whose ISA this
#      machine lacks, so its task fails), at most 2 running at once: the gather job's
#      comparison (a column per kind, the failed task named with its reason), the report, and
#      where each results file ran (context.slurm);
#   3. scancel of a task mid-run: a valid results file marked interrupted, with the experiment
#      it finished, and the task reported cancelled;
#   4. a task that hits its time limit (Slurm's least, 1 minute, submitted first so that the
#      minute passes during 1-3 on a node of its own): reported timeout, its finished
#      experiment kept in a file marked interrupted.
# Skips (77) with the reason where Slurm or munge is not installed or we are not root.
set -u
bin=$(realpath "$1")
src=$(cd "$(dirname "$0")/.." && pwd)
source "$src/tests/cli_lib.sh"
source "$src/tests/slurm_local.sh"
py=/usr/bin/python3

if ! why=$(slurm_local_available); then
  echo "SKIP: $why"
  exit 77
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() {
  slurm_local_stop
  rm -rf "$tmp"
}
trap cleanup EXIT
# The tasks inherit this environment (sbatch --export=ALL): one peak cache for all of them.
export XDG_CACHE_HOME=$tmp/cache
# Three nodes on this host, n1 and n3 with feature kinda, n2 with kindb: two "machine kinds",
# each task with a whole node (--exclusive, the default). Three tasks could run at once, so
# --max-running 2 is what holds them to two. n4 (kindc) is the time-limited task's.
mkdir -p "$tmp/slurm"
SLURM_LOCAL_NODES="n1=kinda n2=kindb n3=kinda n4=kindc" slurm_local_start "$tmp/slurm" || fail "the local Slurm did not start"

suite "$tmp/s.json" "$sb_exp_1d" "$sb_exp_2d"
# z/long would take hours: it is always cut short
suite "$tmp/long.json" "$sb_exp_1d" '{"name": "z/long", "target": {"kind": "sines1d", "n": 256,
  "frequencies": [3]}, "model": {"depth": 2, "width": 16}, "train": {"lr": 0.001, "steps": 100000000}}'
# a/raw then z/long under a 1-minute limit (section 4 looks at it)
"$bin" fleet submit --suite "$tmp/long.json" --machine t:constraint=kindc --time 1 --threads 1 \
  --out "$tmp/f3" >"$tmp/submit3.out" 2>&1 || fail "fleet submit --time 1 exited $?: $(cat "$tmp/submit3.out")"
array3=$(sed -n 's/^specbias fleet: job array \([0-9]*\):.*/\1/p' "$tmp/submit3.out")
jobs_before=$(squeue -h -o %F | sort -u)
# An ISA this machine's build cannot run: the task of that machine kind fails, as a task on a
# node without the ISA would.
absent=$("$bin" info --json | $py -c '
import json, sys
have = set(json.load(sys.stdin)["isa_available"])
print(next((i for i in ("neon", "avx512", "avx2") if i not in have), ""))')

# stopped_task DIR RESULTS PATTERN STATE: a task stopped by Slurm (scancel, time limit) shows in
# `fleet status DIR` as PATTERN, and its results file is valid, marked interrupted, with the
# experiment it finished (a/raw) kept.
stopped_task() {
  "$bin" fleet status "$1" >"$tmp/status-stopped.txt"
  cat "$tmp/status-stopped.txt"
  grep -qE "$3" "$tmp/status-stopped.txt" || fail "the task is not reported $4"
  $py - "$2" <<'PY' || fail "the $4 task's results file is not a valid interrupted file"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["interrupted"] is True and r["complete"] is False, (r["interrupted"], r["complete"])
e = {x["name"]: x["status"] for x in r["experiments"]}
assert e.get("a/raw") == "ok", e
PY
}
queue_empty() { [ "$(squeue -h -o %F | sort -u)" = "$jobs_before" ] || fail "$1 left jobs in the queue: $(squeue -h)"; }

# ---- 1. refused before submission ----------------------------------------------------------
sub=(fleet submit --suite "$tmp/s.json" --share --steps 3)
expect 2 "machine x: Slurm refuses it.*constraint=nosuch" "${sub[@]}" --machine x:constraint=nosuch --out "$tmp/f0"
queue_empty "an unsatisfiable constraint"
expect 2 "machine x: Slurm refuses it.*partition=nopart" "${sub[@]}" --machine x:partition=nopart --out "$tmp/f0"
echo '{"name": "broken", "experiments": [' >"$tmp/broken.json"
expect 2 "broken.json" fleet submit --suite "$tmp/broken.json" --machine a --out "$tmp/f0"
expect 2 "binary x86_64: /nonexistent/specbias is not an executable" "${sub[@]}" --machine a \
  --binary x86_64=/nonexistent/specbias --out "$tmp/f0"
arch=$(uname -m)
other=aarch64
[ "$arch" != aarch64 ] || other=x86_64
expect 2 "machine a: node .* is $arch, and no --binary $arch=PATH" "${sub[@]}" --machine a \
  --binary "$other=$bin" --out "$tmp/f0"
touch "$tmp/file"
expect 2 "out $tmp/file/f" "${sub[@]}" --machine a --out "$tmp/file/f"
err=$(env PATH=/nonexistent "$bin" "${sub[@]}" --machine a --out "$tmp/f0" 2>&1); rc=$?
[ "$rc" = 2 ] && grep -q "no Slurm client on PATH: sbatch not found" <<<"$err" ||
  fail "no sbatch on PATH: exit $rc, $err"
expect 2 "machine a is given twice" "${sub[@]}" --machine a --machine a:isa=scalar --out "$tmp/f0"
expect 2 "threads 1,2: a fleet task runs one thread count" "${sub[@]}" --machine a --threads 1,2 --out "$tmp/f0"
queue_empty "the refused submissions"
[ ! -e "$tmp/f0/fleet.json" ] || fail "a refused submission left $tmp/f0/fleet.json"

# ---- 2. a fleet: 2 kinds x 2 sets, and a task that fails ------------------------------------
machines=(--machine a:constraint=kinda:isa=scalar --machine b:constraint=kindb)
[ -n "$absent" ] && machines+=(--machine "bad:constraint=kinda:isa=$absent:sets=1")
"$bin" fleet submit --suite "$tmp/s.json" "${machines[@]}" --sets 2 --max-running 2 \
  --steps 4 --threads 1 --out "$tmp/f1" >"$tmp/submit.out" 2>"$tmp/submit.err" ||
  fail "fleet submit exited $?: $(cat "$tmp/submit.err")"
cat "$tmp/submit.out"
array=$(sed -n 's/^specbias fleet: job array \([0-9]*\):.*/\1/p' "$tmp/submit.out")
gather=$(sed -n 's/^specbias fleet: gather job \([0-9]*\) .*/\1/p' "$tmp/submit.out")
[ -n "$array" ] && [ -n "$gather" ] || fail "no job ids in: $(cat "$tmp/submit.out")"

# Until the gather job has ended (ctest's timeout bounds the wait), with a status mid-way.
scontrol -o show job "$array" | grep -q "ArrayTaskThrottle=2" ||
  fail "the array has no throttle of 2: $(scontrol -o show job "$array")"
while :; do
  [ -f "$tmp/status-mid.txt" ] || "$bin" fleet status "$tmp/f1" >"$tmp/status-mid.txt"
  case $(squeue -h -j "$gather" -t all -o %T 2>/dev/null) in
    COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL) break ;;
  esac
  sleep 0.2
done
# At most 2 tasks at once, from each task's own start and end (state files, to the
# microsecond), nested inside Slurm's allocation of it: no polling to miss a short task.
most=$($py - "$tmp/f1/state" <<'PY'
import glob, json, sys
ev = []
for f in glob.glob(sys.argv[1] + "/*.json"):
    s = json.load(open(f))
    ev += [(s["started_us"], 1), (s["ended_us"], -1)]
n = most = 0
for _, d in sorted(ev, key=lambda e: (e[0], e[1])):
    n += d
    most = max(most, n)
print(most)
PY
)
echo "at most $most tasks ran at once"
[ "$most" -le 2 ] && [ "$most" -ge 1 ] || fail "$most tasks ran at once, with --max-running 2"
[ "$(squeue -h -j "$gather" -t all -o %T)" = COMPLETED ] ||
  fail "the gather job did not complete: $(squeue -h -j "$gather" -t all -o '%T %r'): $(cat "$tmp/f1/logs/gather-$gather.err")"
cat "$tmp/status-mid.txt"
grep -q "^task  *machine" "$tmp/status-mid.txt" || fail "fleet status printed no table"

# Task order: set 0 of every machine, then set 1 (a, b, bad, a, b).
order=$($py -c 'import json,sys; print(" ".join(t["machine"] + str(t["set"]) for t in json.load(open(sys.argv[1]))["tasks"]))' "$tmp/f1/fleet.json")
want_order="a0 b0 a1 b1"
[ -n "$absent" ] && want_order="a0 b0 bad0 a1 b1"
[ "$order" = "$want_order" ] || fail "tasks in the order $order, want $want_order"
# Slurm itself placed each task of the one array by its machine's features.
i=0
for t in $order; do
  want=kinda
  [ "${t%?}" = b ] && want=kindb
  got=$(scontrol -o show job "${array}_$i" | grep -o ' Features=[^ ]*')
  [ "$got" = " Features=$want" ] || fail "task $i ($t): Slurm has$got, want Features=$want"
  i=$((i + 1))
done
"$bin" fleet status "$tmp/f1" >"$tmp/status.txt" || fail "fleet status exited $?"
cat "$tmp/status.txt"
grep -q "^4 done" "$tmp/status.txt" || fail "not 4 tasks done: $(cat "$tmp/status.txt")"
ls "$tmp/f1/logs/gather-$gather.err" >/dev/null || fail "no log of the gather job"
[ -s "$tmp/f1/comparison.md" ] || fail "the gather job wrote no comparison: $(cat "$tmp/f1/logs/gather-$gather.err")"
cat "$tmp/f1/comparison.txt"
[ -f "$tmp/f1/report/index.html" ] || fail "the gather job wrote no report: $(cat "$tmp/f1/logs/gather-$gather.err")"
$py - "$tmp/f1" "$array" "$absent" <<'PY' || fail "the gathered fleet is not as expected"
import glob, json, os, sys
d, array, absent = sys.argv[1:]
c = json.load(open(os.path.join(d, "comparison.json")))
assert c["schema"] == "specbias-fleet-comparison/1", c["schema"]
tasks = c["tasks"]
assert len(tasks) == (5 if absent else 4), tasks
by = {}
for t in tasks:
    by.setdefault(t["machine"], []).append(t)
for k in ("a", "b"):
    assert [t["state"] for t in by[k]] == ["done", "done"], by[k]
    for t in by[k]:
        assert t["results"] == f"tasks/{k}/{array}-{t['index']}/results.json", t
if absent:
    (bad,) = by["bad"]
    assert bad["state"] == "failed" and bad["results"] is None, bad
    assert "exited 2" in bad["reason"] and absent in bad["reason"], bad
# one column per machine kind that finished, named by it
files = c["comparison"]["files"]
assert [f["label"].split(":")[0] for f in files] == ["a", "b"], [f["label"] for f in files]
md = open(os.path.join(d, "comparison.md")).read()
assert "| task | machine |" in md and "a/raw" in md, md
if absent:
    assert "| bad | 0 |" in md and "failed" in md, md
    assert bad["index"] == 2, bad
# each results file says where it ran
for t in by["a"] + by["b"]:
    r = json.load(open(os.path.join(d, t["results"])))
    s = r["context"]["slurm"]
    assert s["array_job_id"] == array and s["array_task_id"] == str(t["index"]), s
    assert s["machine_kind"] == t["machine"] and s["partition"] == "debug", s
    assert s["node"] == t["node"] and s["node"] in (("n1", "n3") if t["machine"] == "a" else ("n2",)), (s, t)
    assert s["features_requested"] == ("kinda" if t["machine"] == "a" else "kindb"), s
    assert s["job_id"] and s["fleet_set"] == str(t["set"]), s
    assert r["complete"] is True and r["context"]["isa_used"] == ("scalar" if t["machine"] == "a" else r["context"]["isa_used"]), r["context"]["isa_used"]
PY
# A node without a binary for its architecture: task.sh (as on a riscv64 node) records it, and
# the task is reported as such. Task 0's account is replaced, as if it had landed there.
mkdir -p "$tmp/fakebin"
printf '#!/bin/sh\necho riscv64\n' >"$tmp/fakebin/uname"
chmod +x "$tmp/fakebin/uname"
env PATH="$tmp/fakebin:$PATH" SLURM_ARRAY_JOB_ID="$array" SLURM_ARRAY_TASK_ID=0 \
  sh "$tmp/f1/task.sh" 2>"$tmp/nobin.err" && fail "task.sh without a binary exited 0"
grep -q "no specbias binary for riscv64" "$tmp/nobin.err" || fail "task.sh said: $(cat "$tmp/nobin.err")"
"$bin" fleet status --format json "$tmp/f1" >"$tmp/nobin.json" || fail "fleet status --format json exited $?"
$py - "$tmp/nobin.json" <<'PY' || fail "a task without a binary is not reported as such"
import json, sys
t = json.load(open(sys.argv[1]))["tasks"][0]
import os
assert t["state"] == "no-binary" and "riscv64" in t["reason"] and os.uname().machine in t["reason"], t
PY

# compare itself groups files by machine kind: b's, a's and b's again give columns b, b, a
files=("$tmp"/f1/tasks/b/*/results.json "$tmp"/f1/tasks/a/*/results.json)
"$bin" compare --format json "${files[0]}" "${files[2]}" "${files[1]}" \
  >"$tmp/grouped.json" || fail "compare of the fleet's files exited $?"
$py - "$tmp/grouped.json" <<'PY' || fail "compare does not group the files by machine kind"
import json, sys
labels = [f["label"].split(":")[0] for f in json.load(open(sys.argv[1]))["files"]]
assert labels == ["b", "b", "a"], labels
PY

# ---- 3. scancel mid-run -----------------------------------------------------------------------
"$bin" fleet submit --suite "$tmp/long.json" --machine c:constraint=kinda --threads 1 \
  --out "$tmp/f2" >"$tmp/submit2.out" 2>&1 || fail "fleet submit exited $?: $(cat "$tmp/submit2.out")"
array2=$(sed -n 's/^specbias fleet: job array \([0-9]*\):.*/\1/p' "$tmp/submit2.out")
gather2=$(sed -n 's/^specbias fleet: gather job \([0-9]*\) .*/\1/p' "$tmp/submit2.out")
res="$tmp/f2/tasks/c/$array2-0/results.json"
while :; do
  [ -f "$res" ] && $py -c 'import json,sys; e=json.load(open(sys.argv[1]))["experiments"]; sys.exit(0 if e and e[0]["status"] == "ok" else 1)' "$res" 2>/dev/null && break
  sleep 0.1
done
[ -f "$res" ] || fail "the long task never wrote $res"
scancel "$array2"
for i in $(seq 1 600); do
  [ -n "$(squeue -h -r -j "$array2" -t RUNNING,COMPLETING -o %i)" ] || break
  sleep 0.1
done
stopped_task "$tmp/f2" "$res" "^0 +c +0 +n[13] +cancelled +cancelled in Slurm" cancelled
# the gather job ran on its own after the cancel (afterany); a gather by hand after it
while :; do
  case $(squeue -h -j "$gather2" -t all -o %T) in COMPLETED | FAILED | CANCELLED) break ;; esac
  sleep 0.2
done
grep -q "cancelled" "$tmp/f2/comparison.md" || fail "the gather job's comparison does not name the cancelled task"
"$bin" fleet gather "$tmp/f2" >"$tmp/gather2.txt" 2>&1 || fail "fleet gather after a cancel exited $?: $(cat "$tmp/gather2.txt")"
grep -q "cancelled" "$tmp/f2/comparison.md" || fail "the comparison does not name the cancelled task"
# ---- 4. the time limit ------------------------------------------------------------------------
res3="$tmp/f3/tasks/t/$array3-0/results.json"
while :; do
  case $(squeue -h -r -j "$array3" -t all -o %T) in TIMEOUT | COMPLETED | FAILED | CANCELLED) break ;; esac
  sleep 0.5
done
stopped_task "$tmp/f3" "$res3" "^0 +t +0 +n4 +timeout +hit its time limit" timeout
echo "cli_fleet: ok"
