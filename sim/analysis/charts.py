"""Charts of a run: trust, revenue by channel, consent and subscribers, trust around breaches.

Every function takes a `sim.runner.RunResult` (or its tidy ``timeseries`` DataFrame) and returns a
``matplotlib.figure.Figure`` built without pyplot, so nothing leaks between calls and no display is
needed; in a notebook the figure shows as the cell's result, in a script call ``.savefig`` or
`save_figure` (atomic). Several scenarios in one result become facets (one panel, or one row of
panels, per scenario) on shared axes, so scenarios compare at a glance.

Conventions, the same on every chart:

* a brand has the same colour everywhere (`brand_colours`: colour-blind-safe Okabe-Ito palette, in
  the order brands first appear in the run); a channel has a fixed colour (`CHANNEL_COLOURS`);
* lines are means over replications; the shaded band is, by default (``band="range"``), the
  5th-95th percentile of the replications: the spread of outcomes the runs produced. With
  ``band="ci"`` it is the 95% confidence interval of the mean (Student t), the interval that
  ``summary.csv`` reports; with the few replications of a quick run (t = 12.7 for two) that band
  covers the whole scale, which is why it is not the default. The caption under the chart says
  which band is drawn;
* money is in EUR, trust, consent rate and shares are in [0, 1], time in simulated days.
"""

from __future__ import annotations

import io
import textwrap
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter
from scipy import stats

from ..core.catalogue import CHANNELS
from ..core.storage import write_bytes
from .summary import summarise

if TYPE_CHECKING:
    from ..runner import RunResult

Band = Literal["ci", "range"]

# Okabe & Ito (2008), colour-blind safe; black last so it is used only with 8 brands.
BRAND_PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
CHANNEL_COLOURS = {
    "store": "#8c6d31",
    "web": "#3182bd",
    "app": "#6baed6",
    "marketplace": "#9e9ac8",
    "social": "#e377c2",
    "email": "#74c476",
    "magazine": "#bdbdbd",
}
UNIT_BOUNDS = (0.0, 1.0)  # trust, consent rate and shares
BREACH_WINDOW = (30, 180)  # days before and after a breach shown by plot_breach_window
SMOOTH_DAYS = 7

_RC = {
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "figure.titlesize": 12,
}


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------
def _timeseries(result: RunResult | pd.DataFrame) -> pd.DataFrame:
    return result if isinstance(result, pd.DataFrame) else result.timeseries


def _scenario_names(ts: pd.DataFrame, scenarios: str | Sequence[str] | None) -> list[str]:
    present = list(pd.unique(ts["scenario"].astype(str)))
    if scenarios is None:
        return present
    wanted = [scenarios] if isinstance(scenarios, str) else list(scenarios)
    missing = [s for s in wanted if s not in present]
    if missing:
        raise ValueError(
            f"no scenario named {', '.join(missing)} in this result "
            f"(scenarios: {', '.join(present)})"
        )
    return wanted


def _brands(ts: pd.DataFrame) -> list[str]:
    """Brands in the order they first appear (scenario order, then brand order), without 'all'."""
    seen = pd.unique(ts["brand"].astype(str))
    return [b for b in seen if b != "all"]


def brand_colours(brands: Iterable[str]) -> dict[str, str]:
    """One colour per brand, stable for a given brand order (Okabe-Ito, then tab20)."""
    brands = list(brands)
    if len(brands) <= len(BRAND_PALETTE):
        palette = list(BRAND_PALETTE)
    else:
        palette = [mpl.colors.to_hex(c) for c in mpl.colormaps["tab20"].colors]
    return {b: palette[k % len(palette)] for k, b in enumerate(brands)}


def _select(ts: pd.DataFrame, metric: str, channel: str = "all") -> pd.DataFrame:
    rows = ts[(ts["metric"] == metric) & (ts["channel"] == channel) & (ts["brand"] != "all")]
    out = rows[["scenario", "replication", "day", "brand", "value"]].copy()
    for col in ("scenario", "brand"):
        out[col] = out[col].astype(str)
    return out


