#!/usr/bin/env bash
# Placement at the command line: `specbias info --groups` under topologies nobody here has
# (the 2 x 64-core server of tests/cli_machine.sh, the hybrid client), its bad values, and
# `specbias run --cpus`: bad lists refused with exit 2 naming the value, and a real run on CPU 0
# recording its binding there. The groups themselves are checked PU by PU in test_placement.c.
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/cli_lib.sh"
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache
# the defaults under test: threads from --cpus, binding by specbias
unset OMP_NUM_THREADS OMP_PROC_BIND GOMP_CPU_AFFINITY HWLOC_XMLFILE HWLOC_SYNTHETIC
server="pack:2 [numa] l3:8(size=32MiB) l2:8(size=1MiB) l1d:1(size=48KiB) core:1 pu:2"

# ---- info --groups ---------------------------------------------------------------------------
HWLOC_SYNTHETIC=$server "$bin" info --groups l3 --threads 12 --json >"$tmp/l3.json" \
  || fail "info --groups l3 (server) exited $?"
$py - "$tmp/l3.json" <<'PY' || fail "info --groups l3 (server): see above"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "specbias-placement/1" and d["this_system"] is False, d
assert d["topology"] == "HWLOC_SYNTHETIC" and d["groups_by"] == "l3", d
g = d["groups"]
assert len(g) == 16, len(g)
for i, x in enumerate(g):
    assert x["domain"] == "L3 #%d" % i and x["cpus"] == list(range(16 * i, 16 * i + 16, 2)), x
assert d["unused"] == [] and "note" not in d, d
t = d["threads"]
assert t["cpus_by_thread"] == list(range(0, 24, 2)) and t["domain"] == "NUMA #0, 64 cores", t
PY
HWLOC_SYNTHETIC=$server "$bin" info --groups l3 >"$tmp/l3.txt" || fail "info --groups l3 (text)"
[ "$(grep -cE '^ +[0-9]+  L3 #' "$tmp/l3.txt")" = 16 ] || fail "info --groups l3 (text): not 16 groups: $(cat "$tmp/l3.txt")"
# the hybrid client: P-cores first, the E-core clusters as they are
HWLOC_XMLFILE=$here/topologies/hybrid-client.xml "$bin" info --groups 4 --threads 4 --json \
  >"$tmp/hy.json" || fail "info --groups 4 (hybrid) exited $?"
$py - "$tmp/hy.json" <<'PY' || fail "info --groups 4 (hybrid): see above"
import json, sys
d = json.load(open(sys.argv[1]))
got = [(x["cpus"], x["kind"]) for x in d["groups"]]
assert got == [([0, 2, 4, 6], "IntelCore"), ([12, 13, 14, 15], "IntelAtom"),
               ([16, 17, 18, 19], "IntelAtom")], got
assert d["unused"] == [8, 10] and d["note"], d
assert d["threads"]["cpus_by_thread"] == [0, 2, 4, 6] and d["threads"]["kind"] == "IntelCore", d
PY
for v in 0 l5 x; do expect 2 "--groups '$v'" info --groups "$v"; done
HWLOC_SYNTHETIC="pack:1 l2:4(size=1MiB) l1d:1(size=32KiB) core:1 pu:1" \
  expect 2 "--groups 'l3': the topology has no L3" info --groups l3
HWLOC_SYNTHETIC=$server expect 2 "--groups '129': .*only 128 allowed cores" info --groups 129
echo "  info --groups: server, hybrid and bad values as expected"

# ---- run --cpus --------------------------------------------------------------------------------
suite "$tmp/tiny.json" '{"name": "p/tiny", "target": {"kind": "sines1d", "n": 256, "frequencies": [3]},
  "model": {"depth": 2, "width": 32}, "train": {"lr": 0.001, "steps": 5}, "checkpoints": 2}'
for v in 0- a 5-2 1,,2 0-1x 99999999; do
  expect 2 "--cpus '$v'" run --suite "$tmp/tiny.json" --cpus "$v" --out "$tmp/bad" --quiet
