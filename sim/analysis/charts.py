"""Charts of a run: trust, revenue by channel, consent and subscribers, trust around breaches.

Every function takes a `sim.runner.RunResult` (or its tidy ``timeseries`` DataFrame) and returns a
``matplotlib.figure.Figure`` built without pyplot, so nothing leaks between calls and no display is
needed; in a notebook the figure shows as the cell's result, in a script call ``.savefig`` or
`save_figure` (atomic). Several scenarios in one result become facets (one panel, or one row of
panels, per scenario) on shared axes, so scenarios compare at a glance.

Conventions, the same on every chart:

* a brand has the same colour everywhere (`brand_colours`: colour-blind-safe Okabe-Ito palette, in
  the order brands first appear in the run; beyond its 8 colours a brand's line and legend entry
  also carry a marker, `style.brand_styles`); a channel has a fixed colour (`CHANNEL_COLOURS`);
* lines are means over replications; the shaded band is, by default (``band="range"``), the
  5th-95th percentile of the replications: the spread of outcomes the runs produced. With
  ``band="ci"`` it is the 95% confidence interval of the mean (Student t), the interval that
  ``summary.csv`` reports; with the few replications of a quick run (t = 12.7 for two) that band
  covers the whole scale, which is why it is not the default. The caption under the chart says
  which band is drawn;
* money is in EUR, trust, consent rate and shares are in [0, 1], time in simulated days.
"""

from __future__ import annotations

import re
import textwrap
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..core.catalogue import CHANNELS
from . import style
from .style import BRAND_PALETTE, CHANNEL_COLOURS  # noqa: F401 (part of this module's API)
from .summary import summarise, window_words_of

if TYPE_CHECKING:
    from ..runner import RunResult

Band = Literal["ci", "range"]

UNIT_BOUNDS = (0.0, 1.0)  # trust, consent rate and shares
BREACH_WINDOW = (30, 180)  # days before and after a breach shown by plot_breach_window
SMOOTH_DAYS = 7