def band_stats(values: pd.DataFrame, band: Band = "range") -> pd.DataFrame:
    """Mean and band over the columns of ``values`` (one column per replication or event).

    Returns columns ``mean, low, high, n``; with ``band="ci"`` the band is the 95% t interval of
    the mean (absent when n < 2), with ``band="range"`` the 5th-95th percentile of the columns.
    """
    if band not in ("ci", "range"):
        raise ValueError(f"band must be 'ci' or 'range', not {band!r}")
    arr = values.to_numpy(dtype=float)
    n = np.sum(~np.isnan(arr), axis=1)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows and single values
        mean = np.nanmean(arr, axis=1)
        if band == "ci":
            sd = np.nanstd(arr, axis=1, ddof=1)
            half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
            half = np.where(n > 1, half, np.nan)
            low, high = mean - half, mean + half
        else:
            low = np.nanpercentile(arr, 5, axis=1)
            high = np.nanpercentile(arr, 95, axis=1)
    return pd.DataFrame({"mean": mean, "low": low, "high": high, "n": n}, index=values.index)


def band_caption(band: Band, replications: int, unit: str = "replications") -> str:
    """The sentence that says what the line and the shaded band are."""
    if band == "ci":
        if replications < 2:
            return f"Lines: one run ({replications} {unit[:-1]}); no band with a single run."
        return (
            f"Lines: mean of {replications} {unit}; shaded: 95% confidence interval of the "
            f"mean (t)."
        )
    return f"Lines: mean of {replications} {unit}; shaded: 5th-95th percentile of the {unit}."


def _line_with_band(
    ax,
    stats_: pd.DataFrame,
    colour: str,
    label: str | None,
    bounds: tuple[float, float] = (-np.inf, np.inf),
    **kw,
) -> None:
    """The mean line and its shaded band, the band clipped to the metric's possible values."""
    x = stats_.index.to_numpy()
    ax.plot(x, stats_["mean"], color=colour, label=label, **kw)
    if stats_["low"].notna().any():
        ax.fill_between(
            x,
            stats_["low"].clip(*bounds),
            stats_["high"].clip(*bounds),
            color=colour,
            alpha=0.18,
            linewidth=0,
        )


def _fit_to_lines(
    axes: Iterable, bounds: tuple[float, float] = UNIT_BOUNDS, floor: float = 0.05
) -> None:
    """Y limits around the mean lines (not the bands: with few replications a 95% interval can
    span the whole scale and flatten every line), padded and kept within ``bounds``; the same
    limits on every axis given."""
    axes = list(axes)
    ys = [
        np.asarray(line.get_ydata(), dtype=float)
        for ax in axes
        for line in ax.get_lines()
        if len(line.get_ydata()) > 2
    ]
    ys = np.concatenate(ys) if ys else np.array([])
    ys = ys[np.isfinite(ys)]
    if ys.size == 0:
        return
    lo, hi = ys.min(), ys.max()
    pad = max((hi - lo) * 0.5, floor)
    for ax in axes:
        ax.set_ylim(max(bounds[0], lo - pad), min(bounds[1], hi + pad))


def _breach_events(ts: pd.DataFrame) -> pd.DataFrame:
    """Rows ``scenario, replication, brand, day`` of every breach (metric ``breaches`` > 0)."""
    b = _select(ts, "breaches")
    return b[b["value"] > 0][["scenario", "replication", "brand", "day"]].reset_index(drop=True)


def _figure(
    nrows: int,
    ncols: int,
    panel: tuple[float, float],
    extra_height: float = 1.2,
    sharex: bool = True,
    sharey: bool | str = True,
    fig: Figure | SubFigure | None = None,
) -> tuple[Figure | SubFigure, np.ndarray]:
    if fig is None:
        fig = Figure(
            figsize=(panel[0] * ncols + 0.6, panel[1] * nrows + extra_height), layout="constrained"
        )
    axes = fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False)
    return fig, axes


