"""Per-run outcomes and paired differences: the statistics behind `sim.compare`, `sim.sweep` and
`RunResult.differences`.

A run is reduced to one number per brand and metric (`summarise_run`, `outcome_values`): the mean of
its last 30 days (all its days when shorter) for stocks, its total over the horizon for flows. Replication k of two scenarios
that share seeds pair up, and `differences_table` gives the paired differences with 95% intervals
(`sim.analysis.stats`). Pure pandas: nothing here runs a model or touches the disk.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..core.errors import UserError
from ..mechanisms.metrics import EVENT_COUNTERS
from . import stats
from .summary import SUMMARY_WINDOW_DAYS, window_words  # noqa: F401 - (its home was here)

FLOW_METRICS = frozenset((*EVENT_COUNTERS, "purchases", "revenue", "net_value"))
"""Daily flows (counts and money per day); every other metric is a stock (a level on a day)."""

OUTCOMES = ("auto", "window", "total")
"""How a run is reduced to one number per brand and metric:

* ``window``: mean over the last 30 days of the run, all its days in a shorter run
  (`sim.analysis.summary.summarise`'s window, `window_words`);
* ``total``: sum over all days of the horizon (meaningful for flows only);
* ``auto`` (default): ``total`` for flows (revenue, net_value, breach_cost, ...: what was earned or
  lost over the horizon), ``window`` for stocks (trust, consent_rate, subscribers, ...: where the
  market ends up).
"""


def statistic_of(metric: str, outcome: str = "auto") -> str:
    """The per-run statistic (``window`` or ``total``) used for ``metric`` under ``outcome``."""
    if outcome == "auto":
        return "total" if metric in FLOW_METRICS else "window"
    return outcome


def metric_list(metrics: str | Iterable[str], known: Iterable[str]) -> list[str]:
    """``metrics`` as a list: one name given as a string is one metric (not its letters); a
    name not in ``known`` (the metrics the result holds) raises a `UserError` naming it and the
    allowed ones, instead of an empty table or pandas' error."""
    chosen = [metrics] if isinstance(metrics, str) else [str(m) for m in metrics]
    allowed = sorted({str(m) for m in known})
    bad = [m for m in chosen if m not in allowed]
    if bad:
        raise UserError(
            f"metrics: {bad[0]!r} is not a metric of these results; allowed: {', '.join(allowed)}"
        )
    return chosen


def summarise_run(ts: pd.DataFrame, window: int = SUMMARY_WINDOW_DAYS) -> pd.DataFrame:
    """Per brand and metric (channel ``all``) of one run: mean over the last ``window`` days,
    total over the horizon, value on the last day and minimum over the days."""
    return summarise_runs(ts, (), window)


def summarise_runs(
    ts: pd.DataFrame, by: tuple[str, ...] | list[str] = (), window: int = SUMMARY_WINDOW_DAYS
) -> pd.DataFrame:
    """`summarise_run` of every run of ``ts`` at once, a run being a group of the columns ``by``
    (``("scenario", "replication")``; none: ``ts`` is one run): per run, brand and metric
    (channel ``all``), the columns ``by``, ``brand, metric, window, total, final, minimum``."""
    by = list(by)
    ts = ts[ts["channel"] == "all"]
    last = ts.groupby(by, sort=False)["day"].transform("max") if by else ts["day"].max()
    ts = ts.assign(
        tail=ts["day"] > last - window,
        brand=ts["brand"].astype(str),
        metric=ts["metric"].astype(str),
    )
    keys = [*by, "brand", "metric"]
    g = ts.groupby(keys, sort=True, observed=True)["value"]
    out = pd.DataFrame({"total": g.sum(), "final": g.last(), "minimum": g.min()})
    out["window"] = ts[ts["tail"]].groupby(keys, sort=True, observed=True)["value"].mean()
    return out.reset_index()[[*keys, "window", "total", "final", "minimum"]]


def outcome_values(runs: pd.DataFrame, outcome: str = "auto") -> pd.DataFrame:
    """Per-run summary rows with ``statistic`` and ``value`` (the outcome) columns added."""
    if outcome not in OUTCOMES:
        raise UserError(f"outcome {outcome!r} is not one of: {', '.join(OUTCOMES)}")
    stat = runs["metric"].map(lambda m: statistic_of(m, outcome))
    value = np.where(stat == "total", runs["total"], runs["window"])
    return runs.assign(statistic=stat.to_numpy(), value=value)


def _order(df: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    df = df.copy()
    df["scenario"] = pd.Categorical(df["scenario"], categories=scenarios, ordered=True)
    df = df.sort_values(["scenario", "brand", "metric"], kind="stable", ignore_index=True)
    df["scenario"] = df["scenario"].astype(str)
    return df


def differences_table(
    runs: pd.DataFrame,
    reference: str,
    scenarios: list[str],
    independent: pd.DataFrame | None = None,
    bootstrap: int = 2000,
) -> pd.DataFrame:
    """Paired differences ``scenario - reference`` per brand and metric, 95% intervals.

    ``ci_low/ci_high``: paired t interval; ``boot_low/boot_high``: percentile bootstrap of the
    paired differences (seeded); ``indep_*``: Welch interval of the scenario against the
    reference's independent-seeds runs; ``width_ratio`` = paired / independent width.
    """
    keys = ["brand", "metric", "statistic", "replication"]
    ref = runs[runs["scenario"] == reference][[*keys, "value"]]
    ind = None
    if independent is not None and len(independent):
        ind = {
            k: g["value"].to_numpy()
            for k, g in independent.groupby(["brand", "metric", "statistic"], sort=True)
        }
    rows = []
    for scenario in scenarios:
        if scenario == reference:
            continue
        cur = runs[runs["scenario"] == scenario][[*keys, "value"]]
        m = cur.merge(ref, on=keys, suffixes=("", "_ref"), how="inner")
        m = m.sort_values(keys, kind="stable")
        for (brand, metric, statistic), g in m.groupby(["brand", "metric", "statistic"], sort=True):
            d = g["value"].to_numpy() - g["value_ref"].to_numpy()
            mean, sd, n, half = stats.t_interval(d)
            ref_mean = float(g["value_ref"].mean())
            blo, bhi = stats.bootstrap_interval(d, bootstrap) if bootstrap else (math.nan,) * 2
            ilo = ihi = ihalf = math.nan
            if ind is not None and (brand, metric, statistic) in ind:
                idiff, ihalf = stats.welch_interval(
                    g["value"].to_numpy(), ind[(brand, metric, statistic)]
                )
                ilo, ihi = idiff - ihalf, idiff + ihalf
            ratio = half / ihalf if ihalf and not math.isnan(ihalf) and ihalf > 0 else math.nan
            rel = mean / abs(ref_mean) if ref_mean else math.nan
            rows.append(
                (
                    scenario,
                    reference,
                    brand,
                    metric,
                    statistic,
                    n,
                    mean,
                    sd,
                    mean - half,
                    mean + half,
                    half,
                    rel,
                    blo,
                    bhi,
                    ilo,
                    ihi,
                    ihalf,
                    ratio,
                )
            )
    cols = [
        "scenario",
        "reference",
        "brand",
        "metric",
        "statistic",
        "replications",
        "diff",
        "sd",
        "ci_low",
        "ci_high",
        "half_width",
        "rel_diff",
        "boot_low",
        "boot_high",
        "indep_low",
        "indep_high",
        "indep_half_width",
        "width_ratio",
    ]
    df = pd.DataFrame(rows, columns=cols)
    df.insert(5, "method", "paired t")
    return _order(df, scenarios)
