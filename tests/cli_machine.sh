#!/usr/bin/env bash
# specbias on machines nobody here has: the topology-driven code (cache sizes and their sanity
# check, cache blocking, binding, the bandwidth probe's size, the peak over the cores used)
# under hwloc XML and synthetic topologies, counters under each of them; the peak cache shared
# by runs and refreshed on request; thread counts above the CPUs; a 1-CPU process (taskset);
# the machine audit from a presented sysfs, the core-to-core round trip, and a competing process
# seen on the run's CPU.
#
# The topologies (docs/contributing.md, The checks): a Zen 5 VM (tests/topologies/
# zen5-vm.xml: 508 MiB of L3 reported for each core), a 2-socket server with 128 cores and 8 L3
# domains a socket, a machine without an L3 in its report, a hybrid client (6 performance and 8
# efficiency cores, tests/topologies/hybrid-client.xml), and a 1-core container. Under an XML
# or synthetic topology hwloc describes another machine: sizes and counts come from it, while
# threads, peaks and bandwidth are this machine's, which the checks take into account.
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/cli_lib.sh"
py=/usr/bin/python3
tmp=$(mktemp -d)
busy=
trap '[ -n "$busy" ] && kill $busy 2>/dev/null; rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache
cpus=$(nproc)
# A sanitizer build keeps freed memory in quarantine and maps shadow memory: its RSS says
# nothing of the release binary's bound, which that build's run of this test checks.
"$bin" info --json 2>/dev/null | grep -q 'fsanitize=address' && sanitized=1 || sanitized=0
$py "$here/perf_probe.py" task-clock >"$tmp/oracle" || fail "perf_probe.py"

suite "$tmp/tiny.json" '{"name": "m/tiny", "target": {"kind": "sines1d", "n": 256, "frequencies": [3]},
  "model": {"depth": 2, "width": 32}, "train": {"lr": 0.001, "steps": 20}, "checkpoints": 3}'

# ---- 1. the topologies -------------------------------------------------------------------------
# name | environment | expected cores pus packages numa | expected per-core L1d L2, L3 kept
# (bytes or none), LLC total | cpu kinds
topologies=(
  "zen5-vm|HWLOC_XMLFILE=$here/topologies/zen5-vm.xml|2 2 1 1|49152 1048576 none none|0"
  "server-2x64|HWLOC_SYNTHETIC=pack:2 [numa] l3:8(size=32MiB) l2:8(size=1MiB) l1d:1(size=48KiB) core:1 pu:2|128 256 2 2|49152 1048576 33554432 536870912|0"
  "no-l3|HWLOC_SYNTHETIC=pack:1 l2:4(size=1MiB) l1d:1(size=32KiB) core:1 pu:1|4 4 1 1|32768 1048576 none none|0"
  "hybrid-client|HWLOC_XMLFILE=$here/topologies/hybrid-client.xml|14 20 1 1|32768 524288 25165824 25165824|2"
  "one-core|HWLOC_SYNTHETIC=pack:1 l3:1(size=8MiB) l2:1(size=512KiB) l1d:1(size=32KiB) core:1 pu:1|1 1 1 1|32768 524288 8388608 8388608|0"
)
for t in "${topologies[@]}"; do
  IFS='|' read -r name envvar counts caches kinds <<<"$t"
  # info: the topology as described, the estimate, a bounded probe (RSS, array size)
  # (the peak RSS of the one child, as /usr/bin/time -v reports it, without needing it)
  env "$envvar" $py -c '
