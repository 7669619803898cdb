"""The report's figures (matplotlib, Agg). Every figure has a fixed size and resolution and
carries no timestamp or software tag, so the same inputs give the same PNG bytes."""

from __future__ import annotations

import base64
import io
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import inputs  # noqa: E402
from .inputs import num  # noqa: E402
from .util import atomic_write  # noqa: E402

DPI = 100
plt.rcParams.update({
    "font.size": 9, "axes.titlesize": 10, "axes.grid": True, "grid.alpha": 0.3,
    "legend.fontsize": 8, "figure.dpi": DPI, "savefig.dpi": DPI,
})
ISA_COLOURS = {"scalar": "#7f7f7f", "avx2": "#1f77b4", "avx512": "#d62728", "neon": "#2ca02c"}


def file_colour(i: int) -> str:
    return plt.get_cmap("tab10")(i % 10)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


class FigureSet:
    """Saves figures under DIR/figures and remembers them (the manifest) and the figures
    that could not be drawn, with the reason."""

    def __init__(self, outdir: str):
        self.outdir = outdir
        self.dir = os.path.join(outdir, "figures")
        os.makedirs(self.dir, exist_ok=True)
        self.items: list[dict] = []
        self.skipped: list[dict] = []

    def save(self, fig, kind: str, title: str, caption: str, experiment=None, experiments=None,
             sources=None, section: str = "") -> dict:
        sources = sources or []
        stem = "-".join([slug(kind)] + ([slug(experiment)] if experiment else [])
                        + [s.tag.lower() for s in sources if s.tag])
        name = stem + ".png"
        n = 2
        while any(it["file"] == "figures/" + name for it in self.items):
            name = f"{stem}-{n}.png"
            n += 1
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        plt.close(fig)
        data = buf.getvalue()
        atomic_write(os.path.join(self.dir, name), data)
        item = {
            "file": "figures/" + name, "kind": kind, "title": title, "caption": caption,
            "experiment": experiment,
            "experiments": experiments if experiments is not None else
            ([experiment] if experiment else []),
            "sources": [s.path for s in sources], "section": section,
            "bytes": len(data), "_png": data,
        }
        self.items.append(item)
        return item

    def skip(self, kind: str, reason: str, experiment=None, source=None, section: str = ""):
        self.skipped.append({"kind": kind, "experiment": experiment,
                             "source": source.path if source else None,
                             "reason": reason, "section": section})

    def manifest(self) -> dict:
        return {
            "schema": "specbias-report-figures/1",
            "figures": [{k: v for k, v in it.items() if not k.startswith("_")}
                        for it in self.items],
            "skipped": self.skipped,
        }

    @staticmethod
    def data_uri(item: dict) -> str:
        return "data:image/png;base64," + base64.b64encode(item["_png"]).decode("ascii")


def _status_note(src, e) -> str:
    st = e.get("status", "ok")
    if src.doc.get("interrupted") and st != "ok":
        return f" [{st}: partial curve]"
    return "" if st == "ok" else f" [{st}]"


def _xs_seconds(curve):
    """Checkpoint training seconds, or steps where seconds are missing or not increasing."""
    secs = [num(p.get("seconds")) for p in curve]
    if all(s is not None for s in secs) and all(b > a for a, b in zip(secs, secs[1:])):
        return np.array(secs), "training seconds (evaluation excluded)"
    return np.array([num(p.get("step")) or 0 for p in curve], float), "step"


def _curve_matrix(curve, key):
    """checkpoints x values of the list `key` of each curve point; NaN where not a number."""
    return np.array([[num(v) if num(v) is not None else np.nan for v in p[key]]
                     for p in curve], float)


def _spectrum_over_time(fs, kind, key, src, e, rep, section):
    """The checkpoints that carry the list `key`, the frequencies it refers to, the
    checkpoints x frequencies matrix and the x axis; None (skip recorded) when fewer than 2."""
    curve = [p for p in rep["curve"] if isinstance(p.get(key), list)]
    freqs = rep.get("frequencies") or []
    if len(curve) < 2 or not freqs:
        fs.skip(kind, f"fewer than 2 checkpoints with {key}", e["name"], src, section)
        return None
    x, xlabel = _xs_seconds(curve)
    return curve, freqs, _curve_matrix(curve, key), x, xlabel


