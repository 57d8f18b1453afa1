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
    return p, max(0.0, centre - half), min(1.0, centre + half)


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
    """Loss exceedance curve: sorted losses ``x`` and the empirical ``P(L >= x)``."""
    x = np.sort(np.asarray(losses, dtype=float))
    n = x.size
    return x, 1.0 - np.arange(n) / n
