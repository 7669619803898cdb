"""Change points in a performance series: E-divisive with means, hierarchical binary
segmentation, each split kept only if a permutation test finds it significant.

This is the method of Daly et al. 2020, "The Use of Change Point Detection to Identify
Software Performance Regressions in a CI System" (MongoDB's signal processing), written from
the paper's description: for a split tau of x[lo:hi] (n points) the statistic is

    q(tau) = tau (n - tau) / n * (mean(x[lo:lo+tau]) - mean(x[lo+tau:hi]))^2

(the energy statistic of Matteson and James with exponent 2, which reduces to the squared
difference of means; hence "means"). Each round takes the segment whose best split has the
largest q, and tests that split: the segment is shuffled `permutations` times and the best q
recomputed; p = (1 + #{q_perm >= q}) / (1 + permutations). A split with p < alpha is kept and
both halves are searched again; the first split that is not significant ends the search.

A single noisy run cannot make a change point: a split needs `min_size` points on each side
and a difference of means that is unlikely under any reordering of the segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChangePoint:
    index: int        # first index of the new segment: x[index] is the first point after it
    p_value: float
    q: float          # the E-divisive-means statistic of the split
    before: float     # median of the segment before (between the neighbouring change points)
    after: float      # median of the segment after


def _best_split(x: np.ndarray, min_size: int) -> tuple[int, float]:
    """The split tau (min_size <= tau <= n - min_size) of x that maximises q, and q."""
    n = len(x)
    if n < 2 * min_size:
        return -1, 0.0
    c = np.cumsum(x)
    tau = np.arange(min_size, n - min_size + 1)
    left = c[tau - 1] / tau
    right = (c[-1] - c[tau - 1]) / (n - tau)
    q = tau * (n - tau) / n * (left - right) ** 2
    i = int(np.argmax(q))
    return int(tau[i]), float(q[i])


def _best_q_batch(perms: np.ndarray, min_size: int) -> np.ndarray:
    """max over splits of q, for every row of perms (permutations of one segment)."""
    n = perms.shape[1]
    c = np.cumsum(perms, axis=1)
    tau = np.arange(min_size, n - min_size + 1)
    left = c[:, tau - 1] / tau
    right = (c[:, -1:] - c[:, tau - 1]) / (n - tau)
    q = tau * (n - tau) / n * (left - right) ** 2
    return q.max(axis=1)


def detect(values, alpha: float = 0.05, min_size: int = 2, permutations: int = 199,
           seed: int = 1234) -> list[ChangePoint]:
    """Change points of `values` (a sequence of finite numbers, in time order), sorted by index.

    Deterministic: the permutations come from numpy's PCG64 seeded with `seed`.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError("detect() wants a 1-D series")
    if not np.all(np.isfinite(x)):
        raise ValueError("detect() wants finite values (drop missing points first)")
    if min_size < 1:
        raise ValueError("min_size must be at least 1")
    rng = np.random.default_rng(seed)
    # Scale-free statistic: a series in seconds and one in nanoseconds split alike.
    scale = np.std(x)
    if len(x) < 2 * min_size or scale == 0.0:
        return []
    z = (x - np.mean(x)) / scale

    bounds = [0, len(z)]
    found: list[tuple[int, float, float]] = []
    while True:
        best = None  # (q, lo, hi, tau)
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            tau, q = _best_split(z[lo:hi], min_size)
            if tau > 0 and (best is None or q > best[0]):
                best = (q, lo, hi, tau)
        if best is None or best[0] <= 0.0:
            break
        q, lo, hi, tau = best
        seg = z[lo:hi]
        perms = np.vstack([rng.permutation(seg) for _ in range(permutations)])
        qp = _best_q_batch(perms, min_size)
        # A tolerance so that permutations equal to the observed split count as >=.
        exceed = int(np.sum(qp >= q * (1.0 - 1e-12)))
        p = (1 + exceed) / (1 + permutations)
        if p >= alpha:
            break
        found.append((lo + tau, p, q))
        bounds = sorted(bounds + [lo + tau])

    found.sort()
    idx = [f[0] for f in found]
    edges = [0] + idx + [len(x)]
    out = []
    for k, (i, p, q) in enumerate(found):
        before = x[edges[k]:i]
        after = x[i:edges[k + 2]]
        out.append(ChangePoint(index=i, p_value=p, q=q, before=float(np.median(before)),
                               after=float(np.median(after))))
    return out
