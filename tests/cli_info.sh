#!/usr/bin/env bash
# `specbias info`: output, JSON, and the exit-2 paths for bad ISA requests and bad options.
set -u
bin=$1
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache

out=$("$bin" info) || fail "specbias info exited $?"
grep -q "scalar *available" <<<"$out" || fail "info does not list scalar as available: $out"
grep -q "<- chosen" <<<"$out" || fail "info does not mark the chosen ISA"

json=$("$bin" info --json) || fail "info --json exited $?"
for key in '"cpu_model"' '"isa_available"' '"isa_chosen"' '"kernels"' '"dense_relu_fwd__'; do
  grep -q "$key" <<<"$json" || fail "info --json lacks $key"
done
if command -v /usr/bin/python3 >/dev/null; then
  /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert "scalar" in d["isa_available"]' <<<"$json" \
    || fail "info --json is not valid JSON with scalar available"
fi

# measured facts: topology, a peak per available ISA, bandwidth, counter availability per event,
# the machine audit's facts (tests/cli_counters.sh and tests/cli_machine.sh go further)
/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert "cores" in d["topology"] and "l1d_bytes" in d["topology"], d["topology"]
assert "cache_estimate" in d["topology"], d["topology"]
for isa in d["isa_available"]:
    p = d["peak_gflops"][isa]
    assert p["one_thread"] > 0 and p["all_threads"] >= p["one_thread"] * 0.5, p
    for k in ("one_thread", "all_threads"):
        det = p["detail"][k]
        assert det["source"] in ("cache", "measured") and det["trials"] >= 3, det
        assert 0 <= det["spread"] <= 1 and det["threads_measured"] <= d["logical_cpus"], det
bw = d["bandwidth_gbs"]
if bw["status"] == "measured":
    assert bw["one_thread"] > 0 and bw["all_threads"] > 0 and bw["method"], bw
    assert 4 << 20 <= bw["array_bytes"] <= 48 << 20, bw
else:
    assert bw["status"] == "unavailable" and bw["reason"] and bw["one_thread"] is None, bw
for e in d["counters"]["events"]:
    assert (e["status"] == "counted" and e["source"] in ("papi", "perf_event")) or e["reason"], e
a = d["audit"]
for k in ("clock", "governor", "boost", "smt", "load_average_start", "logical_cpus"):
    assert k in a, (k, a)
' <<<"$json" || fail "info --json lacks topology, peaks, bandwidth, counters or the audit"

# forcing the scalar reference works through the option and the environment
"$bin" info --isa scalar | grep -q "scalar *available  <- chosen" || fail "--isa scalar not chosen"
SPECBIAS_ISA=scalar "$bin" info | grep -q "scalar *available  <- chosen" || fail "SPECBIAS_ISA=scalar not honoured"

# an ISA this machine cannot run: exit 2 with the reason, no crash
for isa in avx2 avx512 neon; do
  if ! "$bin" info --json | /usr/bin/python3 -c "import json,sys; sys.exit(0 if '$isa' in json.load(sys.stdin)['isa_available'] else 1)" 2>/dev/null; then
    err=$("$bin" info --isa $isa 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "info --isa $isa (unavailable) exited $rc, want 2"
    grep -q "cannot run here" <<<"$err" || fail "no reason given for $isa: $err"
    err=$(SPECBIAS_ISA=$isa "$bin" info 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "SPECBIAS_ISA=$isa (unavailable) exited $rc, want 2"
    grep -q "SPECBIAS_ISA" <<<"$err" || fail "message does not name SPECBIAS_ISA: $err"
  fi
done

err=$("$bin" info --isa avx1024 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "'avx1024'" <<<"$err" || fail "unknown ISA: rc $rc, '$err'"
err=$("$bin" info --frobnicate 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "frobnicate" <<<"$err" || fail "unknown option: rc $rc, '$err'"
err=$("$bin" nosuchcommand 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "nosuchcommand" <<<"$err" || fail "unknown command: rc $rc"
"$bin" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "no command: rc $rc, want 2"
echo "cli_info: all checks passed"
