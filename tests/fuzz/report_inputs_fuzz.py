#!/usr/bin/python3
"""A seeded mutation fuzzer for the inputs of `specbias report` (reports/sbreport/inputs.py).

libFuzzer cannot drive Python, so this mutates the seed files itself: truncation, byte flips
and insertions, deleted keys, values swapped for other types, huge numbers, NaN and Infinity,
deep nesting. Each mutant goes through the loader and, when accepted, through the readers the
report applies to every source (headline metrics, the representative repetition, Google
Benchmark rows, labels). The loader must accept the input or raise its own InputError (the
exit 2 path); any other exception is a bug: the mutant is saved and the run fails.

  report_inputs_fuzz.py [--seconds S] [--runs N] [--seed N] [--crashes DIR] [--seeds-only]
                        SEED_FILE_OR_DIR...

Stops after S seconds (default $SPECBIAS_FUZZ_SECONDS, else 60) or N runs, whichever is first;
prints the number of executions. Exit 0 when nothing was found, 1 otherwise.
"""

import argparse
import copy
import json
import os
import random
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "reports"))
from sbreport import inputs  # noqa: E402

TOKENS = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-", b"\"", b"[", b"{", b"}", b"]",
          b",", b":", b"null", b"\xff", b"\x00", b"9" * 400, b"\\u0000", b"\"\\ud800\""]


def pool(rng):
    return rng.choice([None, True, False, 0, -1, 1, 10 ** 400, -(10 ** 400), 1e308, -1e308,
                       float("nan"), float("inf"), float("-inf"), "", "x", "1.5", "nan",
                       "1e999", [], [None], {}, {"": None}, "ok", "failed", [1.0, "a", None]])


def nodes(v, out):
    """Every container in v, for picking one at random."""
    if isinstance(v, (dict, list)):
        out.append(v)
        for x in (v.values() if isinstance(v, dict) else v):
            nodes(x, out)
    return out


def mutate_doc(doc, rng):
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 4)):
        ns = nodes(doc, [])
        if not ns:
            return pool(rng)
        n = rng.choice(ns)
        keys = list(n.keys()) if isinstance(n, dict) else list(range(len(n)))
        if not keys:
            continue
        k = rng.choice(keys)
        op = rng.randrange(4)
        if op == 0:
            del n[k]
        elif op == 1:
            n[k] = pool(rng)
        elif op == 2:   # a container where a value was, or the other way round
            n[k] = [n[k]] if rng.random() < 0.5 else {"v": n[k]}
        else:           # the same value twice deeper: big documents
            n[k] = [n[k], copy.deepcopy(n[k])]
    return doc


def mutate_bytes(raw, rng):
    raw = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(4)
        if op == 0 and raw:
            del raw[rng.randrange(len(raw)):]
        elif op == 1 and raw:
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        elif op == 2:
            i = rng.randrange(len(raw) + 1)
            raw[i:i] = rng.choice(TOKENS)
        elif raw:
            i = rng.randrange(len(raw))
            raw[i:i] = raw[i:i + rng.randint(1, 64)]
    return bytes(raw)


def mutant(seed_raw, seed_doc, rng):
    r = rng.random()
    if r < 0.02:
        d = rng.randint(100, 100000)   # deep nesting: Python's recursion limit
        return b"[" * d + b"]" * d
    if seed_doc is not None and r < 0.7:
        text = json.dumps(mutate_doc(seed_doc, rng))   # NaN and Infinity as Python writes them
        raw = text.encode()
        return mutate_bytes(raw, rng) if rng.random() < 0.2 else raw
    return mutate_bytes(seed_raw, rng)


def consume(path):
    """What `specbias report` does with an input before plotting: raises InputError or not."""
    s = inputs.load(path, 0)
    _ = s.short, s.label, s.warnings
    if s.kind == "results":
        inputs.total_train_seconds(s)
        for e in s.experiments:
            inputs.headline_metrics(e)
            inputs.representative(e)
            inputs.reps_with_curve(e)
            inputs.is_1d(e)
            inputs.target_kind(e)
            inputs.encoding_name(e)
    elif s.kind == "scaling":
        for e in s.experiments:
            for p in e["points"]:
                _ = [inputs.num(p.get(k)) for k in ("ms_per_step", "speedup", "efficiency",
                                                    "work_fraction", "threads_with_work")]
    elif s.kind == "throughput":
        for e in s.experiments:
            t = e.get("time_to_target_s")
            _ = [inputs.num(e.get("train_seconds_median")),
                 inputs.num(t.get("median") if isinstance(t, dict) else None)]
    else:
        inputs.gbench_rows(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float,
                    default=float(os.environ.get("SPECBIAS_FUZZ_SECONDS") or 60))
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--crashes", default=None)
    ap.add_argument("--seeds-only", action="store_true",
                    help="regression mode: each seed file once, no mutants")
    ap.add_argument("seeds", nargs="+")
    a = ap.parse_args()
    files = []
    for p in a.seeds:
        if os.path.isdir(p):
            files += [os.path.join(p, n) for n in sorted(os.listdir(p))]
        else:
            files.append(p)
    seeds = []
    for p in files:
        with open(p, "rb") as f:
            raw = f.read()
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            doc = None
        seeds.append((p, raw, doc))
    if not seeds:
        sys.exit("report_inputs_fuzz: no seed files")
    rng = random.Random(a.seed)
    crashes = a.crashes or tempfile.mkdtemp(prefix="specbias-report-fuzz-")
    runs = accepted = rejected = found = 0
    deadline = time.monotonic() + a.seconds
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "input.json")
        # the seeds as they are first (regression mode), then mutants
        todo = [raw for _, raw, _ in seeds]
        while time.monotonic() < deadline and (a.runs == 0 or runs < a.runs):
            if todo:
                data = todo.pop(0)
            elif a.seeds_only:
                break
            else:
                _, raw, doc = rng.choice(seeds)
                data = mutant(raw, doc, rng)
            with open(path, "wb") as f:
                f.write(data)
            runs += 1
            try:
                consume(path)
                accepted += 1
            except inputs.InputError:
                rejected += 1
            except Exception:
                found += 1
                os.makedirs(crashes, exist_ok=True)
                out = os.path.join(crashes, f"crash-{found}.json")
                with open(out, "wb") as f:
                    f.write(data)
                print(f"report_inputs_fuzz: uncaught exception, input saved as {out}:")
                traceback.print_exc(file=sys.stdout)
                if found >= 5:
                    break
    print(f"report_inputs_fuzz: {runs} executions ({accepted} accepted, {rejected} rejected "
          f"with InputError), {found} uncaught exceptions")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
