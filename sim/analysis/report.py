"""The one-page executive report of a run: ``result.report("report.pdf")``.

One A4 page (PDF, vector charts): the title and what the scenarios tell; a headline table per
scenario and brand (trust at the end of the horizon, revenue and net value per day, consent rate,
each with its 95% interval, and breaches per run); trust over time; net value per day; trust
around the most frequent breach (or, without breaches, the consent rate); and a provenance footer
(scenario content hashes, seeds, sizes, package versions, command).
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from ..core.storage import write_bytes
from . import charts
from .summary import headline

if TYPE_CHECKING:
    from ..runner import RunResult

A4 = (8.27, 11.69)  # inches, portrait
MAX_SCENARIOS = 3  # what one legible page holds; choose others with ``scenarios=``


def _fmt(mean: float, low: float, high: float, fmt: str) -> str:
    if np.isnan(low) or np.isnan(high):
        return format(mean, fmt)
    return f"{format(mean, fmt)} ± {format((high - low) / 2, fmt)}"


def _title(result: RunResult) -> str:
    names = list(result.scenarios)
    if len(names) == 1:
        return f"Scenario report: {names[0]}"
    return f"Scenario report: {names[0]} and {len(names) - 1} other scenario" + (
        "s" if len(names) > 2 else ""
    )


def _header(sub, result: RunResult, left_out: list[str]) -> None:
    sub.text(0.04, 0.97, _title(result), fontsize=16, fontweight="bold", va="top")
    lines = []
    if left_out:
        lines.append(
            textwrap.shorten(
                f"This page shows {len(result.scenarios)} of the run's "
                f"{len(result.scenarios) + len(left_out)} scenarios; not shown: "
                f"{', '.join(left_out)} (see summary.csv, or pass scenarios=).",
                150,
            )
        )
    for name, spec in result.scenarios.items():
        s = spec.simulation
        desc = spec.description or "(no description)"
        lines.append(textwrap.shorten(f"{name}: {desc}", 135))
        lines.append(
            f"     {s.replications} replications x {s.days} days x {s.consumers:,} "
            f"consumers, seed {s.seed}"
        )
    shown = lines[:11] + (["..."] if len(lines) > 11 else [])
    sub.text(0.04, 0.62, "\n".join(shown), fontsize=7.5, va="top", linespacing=1.4)


def _table(sub, result: RunResult) -> None:
    table = headline(result)
    colours = charts.brand_colours(charts._brands(result.timeseries))
    ax = sub.subplots()
    ax.axis("off")
    cols = [
        "Scenario",
        "Brand",
        "Trust (0-1)",
        "Revenue/day (EUR)",
        "Net value/day (EUR)",
        "Consent rate",
        "Breaches/run",
    ]
    cells, brand_of_row, previous = [], [], None
    for r in table.itertuples(index=False):
        d = r._asdict()
        cells.append(
            [
                d["scenario"] if d["scenario"] != previous else "",
                d["brand"],
                _fmt(d["trust"], d["trust_low"], d["trust_high"], ".3f"),
                _fmt(
                    d["revenue_per_day"],
                    d["revenue_per_day_low"],
                    d["revenue_per_day_high"],
                    ",.0f",
                ),
                _fmt(
                    d["net_value_per_day"],
                    d["net_value_per_day_low"],
                    d["net_value_per_day_high"],
                    ",.0f",
                ),
                _fmt(d["consent_rate"], d["consent_rate_low"], d["consent_rate_high"], ".1%"),
                f"{d['breaches_per_run']:.1f}",
            ]
        )
        brand_of_row.append(d["brand"])
        previous = d["scenario"]
    tab = ax.table(
        cellText=cells,
        colLabels=cols,
        loc="upper center",
        cellLoc="right",
        colLoc="right",
        bbox=[0.03, 0.12, 0.94, 0.88],
    )
    tab.auto_set_font_size(False)
    tab.set_fontsize(7.5 if len(cells) <= 12 else 6)
    widths = [0.2, 0.1, 0.13, 0.16, 0.17, 0.13, 0.11]
    for (row, col), cell in tab.get_celld().items():
        cell.set_width(widths[col])
        cell.set_edgecolor("0.85")
        cell.visible_edges = "B"
        if col < 2:
            cell.set_text_props(ha="left")
            cell._loc = "left"
        if row == 0:
            cell.set_text_props(fontweight="bold")
        elif col == 1:
            cell.set_text_props(color=colours[brand_of_row[row - 1]], fontweight="bold")
    window = min(
        int(result.summary()["window_days"].iloc[0]), int(result.timeseries["day"].max()) + 1
    )
    ax.text(
        0.03,
        0.0,
        f"Trust, consent: means of the last {window} days; revenue, net value: daily means over "
        "the whole horizon; then over replications; ± is the half-width of the 95% confidence "
        "interval. Net value = gross margin - marketing, security and breach costs. "
        "Breaches/run: over the whole horizon.",
        fontsize=6.5,
        color="0.35",
        transform=ax.transAxes,
        va="bottom",
        wrap=True,
    )


def _footer(sub, result: RunResult) -> None:
    m = result.manifest
    parts = [
        f"{name} sha256 {info['hash'][:16]}..., seed {info['seed']}"
        for name, info in m.get("scenarios", {}).items()
    ]
    versions = ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items())
    lines = [
        textwrap.fill("Provenance: " + "; ".join(parts) + ".", 160),
        textwrap.fill(f"Versions: {versions}.", 160),
        f"Created {m.get('created', '?')} by: " + textwrap.shorten(m.get("command", ""), 120),
    ]
    text = "\n".join(lines)
    sub.text(0.04, 0.95, text, fontsize=6, color="0.35", va="top", linespacing=1.4)


def _subset(result: RunResult, names: list[str]) -> RunResult:
    """The same kind of result restricted to the scenarios ``names``."""
    ts = result.timeseries
    ts = ts[ts["scenario"].isin(names)].copy()
    ts["scenario"] = ts["scenario"].cat.remove_unused_categories()
    manifest = {
        **result.manifest,
        "scenarios": {n: result.manifest.get("scenarios", {}).get(n) for n in names},
    }
    return type(result)(ts, {n: result.scenarios[n] for n in names}, manifest)


def report_figure(result: RunResult, scenarios: list[str] | None = None) -> Figure:
    """The report page as a matplotlib figure (A4 portrait), for ``scenarios`` (default: the
    first `MAX_SCENARIOS` of the run)."""
    names = list(result.scenarios)
    chosen = list(scenarios) if scenarios is not None else names[:MAX_SCENARIOS]
    unknown = [n for n in chosen if n not in result.scenarios]
    if unknown:
        raise ValueError(
            f"no scenario named {', '.join(unknown)} in this result (scenarios: {', '.join(names)})"
        )
    left_out = [n for n in names if n not in chosen]
    if left_out:
        result = _subset(result, chosen)
    n_rows = len(headline(result))
    table_h = 0.55 + 0.19 * (n_rows + 1)
    header_h = 0.55 + 0.2 * min(2 * len(chosen) + bool(left_out), 12)
    trust_h = 3.4 if len(chosen) <= 3 else 4.6
    fig = Figure(figsize=A4, layout="constrained")
    header, table, trust, bottom, footer = fig.subfigures(
        5, 1, height_ratios=[header_h, table_h, trust_h, 3.0, 0.3 + 0.1 * len(chosen)]
    )
    _header(header, result, left_out)
    _table(table, result)
    charts.plot_trust(result, fig=trust)
    left, right = bottom.subfigures(1, 2, width_ratios=[1.0, 1.25])
    charts.plot_value(result, fig=left)
    if charts.plot_breach_window(result, fig=right, max_panels=1) is None:
        _consent_panel(right, result)
    _footer(footer, result)
    return fig


def _consent_panel(sub, result: RunResult) -> None:
    """Consent rate per brand over time, all scenarios' brands in one panel per scenario (at most
    two scenarios, so it stays legible)."""
    names = list(result.scenarios)[:2]
    charts.plot_consent(result, scenarios=names, fig=sub)
    for ax in sub.axes[1::2]:  # keep the consent rate column, drop subscribers
        ax.set_visible(False)


def write_report(result: RunResult, path: str | Path, scenarios: list[str] | None = None) -> Path:
    """Write the one-page report to ``path`` (PDF; ``.png`` also works), atomically.

    One page holds up to `MAX_SCENARIOS` scenarios: by default the first ones of the run (the
    page says which are left out); pass ``scenarios`` to choose.
    """
    path = Path(path)
    fig = report_figure(result, scenarios)
    buf = io.BytesIO()
    with mpl.rc_context({"pdf.fonttype": 42}):
        if path.suffix.lower() == ".pdf":
            with PdfPages(buf, metadata={"Title": _title(result), "Creator": "omnitrust"}) as pdf:
                pdf.savefig(fig)
        else:
            fig.savefig(buf, format=path.suffix.lstrip(".") or "png", dpi=150)
    return write_bytes(path, buf.getvalue())
