"""Interval estimates used by comparisons, sweeps and risk views.

All intervals are two-sided 95% unless told otherwise:

* a level: Student t interval of the mean over replications;
* a paired difference (common random numbers): Student t interval of the per-replication
  differences ``B_k - A_k`` (replication k of both scenarios shares its seed); optionally a
  percentile bootstrap of the same differences (seeded, so deterministic);
* an independent-seeds difference: Welch t interval of two independent samples;
* a probability: Wilson score interval;
* VaR and expected shortfall: empirical quantile of the losses and the mean of the losses at or
  above it.

``half_width`` is always half the interval's width; the replication rule (``target_width``)
compares the half-width with the target.
"""

from __future__ import annotations

import math

import numpy as np

LEVEL = 0.95


def _t_ppf(q: float, df: float) -> float:
    """Student t quantile (scipy.stats, imported on first use: it costs ~0.4-0.7 s of start-up,
    and a single run never needs it)."""
    from scipy import stats as st

    return float(st.t.ppf(q, df))


def t_interval(x: np.ndarray, level: float = LEVEL) -> tuple[float, float, int, float]:
    """``(mean, sd, n, half_width)`` of the Student t interval of the mean of ``x`` (NaN if n<2)."""
    x = np.asarray(x, dtype=float)
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, 0, math.nan
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, n, math.nan
    sd = float(x.std(ddof=1))
    half = _t_ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
    return mean, sd, n, half


def welch_interval(x: np.ndarray, y: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """``(mean(x) - mean(y), half_width)`` of the Welch t interval for independent samples."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    nx, ny = x.size, y.size
    if nx < 2 or ny < 2:
        return float(x.mean() - y.mean()) if nx and ny else math.nan, math.nan
    vx, vy = x.var(ddof=1) / nx, y.var(ddof=1) / ny
    se2 = vx + vy
    diff = float(x.mean() - y.mean())
    if se2 == 0:
        return diff, 0.0
    df = se2**2 / (vx**2 / (nx - 1) + vy**2 / (ny - 1))
    return diff, _t_ppf(0.5 + level / 2, df) * math.sqrt(se2)


def bootstrap_interval(
    d: np.ndarray, resamples: int = 2000, seed: int = 0, level: float = LEVEL
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``d`` (seeded: the same data give the same
    interval). Unreliable below ~10 replications: report it next to the t interval, not instead."""
    d = np.asarray(d, dtype=float)
    if d.size < 2 or resamples < 1:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(resamples, d.size))].mean(axis=1)
    lo, hi = np.quantile(means, [0.5 - level / 2, 0.5 + level / 2])
    return float(lo), float(hi)


def wilson(k: int, n: int, level: float = LEVEL) -> tuple[float, float, float]:
    """``(p, low, high)``: share ``k/n`` with its Wilson score interval."""
    if n == 0:
        return math.nan, math.nan, math.nan
    from scipy import stats as st

    z = float(st.norm.ppf(0.5 + level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exact at the ends (rounding leaves 5.6e-17 above a share of 0) and never past the share
    low = 0.0 if k == 0 else min(p, max(0.0, centre - half))
    high = 1.0 if k == n else max(p, min(1.0, centre + half))
    return p, low, high


def var_es(losses: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """``(VaR, expected shortfall)`` at ``level``: the empirical ``level`` quantile of the losses
    (linear interpolation) and the mean of the losses at or above it."""
    x = np.sort(np.asarray(losses, dtype=float))
    if x.size == 0:
        return math.nan, math.nan
    var = float(np.quantile(x, level))
    tail = x[x >= var]
    return var, float(tail.mean()) if tail.size else var


def exceedance(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loss exceedance curve: the distinct losses ``x``, ascending, and the empirical
    ``P(L >= x)`` at each (the share of runs whose loss is at least ``x``)."""
    x = np.sort(np.asarray(losses, dtype=float))
    values = np.unique(x)
    at_least = x.size - np.searchsorted(x, values, side="left")
    return values, at_least / x.size if x.size else at_least.astype(float)


def exceedance_steps(losses: np.ndarray, end: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The empirical exceedance curve as points for ``ax.step(x, p, where="post")``: from
    ``min(0, smallest loss)`` on, the share of runs whose loss exceeds ``x`` (right-continuous;
    it equals ``P(L >= x)`` everywhere but at the losses themselves, where it jumps down), down
    to 0 after the largest loss and drawn at 0 on to ``end`` (default: 5% of the range past the
    largest loss), so a curve ends visibly at 0."""
    x = np.sort(np.asarray(losses, dtype=float))
    if x.size == 0:
        return np.array([]), np.array([])
    values = np.unique(x)
    above = (x.size - np.searchsorted(x, values, side="right")) / x.size  # P(L > value)
    start = min(0.0, float(values[0]))
    if end is None:
        span = float(values[-1]) - start
        end = float(values[-1]) + (0.05 * span if span > 0 else 1.0)
    xs, ps = values, above
    if start < values[0]:  # every run's loss exceeds the values left of the smallest one
        xs, ps = np.concatenate([[start], xs]), np.concatenate([[1.0], ps])
    return np.concatenate([xs, [max(end, float(values[-1]))]]), np.concatenate([ps, [0.0]])