# ---- per results file, per experiment ------------------------------------------------------

def heatmap(fs: FigureSet, src, e, rep, section):
    got = _spectrum_over_time(fs, "heatmap", "spectral_magnitude", src, e, rep, section)
    if got is None:
        return None
    curve, freqs, m, x, xlabel = got
    m = np.clip(m, 0.0, 1.0)
    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    mesh = ax.pcolormesh(x, np.asarray(freqs, float), m.T, shading="nearest", cmap="viridis",
                         vmin=0.0, vmax=1.0)
    ax.grid(False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"target frequency ({rep.get('frequency_unit', 'cycles')})")
    ax.set_title(f"{e['name']}: spectral bias, {src.short}{_status_note(src, e)}")
    cb = fig.colorbar(mesh, ax=ax, pad=0.02)
    cb.set_label("|DFT(f)| at k / A_k, clipped to 0..1")
    fig.tight_layout()
    return fs.save(fig, "heatmap", f"{e['name']}: spectral bias ({src.tag})",
                   f"Magnitude of each target frequency relative to the target's (colour, 1 = "
                   f"the target's amplitude) over {xlabel} at {len(curve)} checkpoints, "
                   f"{src.short}. Low frequencies turning yellow first is the spectral bias "
                   "(Rahaman et al. 2019). A frequency counts as learned by its error, not its "
                   f"magnitude: {inputs.LEARNED_DEFINITION}.",
                   experiment=e["name"], sources=[src], section=section)


def _snapshots(rep):
    snaps = [s for s in rep.get("snapshots", []) or [] if isinstance(s, dict)]
    return snaps, rep.get("snapshot_target") if isinstance(rep.get("snapshot_target"), dict) else None


def signal(fs: FigureSet, src, e, rep, section):
    snaps, target = _snapshots(rep)
    snaps = [s for s in snaps if isinstance(s.get("values"), list) and s["values"]][:4]
    if not snaps or not target or not isinstance(target.get("values"), list):
        fs.skip("signal", "no snapshots in this results file (written by newer specbias run)",
                e["name"], src, section)
        return None
    y = np.asarray(target["values"], float)
    dom = e.get("config", {}).get("target", {}).get("domain", [0.0, 1.0])
    a, b = (float(dom[0]), float(dom[1])) if isinstance(dom, list) and len(dom) == 2 else (0.0, 1.0)
    t = a + (b - a) * np.arange(len(y)) / len(y)
    fig, axes = plt.subplots(len(snaps), 1, figsize=(7.0, 1.45 * len(snaps) + 0.5), sharex=True,
                             squeeze=False)
    for ax, s in zip(axes[:, 0], snaps):
        v = np.asarray(s["values"], float)
        ax.plot(t, y, color="0.6", lw=1.6, label="target")
        ax.plot(t[:len(v)], v, color="C3", lw=0.8, label="network")
        sec = num(s.get("seconds"))
        ax.set_title(f"step {s.get('step')}" + (f", {sec:.3g} s" if sec is not None else ""),
                     fontsize=8, loc="left")
    axes[0, 0].legend(loc="upper right", ncol=2)
    axes[-1, 0].set_xlabel("t")
    fig.suptitle(f"{e['name']}: reconstruction vs target, {src.short}{_status_note(src, e)}",
                 fontsize=10)
    fig.tight_layout()
    return fs.save(fig, "signal", f"{e['name']}: reconstruction at checkpoints ({src.tag})",
                   f"The network's output (red) against the target (grey) at {len(snaps)} "
                   f"checkpoints, {src.short}.", experiment=e["name"], sources=[src],
                   section=section)


def _decode_png(d: dict):
    return mpimg.imread(io.BytesIO(base64.b64decode(d["png_base64"])), format="png")


