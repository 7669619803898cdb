"""`specbias report --history DIR`: headline metrics over time per machine, with change
points (sbreport.changepoint) marked and listed."""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from . import changepoint, inputs  # noqa: E402
from .doc import Cell, Grid, Heading, Figure, Para, Table  # noqa: E402
from .figures import file_colour  # noqa: E402
from .units import fmt_db_diff, fmt_metric  # noqa: E402

METRICS = [
    ("seconds_per_step", "time per step (ms/step)", "lower"),
    ("final_psnr_db", "final PSNR (dB)", "higher"),
    ("time_to_target_s", "time to target (s)", "lower"),
]
# The figure's scale of each metric's values, into the unit of its label.
SCALE = {"seconds_per_step": 1e3}
ALPHA = 0.05
MIN_SIZE = 2
SEED = 20200416  # fixed: the same folder always gives the same change points


def machine_key(s) -> tuple:
    c = s.context
    return (str(c.get("host", "?")), str(c.get("cpu_model", "?")), str(c.get("isa_used", "?")),
            str(c.get("threads", "?")))


def _date(s):
    d = s.context.get("date")
    if not isinstance(d, str):
        return None
    try:
        return dt.datetime.fromisoformat(d.replace("Z", "+00:00"))
    except ValueError:
        return None


def _series_name(e):
    """The experiment's name, plus its step count when --steps overrode the suite's: a smoke
    run is another series, not a step change of the real one."""
    train = (e.get("config") or {}).get("train") or {}
    if isinstance(train, dict) and "steps_overridden_from" in train:
        return f"{e['name']} [{train.get('steps')} steps]"
    return e["name"]


def order(sources):
    return sorted(sources, key=lambda s: (str(s.context.get("date") or ""),
                                          str(s.context.get("git_commit") or ""), s.path))


def analyse(sources):
    """{machine: {experiment: {metric: [(source, value)]}}} and the change points found."""
    machines: dict = {}
    for s in order(sources):
        m = machines.setdefault(machine_key(s), {})
        for e in s.experiments:
            if e.get("status", "ok") != "ok":
                continue
            h = inputs.headline_metrics(e)
            per = m.setdefault(_series_name(e), {k: [] for k, _, _ in METRICS})
            for k, _, _ in METRICS:
                per[k].append((s, h[k]))
    found = []  # (machine, experiment, metric, ChangePoint, source after, source before)
    for mk, exps in machines.items():
        for name, per in exps.items():
            for k, _, _ in METRICS:
                pts = [(s, v) for s, v in per[k] if v is not None]
                if len(pts) < 2 * MIN_SIZE:
                    continue
                cps = changepoint.detect([v for _, v in pts], alpha=ALPHA, min_size=MIN_SIZE,
                                         seed=SEED)
                for cp in cps:
                    found.append((mk, name, k, cp, pts[cp.index][0], pts[cp.index - 1][0]))
    return machines, found


