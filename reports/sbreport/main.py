"""specbias report: the HTML and Markdown report of results files (and history)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import traceback

from . import inputs
from .inputs import Failure, InputError, num
from .units import fmt_db_diff, fmt_metric, fmt_ms_per_step, fmt_s, fmt_seeds

PROG = "specbias report"


# ---- formatting ------------------------------------------------------------------------------

def fmt(x, spec=".4g", unit=""):
    v = num(x)
    if v is None:
        return "-"
    return f"{v:{spec}}{unit}"


def fmt_seconds(x):
    v = num(x)
    if v is None:
        return "-"
    if v < 1e-3:
        return f"{v * 1e6:.3g} us"
    if v < 1:
        return f"{v * 1e3:.3g} ms"
    return f"{v:.3g} s"


def fmt_bytes(x):
    v = num(x)
    if v is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if v < 1024 or unit == "GiB":
            return f"{v:.0f} {unit}"
        v /= 1024


def fmt_pct(fraction):
    v = num(fraction)
    return "-" if v is None else f"{100 * v:.1f} %"


def audit_rows(s):
    """The context table's rows for the machine audit and the peak of the ISA used."""
    from .doc import Cell
    rows = []
    p = s.peak
    if p:
        how = []
        if p["source"]:
            how.append(p["source"] + (f" {p['measured_at']}" if p["measured_at"] else "")
                       + (f" on {p['host']}" if p["host"] else ""))
        if p["spread"] is not None:
            how.append(f"spread {fmt_pct(p['spread'])}")
        if p["trials"] is not None:
            how.append(f"{p['trials']:.0f} trials")
        if p["stable"] is not None:
            how.append("stable" if p["stable"] else "not stable")
        if p["threads_measured"] is not None:
            how.append(f"{p['threads_measured']:.0f} thread(s)")
        if p["note"]:
            how.append(p["note"])
        rows.append([f"peak of {p['isa']} (ISA used)",
                     Cell(f"{fmt(p['gflops'], '.1f')} GFLOP/s" + (f" ({', '.join(how)})" if how
                                                                 else ""),
                          "" if p["stable"] is not False else "warn")])
    a = s.audit
    if a is None:
        rows.append(["machine audit", Cell("none: the file was written before specbias "
                                           "recorded one", "muted")])
        return rows
    measured = "-"
    if a["measured_mhz"] is not None:
        measured = f"{a['measured_mhz']:.0f} MHz"
        extra = []
        if a["measured_threads"] is not None:
            extra.append(f"median of {a['measured_threads']:.0f} thread(s)")
        if a["measured_min"] is not None and a["measured_max"] is not None:
            extra.append(f"{a['measured_min']:.0f}-{a['measured_max']:.0f}")
        if extra:
            measured += f" ({', '.join(extra)})"
    elif a["clock_reason"]:
        measured = f"- ({a['clock_reason']})"
    nominal = "-" if a["nominal_mhz"] is None else f"{a['nominal_mhz']:.0f} MHz"
    if a["nominal_source"]:
        nominal += f" ({a['nominal_source']})"
    rows.append(["clock", f"measured {measured}; nominal {nominal}"
                 + (f"; max {a['max_mhz']:.0f} MHz" if a["max_mhz"] is not None else "")])
    if a["c2c_ns"] is not None:
        between = " between CPUs " + " and ".join(str(c) for c in a["c2c_cpus"]) \
            if len(a["c2c_cpus"]) == 2 else ""
        best = f", best {a['c2c_min_ns']:.0f} ns" if a["c2c_min_ns"] is not None else ""
        rows.append(["core to core", f"{a['c2c_ns']:.0f} ns a round trip of a cache line"
                     f"{between} (median of 7 trials{best})"])
    elif a["c2c_reason"]:
        rows.append(["core to core", Cell(f"not measured: {a['c2c_reason']}", "muted")])
    rows.append(["governor", a["governor"] or
                 ("unknown" + (f": {a['governor_reason']}" if a["governor_reason"] else ""))])
    if a["boost"] is None:
        boost = "unknown" + (f": {a['boost_reason']}" if a["boost_reason"] else "")
    else:
        boost = ("on" if a["boost"] else "off") + \
            (f" ({a['boost_source']})" if a["boost_source"] else "")
    rows.append(["boost (turbo)", boost])
    yes_no = {True: "yes", False: "no", None: "?"}
    rows.append(["SMT", f"active {yes_no[a['smt_active']]}, control {a['smt_control'] or '?'}, "
                 + (f"{a['smt_threads_per_core']:.0f}" if a["smt_threads_per_core"] is not None
                    else "?") + " thread(s) per core"])
    load = ", ".join(f"{x:.2f}" for x in a["load"]) if a["load"] else "-"
    rows.append(["load average at start", load + " (1, 5, 15 min)"
                 + (f"; {a['logical_cpus']:.0f} logical CPUs" if a["logical_cpus"] is not None
                    else "")
                 + (f"; run on CPUs {', '.join(map(str, a['cpus_used']))}" if a["cpus_used"]
                    else "")])
    over = [f"steal {fmt_pct(a['steal_fraction'])}"
            + (f" ({a['steal_seconds']:.3g} s)" if a["steal_seconds"] is not None else ""),
            f"other processes {fmt_pct(a['others_fraction'])}"
            + (f" ({a['others_seconds']:.3g} s)" if a["others_seconds"] is not None else "")]
    tail = "of the CPUs' time" + (f" over {fmt_seconds(a['run_seconds'])}"
                                  if a["run_seconds"] is not None else "")
    if a["context_switches"] is not None:
        tail += f"; {a['context_switches']:.0f} involuntary context switches"
    if a["run_reason"]:
        tail += f"; {a['run_reason']}"
    rows.append(["steal, others (the run)", ", ".join(over) + " " + tail])
    rows.append(["disturbed", Cell("yes: " + ("; ".join(a["warnings"]) or "its audit gives no "
                                              "reason"), "bad") if a["disturbed"] else "no"])
    return rows