_RC = style.RC
_TEXT_BOX = {"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 0.6}
"""Behind a label drawn over lines and bands, so it stays readable."""
brand_colours = style.brand_colours
save_figure = style.save_figure
_count = style.count


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
    seen = [str(b) for b in pd.unique(ts["brand"])]  # (categories: no per-row string copies)
    return [b for b in seen if b != "all"]


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
            from scipy import stats  # only for this band: scipy.stats costs ~0.5 s to import

            sd = np.nanstd(arr, axis=1, ddof=1)
            half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
            half = np.where(n > 1, half, np.nan)
            low, high = mean - half, mean + half
        else:
            low = _row_percentile(arr, 5)
            high = _row_percentile(arr, 95)
    return pd.DataFrame({"mean": mean, "low": low, "high": high, "n": n}, index=values.index)


def _row_percentile(arr: np.ndarray, q: float) -> np.ndarray:
    """``np.nanpercentile(arr, q, axis=1)``, fast: rows without NaN go through one vectorised
    ``np.percentile`` (the same linear interpolation, so the same numbers); only rows with a NaN
    take NumPy's row-by-row NaN path (which, called on the whole table, costs ~0.1 s per chart)."""
    out = np.empty(arr.shape[0])
    has_nan = np.isnan(arr).any(axis=1) if arr.shape[1] else np.ones(arr.shape[0], bool)
    if not has_nan.all():
        out[~has_nan] = np.percentile(arr[~has_nan], q, axis=1)
    if has_nan.any():
        out[has_nan] = np.nanpercentile(arr[has_nan], q, axis=1)
    return out


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
    """The mean line and its shaded band, the band clipped to the metric's possible values.
    ``kw`` goes to the line (``Axes.plot``), e.g. a brand's `style.brand_styles` entry, whose
    ``color`` then replaces ``colour``."""
    colour = kw.pop("color", colour)
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
    """One y range on every axis given that holds every mean line (`sim.style.fit_ylim`)."""
    style.fit_ylim(axes, bounds, pad=0.25, floor=floor)


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


def _on_axes(ax, panels: int) -> tuple[Figure | SubFigure, np.ndarray]:
    """The caller's single ``ax`` as a 1x1 grid (for charts that draw one panel there)."""
    if panels != 1:
        raise ValueError(f"ax= draws one panel, but this chart has {panels}; pass one scenario")
    return ax.figure, np.array([[ax]])


def _axes_width_in(ax) -> float:
    """The width of ``ax`` in inches as it stands (before constrained layout widens it: less)."""
    return max(ax.bbox.width / ax.figure.dpi, 0.1)


def _label_axes(ax, title: str, handles: list, caption: str) -> None:
    """On a caller's ``ax``: the title, legend and caption that a whole figure puts around it,
    the title and caption wrapped to the axes' own width (`fill_to_width`), so that panels side
    by side keep their words apart and inside the figure."""
    width = _axes_width_in(ax)
    heading = f"{ax.get_title()}: {title}" if ax.get_title() else title
    ax.set_title(fill_to_width(heading, width, 9, underscores=True), fontsize=9)
    ax.legend(handles=handles, fontsize=7, loc="best")
    ax.set_xlabel(f"{ax.get_xlabel()}\n{fill_to_width(caption, width, 7)}", fontsize=7)


def _fit_titles(fig: Figure | SubFigure, axes: Iterable) -> None:
    """Panel titles (a long scenario name, say) wrapped to their panel's width, line by line,
    breaking after an underscore where a name has no space. Measured first on the panels as
    they stand, which constrained layout only widens; only when a title is too wide for that
    is the figure laid out once and the title wrapped to its panel's final width."""
    axes = [ax for ax in axes if ax.get_title()]

    def size(ax) -> float:
        return ax.title.get_fontsize()

    def too_wide() -> bool:
        return any(
            fill_to_width(line, _axes_width_in(ax), size(ax), underscores=True) != line
            for ax in axes
            for line in ax.get_title().split("\n")
        )

    if not axes or not too_wide():
        return
    fig.figure.draw_without_rendering()  # constrained layout: the panels' final widths
    for ax in axes:
        ax.set_title(
            "\n".join(
                fill_to_width(line, _axes_width_in(ax), size(ax), underscores=True)
                for line in ax.get_title().split("\n")
            ),
            fontsize=size(ax),  # (set_title alone would reset it to the default)
        )


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


CAPTION_POINTS = 8
"""Font size of a chart's caption (`_caption`)."""


def fill_to_width(
    text: str, width_in: float, size: float = CAPTION_POINTS, underscores: bool = False
) -> str:
    """``text`` wrapped (`textwrap.fill`) into lines that each measure at most ``width_in``
    inches in the current font at ``size`` points: the widest number of characters whose
    lines all fit, measured with the font's own glyph widths (`matplotlib.textpath`), so a
    narrow figure gets short lines rather than a caption cut at its edges. A word wider than
    the width is broken, down to one character per line; with ``underscores``, a line may also
    end after an underscore (scenario names such as ``privacy_first_with_...``)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=size)
    measure = TextToPath().get_text_width_height_descent
    limit = width_in * 72.0  # points

    def fits(lines: list[str]) -> bool:
        return all(measure(line, prop, ismath=False)[0] <= limit for line in lines)

    def wrap(chars: int) -> list[str]:
        wrapper = textwrap.TextWrapper(chars)
        if underscores:  # split after "_" too (zero-width: the name keeps its characters)
            wrapper.wordsep_re = re.compile(r"(\s+|(?<=_)(?=[^_\s]))")
        return wrapper.wrap(text)

    if "\n" not in text and fits([text]):
        return text
    average = measure(text, prop, ismath=False)[0] / max(len(text), 1)
    chars = max(1, int(limit / max(average, 1e-9)))
    lines = wrap(chars)
    while chars > 1 and not fits(lines):
        chars -= 1
        lines = wrap(chars)
    return "\n".join(lines)


def _caption(fig: Figure | SubFigure, text: str) -> None:
    """A small grey note under the panels, wrapped to the figure's width (less 0.1 in each
    side, constrained layout's padding with room to spare), in lines that never reach past its
    edges however narrow it is (`fill_to_width`)."""
    fig.supxlabel(
        fill_to_width(text, max(_width_in(fig) - 0.2, 0.1)),
        fontsize=CAPTION_POINTS,
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


def policy_change_day(result, scenario: str) -> int | None:
    """The reported day the brands' policies of ``scenario`` take effect (``policy_from_day``),
    when the result carries the scenario and it sets one."""
    spec = (getattr(result, "scenarios", None) or {}).get(scenario)
    return getattr(spec, "policy_from_day", None)


def _mark_policy_change(ax, result, scenario: str) -> bool:
    """A dash-dot line on the day the scenario's policies take effect; whether one was drawn."""
    day = policy_change_day(result, scenario)
    if day is None:
        return False
    ax.axvline(day, color="0.1", linestyle="-.", linewidth=1.1)
    return True


def _event_handles(breaches: bool = True, scheduled: bool = True, policy: bool = False) -> list:
    out = []
    if policy:
        out.append(Line2D([], [], color="0.1", linestyle="-.", label="policy change"))
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
    """Legend entries of ``brands``: their colour, and the marker `style.brand_styles` gives a
    brand beyond the palette's 8 (``colours`` as `brand_colours` returned it, in brand order)."""
    styles = style.brand_styles(colours)
    return [
        Line2D(
            [], [], color=colours[b], linewidth=2, label=b,
            marker=styles[b].get("marker") or "None",
        )
        for b in brands
    ]  # fmt: skip


def _brand_line(colours: dict[str, str], brand: str) -> dict:
    """``Axes.plot`` keywords of ``brand``'s line: its `style.brand_styles` entry (colour, and
    beyond 8 brands a marker) for the brand order of ``colours``."""
    return style.brand_styles(colours)[brand]


def _per_rep(rows: pd.DataFrame) -> pd.DataFrame:
    """day x replication table of values."""
    return rows.pivot_table(index="day", columns="replication", values="value", aggfunc="sum")


def _grid(
    n: int,
    panel: tuple[float, float] = (4.6, 3.0),
    max_cols: int = 4,
    group: int = 1,
    screen: tuple[float, float] | None = None,
):
    """Rows, columns and panel size of small multiples that fit a screen (`style.panel_grid`)."""
    return style.panel_grid(
        n, panel, max_cols=max_cols, group=group, screen=screen or style.SCREEN_IN
    )


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
    title: str | None = None,
    screen: tuple[float, float] | None = None,
    ax=None,
) -> Figure:
    """Mean trust per brand over time, one panel per scenario, with a band across replications.
    The panels wrap to fit ``screen`` (width, height in inches; default `style.SCREEN_IN`).

    Breaches are marked on the time axis in the breached brand's colour; scheduled third-party
    leaks and media stories as dotted lines. ``ax``: draw the one scenario's panel there
    (returns that axes' figure).
    """
    ts = _timeseries(result)
    names = _scenario_names(ts, scenarios)
    colours = brand_colours(_brands(ts))
    trust = _select(ts, "trust")
    nrows, ncols, panel = _grid(len(names), screen=screen)
    given = ax is not None
    with mpl.rc_context(_RC):
        if given:
            fig, axes = _on_axes(ax, len(names))
        else:
            fig, axes = _figure(nrows, ncols, panel, fig=fig)
        breaches = scheduled = changed = False
        for ax, name in zip(axes.flat, names, strict=False):
            rows = trust[trust["scenario"] == name]
            for brand in pd.unique(rows["brand"]):
                st = band_stats(_per_rep(rows[rows["brand"] == brand]), band)
                _line_with_band(
                    ax, st, colours[brand], brand, UNIT_BOUNDS, linewidth=1.6,
                    **_brand_line(colours, brand),
                )  # fmt: skip
            b, e = _mark_events(ax, result, ts, name, colours)
            breaches, scheduled = breaches or b, scheduled or e
            changed = _mark_policy_change(ax, result, name) or changed
            ax.set_title(name)
            ax.set_xlabel("day")
            if ax.get_subplotspec().is_first_col():
                ax.set_ylabel("mean trust (0-1)")
            ax.yaxis.set_major_formatter(style.DecimalFormatter(2))
            ax.tick_params(labelleft=True, labelbottom=True)
        _fit_to_lines(axes.flat[: len(names)])
        _hide_unused(axes, len(names))
        handles = _brand_handles(_brands(trust[trust["scenario"].isin(names)]), colours)
        handles += _event_handles(breaches, scheduled, changed)
        caption = (
            band_caption(band, _reps_label(ts, names))
            + " Trust: share of favourable experience, 0 = none, 1 = full."
        )
        if given:
            _label_axes(axes[0, 0], "consumers' trust in each brand", handles, caption)
        else:
            _header(fig, title or "Consumers' trust in each brand", handles)
            _caption(fig, caption)
            _fit_titles(fig, axes.flat[: len(names)])
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
        nb_ = max(len(brands), 1)
        nrows, ncols, panel = _grid(len(names), (3.4, 2.4), max_cols=3, group=nb_)
        fig, axes = _figure(nrows, ncols, panel, sharey=True, fig=fig)
        for i, name in enumerate(names):
            for j, brand in enumerate(brands):
                ax = axes.flat[i * nb_ + j]
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
                ax.set_title(brand, color=colours[brand], fontweight="bold", fontsize=9)
                if j == 0 and len(names) > 1:  # the scenario names its group of panels
                    ax.annotate(
                        name,
                        (0, 1),
                        xycoords="axes fraction",
                        xytext=(0, 16),
                        textcoords="offset points",
                        ha="left",
                        va="bottom",
                        fontsize=9.5,
                        fontweight="bold",
                    )
                if ax.get_subplotspec().is_first_col():
                    ax.set_ylabel("EUR per day")
                ax.tick_params(labelbottom=True)
                if i >= len(names) - ncols // nb_:
                    ax.set_xlabel("day")
                ax.yaxis.set_major_formatter(style.MoneyFormatter())
        _hide_unused(axes, len(names) * nb_)
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
    title: str | None = None,
) -> Figure:
    """Consent rate and e-mail subscribers per brand over time: two panels per scenario, the
    pairs wrapped so that many scenarios still fit a screen. Each column of panels has one y
    range that holds every line of every scenario."""
    ts = _timeseries(result)
    names = _scenario_names(ts, scenarios)
    colours = brand_colours(_brands(ts))
    panels = (
        ("consent_rate", "consent rate", UNIT_BOUNDS),
        ("subscribers", "e-mail subscribers", (0.0, np.inf)),
    )
    nrows, ncols, panel = _grid(len(names), (4.2, 2.6), max_cols=3, group=2)
    with mpl.rc_context(_RC):
        fig, axes = _figure(nrows, ncols, panel, sharey=False, fig=fig)
        breaches = scheduled = changed = False
        by_metric: dict[str, list] = {m: [] for m, _, _ in panels}
        for k, name in enumerate(names):
            for j, (metric, label, bounds) in enumerate(panels):
                ax = axes.flat[2 * k + j]
                by_metric[metric].append(ax)
                rows = _select(ts, metric)
                rows = rows[rows["scenario"] == name]
                for brand in pd.unique(rows["brand"]):
                    st = band_stats(_per_rep(rows[rows["brand"] == brand]), band)
                    _line_with_band(
                        ax, st, colours[brand], brand, bounds, linewidth=1.6,
                        **_brand_line(colours, brand),
                    )  # fmt: skip
                b, e = _mark_events(ax, result, ts, name, colours)
                breaches, scheduled = breaches or b, scheduled or e
                changed = _mark_policy_change(ax, result, name) or changed
                # two lines: "scenario: metric" on one runs into the next panel's title
                ax.set_title(f"{name}\n{label}", fontsize=9)
                if metric == "consent_rate":
                    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
                else:
                    ax.yaxis.set_major_formatter(FuncFormatter(_count))
                ax.tick_params(labelbottom=True)
                if k >= len(names) - ncols // 2:
                    ax.set_xlabel("day")
        for metric, _, bounds in panels:
            style.fit_ylim(by_metric[metric], bounds, zero=True)
        _hide_unused(axes, 2 * len(names))
        handles = _brand_handles(_brands(ts[ts["scenario"].isin(names)]), colours)
        handles += _event_handles(breaches, scheduled, changed)
        _header(fig, title or "Consent and e-mail subscribers", handles)
        _fit_titles(fig, axes.flat[: 2 * len(names)])
        _caption(
            fig,
            band_caption(band, _reps_label(ts, names))
            + " Consent rate: data types consumers agreed to share / data types asked "
            "(percent); subscribers: consumers on the brand's e-mail list.",
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
    ax=None,
) -> Figure:
    """Money per day and brand at the end of the horizon: bars grouped by scenario, with the 95%
    confidence interval over replications (the ``summary`` numbers: mean of the last ``window``
    days of each replication, then over replications). ``ax``: draw there (one panel). A
    ``metric`` the run does not have is refused (`UserError`), not drawn as an empty chart, and
    so is one that is not money (trust, purchases, ...: `style.METRICS` unit other than EUR),
    which the chart's EUR axis would mislabel; `plot_trust`, `plot_consent` draw those."""
    from ..core.errors import UserError
    from .outcomes import metric_list

    ts = _timeseries(result)
    present = ts["metric"].unique()
    metric_list([metric], present)
    money = sorted(str(m) for m in present if style.METRICS.get(str(m), ("", ""))[1] == "EUR")
    if metric not in money:
        raise UserError(
            f"metric = {metric!r} is not money: plot_value draws EUR per day; allowed: "
            f"{', '.join(money)} (trust: plot_trust; consent and subscribers: plot_consent)"
        )
    names = _scenario_names(ts, scenarios)
    colours = brand_colours(_brands(ts))
    summ = summarise(ts[ts["scenario"].isin(names)], window)
    summ = summ[(summ["metric"] == metric) & (summ["channel"] == "all") & (summ["brand"] != "all")]
    summ = summ.assign(scenario=summ["scenario"].astype(str), brand=summ["brand"].astype(str))
    brands = _brands(ts[ts["scenario"].isin(names)])
    width = 0.8 / max(len(brands), 1)
    given = ax is not None
    with mpl.rc_context(_RC):
        if given:
            fig, axes = _on_axes(ax, 1)
        else:
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
        ax.yaxis.set_major_formatter(style.MoneyFormatter())
        ax.grid(axis="x", visible=False)
        title = f"{VALUE_LABELS.get(metric, metric).capitalize()} per day (EUR)"
        handles = _brand_handles(brands, colours)
        reps = _reps_label(ts, names)
        # the definition's words as the README and sim/mechanisms/metrics.py.net_value give it
        note = (
            " Net value = gross margin - marketing, security, lever (personalization, "
            "integration, transparency) and breach costs."
            if metric == "net_value"
            else ""
        )
        days = ts[ts["scenario"].isin(names)].groupby("scenario", observed=True)["day"]
        horizons = (days.max() - days.min() + 1).astype(int).tolist()
        caption = (
            f"Mean of {window_words_of(horizons, window)} of each of {reps} replications"
            + ("; whiskers: 95% confidence interval of the mean." if reps > 1 else ".")
            + note
        )
        if given:
            _label_axes(ax, title, handles, caption)
        else:
            _header(fig, title, handles)
            _caption(fig, caption)
    return fig


