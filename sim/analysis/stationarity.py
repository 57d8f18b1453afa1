"""Does a market stand still? Warm-up diagnostics and a trend check on the key outputs.

* `mser5`: the MSER-5 truncation point of a series (White 1997; White, Cobb & Spratt 2000): the
  series is cut into batches of 5 observations; for each candidate number d of batches to delete
  the statistic
      MSER(d) = 1 / (m - d)^2 * sum_{j > d} (Z_j - mean_{j > d} Z)^2
  (Z_j the batch means, m their number) is the squared standard error of the mean of what is
  kept; the truncation point is 5 d* with d* the minimiser over d <= m / 2 (a truncation must
  keep at least half the run; a minimiser at that bound means the series still moves at its
  middle).
* `second_year_change`: the relative change of a stock between two 30-day windows, the quiet
  market's measure (docs/ODD.md, "A quiet market stands still").
* `trend_warnings`: the check behind the warning of ``omnitrust run``: in a scenario with no events,
  no world trend, no policy change in the reported days and no breach met by any of its runs, a key output of some brand whose mean over the last 30 days differs from the
  mean over the first 30 by more than the quiet-market tolerance is reported.
* `steady_days` and `quiet_before`: a scenario's market as it runs until something is scheduled
  to happen (its first event, its policy change), without stochastic breaches: what must stand
  still in its reported days (docs/ODD.md 5.1; ``benchmarks/steady_scenarios.py``).
* `mser_table`: the MSER-5 truncation point of every brand's key stocks in a run from the
  artificial initial state (no warm-up) and `warmup_verdict`, whether ``simulation.warmup_days``
  covers the largest (``omnitrust warmup``); `tolerance_warmup`, the shortest warm-up from which
  every later one leaves the reported span within the quiet-market tolerances.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..scenario import Scenario

KEY_STOCKS = ("trust", "consent_rate", "subscribers", "active_customers")
# Quiet-market tolerance on the relative change over a year (issue 9): trust and consent rate 3%,
# subscribers and active customers 5%.
TOLERANCE = {"trust": 0.03, "consent_rate": 0.03, "subscribers": 0.05, "active_customers": 0.05}
WINDOW_DAYS = 30
BATCH = 5


def mser5(series) -> int:
    """MSER-5 truncation point of ``series``: how many observations to delete (a multiple of 5).

    The search runs over d = 0..floor(m / 2) batches (a truncation must keep at least half the
    run); a trailing partial batch is ignored. A result equal to ``mser5_bound(len(series))``
    means the series is still moving at its middle: run longer before trusting it.
    """
    y = np.asarray(series, dtype=np.float64)
    m = y.size // BATCH
    if m < 2:
        raise ValueError(f"MSER-5 needs at least {2 * BATCH} observations, got {y.size}")
    z = y[: m * BATCH].reshape(m, BATCH).mean(axis=1)
    best_d, best = 0, np.inf
    for d in range(m // 2 + 1):
        rest = z[d:]
        stat = ((rest - rest.mean()) ** 2).sum() / (m - d) ** 2
        if stat < best:
            best_d, best = d, stat
    return BATCH * best_d


def mser5_bound(n: int) -> int:
    """The largest truncation point `mser5` can return for a series of ``n`` observations."""
    return BATCH * ((n // BATCH) // 2)


def window_mean(values: np.ndarray, start: int, length: int = WINDOW_DAYS) -> np.ndarray:
    """Mean of ``values[start : start + length]`` along axis 0."""
    return values[start : start + length].mean(axis=0)


def relative_change(early: np.ndarray, late: np.ndarray) -> np.ndarray:
    """(late - early) / |early| (0 where both are 0, inf where only early is)."""
    early, late = np.asarray(early, float), np.asarray(late, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (late - early) / np.abs(early)
    return np.where((early == 0) & (late == 0), 0.0, out)


def is_quiet(scenario) -> bool:
    """A scenario with no scheduled event, no world trend and no policy change during the reported
    days: nothing it declares should move its market."""
    return (
        not scenario.events
        and scenario.world.privacy_concern_trend == 0.0
        and getattr(scenario, "policy_from_day", None) is None
    )


def breached_runs(timeseries: pd.DataFrame) -> pd.DataFrame:
    """The runs (scenario, replication) that met a (stochastic) breach during the reported days:
    their market moved because something happened, which the trend check must not call drift."""
    hits = timeseries[
        (timeseries["metric"] == "breaches")
        & (timeseries["channel"] == "all")
        & (timeseries["value"] > 0)
    ]
    return hits[["scenario", "replication"]].drop_duplicates()


def without_breached_runs(timeseries: pd.DataFrame) -> pd.DataFrame:
    """The table without the runs that met a breach (the other replications of the same scenario
    stay: with several brands most multi-replication runs meet one somewhere, and dropping the
    whole scenario would silence the check)."""
    hit = breached_runs(timeseries)
    if hit.empty:
        return timeseries
    keys = pd.MultiIndex.from_frame(timeseries[["scenario", "replication"]].astype(str))
    drop = pd.MultiIndex.from_frame(hit.astype(str))
    return timeseries[~keys.isin(drop)]


def trend_table(timeseries: pd.DataFrame, window: int = WINDOW_DAYS) -> pd.DataFrame:
    """Per scenario, brand and key stock: mean of the first and last ``window`` days (over
    replications), their relative change and whether it exceeds the quiet-market tolerance."""
    ts = timeseries[
        timeseries["metric"].isin(KEY_STOCKS)
        & (timeseries["channel"] == "all")
        & (timeseries["brand"] != "all")
    ]
    if ts.empty:
        columns = ["scenario", "brand", "metric", "first", "last", "change", "tolerance", "trends"]
        return pd.DataFrame(columns=columns).astype({"trends": bool})
    last_day = int(ts["day"].max())
    first = ts[ts["day"] < window].groupby(["scenario", "brand", "metric"], observed=True)
    last = ts[ts["day"] > last_day - window].groupby(["scenario", "brand", "metric"], observed=True)
    table = pd.DataFrame({"first": first["value"].mean(), "last": last["value"].mean()})
    table["change"] = relative_change(table["first"].to_numpy(), table["last"].to_numpy())
    table = table.reset_index()
    table["tolerance"] = table["metric"].map(TOLERANCE).astype(float)
    table["trends"] = table["change"].abs() > table["tolerance"]
    return table


def run_change_noise(timeseries: pd.DataFrame, window: int = WINDOW_DAYS) -> pd.DataFrame:
    """Per scenario, brand and key stock: how many runs there are (``runs``) and the standard
    error of the mean of their relative changes between the first and last ``window`` days
    (``se``; NaN for a single run): the Monte Carlo noise of ``trend_table``'s change."""
    ts = timeseries[
        timeseries["metric"].isin(KEY_STOCKS)
        & (timeseries["channel"] == "all")
        & (timeseries["brand"] != "all")
    ]
    keys = ["scenario", "brand", "metric", "replication"]
    last_day = int(ts["day"].max())
    first = ts[ts["day"] < window].groupby(keys, observed=True)["value"].mean()
    last = ts[ts["day"] > last_day - window].groupby(keys, observed=True)["value"].mean()
    first, last = first.align(last, join="inner")
    change = pd.Series(relative_change(first.to_numpy(), last.to_numpy()), index=first.index)
    by = change.groupby(level=["scenario", "brand", "metric"], observed=True)
    return pd.DataFrame({"runs": by.size(), "se": by.std(ddof=1) / np.sqrt(by.size())})


