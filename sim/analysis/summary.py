"""Summaries of a run's tidy table: horizon means with intervals, and the headline per brand.

``summarise`` gives, per scenario, brand, channel and metric, the mean over the last 30 days of each
replication (all its days in a shorter run, `window_words`) and then over replications, with a 95% t interval; ``headline`` picks the four numbers
an executive reads per brand (trust, revenue, net value, consent) and ``text_summary`` prints them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..runner import RunResult

SUMMARY_WINDOW_DAYS = 30
STOCK_HEADLINES = ("trust", "consent_rate")  # end-of-horizon means; the others: whole horizon
HEADLINE_METRICS = {  # metric -> column name in `headline`
    "trust": "trust",
    "revenue": "revenue_per_day",
    "net_value": "net_value_per_day",
    "consent_rate": "consent_rate",
}


def window_words(days: int | None, window: int = SUMMARY_WINDOW_DAYS) -> str:
    """What the ``window`` statistic averages over a run of ``days`` days: "the last 30 days",
    or "all 10 days" for a run shorter than the window (None: the window's own words).
    ``window``: the window's length, 30 days unless a chart asks for another."""
    if days is None or days >= window:
        return f"the last {window} days"
    return f"all {days} days"


def window_words_of(horizons, window: int = SUMMARY_WINDOW_DAYS) -> str:
    """`window_words` for runs of the given ``horizons`` (days): theirs when they share one,
    else the window's own words with "(all the days of a shorter run)"."""
    horizons = set(horizons)
    if len(horizons) == 1:
        return window_words(horizons.pop(), window)
    return f"{window_words(None, window)} (all the days of a shorter run)"


def summarise(timeseries: pd.DataFrame, window: int = SUMMARY_WINDOW_DAYS) -> pd.DataFrame:
    """Per scenario, brand, channel and metric: the mean over the last ``window`` days of each
    replication, then the mean over replications with a 95% t interval (NaN width for one run).
    ``window_days``: the days actually averaged, all of them in a run shorter than ``window``."""
    by_scenario = timeseries.groupby("scenario", observed=True)["day"]
    span = (by_scenario.max() - by_scenario.min() + 1).clip(upper=window)
    last_day = by_scenario.transform("max")
    tail = timeseries[timeseries["day"] > last_day - window]
    keys = ["scenario", "brand", "channel", "metric"]
    per_rep = tail.groupby([*keys, "replication"], observed=True)["value"].mean().reset_index()
    g = per_rep.groupby(keys, observed=True)["value"]
    out = g.agg(mean="mean", sd="std", replications="count").reset_index()
    several = out["replications"] > 1
    if several.any():
        from scipy import stats  # imported here: scipy.stats costs ~0.4-0.7 s of start-up

        tcrit = stats.t.ppf(0.975, np.maximum(out["replications"] - 1, 1))
        half = np.where(several, tcrit * out["sd"] / np.sqrt(out["replications"]), np.nan)
    else:  # one replication each: no interval, and no scipy to import for it
        half = np.full(len(out), np.nan)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    out["window_days"] = out["scenario"].map(span).astype(int)
    return out


def headline(result: RunResult, window: int | None = None) -> pd.DataFrame:
    """One row per scenario and brand: trust and consent rate (means of the last ``window`` days,
    default 30), revenue and net value per day (EUR, means over the whole horizon, so that breach
    costs and lost sales count wherever they fall), each averaged over replications with its 95%
    interval (``<column>_low``, ``<column>_high``), and ``breaches_per_run``, the mean number of
    breaches of the brand over the whole horizon per replication."""
    ts = result.timeseries
    # only the rows the headline reads (channel "all", one row per brand, its four metrics): the
    # same means as summarising the whole table, at a tenth of the work (issue 14)
    read = ts[
        (ts["channel"] == "all")
        & (ts["brand"] != "all")
        & ts["metric"].isin(list(HEADLINE_METRICS))
    ]
    stocks = summarise(read, SUMMARY_WINDOW_DAYS if window is None else window)
    horizon = summarise(read, window=int(ts["day"].max()) + 1)
    summ = pd.concat(
        [
            stocks[stocks["metric"].isin(list(STOCK_HEADLINES))],
            horizon[~horizon["metric"].isin(list(STOCK_HEADLINES))],
        ]
    )
    summ = summ.assign(
        scenario=summ["scenario"].astype(str),
        brand=summ["brand"].astype(str),
        metric=summ["metric"].astype(str),
    )
    parts = []
    for metric, col in HEADLINE_METRICS.items():
        rows = summ[summ["metric"] == metric].set_index(["scenario", "brand"])
        parts.append(
            rows[["mean", "ci_low", "ci_high"]].rename(
                columns={"mean": col, "ci_low": f"{col}_low", "ci_high": f"{col}_high"}
            )
        )
    out = pd.concat(parts, axis=1)
    br = ts[(ts["metric"] == "breaches") & (ts["channel"] == "all") & (ts["brand"] != "all")]
    per_run = br.groupby(["scenario", "brand", "replication"], observed=True)["value"].sum()
    per_run = per_run.groupby(["scenario", "brand"], observed=True).mean()
    per_run.index = per_run.index.set_levels(
        [per_run.index.levels[0].astype(str), per_run.index.levels[1].astype(str)]
    )
    out["breaches_per_run"] = per_run.reindex(out.index).fillna(0.0).to_numpy()
    order = [(s, b) for s in result.scenarios for b in (x.name for x in result.scenarios[s].brands)]
    out = out.reindex([k for k in order if k in out.index])
    return out.reset_index()


def _interval(mean: float, low: float, high: float, fmt: str) -> str:
    if np.isnan(low) or np.isnan(high):
        return format(mean, fmt)
    return f"{format(mean, fmt)} ± {format((high - low) / 2, fmt)}"


def text_summary(result: RunResult, table: pd.DataFrame | None = None) -> str:
    """The short summary printed at the end of ``omnitrust run``."""
    table = headline(result) if table is None else table
    lines = []
    columns = [
        ("trust", "trust (0-1)", ".3f"),
        ("revenue_per_day", "revenue/day (EUR)", ",.0f"),
        ("net_value_per_day", "net value/day (EUR)", ",.0f"),
        ("consent_rate", "consent rate", ".1%"),
    ]
    for name, spec in result.scenarios.items():
        sim = spec.simulation
        lines.append(f"{name}: {spec.description}".rstrip(": "))
        lines.append(
            f"  {sim.replications} replications x {sim.days} days x "
            f"{sim.consumers:,} consumers, seed {sim.seed}"
        )
        rows = table[table["scenario"] == name]
        cells = [["brand", *(label for _, label, _ in columns), "breaches/run"]]
        for r in rows.itertuples(index=False):
            d = r._asdict()
            cells.append(
                [
                    d["brand"],
                    *(_interval(d[c], d[f"{c}_low"], d[f"{c}_high"], f) for c, _, f in columns),
                    f"{d['breaches_per_run']:.1f}",
                ]
            )
        widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
        for row in cells:
            lines.append(
                "  "
                + "  ".join(
                    cell.ljust(w) if k == 0 else cell.rjust(w)
                    for k, (cell, w) in enumerate(zip(row, widths, strict=True))
                )
            )
        lines.append("")
    spans = result.summary().groupby("scenario", observed=True, sort=False)["window_days"].first()
    order = [str(n) for n in getattr(result, "scenarios", spans.index) if n in spans.index]
    words = {n: window_words(int(spans[n])) for n in order}  # (all its days if shorter)
    window = (
        next(iter(words.values()))
        if len(set(words.values())) == 1
        else ", ".join(f"{w} for {n}" for n, w in words.items())
    )
    lines.append(
        f"Trust and consent: means over {window}; revenue and net value: daily means "
        "over the whole horizon (breach costs included); then over replications. "
        "± is the half-width of the 95% confidence interval."
    )
    return "\n".join(lines)
