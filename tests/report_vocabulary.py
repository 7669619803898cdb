#!/usr/bin/python3
"""The report's vocabulary: its definition of a learned frequency or band is the C side's
(harness/util/learned.h, parsed here, is the oracle), counted as run and compare count it
(median over repetitions, at most the threshold, nulls not judged), no other threshold left
in the report's code; its units (ms/step, s, dB differences); and the time to target across
seeds as the report shows it. Run by ctest with /usr/bin/python3."""

import glob
import os
import re
import sys

sys.dont_write_bytecode = True
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "reports"))

from sbreport import inputs, units  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


# ---- one definition, the header's ------------------------------------------------------------
header = open(os.path.join(ROOT, "harness", "util", "learned.h"), encoding="utf-8").read()
m = re.search(r"^#define\s+SB_LEARNED_MAX_SPECTRAL_ERROR\s+([0-9.eE+-]+)\s*$", header, re.M)
check(m is not None, "learned.h defines SB_LEARNED_MAX_SPECTRAL_ERROR as a number")
if m:
    c_value = float(m.group(1))
    check(inputs.LEARNED_MAX_SPECTRAL_ERROR == c_value,
          f"the report's threshold {inputs.LEARNED_MAX_SPECTRAL_ERROR} is the header's {c_value}")
d = re.search(r'^#define\s+SB_LEARNED_DEFINITION\s+"([^"]*)"', header, re.M)
check(d is not None and inputs.LEARNED_DEFINITION == d.group(1),
      f"the report's words '{inputs.LEARNED_DEFINITION}' are the header's "
      f"'{d.group(1) if d else None}'")
# `<=` as in sb_is_learned(): the threshold itself is learned, the next double is not
t = inputs.LEARNED_MAX_SPECTRAL_ERROR
check(inputs.is_learned(t) and not inputs.is_learned(t * (1 + 1e-12)) and
      not inputs.is_learned(None), "is_learned: error <= threshold, null is not learned")
check("<=" in header and "sb_is_learned" in header, "the header compares with <=")

# No second definition in the report's code: no magnitude threshold, no literal threshold.
for path in sorted(glob.glob(os.path.join(ROOT, "reports", "sbreport", "*.py"))):
    text = open(path, encoding="utf-8").read()
    bad = [ln for ln in text.splitlines()
           if re.search(r"learn", ln, re.I) and re.search(r"[<>]=?\s*0\.\d|0\.\d+\s*[<>]", ln)]
    check(not bad, f"{os.path.basename(path)}: no other learned threshold {bad}")


# ---- counted as run and compare count it --------------------------------------------------------
def rep(errs, status="ok"):
    return {"status": status, "curve": [{"spectral_error": [1.0] * len(errs)},
                                        {"spectral_error": errs}]}


e = {"repetitions": [rep([0.05, 0.1, 0.2, None]), rep([0.07, 0.3, 0.05, None]),
                     rep([0.09, 0.1, 0.0, None]), rep([0.0, 0.0, 0.0, 0.0], "failed")]}
# medians: 0.07 (learned), 0.1 (learned, <=), 0.05 (learned); the 4th only in a failed one
check(inputs.learned_count(e) == (3, 3), f"learned_count {inputs.learned_count(e)} == (3, 3)")
e2 = {"repetitions": [rep([0.05, 0.11]), rep([0.2, 0.11])]}
check(inputs.learned_count(e2) == (0, 2), f"median of 0.05 and 0.2 is not learned: "
      f"{inputs.learned_count(e2)}")
check(inputs.learned_count({"repetitions": []}) is None, "no spectrum: None")
check(inputs.learned_count({"repetitions": [{"curve": [{"spectral_error": "x"}]}]}) is None,
      "a spectral_error of the wrong type is not counted")

# ---- units -------------------------------------------------------------------------------------
check(units.fmt_ms_per_step(0.0123) == "12.3 ms/step", units.fmt_ms_per_step(0.0123))
check(units.fmt_ms_per_step(2.5) == "2500 ms/step", units.fmt_ms_per_step(2.5))
check(units.fmt_s(0.0042) == "0.0042 s", "time to target stays in s: " + units.fmt_s(0.0042))
check(units.fmt_db_diff(29.5, 30.0) == "-0.50 dB", units.fmt_db_diff(29.5, 30.0))
check(units.fmt_metric("final_psnr_db", 31.234) == "31.23 dB", "PSNR in dB")
check(units.fmt_metric("seconds_per_step", 0.001) == "1 ms/step", "compare's s/step in ms/step")
check(units.fmt_metric("time_to_target_s", None) == "-", "no value: -")

# ---- time to target across seeds ----------------------------------------------------------
ex = {"summary": {"seeds": {"requested": 5, "finished": 5, "reached": 4,
                            "time_to_target_s": {"trimmed_mean": 2.5, "dropped": 2, "min": 1.0,
                                                 "q1": 1.5, "median": 2.0, "q3": 3.0,
                                                 "max": 4.0}}}}
ss = inputs.seeds_summary(ex)
check(ss["trimmed_mean"] == 2.5 and ss["reached"] == 4, f"seeds_summary {ss}")
text = units.fmt_seeds(ss)
check(text == "2.5 s (1-4 s, IQR 1.5-3 s; 4/5 seeds reached)", text)
ex["summary"]["seeds"]["time_to_target_s"]["trimmed_mean"] = None
check(units.fmt_seeds(inputs.seeds_summary(ex)).startswith("no mean"), "no mean said so")
check(inputs.seeds_summary({"summary": {}}) is None and inputs.seeds_summary({}) is None,
      "without --seeds: None")
check(inputs.seeds_summary({"summary": {"seeds": {"time_to_target_s": "x", "reached": "4"}}})
      ["reached"] is None, "fields of the wrong type count as absent")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("report_vocabulary: all checks passed")