def _width_in(fig: Figure | SubFigure) -> float:
    return fig.bbox.width / fig.dpi


def _header(fig: Figure | SubFigure, title: str, handles: list) -> None:
    """Title and legend above the panels. The title is the legend's title: constrained layout
    stacks an outside legend and a suptitle on top of each other (matplotlib 3.8-3.11)."""
    per_row = max(2, int(_width_in(fig) / 1.25))
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=min(len(handles), per_row, 7),
        frameon=False,
        title=title,
        title_fontproperties={"size": mpl.rcParams["figure.titlesize"]},
    )


def _caption(fig: Figure | SubFigure, text: str) -> None:
    """A small grey note under the panels, wrapped to the figure's width."""
    fig.supxlabel(
        textwrap.fill(text, max(40, int(_width_in(fig) * 15))),
        fontsize=8,
        color="0.35",
        ha="center",
    )


def _replications(ts: pd.DataFrame, scenario: str | None = None) -> int:
    rows = ts if scenario is None else ts[ts["scenario"] == scenario]
    return int(rows["replication"].nunique())


def _reps_label(ts: pd.DataFrame, names: list[str]) -> int:
    return min(_replications(ts, s) for s in names)


def _scheduled_events(result, scenario: str) -> list[tuple[int, str]]:
    """Scheduled non-breach events (day, kind) from the scenario, when the result carries it."""
    scenarios = getattr(result, "scenarios", None) or {}
    spec = scenarios.get(scenario)
    if spec is None:
        return []
    return [(ev.day, ev.kind) for ev in spec.events if ev.kind != "breach"]


def _mark_events(
    ax, result, ts: pd.DataFrame, scenario: str, colours: dict[str, str]
) -> tuple[bool, bool]:
    """Breaches as triangles on the time axis (brand colour); other scheduled events as dotted
    lines. Returns whether breaches and whether scheduled events were drawn."""
    breaches = scheduled = False
    ev = _breach_events(ts)
    ev = ev[ev["scenario"] == scenario]
    if len(ev):
        trans = mpl.transforms.blended_transform_factory(ax.transData, ax.transAxes)
        marks = ev.groupby(["brand", "day"]).size().reset_index()
        ax.scatter(
            marks["day"],
            np.full(len(marks), 0.02),
            transform=trans,
            marker="^",
            s=42,
            c=[colours[b] for b in marks["brand"]],
            edgecolors="black",
            linewidths=0.5,
            zorder=5,
            clip_on=False,
        )
        breaches = True
    for day, _kind in _scheduled_events(result, scenario):
        ax.axvline(day, color="0.3", linestyle=":", linewidth=1.2)
        scheduled = True
    return breaches, scheduled


def _event_handles(breaches: bool = True, scheduled: bool = True) -> list:
    out = []
    if breaches:
        out.append(
            Line2D(
                [],
                [],
                marker="^",
                linestyle="none",
                markerfacecolor="white",
                markeredgecolor="black",
                label="breach (colour = brand)",
            )
        )
    if scheduled:
        out.append(
            Line2D([], [], color="0.3", linestyle=":", label="third-party leak / media story")
        )
    return out


def _brand_handles(brands: list[str], colours: dict[str, str]) -> list:
    return [Line2D([], [], color=colours[b], linewidth=2, label=b) for b in brands]


def _per_rep(rows: pd.DataFrame) -> pd.DataFrame:
    """day x replication table of values."""
    return rows.pivot_table(index="day", columns="replication", values="value", aggfunc="sum")


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    ncols = min(n, max_cols)
    return (n + ncols - 1) // ncols, ncols


