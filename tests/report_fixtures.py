#!/usr/bin/python3
"""Fixtures for tests/report.sh, made from real results files with json edits.

  report_fixtures.py snapshots IN OUT
      OUT = IN with hand-made `snapshots` / `snapshot_target` (spec6.md) on every repetition
      that lacks them: 1D values are the target's sines low-passed by the checkpoint's learned
      fraction; 2D images are a zone plate. For results files written before `specbias run`
      recorded snapshots.
  report_fixtures.py history IN DIR N --step-after K --step PCT [--noise PCT] [--seed S]
      DIR/run-XX.json, N copies of IN with increasing dates and commits; every repetition's
      train_seconds (hence seconds per step) gets multiplicative noise, and runs after the
      K-th (1-based) are PCT % slower. --step 0 gives a flat series.
  report_fixtures.py compare GATE_OR_MACHINES VERDICT OUT
      a hand-made `specbias compare --format json` document (schema specbias-compare/1).
"""

import base64
import io
import json
import math
import os
import random
import sys


def _png(pixels, w, h, c):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    import numpy as np
    a = np.clip(np.asarray(pixels, float).reshape(h, w, c), 0, 1)
    if c == 1:
        a = np.repeat(a, 3, axis=2)
    buf = io.BytesIO()
    mpimg.imsave(buf, a, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def snapshots(src, dst):
    r = json.load(open(src))
    for e in r["experiments"]:
        t = e.get("config", {}).get("target", {})
        for rep in e.get("repetitions", []):
            curve = rep.get("curve") or []
            if rep.get("snapshots") or not curve:
                continue
            picks = sorted({0, len(curve) // 3, 2 * len(curve) // 3, len(curve) - 1})
            if t.get("kind") == "sines1d":
                n, ks = int(t["n"]), t["frequencies"]
                amps = t.get("amplitudes") or [1.0] * len(ks)
                ph = [random.Random(k).random() for k in ks]
                target = [sum(a * math.sin(2 * math.pi * k * i / n + 2 * math.pi * p)
                              for k, a, p in zip(ks, amps, ph)) for i in range(n)]
                rep["snapshot_target"] = {"values": target}
                snaps = []
                for j, ci in enumerate(picks):
                    frac = j / max(1, len(picks) - 1)
                    kmax = ks[0] + frac * (ks[-1] - ks[0])
                    vals = [sum(a * math.sin(2 * math.pi * k * i / n + 2 * math.pi * p)
                                for k, a, p in zip(ks, amps, ph) if k <= kmax) for i in range(n)]
                    snaps.append({"step": curve[ci]["step"], "seconds": curve[ci]["seconds"],
                                  "values": vals})
                rep["snapshots"] = snaps
            else:
                s = 32
                def zone(blur):
                    px = []
                    for y in range(s):
                        for x in range(s):
                            rr = ((x - s / 2) ** 2 + (y - s / 2) ** 2) / s
                            v = 0.5 + 0.5 * math.cos(math.pi * rr) * math.exp(-blur * rr)
                            px += [v, 0.8 * v, 1 - v]
                    return px
                rep["snapshot_target"] = {"png_base64": _png(zone(0), s, s, 3), "width": s,
                                          "height": s, "channels": 3}
                rep["snapshots"] = [{"step": curve[ci]["step"], "seconds": curve[ci]["seconds"],
                                     "png_base64": _png(zone(2.0 / (1 + 3 * j)), s, s, 3),
                                     "width": s, "height": s, "channels": 3}
                                    for j, ci in enumerate(picks)]
    json.dump(r, open(dst, "w"))


def history(src, folder, n, step_after, step_pct, noise_pct, seed):
    base = json.load(open(src))
    rng = random.Random(seed)
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        r = json.loads(json.dumps(base))
        r["context"]["date"] = f"2026-01-{i + 1:02d}T03:00:00Z"
        r["context"]["git_commit"] = f"{0xabc000 + i:012x}"
        f = (1 + noise_pct / 100 * rng.uniform(-1, 1)) * \
            (1 + step_pct / 100 if i + 1 > step_after else 1.0)
        for e in r["experiments"]:
            for rep in e.get("repetitions", []):
                rep["train_seconds"] *= f
                rep["steps_per_second"] /= f
        # the files are named so that directory order is not date order
        json.dump(r, open(os.path.join(folder, f"run-{(i * 7) % n:02d}-{i:02d}.json"), "w"))


def compare(mode, verdict, out):
    doc = {"schema": "specbias-compare/1", "mode": mode, "threshold_pct": 5.0, "alpha": 0.05,
           "psnr_tolerance_db": 0.5, "accept_numerics": False, "files": [],
           "verdict": verdict,
           "counts": {"regressions": int(verdict == "regression"), "improvements": 0,
                      "numerics_changed": 0, "warnings": 1},
           "warnings": ["fewer than 3 repetitions: the test cannot reach significance"]}
    if mode == "gate":
        doc["rows"] = [{"kind": "experiment", "name": "fixture/exp", "metric": "seconds_per_step",
                        "base": {"median": 0.01, "n": 1}, "new": {"median": 0.2, "n": 1},
                        "ratio": 20.0, "change_pct": 1900.0, "p_value": 0.04,
                        "verdict": verdict if verdict == "regression" else "ok",
                        "note": "FIXTURE-GATE-ROW"}]
    else:
        doc["table"] = {"columns": ["a", "b", "c"], "rows": [
            {"kind": "experiment", "name": "fixture/exp", "metric": "seconds_per_step",
             "better": "lower", "values": [1.0, 2.0, None], "relative": [1.0, 2.0, None],
             "winner": 0}]}
    json.dump(doc, open(out, "w"))


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "snapshots":
        snapshots(a[1], a[2])
    elif a[0] == "history":
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("src"), p.add_argument("folder"), p.add_argument("n", type=int)
        p.add_argument("--step-after", type=int, default=0)
        p.add_argument("--step", type=float, default=0.0)
        p.add_argument("--noise", type=float, default=2.0)
        p.add_argument("--seed", type=int, default=1)
        o = p.parse_args(a[1:])
        history(o.src, o.folder, o.n, o.step_after, o.step, o.noise, o.seed)
    elif a[0] == "compare":
        compare(a[1], a[2], a[3])
    else:
        sys.exit(f"unknown fixture kind {a[0]}")
