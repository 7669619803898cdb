"""Reading and checking the report's inputs: specbias results files, Google Benchmark JSON,
the scaling.json of `specbias run --threads LIST` and the throughput.json of `specbias run
--throughput GROUPS` (or the folder holding either).

Every problem with an input is an InputError whose message names the file (and the line and
column of a JSON syntax error); the command exits 2 on it.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from dataclasses import dataclass, field

RESULTS_SCHEMA = "specbias-results/1"
SCALING_SCHEMA = "specbias-scaling/1"
THROUGHPUT_SCHEMA = "specbias-throughput/1"

# The one definition of a learned frequency (1D) or radial band (2D) that run, compare and the
# report share: its spectral error at the last checkpoint is at most this, and over
# repetitions the median of each frequency's error is judged. Mirrors
# SB_LEARNED_MAX_SPECTRAL_ERROR in harness/util/learned.h; tests/report_vocabulary.py parses
# that header and fails when the two differ.
LEARNED_MAX_SPECTRAL_ERROR = 0.1
LEARNED_DEFINITION = f"final spectral error <= {LEARNED_MAX_SPECTRAL_ERROR:g}"


class InputError(Exception):
    """Bad input: exit 2."""


class Failure(Exception):
    """Something broke that is not the input's fault (I/O, a missing dependency): exit 3."""


@dataclass
class Source:
    path: str
    kind: str                      # "results", "gbench", "scaling" or "throughput"
    doc: dict
    index: int = 0                 # position on the command line (F1, F2, ...)
    tag: str = ""                  # "F1"
    label: str = ""                # host cpu isa Nt, as compare labels files
    warnings: list = field(default_factory=list)
    audit: dict = None             # read_audit(context); None: no machine audit in the file
    peak: dict = None              # read_peak(context): the FMA peak of the ISA used; None: none

    @property
    def context(self) -> dict:
        c = self.doc.get("context")
        return c if isinstance(c, dict) else {}

    @property
    def experiments(self) -> list:
        e = self.doc.get("experiments")
        return [x for x in e if isinstance(x, dict)] if isinstance(e, list) else []

    @property
    def short(self) -> str:
        """The legend name: tag, ISA, threads, host."""
        c = self.context
        if self.kind == "gbench":
            return f"{self.tag} kernels @ {c.get('host_name', '?')}"
        return f"{self.tag} {c.get('isa_used', '?')} {c.get('threads', '?')}t @ {c.get('host', '?')}"


def results_label(c: dict) -> str:
    """A results file's name in tables and legends: host, CPU, ISA and threads, after a fleet's
    machine kind (context.slurm.machine_kind) and array task where it ran in one."""
    label = " ".join(str(c.get(k, "?")) for k in ("host", "cpu_model", "isa_used")) + \
        f" {c.get('threads', '?')}t"
    slurm = c.get("slurm")
    if isinstance(slurm, dict) and isinstance(slurm.get("machine_kind"), str):
        task = slurm.get("array_task_id")
        label = f"{slurm['machine_kind']}" + (f" #{task}" if isinstance(task, str) else "") + \
            f": {label}"
    return label


def load_json(path: str):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a results file")
    except FileNotFoundError:
        raise InputError(f"{path}: cannot open: no such file")
    except OSError as e:
        raise InputError(f"{path}: cannot open: {e.strerror}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}")
    except RecursionError:
        # nesting deeper than Python's recursion limit (found by tests/fuzz/report_inputs_fuzz.py)
        raise InputError(f"{path}: not a results file: JSON nested too deeply")


def classify(path: str, doc) -> str:
    if isinstance(doc, dict) and doc.get("schema") == RESULTS_SCHEMA:
        return "results"
    if isinstance(doc, dict) and doc.get("schema") == SCALING_SCHEMA:
        return "scaling"
    if isinstance(doc, dict) and doc.get("schema") == THROUGHPUT_SCHEMA:
        return "throughput"
    if isinstance(doc, dict) and isinstance(doc.get("context"), dict) \
            and isinstance(doc.get("benchmarks"), list):
        return "gbench"
    if isinstance(doc, dict) and "schema" in doc:
        raise InputError(f"{path}: schema is {json.dumps(doc['schema'])}: not a specbias results "
                         f"file (\"{RESULTS_SCHEMA}\"), scaling file (\"{SCALING_SCHEMA}\"), "
                         f"throughput file (\"{THROUGHPUT_SCHEMA}\") or Google Benchmark JSON")
    raise InputError(f"{path}: neither a specbias results file (\"{RESULTS_SCHEMA}\") nor Google "
                     "Benchmark JSON (an object with \"context\" and \"benchmarks\")")