done
expect 2 "--cpus" run --suite "$tmp/tiny.json" --cpus "" --out "$tmp/bad" --quiet
# a CPU this process may not use (one past the last it may)
last=$($py -c 'import os; print(max(os.sched_getaffinity(0)))')
expect 2 "--cpus '$((last + 1))': CPU $((last + 1)) not available" \
  run --suite "$tmp/tiny.json" --cpus $((last + 1)) --out "$tmp/bad" --quiet
OMP_PROC_BIND=true expect 2 "--cpus '0': OMP_PROC_BIND" \
  run --suite "$tmp/tiny.json" --cpus 0 --out "$tmp/bad" --quiet
[ ! -e "$tmp/bad" ] || fail "a refused --cpus left $tmp/bad behind"

if ! $py -c 'import os, sys; sys.exit(0 if 0 in os.sched_getaffinity(0) else 1)'; then
  echo "  run --cpus 0: skipped, CPU 0 is not allowed to this process"
  exit 0
fi
"$bin" run --cpus 0 --threads 1 --suite quick --steps 5 --filter '^lazzari1d/raw01$' \
  --out "$tmp/c0" --quiet >/dev/null 2>"$tmp/c0.err" || fail "run --cpus 0 exited $?: $(cat "$tmp/c0.err")"
# and with --no-bind: confined to CPU 0, unbound within it
"$bin" run --cpus 0 --suite "$tmp/tiny.json" --no-bind --out "$tmp/nb" --quiet >/dev/null \
  2>"$tmp/nb.err" || fail "run --cpus 0 --no-bind exited $?: $(cat "$tmp/nb.err")"
$py - "$tmp/c0/results.json" "$tmp/nb/results.json" <<'PY' || fail "run --cpus 0: see above"
import json, sys
c = json.load(open(sys.argv[1]))["context"]
assert c["run_options"]["cpus"] == "0" and c["threads"] == 1, c["run_options"]
b = c["binding"]
if b["enabled"]:
    assert b["cpus"] == [0] and b["cpus_by_thread"] == [0], b
    assert b["domain"].endswith(", 1 core") and "cpus_by_thread" in b["policy"], b
else:   # hwloc cannot bind here: say why, and the run still ran on CPU 0 only
    assert b["reason"] and b["cpus"] == [0], b
assert c["audit"]["cpus_used"] == [0], c["audit"]
# the process had CPU 0 only: the peak is of one core, the logical CPUs one
assert c["logical_cpus"] == 1, c["logical_cpus"]
assert all(p["threads_measured"] == 1 for p in c["peak"].values()), c["peak"]
n = json.load(open(sys.argv[2]))["context"]
# no --threads: the cores of --cpus
assert n["threads"] == 1 and n["binding"]["enabled"] is False, n["binding"]
assert n["binding"]["reason"] == "--no-bind" and n["binding"]["cpus"] == [0], n["binding"]
assert n["run_options"]["cpus"] == "0" and n["run_options"]["no_bind"] is True, n["run_options"]
PY
# fewer threads than the list's cores (what a throughput group gets): placed within the list
if $py -c 'import os, sys; sys.exit(0 if {0, 1} <= os.sched_getaffinity(0) else 1)'; then
  "$bin" run --cpus 0-1 --threads 1 --suite "$tmp/tiny.json" --out "$tmp/c01" --quiet >/dev/null \
    2>"$tmp/c01.err" || fail "run --cpus 0-1 --threads 1 exited $?: $(cat "$tmp/c01.err")"
  $py - "$tmp/c01/results.json" <<'PY' || fail "run --cpus 0-1 --threads 1: see above"
import json, sys
c = json.load(open(sys.argv[1]))["context"]
b = c["binding"]
assert c["threads"] == 1 and c["run_options"]["cpus"] == "0-1", c["run_options"]
assert not b["enabled"] or (b["cpus_by_thread"] == [0] and b["cpus"] == [0]), b
PY
else
  echo "  run --cpus 0-1 --threads 1: skipped, CPUs 0 and 1 are not both allowed to this process"
fi
echo "  run --cpus: bad lists refused, a run on CPU 0 bound there"