import resource, subprocess, sys
out, err, rss = sys.argv[1:4]
rc = subprocess.run(sys.argv[4:], stdout=open(out, "w"), stderr=open(err, "w")).returncode
open(rss, "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$tmp/$name.info" "$tmp/$name.err" "$tmp/$name.rss" "$bin" info --json \
    || fail "$name: info --json exited $?: $(cat "$tmp/$name.err")"
  rss_kib=$(tail -n 1 "$tmp/$name.rss")
  [ "$sanitized" = 1 ] || [ "$rss_kib" -le $((256 * 1024)) ] || fail "$name: info used $rss_kib KiB of RSS, over 256 MiB"
  # a tiny run with a counter: blocking from the estimate, binding refused with the reason
  env "$envvar" "$bin" run --suite "$tmp/tiny.json" --out "$tmp/$name" --counters task-clock \
    --quiet >/dev/null 2>"$tmp/$name.rerr" || fail "$name: run exited $?: $(cat "$tmp/$name.rerr")"
  $py - "$tmp/$name.info" "$tmp/$name/results.json" "$counts" "$caches" "$kinds" "$cpus" \
    "$name" "$tmp/oracle" <<'PY' || fail "$name: see above"
import json, sys
info, res = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
cores, pus, packages, numa = map(int, sys.argv[3].split())
l1d, l2, l3, llc = [None if v == "none" else int(v) for v in sys.argv[4].split()]
kinds, cpus, name = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
oracle = dict(l.split(" ", 1) for l in open(sys.argv[8]).read().splitlines())
t = info["topology"]
assert t["this_system"] is False and t["loaded_from"].startswith("HWLOC_"), t
got = (t["cores"], t["pus"], t["packages"], t["numa_nodes"])
assert got == (cores, pus, packages, numa), (name, got)
est = t["cache_estimate"]
assert (est["l1d_bytes"], est["l2_bytes"], est["l3_bytes"], est["llc_total_bytes"]) == (l1d, l2, l3, llc), (name, est)
# the L1d's ways: the Zen 5 VM's XML gives 12; the synthetic and hybrid topologies none
ways = 12 if name == "zen5-vm" else None
assert t["caches"]["l1d"].get("ways") == ways and est["l1d_ways"] == ways, (name, t["caches"]["l1d"], est)
if name == "zen5-vm":   # the 508 MiB L3 a core: dropped with the reason
    assert t["l3_bytes"] == 532676608 and "L3 of 508 MiB shared by 1 core" in est["ignored"], est
assert len(t.get("cpu_kinds", [])) == kinds, t.get("cpu_kinds")
if kinds:
    k = {x["core_type"]: x for x in t["cpu_kinds"]}
    assert (k["IntelCore"]["cores"], k["IntelCore"]["pus"], k["IntelAtom"]["cores"]) == (6, 12, 8), k
# bandwidth: bounded, sized from the estimate (4 x LLC within [16, 48] MiB; the largest when
# there is no usable L3), never 0.0
bw = info["bandwidth_gbs"]
assert bw["status"] == "measured" and bw["one_thread"] > 0, bw
want = 48 << 20 if llc is None else min(max(4 * llc, 16 << 20), 48 << 20)
assert bw["array_bytes"] == want, (name, bw["array_bytes"], want)
if llc is None:
    assert "no usable L3" in bw["note"], bw
elif 3 * want < 4 * llc:
    assert "under 4 x the last-level cache" in bw["note"], bw
# peaks: this machine's threads and cores, never more than its CPUs
for isa, p in info["peak_gflops"].items():
    for d in p["detail"].values():
        assert d["gflops"] > 0 and d["threads_measured"] <= cpus, (isa, d)
# the run: blocking from the estimate, binding refused (hwloc describes another machine)
c = res["context"]
b = c["blocking"]
assert b["l1d_bytes"] == (l1d or 32768) and b["l2_bytes"] == (l2 or 524288), (name, b)
assert b["l1d_ways"] == (ways or (l1d or 32768) // 4096), (name, b)   # none from hwloc: 64 sets
assert b["source"] == ("hwloc" if l1d and l2 else "default"), b
assert c["binding"]["enabled"] is False and "not this machine's" in c["binding"]["reason"], c["binding"]
assert c["audit"]["cpus_used"] and c["audit"]["logical_cpus"] == cpus, c["audit"]
ev = c["counters"]["events"][0]
assert (ev["status"] == "counted") == (oracle["task-clock"].strip() == "ok"), ev
for e in res["experiments"]:
    for r in e["repetitions"]:
        assert r["peak_fraction"] is None or 0 < r["peak_fraction"] <= 1, r["peak_fraction"]
PY
  echo "  $name: info in $(tail -n 1 "$tmp/$name.rss") KiB; topology, estimate, bandwidth, peak, blocking, binding, counters as expected"
done

# ---- 2. the peak cache: runs on one machine share one peak ------------------------------------
rm -rf "$XDG_CACHE_HOME"
# two at once on an empty cache: one measures under the lock, the other reads what it wrote
"$bin" info --json >"$tmp/p1.json" 2>/dev/null &
p1=$!
"$bin" info --json >"$tmp/p2.json" 2>/dev/null || fail "info (second of two at once)"
wait $p1 || fail "info (first of two at once)"
for i in 3 4 5 6 7; do "$bin" info --json >"$tmp/p$i.json" 2>/dev/null || fail "info $i"; done
$py - "$tmp"/p{1,2,3,4,5,6,7}.json <<'PY' || fail "runs do not share one cached peak"
import json, sys
def peaks(path):
    d = json.load(open(path))
    return {(isa, k): (v["detail"][k]["gflops"], v["detail"][k]["measured_at"])
            for isa, v in d["peak_gflops"].items() for k in ("one_thread", "all_threads")}, d
first, _ = peaks(sys.argv[1])
for path in sys.argv[2:]:
    p, d = peaks(path)
    assert p == first, (path, p, first)
    # after the first two, every figure is the cache's
    if path not in sys.argv[1:3]:
        assert all(v["detail"][k]["source"] == "cache" for v in d["peak_gflops"].values()
                   for k in ("one_thread", "all_threads")), path
PY
# --remeasure-peak measures again and replaces the cached figure
"$bin" info --json --remeasure-peak >"$tmp/pr.json" 2>/dev/null || fail "info --remeasure-peak"
"$bin" info --json >"$tmp/pa.json" 2>/dev/null || fail "info after --remeasure-peak"
$py - "$tmp/pr.json" "$tmp/pa.json" <<'PY' || fail "--remeasure-peak did not refresh the cache"
import json, sys
r, a = (json.load(open(p))["peak_gflops"] for p in sys.argv[1:])
for isa in r:
    for k in ("one_thread", "all_threads"):
        assert r[isa]["detail"][k]["source"] == "measured", r[isa]
        assert a[isa]["detail"][k]["source"] == "cache", a[isa]
        assert a[isa][k] == r[isa][k], (isa, k)
PY
"$bin" run --suite "$tmp/tiny.json" --out "$tmp/pc" --quiet --remeasure-peak >/dev/null 2>&1 || fail "run --remeasure-peak"
$py -c "
import json; c = json.load(open('$tmp/pc/results.json'))['context']
assert all(p['source'] == 'measured' for p in c['peak'].values()), c['peak']
assert c['peak_method'] and all(c['peak_gflops'][i] == c['peak'][i]['gflops'] for i in c['peak'])" \
  || fail "run --remeasure-peak: the peak is not the re-measured one"

# ---- 3. threads above the CPUs: a warning, and the peak of the cores used --------------------
over=$((cpus + 3))
"$bin" run --suite "$tmp/tiny.json" --threads $over --out "$tmp/over" --quiet >/dev/null 2>"$tmp/over.err" \
  || fail "--threads $over exited $?: $(cat "$tmp/over.err")"
grep -q "warning: $over threads, but this process may use $cpus logical CPU" "$tmp/over.err" \
  || fail "no warning for --threads $over on $cpus CPUs: $(cat "$tmp/over.err")"
$py - "$tmp/over/results.json" "$over" "$cpus" <<'PY' || fail "--threads above the CPUs: an impossible peak"
import json, sys
c = json.load(open(sys.argv[1]))["context"]
over, cpus = int(sys.argv[2]), int(sys.argv[3])
assert c["threads"] == over and c["logical_cpus"] == cpus, c
for isa, p in c["peak"].items():
    assert p["threads_requested"] == over and p["threads_measured"] <= cpus, p
    assert "cores they share" in p["note"], p
PY
"$bin" info --threads $over 2>&1 >/dev/null | grep -q "warning: $over threads" || fail "info --threads $over: no warning"
# a process allowed one CPU (a 1-CPU container; taskset is util-linux, always on Debian)
if command -v taskset >/dev/null; then
  first=$($py -c 'import os; print(min(os.sched_getaffinity(0)))')
  taskset -c "$first" "$bin" info --json --threads 4 >"$tmp/one.json" 2>"$tmp/one.err" || fail "info under taskset"
  grep -q "warning: 4 threads but this process may use 1 logical CPU" "$tmp/one.err" || fail "no warning under taskset: $(cat "$tmp/one.err")"
  $py -c "
import json; d = json.load(open('$tmp/one.json'))
assert d['logical_cpus'] == 1 and d['threads'] == 4, d
for p in d['peak_gflops'].values():
    assert p['detail']['all_threads']['threads_measured'] == 1, p
    assert p['all_threads'] == p['detail']['all_threads']['gflops']" || fail "1-CPU process: the peak is not one core's"
fi

# ---- 4. bounded probes: kernels refuses a bad flag before measuring anything --------------------
rm -rf "$XDG_CACHE_HOME"
expect 2 "frobnicate" kernels --benchmark_frobnicate
[ -e "$XDG_CACHE_HOME/specbias/peaks.json" ] && fail "kernels measured a peak before refusing a bad flag"

# ---- 5. the audit ----------------------------------------------------------------------------
# a presented sysfs: a cpufreq driver with a governor, base and max clocks, boost off, SMT on
fake=$tmp/sys
mkdir -p "$fake/devices/system/cpu/cpufreq" "$fake/devices/system/cpu/smt" "$fake/devices/system/cpu/cpu0/topology"
for c in $($py -c 'import os; print(*sorted(os.sched_getaffinity(0)))'); do
  mkdir -p "$fake/devices/system/cpu/cpu$c/cpufreq"
  echo powersave >"$fake/devices/system/cpu/cpu$c/cpufreq/scaling_governor"
done
echo 2100000 >"$fake/devices/system/cpu/cpu0/cpufreq/base_frequency"
echo 3500000 >"$fake/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"
echo 0 >"$fake/devices/system/cpu/cpufreq/boost"
echo 1 >"$fake/devices/system/cpu/smt/active"
echo on >"$fake/devices/system/cpu/smt/control"
echo 0,64 >"$fake/devices/system/cpu/cpu0/topology/thread_siblings_list"
SPECBIAS_SYSFS_ROOT=$fake "$bin" info --json >"$tmp/a.json" 2>/dev/null || fail "info with a presented sysfs"
$py -c "
import json; a = json.load(open('$tmp/a.json'))['audit']
assert a['governor'] == 'powersave', a
assert a['clock']['nominal_mhz'] == 2100 and a['clock']['nominal_source'] == 'cpufreq base_frequency', a['clock']
assert a['clock']['max_mhz'] == 3500 and a['clock']['measured_mhz'] > 0, a['clock']
assert a['boost'] is False and a['boost_source'].endswith('cpufreq/boost'), a
assert a['smt'] == {'active': True, 'control': 'on', 'threads_per_core': 2}, a['smt']" || fail "the audit misread the presented sysfs"
# Intel's switch is the other way round: no_turbo 1 is boost off
rm "$fake/devices/system/cpu/cpufreq/boost"
mkdir -p "$fake/devices/system/cpu/intel_pstate" && echo 0 >"$fake/devices/system/cpu/intel_pstate/no_turbo"
SPECBIAS_SYSFS_ROOT=$fake "$bin" info --json | $py -c "
import json, sys; a = json.load(sys.stdin)['audit']; assert a['boost'] is True, a" || fail "intel_pstate/no_turbo 0 is not boost on"
# nothing there: every fact null with its reason
mkdir -p "$tmp/empty"
SPECBIAS_SYSFS_ROOT=$tmp/empty "$bin" info --json | $py -c "
import json, sys; a = json.load(sys.stdin)['audit']
assert a['governor'] is None and 'no cpufreq' in a['governor_reason'], a
assert a['boost'] is None and a['boost_reason'], a
assert a['smt'] == {'active': None, 'control': None, 'threads_per_core': None}, a" || fail "an empty sysfs"

# The core-to-core round trip: between the run's first two CPUs where it has two (the
# measurement's median of 7, and its best no higher), null with the reason on one; info prints it.
"$bin" run --suite "$tmp/tiny.json" --threads 2 --out "$tmp/pair" --quiet >/dev/null 2>&1 || fail "a 2-thread run"
"$bin" run --suite "$tmp/tiny.json" --threads 1 --out "$tmp/single" --quiet >/dev/null 2>&1 || fail "a 1-thread run"
$py - "$tmp/pair/results.json" "$tmp/single/results.json" <<'PY' || fail "the core-to-core round trip in the audit"
import json, sys
for path in sys.argv[1:]:
    a = json.load(open(path))["context"]["audit"]
    c = a["core_to_core"]
    if len(a["cpus_used"]) >= 2 and c["round_trip_ns"] is None:
        # a loaded or CPU-quota-limited machine: the other CPU too busy to answer, said
        assert "did not answer within" in c["reason"] or "did not start within" in c["reason"], c
        print("  (%s: the second CPU too busy to answer: %s)" % (path, c["reason"]))
    elif len(a["cpus_used"]) >= 2:
        assert c["cpus"] == a["cpus_used"][:2], (path, c, a["cpus_used"])
        assert 0 < c["round_trip_ns_min"] <= c["round_trip_ns"], (path, c)
        assert "median of 7 trials" in c["method"], c
    else:
        assert c["round_trip_ns"] is None and "the run has one CPU" in c["reason"], (path, c)
PY
"$bin" info >"$tmp/info.txt" 2>/dev/null || fail "info"
if [ "$cpus" -ge 2 ]; then
  grep -qE '^core to core: ([0-9]+ ns a round trip of a cache line between CPUs [0-9]+ and [0-9]+ \(best [0-9]+\)|not measured: .*did not (answer|start) within 50 ms.*)$' "$tmp/info.txt" \
    || fail "info has no core-to-core line: $(grep -i core "$tmp/info.txt")"
else
  grep -q '^core to core: not measured: the run has one CPU' "$tmp/info.txt" || fail "info on one CPU: $(cat "$tmp/info.txt")"
fi

# Another process on the run's CPU: the run is marked disturbed, with the share it lost. One
# thread, bound to its core; a busy loop pinned to that same CPU for the whole run.
suite "$tmp/busy.json" '{"name": "m/busy", "target": {"kind": "sines1d", "n": 1024, "frequencies": [3, 7]},
  "model": {"depth": 3, "width": 64}, "train": {"lr": 0.001, "steps": 1500}, "checkpoints": 3}'
"$bin" run --suite "$tmp/tiny.json" --threads 1 --out "$tmp/where" --quiet >/dev/null 2>&1 || fail "a 1-thread run"
cpu=$($py -c "import json; print(json.load(open('$tmp/where/results.json'))['context']['audit']['cpus_used'][0])")
if command -v taskset >/dev/null && [ "$($py -c "import json; print(json.load(open('$tmp/where/results.json'))['context']['binding']['enabled'])")" = True ]; then
  taskset -c "$cpu" sh -c 'while :; do :; done' &
  busy=$!
  "$bin" run --suite "$tmp/busy.json" --threads 1 --out "$tmp/busy" >/dev/null 2>"$tmp/busy.err" || fail "the disturbed run exited $?"
  kill $busy; wait $busy 2>/dev/null; busy=
  grep -q "warning: this run was disturbed: other processes took" "$tmp/busy.err" || fail "no disturbance warning: $(cat "$tmp/busy.err")"
  $py -c "
import json; a = json.load(open('$tmp/busy/results.json'))['context']['audit']
assert a['disturbed'] is True and any('other processes' in w for w in a['warnings']), a
assert a['run']['others_fraction'] > 0.2 and a['run']['others_cpu_seconds'] >= 0.2, a['run']" || fail "the busy loop is not in the audit"
  # and the same run without the busy loop shows clearly less (the control of the check above;
  # relative, since whatever else this machine runs shows in both)
  "$bin" run --suite "$tmp/busy.json" --threads 1 --out "$tmp/calm" --quiet >/dev/null 2>&1 || fail "the calm run"
  $py -c "
import json
calm = json.load(open('$tmp/calm/results.json'))['context']['audit']['run']['others_fraction']
busy = json.load(open('$tmp/busy/results.json'))['context']['audit']['run']['others_fraction']
assert calm < busy - 0.1, (calm, busy)" || fail "the run without the busy loop shows as much of others"
else
  echo "  (no bound thread here, so no competing process pinned beside it: that check did not run)"
fi
echo "cli_machine: all checks passed"
