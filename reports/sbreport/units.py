"""The report's units: one per kind of figure, the same in every table and figure."""

from __future__ import annotations

from .inputs import num

# Time per training step in ms/step, time to target in s, PSNR in dB and PSNR differences in
# dB (never a percentage); time differences as ratios or percentages.

def fmt_ms_per_step(seconds_per_step):
    v = num(seconds_per_step)
    return "-" if v is None else f"{v * 1e3:.4g} ms/step"


def fmt_s(seconds):
    v = num(seconds)
    return "-" if v is None else f"{v:.3g} s"


def fmt_db_diff(new_db, base_db):
    a, b = num(new_db), num(base_db)
    return "-" if a is None or b is None else f"{a - b:+.2f} dB"


def fmt_seeds(ss):
    """Time to target across seeds (summary.seeds): the trimmed mean and the spread."""
    if ss is None:
        return "-"
    reached = f"{ss['reached']:.0f}/{ss['finished']:.0f} seeds reached" \
        if ss["reached"] is not None and ss["finished"] is not None else "?"
    mean = "no mean (too few seeds reached it)" if ss["trimmed_mean"] is None \
        else fmt_s(ss["trimmed_mean"])
    if ss["min"] is None:
        return f"{mean}; {reached}"
    spread = f"{ss['min']:.3g}-{ss['max']:.3g} s"
    if ss["q1"] is not None and ss["q3"] is not None:
        spread += f", IQR {ss['q1']:.3g}-{ss['q3']:.3g} s"
    return f"{mean} ({spread}; {reached})"


def fmt_metric(metric, x):
    """A value of compare's rows in the report's unit for it."""
    if metric == "seconds_per_step":
        return fmt_ms_per_step(x)
    if metric == "time_to_target_s":
        return fmt_s(x)
    if metric == "final_psnr_db":
        v = num(x)
        return "-" if v is None else f"{v:.2f} dB"
    v = num(x)
    return "-" if v is None else f"{v:.4g}"