def image(fs: FigureSet, src, e, rep, section):
    snaps, target = _snapshots(rep)
    snaps = [s for s in snaps if isinstance(s.get("png_base64"), str)][:4]
    if not snaps or not target or not isinstance(target.get("png_base64"), str):
        fs.skip("image", "no snapshots in this results file (written by newer specbias run)",
                e["name"], src, section)
        return None
    try:
        imgs = [_decode_png(target)] + [_decode_png(s) for s in snaps]
    except Exception as err:  # a corrupt PNG in the file: say so, go on
        fs.skip("image", f"a snapshot PNG does not decode: {err}", e["name"], src, section)
        return None
    psnr = {p.get("step"): num(p.get("test_psnr_db")) for p in rep["curve"]}
    fig, axes = plt.subplots(1, len(imgs), figsize=(2.4 * len(imgs) + 0.2, 2.9), squeeze=False)
    for i, (ax, im) in enumerate(zip(axes[0], imgs)):
        ax.imshow(im, cmap="gray" if im.ndim == 2 else None, vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        if i == 0:
            ax.set_title("target", fontsize=8)
        else:
            s = snaps[i - 1]
            p = psnr.get(s.get("step"))
            ax.set_title(f"step {s.get('step')}" + (f"\n{p:.1f} dB" if p is not None else ""),
                         fontsize=8)
    fig.suptitle(f"{e['name']}: test pixels, {src.short}{_status_note(src, e)}", fontsize=9)
    fig.tight_layout()
    return fs.save(fig, "image", f"{e['name']}: reconstruction at checkpoints ({src.tag})",
                   f"Test pixels predicted at {len(snaps)} checkpoints beside the target, "
                   f"with the test PSNR, {src.short}.", experiment=e["name"], sources=[src],
                   section=section)


def radial(fs: FigureSet, src, e, rep, section):
    got = _spectrum_over_time(fs, "radial", "spectral_error", src, e, rep, section)
    if got is None:
        return None
    _, bands, m, x, xlabel = got
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    cmap = plt.get_cmap("viridis")
    for j, b in enumerate(bands[:m.shape[1]]):
        ax.plot(x, m[:, j], color=cmap(j / max(1, len(bands) - 1)), marker=".", lw=1.2,
                label=f"{num(b):.3g}" if num(b) is not None else str(b))
    ax.axhline(inputs.LEARNED_MAX_SPECTRAL_ERROR, color="0.4", ls=":", lw=1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("residual / target power in band")
    ax.set_ylim(bottom=0)
    ax.legend(title="band centre\n(fraction of\nNyquist)" if "Nyquist" in
              str(rep.get("frequency_unit", "")) else "band", fontsize=7, title_fontsize=7,
              loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"{e['name']}: radial spectral error, {src.short}{_status_note(src, e)}")
    fig.tight_layout()
    return fs.save(fig, "radial", f"{e['name']}: radial spectral error ({src.tag})",
                   "Error in each concentric frequency band over training; a band counts as "
                   f"learned when its {inputs.LEARNED_DEFINITION} (dotted line); low bands "
                   f"(dark) should fall first, {src.short}.",
                   experiment=e["name"], sources=[src], section=section)


# ---- per results file, across its experiments (the paper's analyses) ----------------------

def _analysis_series(rep, key):
    pts = [(num(p.get("step")), num(p.get(key))) for p in rep["curve"]]
    pts = [(s, v) for s, v in pts if s is not None and v is not None]
    return np.array(pts, float) if pts else None


def regions(fs: FigureSet, src, exps, section):
    series = [(e, _analysis_series(rep, "regions")) for e, rep in exps]
    series = [(e, s) for e, s in series if s is not None]
    if not series:
        fs.skip("regions", "no checkpoint carries 'regions'", None, src, section)
        return None
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    for i, (e, s) in enumerate(series):
        ax.plot(s[:, 0], s[:, 1], marker=".", color=f"C{i % 10}",
                label=f"{e['name']} ({inputs.encoding_name(e)})")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("activation regions")
    ax.legend(loc="best")
    ax.set_title(f"Activation regions over training, {src.short}")
    fig.tight_layout()
    return fs.save(fig, "regions", f"Activation regions ({src.tag})",
                   "Distinct activation patterns over the evaluation inputs, per experiment "
                   "(encoding); Lazzari & Liu: raw coordinates give few, positional encoding many.",
                   experiments=[e["name"] for e, _ in series], sources=[src], section=section)


def hamming(fs: FigureSet, src, exps, section):
    loc = [(e, _analysis_series(rep, "hamming_local_mean")) for e, rep in exps]
    glo = [(e, _analysis_series(rep, "hamming_global_mean")) for e, rep in exps]
    if not any(s is not None for _, s in loc + glo):
        fs.skip("hamming", "no checkpoint carries hamming_*_mean", None, src, section)
        return None
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.8), sharey=False)
    names = []
    for ax, series, what in ((axes[0], loc, "local"), (axes[1], glo, "global")):
        for i, (e, s) in enumerate(series):
            if s is None:
                continue
            ax.plot(s[:, 0], s[:, 1], marker=".", color=f"C{i % 10}", label=e["name"])
            if e["name"] not in names:
                names.append(e["name"])
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlabel("step")
        ax.set_ylabel(f"mean Hamming distance ({what} pairs)")
        ax.set_title(what)
    h, lab = axes[0].get_legend_handles_labels()
    fig.legend(h, lab, loc="lower center", ncol=min(3, max(1, len(lab))), fontsize=7)
    fig.suptitle(f"Hamming distance of activation patterns, {src.short}", fontsize=10)
    fig.tight_layout(rect=(0, 0.06 * ((len(lab) + 2) // 3), 1, 1))
    return fs.save(fig, "hamming", f"Hamming distance, local and global ({src.tag})",
                   "Mean Hamming distance between the activation patterns of nearby (local) and "
                   "distant (global) input pairs over training.",
                   experiments=names, sources=[src], section=section)


def confusion(fs: FigureSet, src, exps, section):
    panels = []
    for e, rep in exps:
        a = rep.get("analysis") if isinstance(rep.get("analysis"), dict) else {}
        cl, cg = a.get("confusion_local"), a.get("confusion_global")
        if isinstance(cl, dict) and isinstance(cg, dict) and isinstance(cl.get("histogram"), list) \
                and isinstance(cg.get("histogram"), list) and cl["histogram"]:
            panels.append((e, cl, cg))
    if not panels:
        fs.skip("confusion", "no gradient-confusion histograms (analysis.confusion_*)", None, src,
                section)
        return None
    ncol = min(4, len(panels))
    nrow = (len(panels) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.3 * ncol + 0.6, 2.2 * nrow + 0.6),
                             squeeze=False, sharex=True)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (e, cl, cg) in zip(axes.flat, panels):
        for c, what, col in ((cl, "local", "C0"), (cg, "global", "C1")):
            h = np.asarray([num(v) or 0 for v in c["histogram"]], float)
            # harness/analysis.c: len(h) equal bins over [-1, 1]; cos = 1 goes to the last bin
            edges = np.linspace(-1.0, 1.0, len(h) + 1)
            tot = h.sum()
            ax.stairs(h / tot if tot else h, edges, color=col, lw=1.4, label=f"{what} pairs")
        ax.set_title(f"{e['name']}\nmean local {num(cl.get('mean')) or 0:+.2f}, "
                     f"global {num(cg.get('mean')) or 0:+.2f}", fontsize=7)
        ax.set_xlim(-1, 1)
    for ax in axes[-1]:
        ax.set_xlabel("cosine of per-example gradients")
    for ax in axes[:, 0]:
        ax.set_ylabel("fraction of pairs")
    h, lab = axes.flat[0].get_legend_handles_labels()
    fig.legend(h, lab, loc="upper right", fontsize=7)
    fig.suptitle(f"Gradient confusion at the last step, {src.short}", fontsize=10)
    fig.tight_layout()
    return fs.save(fig, "confusion", f"Gradient confusion, local vs global ({src.tag})",
                   "Histogram of the cosine similarity between per-example gradients of nearby "
                   "(local) and distant (global) pairs; mass near -1 means conflicting updates.",
                   experiments=[e["name"] for e, _, _ in panels], sources=[src], section=section)


# ---- across files ----------------------------------------------------------------------------

def convergence(fs: FigureSet, name, entries, section):
    """entries: [(src, e, rep)] of one experiment across files."""
    one_d = inputs.is_1d(entries[0][1])
    key, kind = ("loss", "loss") if one_d else ("test_psnr_db", "psnr")
    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    drawn = 0
    for src, e, rep in entries:
        pts = [(num(p.get("seconds")), num(p.get(key))) for p in rep["curve"]]
        pts = [(s, v) for s, v in pts if s is not None and v is not None]
        if not pts:
            continue
        a = np.array(pts)
        ax.plot(a[:, 0], a[:, 1], marker=".", color=file_colour(src.index),
                label=src.short + _status_note(src, e))
        drawn += 1
    if not drawn:
        plt.close(fig)
        fs.skip(kind, f"no checkpoint carries '{key}'", name, None, section)
        return None
    cfg = entries[0][1].get("config", {})
    tgt = num(cfg.get("target_loss" if one_d else "target_psnr"))
    if tgt is not None:
        ax.axhline(tgt, color="k", ls="--", lw=0.8, label=f"target {tgt:g}")
    if one_d:
        ax.set_yscale("log")
    ax.set_xlabel("training seconds (evaluation excluded)")
    ax.set_ylabel("training loss (MSE)" if one_d else "test PSNR (dB)")
    ax.legend(loc="best")
    ax.set_title(f"{name}: {'loss' if one_d else 'test PSNR'} against wall-clock time")
    fig.tight_layout()
    return fs.save(fig, kind, f"{name}: {'loss' if one_d else 'test PSNR'} per second",
                   "Convergence per second: the same trajectory (same seed) on each machine/ISA, "
                   "stretched by its speed; further left is faster.", experiment=name,
                   sources=[s for s, _, _ in entries], section=section)


def time_to_target(fs: FigureSet, results, names, section):
    """Grouped bars: per experiment, one bar per file; never reached is marked."""
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(names) + 2.5), 3.6))
    nf = len(results)
    width = 0.8 / max(1, nf)
    top = 0.0
    vals = {}
    for j, src in enumerate(results):
        by = {e["name"]: e for e in src.experiments}
        for i, n in enumerate(names):
            e = by.get(n)
            v = inputs.headline_metrics(e)["time_to_target_s"] if e else None
            vals[(j, i)] = (e, v)
            if v is not None:
                top = max(top, v)
    top = top or 1.0
    never_h = 0.2 * top
    never_label = True
    for j, src in enumerate(results):
        xs = np.arange(len(names)) + (j - (nf - 1) / 2) * width
        for i, x in enumerate(xs):
            e, v = vals[(j, i)]
            if e is None:
                continue
            if v is not None:
                ax.bar(x, v, width * 0.95, color=file_colour(src.index), label=src.short)
                ax.text(x, v + 0.01 * top, f"{v:.3g} s", ha="center", va="bottom", fontsize=7,
                        rotation=90)
            else:
                ax.bar(x, never_h, width * 0.95, color="white", edgecolor=file_colour(src.index),
                       hatch="///", label="never reached" if never_label else None)
                never_label = False
                ax.text(x, never_h * 1.04, "never" if e.get("status", "ok") == "ok"
                        else str(e.get("status")), ha="center", va="bottom", fontsize=7,
                        color="C3", rotation=90)
    ax.set_ylim(0, top * 1.35)
    # one legend entry per file
    h, lab = ax.get_legend_handles_labels()
    seen = {}
    for hh, ll in zip(h, lab):
        seen.setdefault(ll, hh)
    ax.legend(seen.values(), seen.keys(), loc="best")
    ax.set_xticks(np.arange(len(names)))
    ax.set_xticklabels(names, rotation=20, ha="right")
    ax.set_ylabel("seconds to target (median)")
    ax.set_title("Time to target (training seconds until the loss / test PSNR target)")
    fig.tight_layout()
    return fs.save(fig, "time_to_target", "Time to target",
                   "Median training seconds until each experiment's target (loss for 1D, test "
                   "PSNR for 2D) is first crossed; hatched = never reached in the run.",
                   experiments=list(names), sources=list(results), section=section)


