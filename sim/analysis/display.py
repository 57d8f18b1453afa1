"""How result objects show themselves in Jupyter: one HTML card (a title, a few facts, tables).

`sim.runner.RunResult`, `sim.experiments.Comparison` and `sim.experiments.SweepResult` build their
``_repr_html_`` from `card`, so every result looks the same when it is the last expression of a
cell. This module knows nothing about them: it formats what it is given.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

STYLE = (
    "font-family: var(--jp-ui-font-family, sans-serif); font-size: 13px; "
    "border-left: 3px solid #0072B2; padding: 4px 10px; margin: 4px 0"
)


def number(v: float) -> str:
    """A number for a table cell: four significant digits, thousands separated."""
    if pd.isna(v):
        return ""
    if abs(v) >= 10_000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def card(
    title: str,
    facts: Sequence[str] = (),
    tables: Sequence[tuple[str, pd.DataFrame]] = (),
    hint: str = "",
) -> str:
    """An HTML block: bold ``title``, a line of ``facts``, each (caption, table), a grey hint."""
    parts = [f'<div style="{STYLE}">', f"<b>{html.escape(title)}</b>"]
    if facts:
        parts.append("<br>" + " &middot; ".join(html.escape(f) for f in facts))
    for caption, table in tables:
        parts.append(f'<p style="margin:6px 0 2px 0">{html.escape(caption)}</p>')
        parts.append(
            table.to_html(index=False, float_format=number, border=0, na_rep="", escape=True)
        )
    if hint:
        parts.append(f'<p style="color:#666;margin:4px 0 0 0">{html.escape(hint)}</p>')
    parts.append("</div>")
    return "\n".join(parts)


def with_interval(
    df: pd.DataFrame, value: str, low: str, high: str, label: str | None = None
) -> pd.DataFrame:
    """Replace columns ``value, low, high`` by one text column ``value [low, high]``."""
    text = [
        number(v) if pd.isna(lo) else f"{number(v)} [{number(lo)}, {number(hi)}]"
        for v, lo, hi in zip(df[value], df[low], df[high], strict=True)
    ]
    out = df.drop(columns=[low, high]).copy()
    out[value] = text
    return out.rename(columns={value: label or value})