def disturbed_text(s):
    """The banner of a run its audit calls disturbed, or None."""
    a = s.audit
    if not a or not a["disturbed"]:
        return None
    return (f"{s.tag} ({s.path}) was disturbed while it ran: "
            + ("; ".join(a["warnings"]) or "its audit gives no reason")
            + ". Its timings may say as much about the machine as about the code.")


def compare_audit_warnings(compare):
    """specbias compare's machine-audit warnings (disturbed, no audit, machines that differ),
    or None when there is no compare document or it predates them."""
    w = compare.get("audit_warnings") if isinstance(compare, dict) else None
    return [x for x in w if isinstance(x, str)] if isinstance(w, list) else None


def with_tags(text, results):
    """compare names files "PATH (BASE)" or "PATH ([i])"; the page names them F1, F2, ..."""
    for i, s in enumerate(results):
        for role in ([f"[{i}]"] + (["BASE"] if i == 0 else ["NEW"] if i == 1 else [])):
            text = text.replace(f"{s.path} ({role})",
                                f"{s.tag} ({s.path}{', ' + role if role[0] != '[' else ''})")
    return text


# ---- compare ---------------------------------------------------------------------------------

def run_compare(specbias, paths):
    """`specbias compare --format json PATHS`: (document, None) or (None, why not)."""
    if not specbias:
        return None, "no specbias executable was given (--specbias)"
    try:
        p = subprocess.run([specbias, "compare", "--format", "json", *paths],
                           capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"could not run {specbias} compare: {e}"
    err = p.stderr.decode("utf-8", "replace").strip().splitlines()
    if p.returncode not in (0, 1, 4):  # pass, regression, inconclusive
        why = err[0] if err else f"exit {p.returncode}"
        return None, f"specbias compare exited {p.returncode}: {why}"
    try:
        doc = json.loads(p.stdout.decode("utf-8", "replace"))
    except json.JSONDecodeError as e:
        return None, f"specbias compare did not print JSON ({e.msg} at {e.lineno}:{e.colno})"
    if not isinstance(doc, dict) or doc.get("schema") != "specbias-compare/1":
        return None, "specbias compare printed JSON of an unknown schema"
    return doc, None


# ---- the report ---------------------------------------------------------------------------


def _experiment_names(results):
    """Every experiment name of the results files, in first-seen order."""
    names = []
    for s in results:
        for e in s.experiments:
            if e["name"] not in names:
                names.append(e["name"])
    return names

class Report:
    def __init__(self, outdir, specbias):
        from . import figures
        self.figures_mod = figures
        self.fs = figures.FigureSet(outdir)
        self.outdir = outdir
        self.specbias = specbias
        self.blocks = []
        self.notes = []

    # -- helpers
    def add(self, *blocks):
        self.blocks.extend(blocks)

    def build(self, sources, history):
        from .doc import Heading, Para
        results = [s for s in sources if s.kind == "results"]
        gbench = [s for s in sources if s.kind == "gbench"]
        scaling = [s for s in sources if s.kind == "scaling"]
        throughput = [s for s in sources if s.kind == "throughput"]
        for s in sources:
            self.notes.extend(s.warnings)
        if history:
            self.notes.extend(history[1])

        compare = None
        compare_note = None
        if len(results) >= 2:
            compare, compare_note = run_compare(self.specbias, [s.path for s in results])
            if compare is None:
                self.notes.append(f"compare unavailable: {compare_note}")
        kcompare = None
        if len(gbench) >= 2:
            kcompare, knote = run_compare(self.specbias, [s.path for s in gbench])
            if kcompare is None:
                self.notes.append(f"kernel compare unavailable: {knote}")

        self.add(Heading(1, "specbias report"))
        parts = []
        if results:
            parts.append(f"{len(results)} results file(s)")
        if gbench:
            parts.append(f"{len(gbench)} kernel benchmark file(s)")
        if scaling:
            parts.append(f"{len(scaling)} scaling run(s)")
        if throughput:
            parts.append(f"{len(throughput)} throughput run(s)")
        if history:
            parts.append(f"history of {len(history[0])} run(s)")
        self.add(Para(", ".join(parts) + ". Times are training seconds (evaluation excluded); "
                      "F1, F2, ... name the files in command-line order.", "lead"))
        self.summary(sources, results, compare, compare_note)
        if len(results) >= 2:
            self.comparison(results, compare, compare_note)
        if results:
            self.convergence(results)
        if scaling:
            self.scaling(scaling)
        if throughput:
            self.throughput(throughput)
        for s in results:
            self.machine(s)
        if gbench:
            self.kernels(gbench, kcompare)
        if history:
            from . import history as hist
            self.add(*hist.section(self.fs, history[0], history[1]))
        self.notes_section()

    def summary(self, sources, results, compare, compare_note):
        from .doc import Cell, Heading, Para, Table
        self.add(Heading(2, "Summary", "summary"))
        verdicts = {}
        if compare and compare.get("mode") == "gate" and len(results) == 2:
            v = compare.get("verdict")
            c = compare.get("counts", {})
            word = {"regression": "REGRESSION", "inconclusive": "INCONCLUSIVE"}.get(v, "pass")
            vcls = {"regression": "bad", "inconclusive": "warn"}.get(v, "good")
            text = (f"compare {results[1].tag} against {results[0].tag}: {word} - "
                    f"{c.get('regressions', 0)} regression(s), {c.get('inconclusive', 0)} "
                    f"inconclusive, {c.get('not_comparable', 0)} not comparable, "
                    f"{c.get('missing', 0)} missing, {c.get('improvements', 0)} "
                    f"improvement(s), {c.get('numerics_changed', 0)} numerics changed, "
                    f"{c.get('warnings', 0)} warning(s)")
            self.add(Para(text, vcls))
            verdicts[results[0].path] = Cell("baseline", "muted")
            verdicts[results[1].path] = Cell(str(v), vcls)
        elif compare and compare.get("mode") == "machines":
            self.add(Para(f"{len(results)} machines compared: see Comparison.", "note"))
        elif compare_note:
            self.add(Para(f"compare unavailable: {compare_note}. The report goes on without "
                          "regression verdicts.", "warn"))
        # The machine audit: specbias compare's warnings when it ran (one implementation of
        # the rules: disturbed runs, files without an audit, machines that differ); else each
        # file's own verdict.
        audit_w = compare_audit_warnings(compare) if len(results) >= 2 else None
        if audit_w is not None:
            for w in audit_w:
                self.add(Para(f"Machine audit: {with_tags(w, results)}", "warn"))
        else:
            for s in results:
                text = disturbed_text(s)
                if text:
                    self.add(Para(text, "warn"))
        rows = []
        for s in sources:
            c = s.context
            if s.kind == "results":
                exps = s.experiments
                ok = [e for e in exps if e.get("status", "ok") == "ok"]
                bad = [f"{e['name']} ({e.get('status')})" for e in exps
                       if e.get("status", "ok") != "ok"]
                state = "interrupted" if s.doc.get("interrupted") else \
                    ("complete" if s.doc.get("complete", True) else "incomplete")
                if s.audit and s.audit["disturbed"]:
                    state += ", disturbed"
                rows.append([
                    s.tag, os.path.basename(os.path.dirname(os.path.abspath(s.path))) + "/" +
                    os.path.basename(s.path),
                    f"{c.get('host', '?')} / {c.get('cpu_model', '?')}", str(c.get("isa_used", "?")),
                    str(c.get("threads", "?")),
                    Cell(f"{len(ok)}/{len(exps)} ok" + (": " + ", ".join(bad) if bad else ""),
                         "bad" if bad else ""),
                    Cell(fmt_seconds(inputs.total_train_seconds(s)), "num"),
                    Cell(state, "" if state == "complete" else "warn"),
                    str(c.get("git_commit", "?")), str(c.get("date", "?")),
                    verdicts.get(s.path, Cell("-", "muted")),
                ])
            elif s.kind == "scaling":
                st = str(s.doc.get("status", "?"))
                rows.append([s.tag, os.path.basename(os.path.dirname(os.path.abspath(s.path))) +
                             "/" + os.path.basename(s.path),
                             f"{s.doc.get('cores', '?')} cores", "-",
                             ",".join(str(t) for t in s.doc["threads"]),
                             f"{len(s.experiments)} experiment(s) x {s.doc.get('rounds', '?')} "
                             "round(s)", "-", Cell(st, "" if st == "complete" else "warn"),
                             "-", "-", Cell("-", "muted")])
            elif s.kind == "throughput":
                st = str(s.doc.get("status", "?"))
                rows.append([s.tag, os.path.basename(os.path.dirname(os.path.abspath(s.path))) +
                             "/" + os.path.basename(s.path),
                             f"{s.doc.get('concurrent', '?')} trainings at a time", "-",
                             str(s.doc.get("threads_per_training", "?")),
                             f"{len(s.experiments)} experiment(s) x {s.doc['seeds']} seed(s)",
                             "-", Cell(st, "" if st == "complete" else "warn"), "-", "-",
                             Cell("-", "muted")])
            else:
                rows.append([s.tag, os.path.basename(s.path), f"{c.get('host_name', '?')} "
                             f"({c.get('num_cpus', '?')} CPUs, {c.get('mhz_per_cpu', '?')} MHz)",
                             "kernels", "1",
                             f"{len(inputs.gbench_rows(s))} benchmarks", "-", "complete", "-",
                             str(c.get("date", "?")), Cell("-", "muted")])
        self.add(Table(["", "file", "machine", "ISA", "threads", "experiments",
                        "total train time", "state", "git commit", "date", "verdict"], rows))

    def comparison(self, results, compare, compare_note):
        from .doc import Cell, Heading, Para, Table
        self.add(Heading(2, "Comparison", "comparison"))
        names = _experiment_names(results)
        base = results[0]
        metrics = [("seconds_per_step", "ms/step", "lower"),
                   ("time_to_target_s", "time to target", "lower"),
                   ("final_psnr_db", "final PSNR", "higher")]
        if any(inputs.seeds_summary(e) is not None for s in results for e in s.experiments):
            metrics.insert(2, ("seeds_time_to_target_s", "across seeds", "lower"))
        # PSNR is judged by a difference in dB, as compare's gate does (its tolerance)
        tol = num((compare or {}).get("psnr_tolerance_db")) if isinstance(compare, dict) \
            else None
        tol = 0.5 if tol is None else tol
        hdr = ["experiment"] + [f"{label} {s.tag}" for _, label, _ in metrics for s in results]
        rows = []
        for n in names:
            hs = []
            for s in results:
                e = next((x for x in s.experiments if x["name"] == n), None)
                h = inputs.headline_metrics(e) if e else None
                if h is not None:
                    ss = inputs.seeds_summary(e)
                    h["seeds_time_to_target_s"] = ss["trimmed_mean"] if ss else None
                hs.append((e, h))
            cells = [n]
            for key, label, better in metrics:
                b = hs[0][1][key] if hs[0][1] and hs[0][0].get("status", "ok") == "ok" else None
                for j, (e, h) in enumerate(hs):
                    if e is None:
                        cells.append(Cell("absent", "muted"))
                        continue
                    if e.get("status", "ok") != "ok":
                        cells.append(Cell(str(e.get("status")), "bad"))
                        continue
                    v = h[key]
                    if v is None:
                        cells.append(Cell("never" if key == "time_to_target_s" else "-", "muted"))
                        continue
                    text = fmt_metric("time_to_target_s" if key.startswith("seeds_") else key, v)
                    cls = "num"
                    if key == "final_psnr_db" and b is not None and j > 0:
                        text += f" ({fmt_db_diff(v, b)})"
                        cls = "bad" if v - b < -tol else ("good" if v - b > tol else "num")
                    elif b and j > 0:
                        r = v / b
                        text += f" (x{r:.2f})"
                        cls = "bad" if r > 1.05 else ("good" if r < 0.95 else "num")
                    cells.append(Cell(text, cls))
            rows.append(cells)
        self.add(Table(hdr, rows, f"Side by side: medians, and against {base.tag} the ratio of "
                       "times (red = slower by more than 5 %, green = faster) and the difference "
                       f"of PSNR in dB (red = lower by more than {tol:g} dB); across seeds: the "
                       "mean without the fastest and slowest seed; no significance test here: "
                       "see the verdicts below"))

        if compare is None:
            self.add(Para(f"Regression verdicts: compare unavailable ({compare_note}).", "warn"))
            return
        audit_w = compare_audit_warnings(compare) or []
        all_w = compare.get("warnings") if isinstance(compare.get("warnings"), list) else []
        other_w = [w for w in all_w if w not in audit_w]
        if other_w:
            self.add(Para("compare warnings: " + "; ".join(map(str, other_w)), "note"))
        if compare.get("mode") == "gate":
            order = {"regression": 0, "numerics_changed": 1, "inconclusive": 2,
                     "not_comparable": 2, "warning": 2, "improvement": 3, "accepted": 4,
                     "not_significant": 5, "ok": 6, "same": 6}
            crow = []
            for r in sorted(compare.get("rows", []),
                            key=lambda r: (order.get(r.get("verdict"), 9), str(r.get("name")))):
                v = r.get("verdict", "?")
                cls = {"regression": "bad", "numerics_changed": "warn", "warning": "warn",
                       "inconclusive": "warn", "not_comparable": "warn",
                       "improvement": "good"}.get(v, "")
                bm = (r.get("base") or {}).get("median") if isinstance(r.get("base"), dict) else None
                nm = (r.get("new") or {}).get("median") if isinstance(r.get("new"), dict) else None
                m = str(r.get("metric"))
                change = fmt_db_diff(nm, bm) if m == "final_psnr_db" \
                    else fmt(r.get("change_pct"), "+.1f", " %")
                crow.append([str(r.get("name")), m, Cell(fmt_metric(m, bm), "num"),
                             Cell(fmt_metric(m, nm), "num"), Cell(change, "num"),
                             Cell(fmt(r.get("p_value"), ".3g"), "num"), Cell(v, cls),
                             str(r.get("note") or "")])
            self.add(Table(["name", "metric", f"base {results[0].tag}", f"new {results[1].tag}",
                            "change", "p", "verdict", "note"], crow,
                           f"Regression gate (specbias compare, threshold "
                           f"{compare.get('threshold_pct', '?')} %, alpha "
                           f"{compare.get('alpha', '?')})"))
        else:
            t = compare.get("table", {})
            cols = t.get("columns", [])
            trow = []
            for r in t.get("rows", []):
                vals = r.get("values", [])
                rel = r.get("relative", [])
                cells = []
                for i in range(len(cols)):
                    v = vals[i] if i < len(vals) else None
                    rr = rel[i] if i < len(rel) else None
                    txt = fmt(v) + (f" ({fmt(rr, '.2f')})" if rr is not None else "")
                    cells.append(Cell(txt, "good" if r.get("winner") == i else "num"))
                trow.append([str(r.get("name")), str(r.get("metric")), str(r.get("better", ""))]
                            + cells)
            self.add(Table(["name", "metric", "better"] + [str(c) for c in cols], trow,
                           "Machines (specbias compare; value and ratio to the first column, "
                           "green = winner)"))

    def convergence(self, results):
        from .doc import Figure, Grid, Heading
        F = self.figures_mod
        self.add(Heading(2, "Convergence per second", "convergence"))
        names = _experiment_names(results)
        figs = []
        for n in names:
            entries = []
            for s in results:
                e = next((x for x in s.experiments if x["name"] == n), None)
                rep = inputs.representative(e) if e else None
                if rep:
                    entries.append((s, e, rep))
            if entries:
                it = F.convergence(self.fs, n, entries, "convergence")
                if it:
                    figs.append(Figure(it))
            else:
                self.fs.skip("loss", "no repetition with a curve in any file", n, None,
                             "convergence")
        if figs:
            self.add(Grid(figs))
        it = F.time_to_target(self.fs, results, names, "convergence") if names else None
        if it:
            self.add(Figure(it))

    def scaling(self, scaling):
        from .doc import Cell, Figure, Heading, Para, Table
        F = self.figures_mod
        self.add(Heading(2, "Strong scaling", "scaling"))
        for src in scaling:
            doc = src.doc
            base = doc.get("baseline_threads", doc["threads"][0])
            rounds = doc.get("rounds", "?")
            self.add(Para(f"{src.tag} ({src.path}): threads {', '.join(map(str, doc['threads']))}"
                          f" on {doc.get('cores', '?')} cores, {rounds} interleaved round(s), "
                          f"status {doc.get('status', '?')}; speedup and efficiency against "
                          f"{base} thread(s).", "note"))
            it = F.scaling(self.fs, src, "scaling")
            if it:
                self.add(Figure(it))
            rows = []
            for e in src.experiments:
                for k, p in enumerate(e["points"]):
                    ms, sp, ef = num(p.get("ms_per_step")), num(p.get("speedup")), \
                        num(p.get("efficiency"))
                    # why efficiency drops: threads without work, or working threads waiting
                    busy, wf = p.get("threads_with_work"), num(p.get("work_fraction"))
                    if not isinstance(busy, int) or isinstance(busy, bool):
                        busy = None
                    same = e.get("hashes_equal")
                    st = p.get("status", "ok")
                    traj = (Cell(str(st), "warn") if st != "ok" else
                            Cell("identical", "good") if same is True else
                            Cell("DIFFERS", "bad") if same is False else Cell("-", "muted"))
                    over = isinstance(doc.get("cores"), int) and p["threads"] > doc["cores"]
                    rows.append([e["name"] if k == 0 else "",
                                 Cell(str(p["threads"]) + (" (over the cores)" if over else ""),
                                      "warn" if over else "num"),
                                 Cell("-" if ms is None else f"{ms:.4g}", "num"),
                                 Cell("-" if sp is None else f"{sp:.2f}", "num"),
                                 Cell("-" if ef is None else f"{100 * ef:.0f} %", "num"),
                                 Cell("-" if busy is None else str(busy),
                                      "warn" if busy is not None and busy < p["threads"]
                                      else "num"),
                                 Cell("-" if wf is None else f"{100 * wf:.0f} %", "num"),
                                 Cell(f"{p.get('rounds_ok', '?')}/{rounds}", "num"), traj])
            self.add(Table(["experiment", "threads", "ms/step", "speedup", "efficiency",
                            "with work", "working", "rounds", "trajectory"], rows,
                           f"{src.tag}: median ms/step over the rounds; with work: threads with "
                           "a work item (parallel_split.threads_with_work; fewer than threads "
                           "caps the efficiency); working: the median share of the threads' time "
                           "spent working (work_fraction), the rest serial work and waiting; "
                           "trajectory: every round's trajectory_hash at every count equal (a "
                           "guarantee)"))

    def throughput(self, throughput):
        from .doc import Cell, Heading, Para, Table
        self.add(Heading(2, "Throughput", "throughput"))
        for src in throughput:
            doc = src.doc
            groups = doc.get("groups") if isinstance(doc.get("groups"), dict) else {}
            glist = groups.get("groups") if isinstance(groups.get("groups"), list) else []
            tph = num(doc.get("trainings_per_hour"))
            self.add(Para(f"{src.tag} ({src.path}): {len(glist)} group(s) by "
                          f"{doc.get('groups_by', '?')}, {doc.get('concurrent', '?')} "
                          f"training(s) at a time, {doc.get('threads_per_training', '?')} "
                          f"thread(s) each, {doc['seeds']} seed(s); status "
                          f"{doc.get('status', '?')}.", "note"))
            self.add(Table(["groups", "trainings at a time", "wall", "trainings",
                            "trainings per hour"],
                           [[Cell(str(len(glist)), "num"),
                             Cell(str(doc.get("concurrent", "?")), "num"),
                             Cell(fmt_seconds(doc.get("wall_seconds")), "num"),
                             Cell(str(doc.get("trainings", "?")), "num"),
                             Cell("-" if tph is None else f"{tph:.1f}", "num")]],
                           f"{src.tag}: trainings that finished ok over the wall time from the "
                           "first start to the last end, the whole machine's figure"))
            rows = []
            for e in src.experiments:
                ttt = e.get("time_to_target_s") if isinstance(e.get("time_to_target_s"), dict) \
                    else {}
                rows.append([e["name"], Cell(f"{e.get('trainings', '?')}/{doc['seeds']}", "num"),
                             Cell(fmt_seconds(e.get("train_seconds_median")), "num"),
                             Cell(fmt_seconds(ttt.get("median")), "num")])
            self.add(Table(["experiment", "trainings", "median train time",
                            "median time to target"], rows,
                           f"{src.tag}: per experiment, medians over the seeds that finished ok "
                           "(time to target over those that reached it)"))

    def context_table(self, s):
        from .doc import Table
        c = s.context
        topo = c.get("topology") if isinstance(c.get("topology"), dict) else {}
        peaks = c.get("peak_gflops") if isinstance(c.get("peak_gflops"), dict) else {}
        cnt = c.get("counters") if isinstance(c.get("counters"), dict) else {}
        events = cnt.get("events") if isinstance(cnt.get("events"), list) else []
        bind = c.get("binding") if isinstance(c.get("binding"), dict) else {}
        suite = c.get("suite") if isinstance(c.get("suite"), dict) else {}
        bw = c.get("bandwidth_gbs") if isinstance(c.get("bandwidth_gbs"), dict) else None
        rows = [
            ["host", str(c.get("host", "?"))],
            ["CPU", str(c.get("cpu_model", "?"))],
            ["ISA used (available)", f"{c.get('isa_used', '?')} ("
             + ", ".join(map(str, c.get("isa_available", []) or [])) + ")"],
            ["threads", str(c.get("threads", "?"))],
            ["topology", f"{topo.get('packages', '?')} package(s), {topo.get('cores', '?')} "
             f"cores, {topo.get('pus', '?')} PUs; L1d {fmt_bytes(topo.get('l1d_bytes'))}, "
             f"L2 {fmt_bytes(topo.get('l2_bytes'))}, L3 {fmt_bytes(topo.get('l3_bytes'))}"
             + (f" ({topo['source']})" if topo.get("source") else "")],
            ["FMA peak (all threads)", ", ".join(f"{k} {fmt(v, '.1f')} GFLOP/s"
                                                 for k, v in peaks.items()) or "?"],
        ]
        rows += audit_rows(s)
        if bw:
            rows.append(["bandwidth", ", ".join(f"{k} {fmt(v, '.1f')}" for k, v in bw.items())])
        ev = ", ".join(f"{x.get('name')}: {x.get('status')}" for x in events if isinstance(x, dict))
        rows += [
            ["counters", f"{cnt.get('status', '?')}" + (f" - {cnt['reason']}" if cnt.get("reason")
                                                        else "") + (f" [{ev}]" if ev else "")],
            ["thread binding", ("on: " + str(bind.get("policy", ""))) if bind.get("enabled")
             else f"off: {bind.get('reason', '?')}"],
            ["compiler, flags", f"{c.get('compiler', '?')}, {c.get('build_flags', '?')}"],
            ["git commit, version", f"{c.get('git_commit', '?')}, {c.get('version', '?')}"],
            ["date", str(c.get("date", "?"))],
            ["suite", f"{suite.get('name', '?')} ({suite.get('path', '?')})"],
            ["file", s.path],
        ]
        return Table(["context", s.tag], rows)

    def machine(self, s):
        from .doc import Cell, Figure, Grid, Heading, Para, Table
        F = self.figures_mod
        sec = f"machine-{s.tag.lower()}"
        self.add(Heading(2, f"{s.tag}: {s.label}", sec))
        if s.doc.get("interrupted"):
            self.add(Para("This run was interrupted: finished experiments are complete, the one "
                          "running at the signal shows its partial curve.", "warn"))
        text = disturbed_text(s)
        if text:
            self.add(Para(text, "warn"))
        self.add(self.context_table(s))
        with_seeds = any(inputs.seeds_summary(e) is not None for e in s.experiments)
        rows = []
        for e in s.experiments:
            h = inputs.headline_metrics(e)
            st = e.get("status", "ok")
            reps = e.get("repetitions", [])
            rep = inputs.representative(e)
            lc = inputs.learned_count(e)
            learned = "-" if lc is None else \
                f"{lc[0]}/{lc[1]}" + ("" if inputs.is_1d(e) else " bands")
            n_ok, n_all = h["reached_target"]
            ttt = fmt_s(h["time_to_target_s"]) if h["time_to_target_s"] is not None \
                else ("never" if n_all else "-")
            if h["time_to_target_s"] is not None and n_ok < n_all:
                ttt += f" ({n_ok}/{n_all} reached)"
            row = [
                e["name"], inputs.target_kind(e), inputs.encoding_name(e),
                Cell(st + (f": {e.get('error')}" if e.get("error") else ""),
                     "" if st == "ok" else "bad"),
                Cell(str(len(reps)), "num"),
                Cell(str(rep.get("steps", "-")) if rep else "-", "num"),
                Cell(fmt_ms_per_step(h["seconds_per_step"]), "num"),
                Cell(fmt(h["gflops"], ".3g"), "num"),
                Cell(fmt(100 * h["peak_fraction"] if h["peak_fraction"] is not None else None,
                         ".1f", " %"), "num"),
                Cell(fmt(h["final_loss"], ".3g"), "num"),
                Cell(fmt(h["final_psnr_db"], ".2f", " dB"), "num"),
                Cell(ttt, "num" if h["time_to_target_s"] is not None else "muted"),
            ]
            if with_seeds:
                ss = inputs.seeds_summary(e)
                row.append(Cell(fmt_seeds(ss), "num" if ss and ss["trimmed_mean"] is not None
                                else "muted"))
            row += [Cell(learned, "num"), str(rep.get("trajectory_hash", "-")) if rep else "-"]
            rows.append(row)
        hdr = ["experiment", "target", "encoding", "status", "reps", "steps", "time per step",
               "GFLOP/s", "of peak", "final loss", "final PSNR", "time to target"]
        hdr += ["time to target across seeds"] if with_seeds else []
        hdr += ["learned", "trajectory hash"]
        self.add(Table(hdr, rows,
                       "Experiments (medians over finished repetitions"
                       + (" of the first seed; across seeds: the mean without the fastest and "
                          "slowest seed, with the spread of the seeds that reached the target"
                          if with_seeds else "")
                       + f"; learned: frequencies, or radial bands for 2D, whose "
                       f"{inputs.LEARNED_DEFINITION}, the median over repetitions)"))
        with_rep = [(e, inputs.representative(e)) for e in s.experiments]
        with_rep = [(e, r) for e, r in with_rep if r is not None]
        for e in s.experiments:
            if inputs.representative(e) is None:
                self.fs.skip("heatmap" if inputs.is_1d(e) else "image",
                             f"experiment {e.get('status', '?')}, no curve: "
                             f"{e.get('error', 'no repetition')}", e["name"], s, sec)
        for e, rep in with_rep:
            self.add(Heading(3, f"{e['name']} ({inputs.encoding_name(e)})" +
                             ("" if e.get("status", "ok") == "ok" else f" - {e.get('status')}")))
            figs = []
            if inputs.is_1d(e):
                for fn in (F.heatmap, F.signal):
                    it = fn(self.fs, s, e, rep, sec)
                    if it:
                        figs.append(Figure(it))
            else:
                for fn in (F.image, F.radial):
                    it = fn(self.fs, s, e, rep, sec)
                    if it:
                        figs.append(Figure(it))
            if figs:
                self.add(Grid(figs))
            missing = [x for x in self.fs.skipped if x["experiment"] == e["name"]
                       and x["source"] == s.path and x["section"] == sec]
            for x in missing:
                self.add(Para(f"No {x['kind']} figure: {x['reason']}.", "note"))
        if with_rep:
            self.add(Heading(3, "Activation regions, Hamming distance, gradient confusion"))
            figs = []
            for fn in (F.regions, F.hamming, F.confusion):
                it = fn(self.fs, s, with_rep, sec)
                if it:
                    figs.append(Figure(it))
            if figs:
                self.add(Grid(figs))

    def kernels(self, gbench, kcompare):
        from .doc import Cell, Figure, Grid, Heading, Table
        F = self.figures_mod
        self.add(Heading(2, "Kernels", "kernels"))
        for s in gbench:
            rows = inputs.gbench_rows(s)
            c = s.context
            peaks = F._peaks(s)
            self.add(Heading(3, f"{s.tag}: {os.path.basename(s.path)}"))
            self.add(Table(["context", s.tag], [
                ["host", f"{c.get('host_name', '?')}, {c.get('num_cpus', '?')} CPUs at "
                 f"{c.get('mhz_per_cpu', '?')} MHz"],
                ["one-thread FMA peak", ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peaks.items())
                 or "?"],
                ["one-thread bandwidth", f"{fmt(c.get('bandwidth_gbs_1thread'), '.1f')} GB/s"],
                ["counters", str(c.get("counters_status", c.get("counters", "not recorded")))],
                ["date", str(c.get("date", "?"))],
            ]))
            trows = [[r["kernel"], r["isa"], r["shape"], Cell(fmt(r["gflops"], ".3g"), "num"),
                      Cell(fmt(100 * r["peak_fraction"] if r["peak_fraction"] is not None else None,
                               ".1f", " %"), "num"),
                      Cell(fmt(r["intensity"], ".3g"), "num"),
                      Cell(f"{fmt(r['real_time'], '.4g')} {r['time_unit']}", "num")]
                     for r in rows]
            self.add(Table(["kernel", "ISA", "shape", "GFLOP/s", "of peak", "FLOP/byte",
                            "time per iteration"], trows))
            figs = []
            for fn in (F.kernels_gflops, F.roofline):
                it = fn(self.fs, s, rows, "kernels")
                if it:
                    figs.append(Figure(it))
            if figs:
                self.add(Grid(figs))
        if kcompare and kcompare.get("mode") == "gate":
            crow = [[str(r.get("name")), str(r.get("metric")), Cell(fmt(r.get("change_pct"),
                    "+.1f", " %"), "num"), Cell(str(r.get("verdict")),
                    "bad" if r.get("verdict") == "regression" else "")]
                    for r in kcompare.get("rows", [])]
            self.add(Table(["kernel", "metric", "change", "verdict"], crow,
                           f"Kernel regression gate: {kcompare.get('verdict')}"))

    def notes_section(self):
        from .doc import Bullets, Heading
        items = list(self.notes)
        for x in self.fs.skipped:
            where = ", ".join(filter(None, [x["experiment"], x["source"]]))
            items.append(f"figure '{x['kind']}' not drawn" + (f" for {where}" if where else "")
                         + f": {x['reason']}")
        if items:
            self.add(Heading(2, "Notes", "notes"))
            self.add(Bullets(items))