def section(fs, sources, warnings) -> list:
    blocks = [Heading(2, "History", "history")]
    machines, found = analyse(sources)
    mnames = {mk: f"M{i + 1}" for i, mk in enumerate(machines)}
    blocks.append(Para(
        f"{len(sources)} results files, ordered by context.date then git_commit, grouped by "
        "machine (host, CPU, ISA used, threads). Change points: E-divisive with means and "
        f"binary segmentation (Daly et al. 2020), permutation test with {199} permutations, "
        f"alpha {ALPHA}, at least {MIN_SIZE} runs per segment, fixed seed.", "note"))
    rows = []
    for mk, exps in machines.items():
        runs = order([s for s in sources if machine_key(s) == mk])
        rows.append([mnames[mk], mk[0], mk[1], mk[2], mk[3], str(len(runs)),
                     str(runs[0].context.get("date", "?")), str(runs[-1].context.get("date", "?")),
                     str(runs[-1].context.get("git_commit", "?"))])
    blocks.append(Table(["", "host", "CPU", "ISA", "threads", "runs", "first", "last",
                         "last commit"], rows, "Machines"))
    if found:
        blocks.append(Para(f"{len(found)} change point(s) found.", "warn"))
        crow = []
        for mk, name, k, cp, after, before in found:
            ch = 100.0 * (cp.after / cp.before - 1.0) if cp.before else float("nan")
            better = dict((m, b) for m, _, b in METRICS)[k]
            up = cp.after > cp.before
            worse = up if better == "lower" else not up
            # PSNR moves in dB, times in percent
            change = fmt_db_diff(cp.after, cp.before) if k == "final_psnr_db" else f"{ch:+.1f} %"
            crow.append([mnames[mk], name, k, str(after.context.get("date", "?")),
                         str(after.context.get("git_commit", "?")),
                         str(before.context.get("git_commit", "?")),
                         Cell(fmt_metric(k, cp.before), "num"), Cell(fmt_metric(k, cp.after), "num"),
                         Cell(change, "bad" if worse else "good"),
                         Cell(f"{cp.p_value:.3f}", "num")])
        blocks.append(Table(["machine", "experiment", "metric", "first run after", "commit",
                             "commit before", "median before", "median after", "change",
                             "p-value"], crow, "Change points"))
    else:
        blocks.append(Para("No change point found in any metric.", "good"))
    if warnings:
        blocks.append(Para("; ".join(warnings), "note"))

    names = []
    for exps in machines.values():
        for n in exps:
            if n not in names:
                names.append(n)
    figs = []
    for name in names:
        it = _figure(fs, name, machines, mnames, found)
        if it:
            figs.append(Figure(it))
    if figs:
        blocks.append(Grid(figs))
    return blocks


def _figure(fs, name, machines, mnames, found):
    metrics = [(k, lab) for k, lab, _ in METRICS
               if any(v is not None for exps in machines.values()
                      for _, v in exps.get(name, {}).get(k, []))]
    if not metrics:
        fs.skip("history", "no metric has values", name, None, "history")
        return None
    all_dated = all(_date(s) is not None for exps in machines.values()
                    for per in exps.values() for s, _ in per["seconds_per_step"])
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7.0, 2.1 * len(metrics) + 0.6),
                             sharex=True, squeeze=False)
    for ax, (k, lab) in zip(axes[:, 0], metrics):
        for i, (mk, exps) in enumerate(machines.items()):
            pts = [(s, v) for s, v in exps.get(name, {}).get(k, []) if v is not None]
            if not pts:
                continue
            xs = [_date(s) if all_dated else j for j, (s, _) in enumerate(pts)]
            ax.plot(xs, [v * SCALE.get(k, 1.0) for _, v in pts], marker="o", ms=3,
                    color=file_colour(i),
                    label=f"{mnames[mk]} {mk[2]} {mk[3]}t @ {mk[0]}")
            for fmk, fname, fk, cp, after, before in found:
                if (fmk, fname, fk) == (mk, name, k):
                    x = _date(after) if all_dated else cp.index
                    ax.axvline(x, color="C3", ls="--", lw=1.2)
                    ax.annotate(f"p={cp.p_value:.3f}", (x, 1.0), xycoords=("data", "axes fraction"),
                                fontsize=7, color="C3", ha="left", va="top")
        ax.set_ylabel(lab, fontsize=8)
    axes[0, 0].legend(fontsize=7, loc="best")
    if all_dated:
        # Concise labels show hours when the runs fall on one day (several runs a day in CI).
        loc = mdates.AutoDateLocator()
        axes[-1, 0].xaxis.set_major_locator(loc)
        axes[-1, 0].xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    else:
        axes[-1, 0].set_xlabel("run (ordered by date, commit)")
    fig.suptitle(f"{name}: history (red dashed = change point)", fontsize=10)
    fig.tight_layout()
    return fs.save(fig, "history", f"{name}: history",
                   "Headline metrics of each run over time per machine; dashed red lines mark "
                   "change points (first run after the step).", experiment=name,
                   section="history")

