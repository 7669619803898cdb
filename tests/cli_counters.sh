#!/usr/bin/env bash
# Counters on any machine (`run`, `kernels` and `info`): an event is counted exactly when this
# machine can count it, by the source that can, and otherwise recorded unavailable with the
# real reason; unknown names are warned about on stderr.
#
# The oracle is tests/perf_probe.py: perf_event_open(2) called directly for each generic
# event. PAPI itself counts through perf_event_open, so for Linux's generic events "counted"
# must equal "the kernel opens it". The case of the Zen 5 VM, where PAPI's libpfm4 does not
# know the CPU and PAPI's perf_event component is disabled, is made on any machine with
# libpfm4's own LIBPFM_FORCE_PMU naming no PMU: then PAPI counts nothing, and every event
# that counts must come from perf_event.
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/cli_lib.sh"
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache

generic="task-clock page-faults context-switches cpu-migrations cycles instructions cache-references cache-misses branch-misses"
# shellcheck disable=SC2086
$py "$here/perf_probe.py" $generic >"$tmp/oracle" || fail "perf_probe.py failed"
grep -q '^SKIP' "$tmp/oracle" && { cat "$tmp/oracle"; exit 77; }
echo "this machine, by perf_event_open:"; sed 's/^/  /' "$tmp/oracle"

suite "$tmp/s.json" '{"name": "c/one", "target": {"kind": "sines1d", "n": 256, "frequencies": [3]},
  "model": {"depth": 2, "width": 32}, "train": {"lr": 0.001, "steps": 400}, "checkpoints": 3}'

# check FILE MODE: the counters of a results file against the oracle. MODE: any (PAPI and
# perf_event), nopapi (PAPI's component disabled), papionly-nopapi (neither can count).
check() {
  $py - "$1" "$2" "$tmp/oracle" <<'PY'
import json, sys
path, mode, oracle_path = sys.argv[1:]
oracle = dict(l.split(" ", 1) for l in open(oracle_path).read().splitlines())
r = json.load(open(path))
c = r["context"]["counters"]
reps = [rep for e in r["experiments"] for rep in e["repetitions"]]
alias = {"perf::TASK-CLOCK": "task-clock", "PAPI_TOT_CYC": "cycles", "PAPI_TOT_INS": "instructions"}
for e in c["events"]:
    name = e["name"]
    g = alias.get(name, name)
    if g not in oracle:      # not a generic event: a typo here
        assert e["status"] == "unavailable" and e["reason"], e
        continue
    can = oracle[g].strip() == "ok"
    if mode == "papionly-nopapi":
        assert e["status"] == "unavailable", e
        assert "component is disabled" in e["reason"] and "not used" in e["reason"], e
        continue
    assert (e["status"] == "counted") == can, (e, oracle[g])
    if can:
        assert e["source"] in ("papi", "perf_event"), e
        if mode == "nopapi":
            assert e["source"] == "perf_event", e
        for rep in reps:
            assert isinstance(rep["counters"][name], int), rep["counters"]
    else:
        # the kernel's own answer is in the reason, and PAPI's state when it is disabled
        assert oracle[g].split(" ", 1)[1] in e["reason"], (e, oracle[g])
        if mode == "nopapi":
            assert "PAPI's perf_event component is disabled" in e["reason"], e
        for rep in reps:
            assert name not in rep["counters"], rep["counters"]
# The task clock of the main thread over the training steps is CPU time: more than nothing,
# never more than the training's wall time (plus a tick of slack), never more than the whole
# process's CPU time. (How much less depends on the load, which a test cannot know.)
# On a guest with paravirtual steal accounting the scheduler's CPU time (getrusage) leaves
# out the time the host took the vCPU away, while perf's task clock counts it: the task
# clock may pass getrusage by up to the steal of the run's CPUs, which /proc/stat gives in
# ticks (so one more tick, 10 ms, of slack).
run = r["context"]["audit"]["run"]
own = run["own_cpu_seconds"] + (run["steal_seconds"] or 0) + 0.010
for rep in reps:
    for n in ("task-clock", "perf::TASK-CLOCK"):
        if n in rep["counters"]:
            s = rep["counters"][n] / 1e9
            assert 0 < s <= rep["train_seconds"] * 1.02 + 0.002, (n, s, rep["train_seconds"])
            assert s <= own + 0.011, (n, s, own, run["steal_seconds"])
PY
}