def breach_windows(
    result: RunResult | pd.DataFrame, before: int = BREACH_WINDOW[0], after: int = BREACH_WINDOW[1]
) -> pd.DataFrame:
    """Every brand's trust around every breach, aligned on the breach day.

    Returns the tidy table ``scenario, breached, event, replication, breach_day, brand,
    days_since, trust, next_breach`` with ``days_since`` from ``-before`` to ``after`` (days
    beyond the horizon are absent). One ``event`` per breach of one brand in one replication;
    ``next_breach``: days from it to that brand's next breach in that replication (NaN if none
    follows), whose drop in trust is not this breach's.
    """
    ts = _timeseries(result)
    events = _breach_events(ts)
    order = events.sort_values(["scenario", "replication", "brand", "day"])
    following = order.groupby(["scenario", "replication", "brand"])["day"].shift(-1)
    events["next_breach"] = following.reindex(events.index) - events["day"]
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
                breached=ev.brand,
                event=k,
                breach_day=ev.day,
                days_since=rows["day"] - ev.day,
                next_breach=ev.next_breach,
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
        "next_breach",
    ]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


def _notify_delay(result, scenario: str, brand: str) -> float | None:
    """Days from a breach of ``brand`` to notifying consumers (its policy), when known."""
    spec = (getattr(result, "scenarios", None) or {}).get(scenario)
    if spec is None:
        return None
    for b in spec.brands:
        if b.name == brand:
            return float(b.policy.notify_within_days)
    return None