def _hide_unused(axes: np.ndarray, used: int) -> None:
    for ax in axes.flat[used:]:
        ax.set_visible(False)


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------
def plot_trust(
    result: RunResult | pd.DataFrame,
    scenarios: str | Sequence[str] | None = None,
    band: Band = "range",
    fig: Figure | SubFigure | None = None,
) -> Figure:
    """Mean trust per brand over time, one panel per scenario, with a band across replications.

    Breaches are marked on the time axis in the breached brand's colour; scheduled third-party
    leaks and media stories as dotted lines.
    """
    ts = _timeseries(result)
    names = _scenario_names(ts, scenarios)
    colours = brand_colours(_brands(ts))
    trust = _select(ts, "trust")
    nrows, ncols = _grid(len(names))
    with mpl.rc_context(_RC):
        fig, axes = _figure(nrows, ncols, (4.6, 3.0), fig=fig)
        breaches = scheduled = False
        for ax, name in zip(axes.flat, names, strict=False):
            rows = trust[trust["scenario"] == name]
            for brand in pd.unique(rows["brand"]):
                st = band_stats(_per_rep(rows[rows["brand"] == brand]), band)
                _line_with_band(ax, st, colours[brand], brand, UNIT_BOUNDS, linewidth=1.6)
            b, e = _mark_events(ax, result, ts, name, colours)
            breaches, scheduled = breaches or b, scheduled or e
            ax.set_title(name)
            ax.set_xlabel("day")
            ax.set_ylabel("mean trust (0-1)")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2f}"))
            ax.tick_params(labelleft=True, labelbottom=True)
        _fit_to_lines(axes.flat[: len(names)])
        _hide_unused(axes, len(names))
        handles = _brand_handles(_brands(trust[trust["scenario"].isin(names)]), colours)
        handles += _event_handles(breaches, scheduled)
        _header(fig, "Consumers' trust in each brand", handles)
        _caption(
            fig,
            band_caption(band, _reps_label(ts, names))
            + " Trust: share of favourable experience, 0 = none, 1 = full.",
        )
    return fig


def plot_revenue(
    result: RunResult | pd.DataFrame,
    scenarios: str | Sequence[str] | None = None,
    smooth: int = SMOOTH_DAYS,
    fig: Figure | SubFigure | None = None,
) -> Figure:
    """Daily revenue by channel as stacked areas, one panel per brand and one row per scenario.

    Values are the mean over replications of each day's revenue, smoothed by a trailing
    ``smooth``-day moving average; every panel has the same y axis.
    """
    ts = _timeseries(result)
    names = _scenario_names(ts, scenarios)
    brands = _brands(ts[ts["scenario"].isin(names)])
    colours = brand_colours(_brands(ts))
    rev = ts[
        (ts["metric"] == "revenue")
        & (ts["channel"] != "all")
        & (ts["brand"] != "all")
        & ts["scenario"].isin(names)
    ]
    rev = rev.assign(
        scenario=rev["scenario"].astype(str),
        brand=rev["brand"].astype(str),
        channel=rev["channel"].astype(str),
    )
    mean = (
        rev.groupby(["scenario", "brand", "channel", "day"])["value"]
        .mean()
        .unstack("channel", fill_value=0.0)
    )
    channels = [c for c in CHANNELS if c in mean.columns and mean[c].abs().sum() > 0]
    with mpl.rc_context(_RC):
        fig, axes = _figure(len(names), len(brands), (3.4, 2.4), sharey=True, fig=fig)
        for i, name in enumerate(names):
            for j, brand in enumerate(brands):
                ax = axes[i, j]
                key = (name, brand)
                if key not in mean.index.droplevel("day"):
                    ax.text(
                        0.5,
                        0.5,
                        f"{brand} is not in\nthis scenario",
                        ha="center",
                        va="center",
                        transform=ax.transAxes,
                        color="0.4",
                    )
                    continue
                daily = mean.loc[key, channels].rolling(smooth, min_periods=1).mean()
                ax.stackplot(
                    daily.index,
                    daily.T.to_numpy(),
                    colors=[CHANNEL_COLOURS.get(c, "0.5") for c in channels],
                    labels=channels,
                    linewidth=0,
                )
                if i == 0:
                    ax.set_title(brand, color=colours[brand], fontweight="bold")
                if j == 0:
                    ax.set_ylabel(f"{name}\nEUR per day" if len(names) > 1 else "EUR per day")
                if i == len(names) - 1:
                    ax.set_xlabel("day")
                ax.yaxis.set_major_formatter(FuncFormatter(_money))
        handles = [Patch(color=CHANNEL_COLOURS.get(c, "0.5"), label=c) for c in channels]
        _header(fig, f"Revenue by channel of purchase ({smooth}-day moving average)", handles)
        _caption(
            fig,
            f"Stacked areas: mean daily revenue over {_reps_label(ts, names)} "
            "replications, by channel where the purchase was made (EUR per day).",
        )
    return fig


