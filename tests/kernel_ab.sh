#!/usr/bin/env bash
# scripts/kernel-ab: another revision's kernels built in beside this tree's under renamed
# symbols, both timed in one `specbias kernels` process as interleaved repetitions, a line per
# kernel and shape with both medians; bad usage exits 2 naming the revision, ISA or filter.
# It times nothing for its own sake: it asserts the report's form, never a speed.
set -u
src=$1 build=$2
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache
ab=$src/scripts/kernel-ab
git -C "$src" rev-parse --verify --quiet HEAD >/dev/null \
  || { echo "SKIP: $src is not a git checkout with a HEAD: no revision to build beside it"; exit 77; }

# Bad usage first: nothing is built for these.
out=$("$ab" --build "$build" no-such-revision 2>&1); rc=$?
[ $rc -eq 2 ] || fail "an unknown revision exited $rc, not 2: $out"
grep -q "BASE_REV 'no-such-revision' is not a commit" <<<"$out" || fail "no message naming the revision: $out"
out=$("$ab" --build "$build" --isa neon HEAD 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q -- "--isa 'neon'" <<<"$out" || fail "--isa neon: exit $rc, $out"
out=$("$ab" --build "$build" --filter 'a/b/c' HEAD 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q -- "--filter 'a/b/c': want KERNELS/SHAPES" <<<"$out" || fail "--filter a/b/c: exit $rc, $out"
out=$("$ab" --build "$build" --reps 1 HEAD 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q -- "--reps must be at least 3" <<<"$out" || fail "--reps 1: exit $rc, $out"

"$ab" --help >/dev/null || fail "--help exited $?"

# A real run at the ISA this machine picks (only the vector ISAs are built twice).
out=$("$ab" --build "$build" --reps 3 --min-time 0.01 \
  --filter 'dense_(relu_fwd|bwd_weights)/2048x14x128' --out "$tmp/ab.json" HEAD 2>"$tmp/err"); rc=$?
if [ $rc -eq 2 ] && grep -q "this machine picks" "$tmp/err"; then
  echo "SKIP: this machine runs neither AVX2 nor AVX-512, the ISAs kernel-ab builds twice"; exit 77
fi
[ $rc -eq 0 ] || { cat "$tmp/err"; fail "kernel-ab exited $rc"; }
echo "$out"
isa=$(sed -n 's/^kernel-ab: HEAD (base) vs this tree (new), \([a-z0-9]*\), 1 thread.*/\1/p' <<<"$out")
case $isa in avx2|avx512) ;; *) fail "no ISA in the header: $out" ;; esac
nm "$build/specbias" | grep -q " dense_relu_fwd__${isa}_base$" \
  || fail "the binary has no dense_relu_fwd__${isa}_base: the base's kernels were not built in"
mkdir "$tmp/head" && git -C "$src" archive HEAD kernels | tar -x -C "$tmp/head"
diff -r "$tmp/head/kernels" "$build/base-tree/kernels" >/dev/null \
  || fail "$build/base-tree does not hold HEAD's kernels/"
for k in dense_relu_fwd dense_bwd_weights; do
  line=$(grep "^$k/2048x14x128 " <<<"$out") || fail "no line for $k/2048x14x128: $out"
  # base % peak, new % peak, base/new time, [q1 .. q3], 3 reps
  [[ $line =~ ^$k/2048x14x128\ +[0-9.]+\ +[0-9.]+\ +[0-9]+\.[0-9]{3}\ +\[[0-9.]+\ \.\.\ [0-9.]+\],\ 3\ reps$ ]] \
    || fail "line of $k: '$line'"
done
[ "$(grep -c ' reps$' <<<"$out")" -eq 2 ] || fail "not 2 benchmark lines: $out"
# Every repetition of both sides is in Google Benchmark's JSON.
/usr/bin/python3 - "$tmp/ab.json" "$isa" <<'PY' || fail "the JSON"
import json, sys
doc = json.load(open(sys.argv[1])); isa = sys.argv[2]
names = [b["name"] for b in doc["benchmarks"] if b.get("run_type") == "iteration"]
for k in ("dense_relu_fwd", "dense_bwd_weights"):
    for side in ("", "_base"):
        n = sum(x.startswith(f"{k}__{isa}{side}/2048x14x128/") for x in names)
        assert n == 3, (k, side, n, names)
PY
# A filter that selects nothing: exit 2, named.
out=$("$ab" --build "$build" --reps 3 --filter 'no_such_kernel/1x1x1' HEAD 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q -- "--filter 'no_such_kernel/1x1x1' selects no benchmark" <<<"$out" \
  || fail "a filter of nothing: exit $rc, $out"
echo "kernel_ab: ok ($isa)"
