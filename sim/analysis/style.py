"""One chart style for every picture the package draws (run charts, experiment charts, reports).

* Brands keep one colour everywhere (`brand_colours`: the colour-blind-safe Okabe & Ito 2008
  palette, in the order brands first appear); beyond its 8 colours, brands repeat them with a
  marker on their lines (`brand_styles`). Scenarios get a separate palette
  (`scenario_colours`: Paul Tol's colour-blind-safe "muted" scheme, none of whose colours is a
  brand colour), so a colour never means a brand on one chart and a scenario on the next;
  beyond its 10 colours, scenarios repeat them with another line style (`scenario_styles`).
  Channels have fixed colours (`CHANNEL_COLOURS`).
* Metrics are labelled in words with their unit (`metric_label`), never by their column name.
* Axes fit every plotted line (`fit_ylim`): a line is never cut off by the frame.
* Small multiples are sized to fit a screen (`panel_grid`): many panels shrink and wrap instead
  of growing a picture taller than a page.
* One way to write a picture: `save_figure` (atomic; format from the suffix) and `figure_bytes`
  (in memory, for reports).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from ..core.storage import write_bytes

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
# Paul Tol's "muted" scheme (https://personal.sron.nl/~pault/), colour-blind safe and disjoint
# from the brand palette; used for scenarios (a scenario is never drawn in a brand's colour).
SCENARIO_PALETTE = (
    "#332288",
    "#CC6677",
    "#117733",
    "#DDCC77",
    "#882255",
    "#88CCEE",
    "#999933",
    "#44AA99",
    "#AA4499",
    "#6F6F6F",
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

RC = {
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
SCREEN_IN = (15.0, 8.5)
"""Largest figure (width, height in inches) a chart of small multiples grows to: at 100 dpi it
fits a 1600 x 900 screen."""

# metric -> (words, unit). Unit "" means a plain count of events per day.
METRICS: dict[str, tuple[str, str]] = {
    "trust": ("mean trust", "0-1"),
    "trust_p10": ("trust of the least trusting 10%", "0-1"),
    "consent_rate": ("consent rate", "share of data types asked"),
    "subscribers": ("e-mail subscribers", "consumers"),
    "active_customers": ("active customers", "consumers"),
    "churned": ("churned customers", "consumers"),
    "records_held": ("records held", "accounts"),
    "revenue": ("revenue", "EUR"),
    "net_value": ("net value", "EUR"),
    "margin": ("gross margin", "EUR"),
    "marketing_cost": ("marketing spend", "EUR"),
    "security_cost": ("security spend", "EUR"),
    "personalization_cost": ("personalization spend", "EUR"),
    "integration_cost": ("integration spend", "EUR"),
    "transparency_cost": ("transparency spend", "EUR"),
    "personalization_margin": ("margin from personalization", "EUR"),
    "spam_losses": ("losses to spam", "EUR"),
    "breach_cost": ("breach cost", "EUR"),
    "purchases": ("purchases", "purchases"),
    "breaches": ("breaches", "breaches"),
    "emails_sent": ("e-mails sent", "e-mails"),
    "unsubscribes": ("unsubscribes", "consumers"),
    "spam_complaints": ("spam complaints", "complaints"),
    "churn_events": ("customers lost", "consumers"),
    "webrooming_share": ("webrooming", "share of buyers"),
    "showrooming_share": ("showrooming", "share of buyers"),
    "multichannel_share": ("multichannel shoppers", "share of buyers"),
}
STATISTICS = {"total": "total over the horizon", "window": "mean of the last 30 days"}
"""The per-run statistics in words; ``window`` as for a run of 30 days or more: a shorter run
averages all its days, which `metric_label` says when given the run's ``days``."""


def metric_label(
    metric: str, statistic: str | None = None, unit: bool = True, days: int | None = None
) -> str:
    """``"net value (EUR, total over the horizon)"``: a metric in words with its unit; with
    ``days``, the runs' horizon, a ``window`` statistic says the days it averages
    (`sim.analysis.summary.window_words`: ``mean of all 20 days`` for a run of 20 days)."""
    from .summary import window_words

    words, u = METRICS.get(metric, (metric.replace("_", " "), ""))
    stat = STATISTICS.get(statistic or "", "")
    if statistic == "window" and days is not None:
        stat = f"mean of {window_words(days)}"
    parts = [p for p in (u if unit else "", stat) if p]
    return f"{words} ({', '.join(parts)})" if parts else words