def _named_experiments(path: str, doc: dict) -> list:
    """doc's 'experiments', each an object with a 'name', or InputError."""
    exps = doc.get("experiments")
    if not isinstance(exps, list):
        raise InputError(f"{path}: missing array 'experiments'")
    for i, e in enumerate(exps):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            raise InputError(f"{path}: experiments[{i}] has no 'name'")
    return exps


def check_results(path: str, doc: dict) -> list:
    """Structural checks that the report relies on; returns warnings for what it can live with."""
    warnings = []
    if not isinstance(doc.get("context"), dict):
        raise InputError(f"{path}: missing object 'context'")
    exps = _named_experiments(path, doc)
    for e in exps:
        reps = e.get("repetitions", [])
        if not isinstance(reps, list):
            raise InputError(f"{path}: experiment '{e['name']}': 'repetitions' is not an array")
    if doc.get("interrupted"):
        warnings.append(f"{path}: the run was interrupted; unfinished experiments are marked")
    elif doc.get("complete") is False:
        warnings.append(f"{path}: the results file is not complete")
    return warnings


def _is_count(x) -> bool:
    """A thread or core count: a whole number from 1 (bounded, so that it plots)."""
    return isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 1 << 20


def check_scaling(path: str, doc: dict) -> list:
    """The fields the Strong scaling section draws from; warnings for an unfinished run."""
    threads = doc.get("threads")
    if not isinstance(threads, list) or not threads or not all(_is_count(t) for t in threads):
        raise InputError(f"{path}: 'threads' is not a list of thread counts")
    exps = _named_experiments(path, doc)
    for e in exps:
        pts = e.get("points")
        if not isinstance(pts, list):
            raise InputError(f"{path}: experiment '{e['name']}': 'points' is not an array")
        for j, p in enumerate(pts):
            if not isinstance(p, dict) or not _is_count(p.get("threads")):
                raise InputError(f"{path}: experiment '{e['name']}': points[{j}] has no "
                                 "'threads' count")
    warnings = []
    if doc.get("status") != "complete":
        warnings.append(f"{path}: the scaling run is {doc.get('status', 'of unknown status')}; "
                        "its points are what finished")
    for e in exps:
        if e.get("hashes_equal") is False:
            warnings.append(f"{path}: {e['name']}: the trajectory differs across thread counts "
                            "(a bug: training is bit-identical at every count by design)")
    return warnings


def check_throughput(path: str, doc: dict) -> list:
    """The fields the Throughput section draws from; warnings for an unfinished run."""
    if not _is_count(doc.get("seeds")):
        raise InputError(f"{path}: 'seeds' is not a count of trainings")
    _named_experiments(path, doc)
    if not isinstance(doc.get("runs"), list):
        raise InputError(f"{path}: missing array 'runs'")
    warnings = []
    if doc.get("status") != "complete":
        warnings.append(f"{path}: the throughput run is {doc.get('status', 'of unknown status')}; "
                        "its figures are what finished")
    return warnings


def load(path: str, index: int) -> Source:
    # a folder of `specbias run --threads LIST` (or --throughput) stands for its scaling.json
    # (or throughput.json)
    for name in ("scaling.json", "throughput.json"):
        if os.path.isdir(path) and os.path.isfile(os.path.join(path, name)):
            path = os.path.join(path, name)
            break
    doc = load_json(path)
    kind = classify(path, doc)
    s = Source(path=path, kind=kind, doc=doc, index=index, tag=f"F{index + 1}")
    if kind == "scaling":
        s.warnings = check_scaling(path, doc)
        s.label = "scaling " + ",".join(str(t) for t in doc["threads"]) + " threads"
    elif kind == "throughput":
        s.warnings = check_throughput(path, doc)
        s.label = f"throughput by {doc.get('groups_by', '?')}, {doc['seeds']} seeds"
    elif kind == "results":
        s.warnings = check_results(path, doc)
        c = s.context
        s.audit = read_audit(c)
        s.peak = read_peak(c)
        s.label = results_label(c)
    else:
        c = s.context
        s.label = f"{c.get('host_name', '?')} kernels"
    return s