def trend_warnings(timeseries: pd.DataFrame, scenarios) -> list[str]:
    """Warnings for the quiet scenarios (no events, no trend, no policy change) whose key outputs
    still trend between their first and last 30 days (at least 2 windows apart), over the runs
    that met no breach. With two runs or more, a change is reported only when it exceeds the
    tolerance by more than twice its standard error over runs (so that Monte Carlo noise of a
    small run is not called drift); a change seen in one run only is reported as possibly noise."""
    quiet = {s.name for s in scenarios if is_quiet(s) and s.simulation.days >= 3 * WINDOW_DAYS}
    if not quiet:
        return []
    ts = without_breached_runs(timeseries[timeseries["scenario"].isin(quiet)])
    table = trend_table(ts)
    table = table[table["trends"]]
    if table.empty:
        return []
    noise = run_change_noise(ts)
    out = []
    for row in table.itertuples():
        runs, se = noise.loc[(row.scenario, row.brand, row.metric)]
        if runs >= 2 and abs(row.change) - 2 * se <= row.tolerance:
            continue
        caveat = (
            f"over {int(runs)} runs, standard error {se:.1%}"
            if runs >= 2
            else "in the only run without a breach: could be noise, more replications tell"
        )
        out.append(
            f"warning: scenario {row.scenario!r} has no events and no trend, yet {row.brand}'s "
            f"{row.metric} moves {row.change:+.1%} between its first and last {WINDOW_DAYS} days "
            f"({caveat}; tolerance {row.tolerance:.0%}); lengthen simulation.warmup_days (of every "
            "scenario compared with it, to keep them paired; `omnitrust warmup` checks it) or "
            "check the parameters (docs/ODD.md, 'A quiet market stands still')"
        )
    return out