SCENARIO_DASHES = ("-", "--", ":", "-.")
"""Line styles for scenarios beyond the palette: the 11th to 20th scenario repeat the palette's
colours dashed, the 21st to 30th dotted, and so on."""


BRAND_MARKERS = ("", "o", "s", "D", "P", "X")
"""Marks for brands beyond the palette: the 9th to 16th brand repeat the Okabe-Ito colours with
circles on their lines, the 17th to 24th with squares, and so on. Markers, not line styles,
because a brand's line style already means something on some charts (rivals dashed, the
unchanged scenario dashed); never "^", the breach marker."""


def brand_styles(brands: Iterable[str]) -> dict[str, dict]:
    """Colour (and, beyond 8 brands, marker) per brand, in the given order: the colour-blind-safe
    Okabe-Ito palette (never a scenario's colour) with plain lines, then the same colours again
    with the next marker of `BRAND_MARKERS` (sparse: ``markevery``), so any number of brands stays
    colour-blind safe and a repeated colour always comes with a marker, as scenarios come with a
    line style (`scenario_styles`). Each dict can be passed to ``Axes.plot``."""
    names = list(dict.fromkeys(brands))
    n = len(BRAND_PALETTE)
    out: dict[str, dict] = {}
    for k, name in enumerate(names):
        marker = BRAND_MARKERS[(k // n) % len(BRAND_MARKERS)]
        st: dict = {"color": BRAND_PALETTE[k % n]}
        if marker:
            st.update(marker=marker, markevery=0.1, markersize=4)
        out[name] = st
    return out


def brand_colours(brands: Iterable[str]) -> dict[str, str]:
    """One colour per brand, stable for a given brand order (`brand_styles`' colours: Okabe-Ito;
    beyond 8 brands they repeat, and lines tell the repeats apart by `brand_styles`' marker)."""
    return {n: st["color"] for n, st in brand_styles(brands).items()}


def scenario_styles(scenarios: Iterable[str]) -> dict[str, dict[str, str]]:
    """Colour and line style per scenario, in the given order: the colour-blind-safe scenario
    palette (Tol muted, never a brand's colour) with solid lines, then the same colours again
    with the next line style of `SCENARIO_DASHES`, so any number of scenarios stays
    colour-blind safe and a repeated colour always comes with another line style."""
    names = list(dict.fromkeys(scenarios))
    n = len(SCENARIO_PALETTE)
    return {
        name: {
            "color": SCENARIO_PALETTE[k % n],
            "linestyle": SCENARIO_DASHES[(k // n) % len(SCENARIO_DASHES)],
        }
        for k, name in enumerate(names)
    }


def scenario_colours(scenarios: Iterable[str]) -> dict[str, str]:
    """One colour per scenario (`scenario_styles`' colours; beyond 10 scenarios they repeat,
    and charts of lines tell the repeats apart by line style)."""
    return {n: st["color"] for n, st in scenario_styles(scenarios).items()}


def line_extent(axes: Iterable) -> tuple[float, float] | None:
    """Smallest and largest finite y (in data units) of every line drawn on ``axes``, None if
    there is none."""
    ys = [
        np.asarray(line.get_ydata(), dtype=float).ravel()
        for ax in axes
        for line in ax.get_lines()
        if np.size(line.get_ydata()) > 1
        # y in data units (not a vertical marker line, whose y spans the axes 0-1)
        and line.get_transform().contains_branch_seperately(ax.transData)[1]
    ]
    y = np.concatenate(ys) if ys else np.array([])
    y = y[np.isfinite(y)]
    return (float(y.min()), float(y.max())) if y.size else None


def fit_ylim(
    axes: Iterable,
    bounds: tuple[float, float] = (-np.inf, np.inf),
    pad: float = 0.08,
    floor: float = 0.0,
    zero: bool = False,
) -> tuple[float, float] | None:
    """Give ``axes`` one y range that holds every line drawn on any of them.

    The range is the lines' extent padded by ``pad`` of its span (at least ``floor``), kept
    within ``bounds`` (the metric's possible values) and, with ``zero``, stretched to include 0.
    Bands are not considered: with few replications a 95% band can span the whole scale and
    flatten every line; they are clipped instead. Returns the limits set.
    """
    axes = list(axes)
    ext = line_extent(axes)
    if ext is None:
        return None
    lo, hi = ext
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = max(hi - lo, floor, abs(hi) * 1e-6, 1e-12)
    margin = max(span * pad, floor / 2)
    limits = (max(bounds[0], lo - margin), min(bounds[1], hi + margin))
    if zero and lo >= 0:
        limits = (max(bounds[0], 0.0), limits[1])
    for ax in axes:
        ax.set_ylim(*limits)
    return limits


def panel_grid(
    n: int,
    panel: tuple[float, float] = (4.6, 3.0),
    max_cols: int = 4,
    group: int = 1,
    screen: tuple[float, float] = SCREEN_IN,
    min_panel: tuple[float, float] = (2.2, 1.5),
) -> tuple[int, int, tuple[float, float]]:
    """Rows, columns and panel size (inches) for ``n`` groups of ``group`` panels side by side,
    so that the picture fits ``screen``: panels shrink (down to ``min_panel``) and groups wrap
    into more columns before the picture grows taller than a screen."""
    best = None
    for groups_per_row in range(1, max(1, min(n, max_cols)) + 1):
        ncols = groups_per_row * group
        nrows = math.ceil(n / groups_per_row)
        w = min(panel[0], screen[0] / ncols)
        h = min(panel[1], (screen[1] - 1.2) / nrows)
        w, h = max(w, min_panel[0]), max(h, min_panel[1])
        fits = ncols * w <= screen[0] + 1e-9 and nrows * h + 1.2 <= screen[1] + 1e-9
        # prefer pictures that fit, then bigger panels, then fewer rows (a screen is wide)
        key = (fits, round(min(w / panel[0], h / panel[1]), 3), groups_per_row)
        if best is None or key > best[0]:
            best = (key, nrows, ncols, (w, h))
    _, nrows, ncols, size = best
    return nrows, ncols, size


def png_provenance(manifest: dict | None = None) -> dict[str, str]:
    """The text chunks a PNG chart carries: ``Software`` (omnitrust and its version) and, from a
    run's ``manifest`` (`sim.runner.RunResult.manifest`, the run's ``manifest.json``), the
    content hash and base seed of each scenario it shows (``Scenario hashes``, ``Seeds``:
    ``name=value; ...``) and the model fingerprint, so a picture found on its own says which
    runs drew it."""
    from .. import __version__

    out = {"Software": f"omnitrust {__version__}"}
    scenarios = (manifest or {}).get("scenarios") or {}
    if scenarios:
        out["Scenario hashes"] = "; ".join(
            f"{name}={info.get('hash')}" for name, info in scenarios.items()
        )
        out["Seeds"] = "; ".join(f"{name}={info.get('seed')}" for name, info in scenarios.items())
    fingerprint = ((manifest or {}).get("versions") or {}).get("model_fingerprint")
    if fingerprint:
        out["Model fingerprint"] = str(fingerprint)
    return out


def figure_bytes(
    fig: Figure, fmt: str = "png", dpi: int = 150, manifest: dict | None = None
) -> bytes:
    """The picture in ``fmt`` (png, svg, pdf) as bytes; a PNG carries `png_provenance` of
    ``manifest`` (the run's, when the caller has it) in its text chunks."""
    buf = io.BytesIO()
    fig.savefig(
        buf,
        format=fmt,
        dpi=dpi,
        metadata=png_provenance(manifest) if fmt == "png" else None,
    )
    return buf.getvalue()


def save_figure(
    fig: Figure, path: str | Path, dpi: int = 150, manifest: dict | None = None
) -> Path:
    """Write ``fig`` to ``path`` atomically (format from the suffix: .png, .pdf, .svg); a PNG
    carries the provenance of the run's ``manifest`` (`png_provenance`)."""
    path = Path(path)
    return write_bytes(path, figure_bytes(fig, path.suffix.lstrip(".") or "png", dpi, manifest))


# (threshold, divisor, suffix, decimals) of `money`, largest first
_MONEY_UNITS = ((1e9, 1e9, "bn", 1), (1e6, 1e6, "M", 1), (1e4, 1e3, "k", 0), (1e3, 1e3, "k", 1))


def money(v: float, _pos=None, step: float | None = None) -> str:
    """EUR amounts in short form: 1.2M, 35k, 4.1k, 950. With ``step`` (the spacing of an axis'
    ticks) as many decimals as tell ticks ``step`` apart: 0.02 -> "0.02", 10.5k, 1.02M."""
    a = abs(v)
    if step is None and a < 0.5 or step is not None and a < step * 1e-6:
        return "0"  # not "-0"
    div, suffix, decimals = 1.0, "", 0
    for threshold, d, u, k in _MONEY_UNITS:
        if a >= threshold:
            div, suffix, decimals = d, u, k
            break
    if step is not None and step > 0:
        decimals = _decimals(step / div)  # 5k, 10k, 15k; 2.5k, 5.0k; 1.00M, 1.02M
    return f"{v / div:.{decimals}f}{suffix}"


def _decimals(x: float) -> int:
    """The fewest decimals that write ``x`` (> 0) to within a millionth of itself."""
    for d in range(10):
        if abs(round(x, d) - x) <= 1e-6 * x:
            return d
    return 10


def _shared_data_interval(axis) -> tuple[float, float]:
    """The data interval of ``axis`` over every axes sharing it: shared axes (``sharey``) keep
    one formatter, the last one set, so its view of the data must be that of all of them."""
    ax = axis.axes
    x = axis is ax.xaxis
    group = ax.get_shared_x_axes() if x else ax.get_shared_y_axes()
    lo, hi = np.inf, -np.inf
    for sibling in group.get_siblings(ax):
        a, b = (sibling.xaxis if x else sibling.yaxis).get_data_interval()
        lo, hi = min(lo, a), max(hi, b)
    return lo, hi


class MoneyFormatter(Formatter):
    """Tick labels of a EUR axis (`money`) whose precision follows the tick spacing, so that
    distinct ticks get distinct labels (0.02 apart: -0.02, 0, 0.02; not 0, 0, 0). An axis whose
    data are all zero (a cost no run had; within 1e-9 EUR) is labelled by its 0 tick alone."""

    def __init__(self) -> None:
        self.step: float | None = None
        self.zero = False

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        values = np.unique(np.asarray(locs, dtype=float))
        diffs = np.diff(values[np.isfinite(values)])
        self.step = float(diffs[diffs > 0].min()) if (diffs > 0).any() else None
        lo, hi = _shared_data_interval(self.axis) if self.axis is not None else (np.nan, np.nan)
        # all zero, up to the rounding of drawing (an error bar of 0 spans -1e-17..0)
        self.zero = bool(abs(lo) <= 1e-9 and abs(hi) <= 1e-9)

    def __call__(self, x: float, pos=None) -> str:
        if self.zero:
            return "0" if x == 0 or (self.step and abs(x) < self.step * 1e-6) else ""
        return money(x, pos, self.step)


class DecimalFormatter(Formatter):
    """Tick labels with at least ``min_decimals`` decimals and as many more as the tick
    spacing needs (0.025 apart: 0.475, 0.500, 0.525; not 0.48, 0.50, 0.53)."""

    def __init__(self, min_decimals: int = 2) -> None:
        self.min_decimals = min_decimals
        self.decimals = min_decimals

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        values = np.asarray(locs, dtype=float)
        values = values[np.isfinite(values)]
        diffs = np.diff(np.unique(values))
        step = float(diffs.min()) if diffs.size else 1.0
        self.decimals = self.min_decimals
        while self.decimals < 12 and np.any(
            np.abs(values - np.round(values, self.decimals)) > step * 1e-6
        ):
            self.decimals += 1

    def __call__(self, x: float, pos=None) -> str:
        text = f"{x:.{self.decimals}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text


def count(v: float, _pos=None) -> str:
    """Counts in short form: 1.2M, 35k, 4,100."""
    if abs(v) >= 1e6:
        return f"{v / 1e6:.1f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f}k"
    return f"{v:,.0f}"