# ---- strong scaling (scaling.json of `specbias run --threads LIST`) ------------------------

def scaling(fs: FigureSet, src, section):
    """Speedup and parallel efficiency against threads, per experiment, with the ideal; beside
    the efficiency, dotted, the share of the threads' time spent working (work_fraction)."""
    doc = src.doc
    threads = doc["threads"]
    base = doc.get("baseline_threads") if _is_count(doc.get("baseline_threads")) else threads[0]
    cores = doc.get("cores") if _is_count(doc.get("cores")) else None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.6))
    xs = np.array(sorted(threads), float)
    ax1.plot(xs, xs / base, "k--", lw=1, label="ideal")
    ax2.axhline(1.0, color="k", ls="--", lw=1, label="ideal")
    drawn = worked = 0
    for i, e in enumerate(src.experiments):
        pts = [p for p in e.get("points", []) if num(p.get("speedup")) is not None]
        if not pts:
            fs.skip("scaling", "no thread count with a speedup", e["name"], src, section)
            continue
        t = [p["threads"] for p in pts]
        ax1.plot(t, [num(p["speedup"]) for p in pts], "o-", color=file_colour(i), label=e["name"])
        ax2.plot(t, [num(p.get("efficiency")) for p in pts], "o-", color=file_colour(i))
        # why efficiency drops: threads idle or waiting (absent from older scaling.json files)
        wpts = [p for p in e.get("points", []) if num(p.get("work_fraction")) is not None]
        if wpts:
            ax2.plot([p["threads"] for p in wpts], [num(p["work_fraction"]) for p in wpts],
                     "x:", color=file_colour(i), lw=1)
            worked += 1
        drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    for ax in (ax1, ax2):
        ax.set_xlabel("threads")
        ax.set_xticks(xs)
        ax.set_xticklabels([str(int(x)) for x in xs])
        if cores and xs[-1] > cores:
            ax.axvline(cores, color="C3", ls=":", lw=1)
            ax.text(cores, ax.get_ylim()[1], f" {cores} cores", color="C3", fontsize=7, va="top")
    ax1.set_ylabel(f"speedup over {base} thread{'s' if base != 1 else ''}")
    ax1.set_title("Strong scaling: speedup")
    ax2.set_ylabel("parallel efficiency (speedup / ideal)")
    ax2.set_ylim(0, max(1.1, ax2.get_ylim()[1]))
    ax2.set_title("Parallel efficiency")
    ax1.legend(loc="best")
    if worked:
        ax2.plot([], [], "o-", color="0.4", label="efficiency")
        ax2.plot([], [], "x:", color="0.4", lw=1, label="share of time working")
        ax2.legend(loc="best", fontsize=7)
    fig.tight_layout()
    return fs.save(fig, "scaling", "Strong scaling",
                   f"Median ms/step over {doc.get('rounds', '?')} round(s) per thread count, as "
                   f"speedup over {base} thread(s) (dashed: ideal, linear in threads) and as "
                   "parallel efficiency (speedup / ideal)" +
                   ("; dotted: the share of the threads' time spent working (work_fraction), the "
                    "rest serial work and waiting." if worked else "."),
                   experiments=[e["name"] for e in src.experiments], sources=[src],
                   section=section)