def steady_days(scenario: Scenario) -> int:
    """How many reported days of ``scenario`` nothing is scheduled to happen in: the day of its
    first event or of its policy change (``policy_from_day``), else its horizon."""
    days = [scenario.simulation.days, *(ev.day for ev in scenario.events)]
    if scenario.policy_from_day is not None:
        days.append(scenario.policy_from_day)
    return min(days)


def quiet_before(
    scenario: Scenario, days: int | None = None, warmup: int | None = None
) -> Scenario:
    """The market of ``scenario`` as it runs until something is scheduled to happen: the brands'
    policies before any change (`Scenario.before_change`), no scheduled events, no stochastic
    breaches (``world.attack_pressure`` = 0; the warm-up has none either, so it is the scenario's
    own warm-up), over ``days`` reported days (default `steady_days`) after ``warmup`` warm-up
    days (default the scenario's). Nothing in it should move."""
    data = scenario.before_change().model_dump(mode="python")
    data["world"]["attack_pressure"] = 0.0
    data["events"] = []
    data["simulation"]["days"] = steady_days(scenario) if days is None else int(days)
    if warmup is not None:
        data["simulation"]["warmup_days"] = int(warmup)
    return type(scenario).model_validate(data)


def mser_table(stocks: np.ndarray, brands: list[str], stock_names) -> pd.DataFrame:
    """MSER-5 truncation point of every brand's key stocks.

    ``stocks``: daily stocks (days, brands, stocks) of a run from the initial state (means over
    replications), columns named by ``stock_names`` (`sim.mechanisms.metrics.STOCKS`). Returns
    ``brand, metric, truncation, at_bound`` (``at_bound``: the minimiser is the largest allowed
    truncation, half the run, so the series still moves at its middle: run longer)."""
    bound = mser5_bound(stocks.shape[0])
    rows = []
    for b, brand in enumerate(brands):
        for metric in KEY_STOCKS:
            d = mser5(stocks[:, b, list(stock_names).index(metric)])
            rows.append((brand, metric, d, d == bound))
    return pd.DataFrame(rows, columns=["brand", "metric", "truncation", "at_bound"])


def warmup_verdict(table: pd.DataFrame, warmup_days: int) -> str:
    """One line: does ``warmup_days`` cover the largest truncation point of `mser_table`?"""
    worst = table.loc[table["truncation"].idxmax()]
    where = f"{worst['brand']}'s {worst['metric']}"
    if bool(table["at_bound"].any()):
        return (
            f"the largest MSER-5 truncation point, {worst['truncation']} days ({where}), is at the "
            "bound (half the run): some output still moves at the middle of the run; run it longer "
            f"(--days) before choosing simulation.warmup_days (now {warmup_days})"
        )
    if warmup_days >= worst["truncation"]:
        return (
            f"simulation.warmup_days = {warmup_days} covers the largest MSER-5 truncation point, "
            f"{worst['truncation']} days ({where})"
        )
    return (
        f"simulation.warmup_days = {warmup_days} is shorter than the largest MSER-5 truncation "
        f"point, {worst['truncation']} days ({where}): the reported days may still drift; "
        f"consider simulation.warmup_days >= {worst['truncation']}"
    )


def tolerance_warmup(
    stocks: np.ndarray, stock_names, span: int, step: int = WINDOW_DAYS
) -> int | None:
    """The shortest warm-up W (a multiple of ``step``) from which on, for every later W' as well,
    a reported span of ``span`` days started at day W' of ``stocks`` (days, brands, stocks: a run
    from the initial state, means over replications) keeps every brand's key stocks within the
    quiet-market tolerances (mean of its last `WINDOW_DAYS` days against its first, as the trend
    warning and ``benchmarks/steady_scenarios.py`` measure). ``None`` when even the last span that
    fits in the run moves too much, or the run is too short for one span.

    Unlike MSER-5, which weighs the bias of what is kept against its standard error and so goes on
    truncating a very precise series that still moves by a fraction of a percent, this asks the
    question of issue 9's target directly."""
    days = stocks.shape[0]
    if span < 2 * WINDOW_DAYS or days < span:
        return None
    cols = [list(stock_names).index(m) for m in KEY_STOCKS]
    tol = np.array([TOLERANCE[m] for m in KEY_STOCKS])
    starts = np.arange(0, days - span + 1, step)
    ok = []
    for w in starts:
        early = stocks[w : w + WINDOW_DAYS][:, :, cols].mean(axis=0)
        late = stocks[w + span - WINDOW_DAYS : w + span][:, :, cols].mean(axis=0)
        ok.append(bool((np.abs(relative_change(early, late)) < tol).all()))
    if not ok[-1]:
        return None
    first_bad_from_end = next((i for i in range(len(ok) - 1, -1, -1) if not ok[i]), None)
    return int(starts[0 if first_bad_from_end is None else first_bad_from_end + 1])