def _scheduled_breaches(result, scenario: str) -> list[tuple[str, int]]:
    """(brand, day) of the scenario's scheduled breaches, when the result carries the scenario."""
    spec = (getattr(result, "scenarios", None) or {}).get(scenario)
    if spec is None:
        return []
    return [(ev.brand, ev.day) for ev in spec.events if ev.kind == "breach"]


def breach_panels(
    result: RunResult | pd.DataFrame,
    win: pd.DataFrame,
    brand: str | None = None,
    max_panels: int | None = 6,
) -> tuple[list[tuple[tuple[str, str], pd.DataFrame]], list[tuple[tuple[str, str], str]]]:
    """The (scenario, breached brand) windows worth a panel, and those left out, each with why:
    ``"unscheduled"`` (random breaches, beside scheduled ones that have panels), ``"other
    brand"`` (random breaches of a brand other than ``brand``) or ``"limit"`` (past
    ``max_panels``).

    Scheduled breaches (the scenario's story) come first and, when there are any, alone: each
    panel then averages the breach on its scheduled day across replications, not the random
    breaches that happen on other days. Without scheduled breaches: ``brand``'s breaches (the
    focal brand) if it has any, otherwise every brand's, the most frequent first.
    """
    groups = []
    for (name, breached), rows in win.groupby(["scenario", "breached"], sort=False):
        sched = [d for b, d in _scheduled_breaches(result, name) if b == breached]
        if sched:
            rows = rows[rows["breach_day"].isin(sched)]
        groups.append(((name, breached), rows, bool(sched)))
    if any(g[2] for g in groups):
        chosen = [g for g in groups if g[2]]
        why = "unscheduled"
    elif brand is not None and any(k[1] == brand for k, _, _ in groups):
        chosen = [g for g in groups if g[0][1] == brand]
        why = "other brand"
    else:
        chosen = sorted(groups, key=lambda g: -g[1]["event"].nunique())
        why = "limit"
    kept = {g[0] for g in chosen}
    left_out = [(key, why) for key, _, _ in groups if key not in kept]
    if max_panels is not None and len(chosen) > max_panels:
        left_out += [(key, "limit") for key, _, _ in chosen[max_panels:]]
        chosen = chosen[:max_panels]
    order = {key: k for k, (key, _, _) in enumerate(groups)}
    chosen.sort(key=lambda g: order[g[0]])
    return [(key, rows) for key, rows, _ in chosen], left_out