# 1. Whatever this machine has, PAPI first.
"$bin" run --suite "$tmp/s.json" --threads 1 --out "$tmp/a" \
  --counters task-clock,page-faults,instructions,cycles,perf::TASK-CLOCK,tsak-clock,NO_SUCH_EVENT \
  >/dev/null 2>"$tmp/a.err" || fail "--counters run exited $?: $(cat "$tmp/a.err")"
check "$tmp/a/results.json" any || fail "counters against the oracle (PAPI and perf_event)"
# a misspelt or unknown event is warned about on stderr, not only recorded
grep -q "warning: counter 'tsak-clock' .*did you mean task-clock" "$tmp/a.err" || fail "no suggestion for tsak-clock: $(cat "$tmp/a.err")"
grep -q "warning: counter 'NO_SUCH_EVENT'" "$tmp/a.err" || fail "no warning for NO_SUCH_EVENT: $(cat "$tmp/a.err")"
expect 2 "named twice" run --suite "$tmp/s.json" --counters task-clock,task-clock --out "$tmp/x"

# 2. PAPI's perf_event component disabled (the Zen 5 VM): the generic events through
#    perf_event_open; `run --counters task-clock,page-faults` counts both where the kernel can.
export LIBPFM_FORCE_PMU=specbias-test-no-such-pmu
"$bin" run --suite "$tmp/s.json" --threads 1 --out "$tmp/b" \
  --counters task-clock,page-faults,instructions,PAPI_TOT_CYC >/dev/null 2>"$tmp/b.err" \
  || fail "--counters run without PAPI exited $?: $(cat "$tmp/b.err")"
check "$tmp/b/results.json" nopapi || fail "counters with PAPI's component disabled"
if grep -q '^task-clock ok' "$tmp/oracle"; then
  "$bin" kernels --isa scalar --benchmark_filter='adam_update__scalar/51585' \
    --benchmark_min_time=0.05 --counters task-clock --benchmark_format=json >"$tmp/k.json" \
    2>"$tmp/k.err" || fail "kernels --counters without PAPI exited $?: $(cat "$tmp/k.err")"
  $py - "$tmp/k.json" <<'PY' || fail "kernels: task-clock not counted by perf_event without PAPI"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["context"]["counter task-clock"] == "counted by perf_event", d["context"]
for b in d["benchmarks"]:
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
    assert 0.5 < b["task-clock"] / (b["cpu_time"] * scale) < 1.5, b
PY
fi
# `info` probes the same way
"$bin" info --json >"$tmp/info.json" 2>/dev/null || fail "info --json without PAPI"
$py - "$tmp/info.json" "$tmp/oracle" <<'PY' || fail "info's counter probe without PAPI"
import json, sys
d = json.load(open(sys.argv[1]))
oracle = dict(l.split(" ", 1) for l in open(sys.argv[2]).read().splitlines())
for e in d["counters"]["events"]:
    if e["name"] in oracle:
        assert (e["status"] == "counted") == (oracle[e["name"]] == "ok"), e
        assert e["status"] != "counted" or e["source"] == "perf_event", e
    else:
        assert e["status"] == "unavailable" and "component is disabled" in e["reason"], e
PY
# 3. Neither source: everything is unavailable, with both reasons.
SPECBIAS_COUNTER_SOURCES=papi "$bin" run --suite "$tmp/s.json" --threads 1 --out "$tmp/c" \
  --counters task-clock,instructions >/dev/null 2>&1 || fail "--counters run with no source exited $?"
check "$tmp/c/results.json" papionly-nopapi || fail "counters with no source"
unset LIBPFM_FORCE_PMU
echo "cli_counters: all checks passed"