def plot_consent(
    result: RunResult | pd.DataFrame,
    scenarios: str | Sequence[str] | None = None,
    band: Band = "range",
    fig: Figure | SubFigure | None = None,
) -> Figure:
    """Consent rate and e-mail subscribers per brand over time, one row per scenario."""
    ts = _timeseries(result)
    names = _scenario_names(ts, scenarios)
    colours = brand_colours(_brands(ts))
    panels = (
        ("consent_rate", "consent rate (granted / asked)"),
        ("subscribers", "e-mail subscribers (consumers)"),
    )
    with mpl.rc_context(_RC):
        fig, axes = _figure(len(names), 2, (4.6, 2.6), sharey="col", fig=fig)
        breaches = scheduled = False
        for i, name in enumerate(names):
            for j, (metric, label) in enumerate(panels):
                ax = axes[i, j]
                rows = _select(ts, metric)
                rows = rows[rows["scenario"] == name]
                for brand in pd.unique(rows["brand"]):
                    st = band_stats(_per_rep(rows[rows["brand"] == brand]), band)
                    _line_with_band(
                        ax,
                        st,
                        colours[brand],
                        brand,
                        UNIT_BOUNDS if metric == "consent_rate" else (0, np.inf),
                        linewidth=1.6,
                    )
                b, e = _mark_events(ax, result, ts, name, colours)
                breaches, scheduled = breaches or b, scheduled or e
                if i == 0:
                    ax.set_title(label)
                ax.set_ylabel(
                    name
                    if len(names) > 1
                    else ("share of data types asked" if j == 0 else "consumers")
                )
                ax.set_ylim(bottom=0)
                if metric == "consent_rate":
                    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
                else:
                    ax.yaxis.set_major_formatter(FuncFormatter(_count))
                if i == len(names) - 1:
                    ax.set_xlabel("day")
        handles = _brand_handles(_brands(ts[ts["scenario"].isin(names)]), colours)
        handles += _event_handles(breaches, scheduled)
        _header(fig, "Consent and e-mail subscribers", handles)
        _caption(
            fig,
            band_caption(band, _reps_label(ts, names))
            + " Consent rate: data types consumers agreed to share / data types asked.",
        )
    return fig


VALUE_LABELS = {
    "net_value": "net value",
    "revenue": "revenue",
    "margin": "gross margin",
}