def left_out_words(left_out: list[tuple[tuple[str, str], str]], max_panels: int | None) -> str:
    """What `breach_panels` left out, in words for the chart's caption (empty if nothing)."""
    if not left_out:
        return ""

    def which(keys: list[tuple[str, str]]) -> str:
        named = [f"{b} in {s}" for s, b in keys[:3]]
        more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
        return ", ".join(named) + more

    words = {
        "unscheduled": "of random breaches, where the other panels show the scheduled ones",
        "other brand": "of random breaches of another brand than the one charted",
        "limit": f"past the first {max_panels}",
    }
    parts = []
    for why, what in words.items():
        keys = [key for key, w in left_out if w == why]
        if keys:
            parts.append(f"{len(keys)} panel(s) {what} ({which(keys)})")
    return " Not shown: " + "; ".join(parts) + "."


def breach_finding(rows: pd.DataFrame, breached: str) -> str:
    """Trust of the breached brand before the breach, at its lowest after, and at the end of the
    window, from the mean over breaches: ``"trust 0.62 -> lowest 0.41 (day +38) -> 0.47
    (day +110)"``; when the lowest day is the window's last, once: ``"trust 0.53 -> lowest
    0.50 at the end (day +110)"``. The lowest is sought before the brand's next breach in any
    of the replications (``next_breach``, when ``rows`` has it), whose drop is not this
    breach's: ``"... -> lowest 0.43 (day +2; next breach day +44) -> ..."``."""
    own = rows[rows["brand"] == breached].groupby("days_since")["trust"].mean()
    before = own[own.index < 0]
    after = own[own.index >= 0]
    if before.empty or after.empty:
        return ""
    cutoff = next_breach_within(rows, breached, int(after.index[-1]))
    sought = after if cutoff is None else after[after.index < cutoff]
    if sought.empty:
        sought, cutoff = after, None
    low_day, last_day = int(sought.idxmin()), int(after.index[-1])
    if low_day == last_day:
        return (
            f"trust {before.iloc[-1]:.2f} -> lowest {sought.min():.2f} at the end (day +{low_day})"
        )
    next_words = "" if cutoff is None else f"; next breach day +{cutoff}"
    return (
        f"trust {before.iloc[-1]:.2f} -> lowest {sought.min():.2f} (day +{low_day}"
        f"{next_words}) -> {after.iloc[-1]:.2f} (day +{last_day})"
    )