def write_outputs(rep: Report):
    from .doc import to_html, to_markdown
    from .util import atomic_write
    out = rep.outdir
    atomic_write(os.path.join(out, "report.md"), to_markdown(rep.blocks))
    atomic_write(os.path.join(out, "figures.json"),
                 json.dumps(rep.fs.manifest(), indent=1) + "\n")
    index = os.path.join(out, "index.html")
    # index.html last: its presence says the report is whole.
    atomic_write(index, to_html("specbias report", rep.blocks, rep.fs.data_uri))
    return index


def parse_args(argv):
    ap = argparse.ArgumentParser(prog=PROG, description="HTML and Markdown report of specbias "
                                 "results files, Google Benchmark JSON of specbias kernels, and "
                                 "the history of a folder of results files.")
    ap.add_argument("files", nargs="*", help="results.json files, kernel benchmark JSON, and "
                    "scaling.json files (or their folders)")
    ap.add_argument("--out", default=os.path.join("out", "report"), help="output folder")
    ap.add_argument("--history", metavar="DIR", help="folder of results files over time")
    ap.add_argument("--specbias", help="the specbias executable (for specbias compare)")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if not args.files and not args.history:
            raise InputError("no results files given (and no --history DIR)")
        sources = [inputs.load(p, i) for i, p in enumerate(args.files)]
        history = inputs.scan_history(args.history) if args.history else None
        try:
            import matplotlib  # noqa: F401
            import numpy  # noqa: F401
        except ImportError as e:
            raise Failure(f"{e.name or 'matplotlib'} is missing for {sys.executable}: install "
                          "python3-matplotlib (Debian; it brings numpy), or point "
                          "SPECBIAS_PYTHON at an interpreter that has it")
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as e:
            raise Failure(f"{args.out}: cannot create the output folder: {e.strerror}")
        rep = Report(args.out, args.specbias)
        rep.build(sources, history)
        index = write_outputs(rep)
    except InputError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    except Failure as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 3
    except OSError as e:
        print(f"{PROG}: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 3
    except Exception:  # a bug: say so with the trace, exit 3 (not Python's 1 = "regression")
        traceback.print_exc()
        print(f"{PROG}: internal error (above); please report it", file=sys.stderr)
        return 3
    for n in rep.notes:
        print(f"{PROG}: note: {n}", file=sys.stderr)
    print(os.path.abspath(index))
    return 0