def plot_value(
    result: RunResult | pd.DataFrame,
    scenarios: str | Sequence[str] | None = None,
    metric: str = "net_value",
    window: int = 30,
    fig: Figure | SubFigure | None = None,
) -> Figure:
    """Money per day and brand at the end of the horizon: bars grouped by scenario, with the 95%
    confidence interval over replications (the ``summary`` numbers: mean of the last ``window``
    days of each replication, then over replications)."""

    ts = _timeseries(result)
    names = _scenario_names(ts, scenarios)
    colours = brand_colours(_brands(ts))
    summ = summarise(ts[ts["scenario"].isin(names)], window)
    summ = summ[(summ["metric"] == metric) & (summ["channel"] == "all") & (summ["brand"] != "all")]
    summ = summ.assign(scenario=summ["scenario"].astype(str), brand=summ["brand"].astype(str))
    brands = _brands(ts[ts["scenario"].isin(names)])
    width = 0.8 / max(len(brands), 1)
    with mpl.rc_context(_RC):
        fig, axes = _figure(
            1, 1, (max(4.0, 1.1 * len(names) * max(len(brands), 1) * 0.6), 3.0), fig=fig
        )
        ax = axes[0, 0]
        for k, brand in enumerate(brands):
            rows = summ[summ["brand"] == brand].set_index("scenario").reindex(names)
            x = np.arange(len(names)) + (k - (len(brands) - 1) / 2) * width
            err = np.vstack([rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]])
            ax.bar(
                x,
                rows["mean"],
                width * 0.92,
                color=colours[brand],
                label=brand,
                yerr=np.nan_to_num(err),
                capsize=2,
                error_kw={"linewidth": 0.8},
            )
        ax.axhline(0, color="black", linewidth=0.8)
        crowded = sum(len(n) + 2 for n in names) * 0.075 > _width_in(fig) * 0.8
        ax.set_xticks(
            np.arange(len(names)),
            names,
            rotation=20 if crowded else 0,
            ha="right" if crowded else "center",
        )
        ax.set_ylabel("EUR per day")
        ax.yaxis.set_major_formatter(FuncFormatter(_money))
        ax.grid(axis="x", visible=False)
        _header(
            fig,
            f"{VALUE_LABELS.get(metric, metric).capitalize()} per day (EUR)",
            _brand_handles(brands, colours),
        )
        reps = _reps_label(ts, names)
        note = (
            " Net value = gross margin - marketing, security and breach costs."
            if metric == "net_value"
            else ""
        )
        _caption(
            fig,
            f"Mean of the last {window} days of each of {reps} replications"
            + ("; whiskers: 95% confidence interval of the mean." if reps > 1 else ".")
            + note,
        )
    return fig


def breach_windows(
    result: RunResult | pd.DataFrame, before: int = BREACH_WINDOW[0], after: int = BREACH_WINDOW[1]
) -> pd.DataFrame:
    """Every brand's trust around every breach, aligned on the breach day.

    Returns the tidy table ``scenario, breached, event, replication, breach_day, brand,
    days_since, trust`` with ``days_since`` from ``-before`` to ``after`` (days beyond the
    horizon are absent). One ``event`` per breach of one brand in one replication.
    """
    ts = _timeseries(result)
    events = _breach_events(ts)
    trust = _select(ts, "trust")
    parts = []
    for k, ev in enumerate(events.itertuples(index=False)):
        rows = trust[
            (trust["scenario"] == ev.scenario)
            & (trust["replication"] == ev.replication)
            & (trust["day"] >= ev.day - before)
            & (trust["day"] <= ev.day + after)
        ]
        parts.append(
            rows.assign(
                breached=ev.brand, event=k, breach_day=ev.day, days_since=rows["day"] - ev.day
            ).rename(columns={"value": "trust"})
        )
    cols = [
        "scenario",
        "breached",
        "event",
        "replication",
        "breach_day",
        "brand",
        "days_since",
        "trust",
    ]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