def next_breach_within(rows: pd.DataFrame, breached: str, last_day: int) -> int | None:
    """The first day (since the breach) on which ``breached`` is breached again in any of the
    replications of ``rows``, when that is within the window (up to ``last_day``)."""
    if "next_breach" not in rows:
        return None
    nxt = rows.loc[rows["brand"] == breached, "next_breach"].dropna()
    if nxt.empty or nxt.min() > last_day:
        return None
    return int(nxt.min())


def plot_breach_window(
    result: RunResult | pd.DataFrame,
    scenarios: str | Sequence[str] | None = None,
    band: Band = "range",
    before: int = BREACH_WINDOW[0],
    after: int = BREACH_WINDOW[1],
    fig: Figure | SubFigure | None = None,
    max_panels: int | None = 6,
    brand: str | None = None,
    title: str | None = None,
    screen: tuple[float, float] | None = None,
) -> Figure | None:
    """Trust of the breached brand (thick) and its rivals (thin dashed) from ``before`` days
    before to ``after`` days after a breach, aligned on the breach day, with the day consumers
    are notified marked; one panel per scenario and breached brand (`breach_panels` chooses:
    scheduled breaches first, else the focal ``brand``), band across breaches (one per
    replication for a scheduled breach). The x axis spans the days the window actually has.

    Returns None when the selected scenarios have no breach.
    """
    ts = _timeseries(result)
    names = _scenario_names(ts, scenarios)
    colours = brand_colours(_brands(ts))
    win = breach_windows(ts, before, after)
    win = win[win["scenario"].isin(names)]
    if win.empty:
        return None
    groups, left_out = breach_panels(result, win, brand, max_panels)
    win = pd.concat([g for _, g in groups])
    nrows, ncols, panel = _grid(len(groups), (4.6, 3.0), max_cols=3, screen=screen)
    with mpl.rc_context(_RC):
        fig, axes = _figure(nrows, ncols, panel, sharex=False, fig=fig)
        shown: list[str] = []
        notified = False
        for ax, ((name, breached), rows) in zip(axes.flat, groups, strict=False):
            n_events = rows["event"].nunique()
            days = sorted(rows["breach_day"].unique())
            for b in pd.unique(rows["brand"]):
                per_event = rows[rows["brand"] == b].pivot_table(
                    index="days_since", columns="event", values="trust"
                )
                st = band_stats(per_event, band)
                main = b == breached
                _line_with_band(
                    ax,
                    st,
                    colours[b],
                    b,
                    UNIT_BOUNDS,
                    linewidth=2.4 if main else 1.2,
                    linestyle="-" if main else "--",
                    **_brand_line(colours, b),
                )
                if b not in shown:
                    shown.append(b)
            trans = mpl.transforms.blended_transform_factory(ax.transData, ax.transAxes)
            ax.axvline(0, color="black", linewidth=0.9)
            delay = _notify_delay(result, name, breached)
            lo, hi = int(rows["days_since"].min()), int(rows["days_since"].max())
            # "breach" left of its line where the days before leave room, so that a
            # notification a few days later does not run its line through the word
            room = -lo >= 0.12 * max(hi - lo, 1)
            ax.text(
                0,
                1.0,
                "breach " if room else " breach",
                transform=trans,
                va="top",
                ha="right" if room else "left",
                fontsize=8,
                bbox=_TEXT_BOX,
            )
            # the notification's words at the top too, in the strip that fit_ylim's pad leaves
            # above the highest line (lower down, they sat on a rival's line): on the top row
            # right of their own line, one row lower where "breach" could meet them (written
            # right of its line, or the note of a notification after the window, right-aligned)
            second = trans + mpl.transforms.ScaledTranslation(0, -12 / 72, fig.dpi_scale_trans)
            row = trans if room else second
            if delay is not None and delay <= hi:
                ax.axvline(delay, color="0.25", linewidth=1.0, linestyle="-.")
                ax.text(
                    delay,
                    1.0,
                    f" notified (+{delay:g} d)",
                    transform=row,
                    va="top",
                    ha="left",
                    fontsize=8,
                    bbox=_TEXT_BOX,
                )
                notified = True
            elif delay is not None:  # notified after the last day shown: say so
                ax.text(
                    hi,
                    1.0,
                    f"notified +{delay:g} d, after this window ",
                    transform=second,
                    va="top",
                    ha="right",
                    fontsize=8,
                    bbox=_TEXT_BOX,
                )
            when = f"day {days[0]}" if len(days) == 1 else f"{len(days)} different days"
            finding = breach_finding(rows, breached)
            ax.set_title(
                f"{name}: {breached} breached {when}\n{finding or f'{n_events} breaches'}",
                fontsize=9,
            )
            ax.set_xlabel("days since the breach")
            if ax.get_subplotspec().is_first_col():
                ax.set_ylabel("mean trust (0-1)")
            ax.set_xlim(lo, hi)
            ax.tick_params(labelleft=True, labelbottom=True)
        # the panels share their y axis: fit it once to every panel's lines
        _fit_to_lines(axes.flat[: len(groups)])
        _hide_unused(axes, len(groups))
        handles = _brand_handles(shown, colours) + [
            Line2D([], [], color="0.2", linewidth=2.4, label="breached brand"),
            Line2D([], [], color="0.2", linewidth=1.2, linestyle="--", label="rivals"),
        ]
        if notified:
            handles.append(
                Line2D([], [], color="0.25", linewidth=1.0, linestyle="-.", label="notified")
            )
        _header(fig, title or "Trust around each breach", handles)
        _fit_titles(fig, axes.flat[: len(groups)])
        n_min = int(win.groupby(["scenario", "breached"])["event"].nunique().min())
        again = any(
            next_breach_within(rows, breached, int(rows["days_since"].max())) is not None
            for (_, breached), rows in groups
        )
        _caption(
            fig,
            band_caption(band, n_min, "breaches")
            + " Each breach is one replication's event, aligned on its day."
            + (
                " Lowest: before the brand's next breach in any replication (the day the title"
                " names), whose drop is not this breach's."
                if again
                else ""
            )
            + left_out_words(left_out, max_panels),
        )
    return fig