def _is_count(x) -> bool:
    """A thread or core count: a whole number from 1 (bounded, so that it plots)."""
    return isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 1 << 20


# ---- kernels (Google Benchmark JSON of `specbias kernels`) ---------------------------------

def _peaks(src):
    c = src.context
    out = {}
    for k, v in c.items():
        if k.startswith("peak_gflops_1thread_") and num(v) is not None:
            out[k[len("peak_gflops_1thread_"):]] = num(v)
    return out


def kernels_gflops(fs: FigureSet, src, rows, section):
    rows = [r for r in rows if r["gflops"] is not None]
    if not rows:
        fs.skip("kernels", "no benchmark has a FLOP/s counter", None, src, section)
        return None
    peaks = _peaks(src)
    labels = sorted({f"{r['kernel']}/{r['shape']}" for r in rows})
    isas = sorted({r["isa"] for r in rows}, key=lambda i: list(ISA_COLOURS).index(i)
                  if i in ISA_COLOURS else 99)
    h = 0.8 / len(isas)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(labels) * max(1, len(isas)) ** 0.5 + 1.4))
    for j, isa in enumerate(isas):
        col = ISA_COLOURS.get(isa, f"C{j}")
        ys, xs = [], []
        for r in rows:
            if r["isa"] == isa:
                ys.append(labels.index(f"{r['kernel']}/{r['shape']}") + (j - (len(isas) - 1) / 2) * h)
                xs.append(r["gflops"])
        ax.barh(ys, xs, h * 0.9, color=col, label=isa)
        if isa in peaks:
            ax.axvline(peaks[isa], color=col, ls="--", lw=1, label=f"{isa} FMA peak {peaks[isa]:.1f}")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("GFLOP/s (one thread)")
    ax.legend(loc="lower right", fontsize=7)
    ax.set_title(f"Kernel throughput per ISA against peak, {src.short}")
    fig.tight_layout()
    return fs.save(fig, "kernels", f"Kernel GFLOP/s per ISA ({src.tag})",
                   "GFLOP/s of each kernel and shape per ISA (Google Benchmark, declared FLOPs); "
                   "dashed: the measured one-thread FMA peak of that ISA.",
                   sources=[src], section=section)