# ---- numbers out of results files ---------------------------------------------------------

def num(x):
    """x as a finite float, or None. Strings are parsed: Google Benchmark's context holds
    custom values (peaks, bandwidth) as strings."""
    if isinstance(x, str):
        try:
            x = float(x)
        except ValueError:
            return None
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    try:
        x = float(x)
    except OverflowError:   # an integer beyond any double (JSON allows 1 followed by 400 zeros)
        return None
    return x if math.isfinite(x) else None


# ---- the machine audit (context.audit) and the peak record (context.peak) -------------------
# Written by newer runs only. Every field is optional; one of the wrong type counts as absent
# (None), never as an error: the audit labels a run, it does not make the file unreadable.

def _number(x):
    """A finite JSON number (not a bool, not a string), or None."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return num(x)


def _text(x):
    return x if isinstance(x, str) else None


def _flag(x):
    return x if isinstance(x, bool) else None


def _object(x) -> dict:
    return x if isinstance(x, dict) else {}


def read_audit(c: dict):
    """context.audit as plain values (None = unknown), or None when the file has none."""
    a = c.get("audit") if isinstance(c, dict) else None
    if not isinstance(a, dict):
        return None
    clock, smt, run = _object(a.get("clock")), _object(a.get("smt")), _object(a.get("run"))
    c2c = _object(a.get("core_to_core"))
    c2c_cpus = c2c.get("cpus")
    load = a.get("load_average_start")
    load = [_number(x) for x in load] if isinstance(load, list) else []
    per_core = smt.get("threads_per_core")
    cpus = a.get("cpus_used")
    return {
        "logical_cpus": _number(a.get("logical_cpus")),
        "cpus_used": [x for x in cpus if isinstance(x, int) and not isinstance(x, bool)]
        if isinstance(cpus, list) else [],
        "load": load if load and all(x is not None for x in load) else None,
        "nominal_mhz": _number(clock.get("nominal_mhz")),
        "nominal_source": _text(clock.get("nominal_source")),
        "max_mhz": _number(clock.get("max_mhz")),
        "measured_mhz": _number(clock.get("measured_mhz")),
        "measured_min": _number(clock.get("measured_mhz_min")),
        "measured_max": _number(clock.get("measured_mhz_max")),
        "measured_threads": _number(clock.get("measured_threads")),
        "clock_reason": _text(clock.get("reason")),
        "c2c_ns": _number(c2c.get("round_trip_ns")),
        "c2c_min_ns": _number(c2c.get("round_trip_ns_min")),
        "c2c_cpus": [x for x in c2c_cpus if isinstance(x, int) and not isinstance(x, bool)]
        if isinstance(c2c_cpus, list) else [],
        "c2c_reason": _text(c2c.get("reason")),
        "governor": _text(a.get("governor")),
        "governor_reason": _text(a.get("governor_reason")),
        "boost": _flag(a.get("boost")),
        "boost_source": _text(a.get("boost_source")),
        "boost_reason": _text(a.get("boost_reason")),
        "smt_active": _flag(smt.get("active")),
        "smt_control": _text(smt.get("control")),
        "smt_threads_per_core": _number(per_core) if isinstance(per_core, int) else None,
        "run_seconds": _number(run.get("seconds")),
        "steal_seconds": _number(run.get("steal_seconds")),
        "others_seconds": _number(run.get("others_cpu_seconds")),
        "context_switches": _number(run.get("involuntary_context_switches")),
        "steal_fraction": _number(run.get("steal_fraction")),
        "others_fraction": _number(run.get("others_fraction")),
        "run_reason": _text(run.get("reason")),
        # the run's own verdict and reasons, as written: nothing here recomputes them
        "disturbed": a.get("disturbed") is True,
        "warnings": [w for w in a.get("warnings") if isinstance(w, str)]
        if isinstance(a.get("warnings"), list) else [],
    }


def read_peak(c: dict):
    """context.peak[isa_used] (how the FMA peak of the ISA used was found), or None."""
    isa = c.get("isa_used") if isinstance(c, dict) else None
    peaks = c.get("peak") if isinstance(c, dict) else None
    p = peaks.get(isa) if isinstance(isa, str) and isinstance(peaks, dict) else None
    if not isinstance(p, dict):
        return None
    return {
        "isa": isa,
        "gflops": _number(p.get("gflops")),
        "source": _text(p.get("source")),
        "spread": _number(p.get("spread")),
        "trials": _number(p.get("trials")),
        "stable": _flag(p.get("stable")),
        "threads_measured": _number(p.get("threads_measured")),
        "threads_requested": _number(p.get("threads_requested")),
        "measured_at": _text(p.get("measured_at")),
        "host": _text(p.get("host")),
        "note": _text(p.get("note")),
    }


def reps_with_curve(e: dict) -> list:
    return [r for r in e.get("repetitions", []) if isinstance(r, dict)
            and isinstance(r.get("curve"), list) and r["curve"]]


def representative(e: dict):
    """The repetition the per-experiment figures show: among the finished ones, the one with
    the median training time (the lower median); else any with a curve (interrupted)."""
    reps = reps_with_curve(e)
    ok = [r for r in reps if r.get("status", "ok") == "ok" and num(r.get("train_seconds")) is not None]
    if ok:
        ok = sorted(ok, key=lambda r: num(r["train_seconds"]))   # "1.5" counts as 1.5
        return ok[(len(ok) - 1) // 2]
    return reps[0] if reps else None


def is_1d(e: dict) -> bool:
    t = e.get("config", {}).get("target", {}) if isinstance(e.get("config"), dict) else {}
    return isinstance(t, dict) and t.get("kind") == "sines1d"


def target_kind(e: dict) -> str:
    t = e.get("config", {}).get("target", {}) if isinstance(e.get("config"), dict) else {}
    return t.get("kind", "?") if isinstance(t, dict) else "?"


def encoding_name(e: dict) -> str:
    enc = e.get("config", {}).get("encoding", {}) if isinstance(e.get("config"), dict) else {}
    if not isinstance(enc, dict):
        return "?"
    k = enc.get("kind", "none")
    if k == "posenc" and isinstance(enc.get("octaves"), list) and len(enc["octaves"]) == 2:
        return f"posenc l={enc['octaves'][0]}..{enc['octaves'][1]}"
    if k == "gauss":
        return f"gauss sigma={enc.get('sigma')} m={enc.get('features')}"
    return str(k)


def median_of(e: dict, fn):
    vals = [v for v in (fn(r) for r in e.get("repetitions", [])
                        if isinstance(r, dict) and r.get("status", "ok") == "ok") if v is not None]
    return statistics.median(vals) if vals else None


def seconds_per_step(r: dict):
    t, s = num(r.get("train_seconds")), num(r.get("steps"))
    return t / s if t is not None and s else None


def headline_metrics(e: dict) -> dict:
    """Medians over the finished repetitions of the metrics the report and history track."""
    reps = [r for r in e.get("repetitions", []) if isinstance(r, dict)
            and r.get("status", "ok") == "ok"]
    ttt = [r.get("time_to_target_s") for r in reps]
    reached = [num(v) for v in ttt if num(v) is not None]
    return {
        "seconds_per_step": median_of(e, seconds_per_step),
        "final_psnr_db": median_of(e, lambda r: num(r.get("final_psnr_db"))),
        "final_loss": median_of(e, lambda r: num(r.get("final_loss"))),
        "gflops": median_of(e, lambda r: num(r.get("gflops"))),
        "peak_fraction": median_of(e, lambda r: num(r.get("peak_fraction"))),
        # never reached by every finished repetition: None, and reached_target says so
        "time_to_target_s": statistics.median(reached) if reached else None,
        "reached_target": (len(reached), len(reps)),
        "train_seconds": sum(num(r.get("train_seconds")) or 0.0 for r in reps),
    }


def is_learned(spectral_error) -> bool:
    v = num(spectral_error)
    return v is not None and v <= LEARNED_MAX_SPECTRAL_ERROR


def learned_count(e: dict):
    """(learned, judged) frequencies or bands of an experiment, as run and compare count them:
    per frequency, the median over the finished repetitions of the last checkpoint's spectral
    error (null errors, where the target has no power, are not judged). None: no spectrum."""
    per_freq: dict = {}
    for r in reps_with_curve(e):
        if r.get("status", "ok") != "ok":
            continue
        last = r["curve"][-1]
        errs = last.get("spectral_error") if isinstance(last, dict) else None
        if not isinstance(errs, list):
            continue
        for k, v in enumerate(errs):
            if num(v) is not None:
                per_freq.setdefault(k, []).append(num(v))
    if not per_freq:
        return None
    learned = sum(1 for vals in per_freq.values() if is_learned(statistics.median(vals)))
    return learned, len(per_freq)


def seeds_summary(e: dict):
    """summary.seeds of a run with --seeds K > 1 (time to target across seeds), as plain
    values, or None when the experiment has none. Fields of the wrong type count as absent."""
    s = e.get("summary")
    s = s.get("seeds") if isinstance(s, dict) else None
    if not isinstance(s, dict):
        return None
    t = s.get("time_to_target_s") if isinstance(s.get("time_to_target_s"), dict) else {}
    out = {k: _number(s.get(k)) for k in ("requested", "finished", "reached")}
    out.update({k: _number(t.get(k)) for k in ("trimmed_mean", "dropped", "min", "q1", "median",
                                                "q3", "max")})
    return out


def total_train_seconds(s: Source) -> float:
    t = 0.0
    for e in s.experiments:
        reps = list(e.get("repetitions", [])) if isinstance(e.get("repetitions"), list) else []
        seeds = e.get("seeds") if isinstance(e.get("seeds"), list) else []
        for sd in seeds:   # --seeds: the other seeds' repetitions
            if isinstance(sd, dict) and isinstance(sd.get("repetitions"), list):
                reps += sd["repetitions"]
        for r in reps:
            if isinstance(r, dict):
                t += num(r.get("train_seconds")) or 0.0
    return t


def gbench_rows(s: Source) -> list:
    """Google Benchmark rows of `specbias kernels`: name, kernel, isa, shape, GFLOP/s, intensity.
    Aggregates (mean/median/stddev of repetitions) are used when present: the median."""
    rows = []
    bms = [b for b in s.doc.get("benchmarks", []) if isinstance(b, dict)]
    has_median = any(b.get("aggregate_name") == "median" for b in bms)
    for b in bms:
        if b.get("error_occurred"):
            continue
        agg = b.get("aggregate_name")
        if has_median and agg != "median":
            continue
        if not has_median and b.get("run_type") == "aggregate":
            continue
        name = b.get("run_name") or b.get("name", "")
        if not isinstance(name, str):   # a row is only as good as its name
            continue
        op, _, rest = name.partition("__")
        isa, _, shape = rest.partition("/")
        shape = shape.split("/")[0]   # drop Google Benchmark's "/real_time" suffix
        flops = num(b.get("FLOP/s"))
        rows.append({
            "name": name, "kernel": op, "isa": isa or "?", "shape": shape,
            "gflops": flops / 1e9 if flops is not None else None,
            "intensity": num(b.get("intensity")),
            "peak_fraction": num(b.get("peak_fraction")),
            "real_time": num(b.get("real_time")), "time_unit": b.get("time_unit", "ns"),
        })
    return rows


def scan_history(folder: str):
    """The results files of a history folder: *.json in it and */results.json one level down.
    Returns (sources, warnings); files that are not results files are skipped with a warning."""
    if not os.path.isdir(folder):
        raise InputError(f"{folder}: not a folder (--history wants a folder of results files)")
    paths = []
    for name in sorted(os.listdir(folder)):
        p = os.path.join(folder, name)
        if name.endswith(".json") and os.path.isfile(p):
            paths.append(p)
        elif os.path.isdir(p) and os.path.isfile(os.path.join(p, "results.json")):
            paths.append(os.path.join(p, "results.json"))
    sources, warnings = [], []
    for p in paths:
        try:
            doc = load_json(p)
            if classify(p, doc) != "results":
                raise InputError(f"{p}: Google Benchmark JSON, not a results file")
            check_results(p, doc)
        except InputError as e:
            warnings.append(f"skipped {e}")
            continue
        s = Source(path=p, kind="results", doc=doc)
        c = s.context
        s.label = results_label(c)
        sources.append(s)
    if not sources:
        raise InputError(f"{folder}: no results files in it (*.json or */results.json)")
    return sources, warnings