def plot_breach_window(
    result: RunResult | pd.DataFrame,
    scenarios: str | Sequence[str] | None = None,
    band: Band = "range",
    before: int = BREACH_WINDOW[0],
    after: int = BREACH_WINDOW[1],
    fig: Figure | SubFigure | None = None,
    max_panels: int | None = None,
) -> Figure | None:
    """Trust of the breached brand (thick) and its rivals (thin) from ``before`` days before to
    ``after`` days after each breach, aligned on the breach day; one panel per scenario and
    breached brand, band across breaches (one per replication for a scheduled breach).

    ``max_panels`` keeps that many panels: scheduled breaches first, then the most frequent (the
    report shows one). Returns None
    when the selected scenarios have no breach.
    """
    ts = _timeseries(result)
    names = _scenario_names(ts, scenarios)
    colours = brand_colours(_brands(ts))
    win = breach_windows(ts, before, after)
    win = win[win["scenario"].isin(names)]
    if win.empty:
        return None
    groups = list(win.groupby(["scenario", "breached"], sort=False))
    if max_panels is not None and len(groups) > max_panels:
        # scheduled breaches (one day in every replication) first, then the most frequent
        keep = sorted(
            range(len(groups)),
            key=lambda k: (
                groups[k][1]["breach_day"].nunique() > 1,
                -groups[k][1]["event"].nunique(),
            ),
        )
        groups = [groups[k] for k in sorted(keep[:max_panels])]
        win = pd.concat([g for _, g in groups])
    nrows, ncols = _grid(len(groups))
    with mpl.rc_context(_RC):
        fig, axes = _figure(nrows, ncols, (4.6, 3.0), fig=fig)
        shown: list[str] = []
        for ax, ((name, breached), rows) in zip(axes.flat, groups, strict=False):
            n_events = rows["event"].nunique()
            days = sorted(rows["breach_day"].unique())
            for brand in pd.unique(rows["brand"]):
                per_event = rows[rows["brand"] == brand].pivot_table(
                    index="days_since", columns="event", values="trust"
                )
                st = band_stats(per_event, band)
                main = brand == breached
                _line_with_band(
                    ax,
                    st,
                    colours[brand],
                    brand,
                    UNIT_BOUNDS,
                    linewidth=2.4 if main else 1.2,
                    linestyle="-" if main else "--",
                )
                if brand not in shown:
                    shown.append(brand)
            ax.axvline(0, color="black", linewidth=0.8)
            ax.text(
                0,
                1.0,
                " breach",
                transform=mpl.transforms.blended_transform_factory(ax.transData, ax.transAxes),
                va="top",
                ha="left",
                fontsize=8,
            )
            when = f"day {days[0]}" if len(days) == 1 else f"{len(days)} different days"
            ax.set_title(
                f"{name}: {breached} breached\n"
                f"{when}, {n_events} breach{'es' if n_events > 1 else ''} averaged"
            )
            ax.set_xlabel("days since the breach")
            ax.set_ylabel("mean trust (0-1)")
            ax.set_xlim(-before, after)
            ax.tick_params(labelleft=True, labelbottom=True)
        # the panels share their y axis: fit it once to every panel's lines (fitting panel by
        # panel left only the last panel's range, clipping deeper drops elsewhere)
        _fit_to_lines(axes.flat[: len(groups)])
        _hide_unused(axes, len(groups))
        handles = _brand_handles(shown, colours) + [
            Line2D([], [], color="0.2", linewidth=2.4, label="breached brand"),
            Line2D([], [], color="0.2", linewidth=1.2, linestyle="--", label="rivals"),
        ]
        _header(fig, "Trust around each breach", handles)
        _caption(
            fig,
            band_caption(
                band,
                int(win.groupby(["scenario", "breached"])["event"].nunique().min()),
                "breaches",
            )
            + " Each breach is one replication's event, aligned on its day.",
        )
    return fig


# --------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------
def save_figure(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Write ``fig`` to ``path`` atomically (format from the suffix: .png, .pdf, .svg)."""
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(
        buf,
        format=path.suffix.lstrip(".") or "png",
        dpi=dpi,
        metadata={"Software": "omnitrust"} if path.suffix == ".png" else None,
    )
    return write_bytes(path, buf.getvalue())


def _money(v: float, _pos=None) -> str:
    if abs(v) >= 1e6:
        return f"{v / 1e6:.1f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f}k"
    if abs(v) >= 1e3:
        return f"{v / 1e3:.1f}k"
    return f"{v:.0f}"


def _count(v: float, _pos=None) -> str:
    if abs(v) >= 1e6:
        return f"{v / 1e6:.1f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f}k"
    return f"{v:,.0f}"