def roofline(fs: FigureSet, src, rows, section):
    rows = [r for r in rows if r["gflops"] is not None and r["intensity"]]
    if not rows:
        fs.skip("roofline", "no benchmark has FLOP/s and intensity counters", None, src, section)
        return None
    peaks = _peaks(src)
    bw = num(src.context.get("bandwidth_gbs_1thread"))
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    ints = np.array([r["intensity"] for r in rows])
    lo, hi = max(1e-3, ints.min() / 4), ints.max() * 4
    if bw and peaks:  # show the ridge points (peak / bandwidth) too
        lo = max(1e-3, min(lo, min(peaks.values()) / bw / 2))
        hi = max(hi, max(peaks.values()) / bw * 2)
    i = np.logspace(np.log10(lo), np.log10(hi), 200)
    for isa, p in sorted(peaks.items()):
        col = ISA_COLOURS.get(isa, "k")
        roof = np.minimum(p, bw * i) if bw else np.full_like(i, p)
        ax.plot(i, roof, color=col, lw=1.2, ls="--", label=f"{isa} roof ({p:.1f} GFLOP/s)")
    if bw:
        ax.plot([], [], " ", label=f"memory roof {bw:.1f} GB/s (STREAM triad)")
    for isa in sorted({r["isa"] for r in rows}):
        pts = [(r["intensity"], r["gflops"]) for r in rows if r["isa"] == isa]
        a = np.array(pts)
        ax.scatter(a[:, 0], a[:, 1], color=ISA_COLOURS.get(isa, "k"), s=22, zorder=3,
                   label=f"{isa} kernels")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (FLOP/byte, declared)")
    ax.set_ylabel("GFLOP/s (one thread)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"Roofline, {src.short}")
    fig.tight_layout()
    return fs.save(fig, "roofline", f"Roofline ({src.tag})",
                   "Each kernel x shape at its declared intensity; roofs: min(FMA peak, "
                   "bandwidth x intensity) per ISA, one thread.", sources=[src], section=section)
