#!/usr/bin/python3
"""The history's change-point test (reports/sbreport/changepoint.py) on series with known
answers: one step, two steps, a flat noisy series, a single outlier, short and constant series,
and determinism. Run by ctest with /usr/bin/python3 (numpy from python3-matplotlib)."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reports"))

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is missing (install python3-matplotlib)")
    sys.exit(77)

from sbreport.changepoint import detect  # noqa: E402

rng = np.random.default_rng(7)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


# one +25 % step after 7 of 12 runs, 2 % noise: found at index 7, medians right
x = 1.0 + 0.02 * rng.standard_normal(12)
x[7:] *= 1.25
cps = detect(x)
check([c.index for c in cps] == [7], f"step after run 7 found at index 7: {cps}")
check(cps and cps[0].p_value < 0.05, "its p-value is below alpha")
check(cps and abs(cps[0].after / cps[0].before - 1.25) < 0.05, "medians before/after ~ +25 %")

# two steps (up then down) over 30 runs: both found
y = 10 + 0.1 * rng.standard_normal(30)
y[10:20] += 2.0
cps = detect(y)
check([c.index for c in cps] == [10, 20], f"two steps at 10 and 20: {[c.index for c in cps]}")

# flat noisy series: no change point, over several seeds of data
false = 0
for s in range(20):
    z = 1.0 + 0.05 * np.random.default_rng(100 + s).standard_normal(15)
    false += len(detect(z)) > 0
check(false <= 2, f"flat noise: change points in {false} of 20 series (alpha 0.05)")

# one slow run is not a step (minimum segment length 2, permutation test)
w = 1.0 + 0.01 * rng.standard_normal(12)
w[5] = 1.5
cps = detect(w)
check(all(c.index not in (5, 6) or c.p_value < 0.05 for c in cps) and len(cps) <= 1,
      f"a single outlier does not make a clean step: {cps}")
check(not any(c.index == 11 for c in detect(np.r_[np.ones(11), 2.0])),
      "a last-run jump alone is not a change point (segment of 1)")

# degenerate inputs
check(detect([1.0, 2.0, 3.0]) == [], "fewer than 2 x min_size points: none")
check(detect([3.0] * 10) == [], "constant series: none")
try:
    detect([1.0, float("nan"), 2.0, 3.0])
    check(False, "NaN rejected")
except ValueError:
    check(True, "NaN rejected")

# deterministic, scale free
a = detect(x)
check(a == detect(x), "same input, same answer (fixed seed)")
check([c.index for c in detect(x * 1e9)] == [c.index for c in a], "scale free")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("report_changepoint: all checks passed")
