"""The executive report of any results folder (``omnitrust report RESULTS_DIR [-o FILE] [--pdf]``).

One self-contained HTML file (charts as inline PNG, styles inline, no script and no network
request) that prints well, and optionally a PDF of it rendered by headless Chromium (the Debian
``chromium`` package, driven by Playwright for Python). In order:

1. the verdict, in sentences computed from the results (`sim.analysis.findings.verdict`): which policy
   wins on the focal brand's net value, by how much, how sure (95% interval against the
   runner-up), at what risk (95% value at risk and expected shortfall of breach losses);
2. a table of every scenario, ranked; for a sweep with named policies, each policy's regret in
   each world and the minimax-regret policy, on the experiment's robustness metric as its
   max_regret.csv (`sim.analysis.findings.sweep_regret`, `criterion`);
3. charts whose titles state their finding: trust trajectories with bands, small multiples of
   every brand's trust, a value waterfall (margin without personalization or spam, margin from
   personalization, losses to spam, every spend, net value:
   `sim.analysis.findings.waterfall_values`), the risk-return frontier, loss exceedance curves,
   P(trust below a threshold by day), channel mix with showrooming and webrooming, trust around
   breaches;
4. the assumptions: only the settings that differ between scenarios;
5. provenance: scenario hashes, seeds, versions, the command (from ``manifest.json``).

Any number of scenarios: the table has them all; the one-panel charts the `BEST` and `WORST` by
net value and the reference; the small multiples up to `SMALL_MULTIPLES`.
``omnitrust run --report`` and ``compare --report`` write the same report into their folder
(``report.html``, and ``report.pdf`` when Chromium is installed); ``omnitrust report`` is in
`sim.cli.report`.
"""

from __future__ import annotations

import base64
import contextlib
import html
import itertools
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import UserError
from ..core.storage import command_line, write_bytes
from . import style
from .findings import (
    Results,
    check_one_size,
    criterion,
    differing_settings,
    eur,
    factor_legend,
    focal_brand,
    from_run_result,
    load_results,
    loss_source,
    own_settings_vary,
    scenario_table,
    sweep_pair,
    sweep_points,
    sweep_regret,
    verdict,
)
from .outcomes import window_words

BEST, WORST = 4, 2  # scenarios drawn in the one-panel charts (and the reference); the table
# lists every scenario
PAGE_IN = (9.0, 9.5)  # largest chart (inches) in the report: about a printed A4 page's width
SMALL_MULTIPLES = 12  # scenarios in the small multiples of every brand's trust
WORLD_COLUMNS = 4  # worlds that the regret table lists as columns; more go down its rows
TABLE_COLUMNS = 8  # value columns that one regret table holds on a printed A4 page; more: split
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = (
    "--pdf renders the report with a Chromium browser driven by Playwright for Python; "
    "install both: `sudo apt-get install chromium` (Debian/Ubuntu; the browser must be at "
    "/usr/bin/chromium, on PATH, or named by OMNITRUST_CHROMIUM) and "
    "`pip install 'omnitrust[report]'` (or `pip install playwright`; no `playwright install` "
    "is needed)"
)

CSS = """
:root { --ink: #1b1b1b; --muted: #5a5a5a; --rule: #d9d9d9; --accent: #332288; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif;
       color: var(--ink); max-width: 60rem; margin: 0 auto; padding: 1.5rem; line-height: 1.45;
       font-size: 14px; background: #ffffff; }
h1 { font-size: 1.7em; margin: 0 0 .3rem; }
h2 { font-size: 1.3em; margin: 1.6rem 0 .5rem; border-bottom: 2px solid var(--accent);
     padding-bottom: .15rem; break-after: avoid; }
h3 { font-size: 1.05em; margin: 0 0 .4rem; }
p.sub, p.note, figcaption { color: var(--muted); font-size: .9em; }
section.verdict { background: #f3f1fa; border-left: 5px solid var(--accent);
                  padding: .6rem 1rem; margin: 1rem 0; }
section.verdict li { margin: .3rem 0; }
figure { margin: 1.2rem 0; break-inside: avoid; page-break-inside: avoid; }
figure img { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-size: .85em; margin: .4rem 0;
        break-inside: auto; }
th, td { border-bottom: 1px solid var(--rule); padding: .2rem .4rem; text-align: right;
         vertical-align: top; }
th { background: #f5f5f5; }
td.l, th.l { text-align: left; }
td { white-space: nowrap; }
td.l { white-space: normal; }
table:not(.settings) td.l { white-space: nowrap; }
tr { break-inside: avoid; }
div.wide { overflow-x: auto; max-width: 100%; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .3em;
          vertical-align: baseline; border-radius: 2px; }
code { font-size: .9em; overflow-wrap: anywhere; }
table.settings td, table.settings th { white-space: normal; }
table.regret td.l { white-space: normal; }
table.regret tr.total td { border-top: 2px solid var(--rule); }
table.settings code { overflow-wrap: normal; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  section.verdict { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-before: auto; }
  div.wide { overflow: visible; }
}
"""


# --------------------------------------------------------------------------------------------
# Building the HTML
# --------------------------------------------------------------------------------------------
def _e(x: Any) -> str:
    return html.escape(str(x))


def _img(fig) -> str:
    """The figure as an inline PNG, shown at most at its natural size (never blown up)."""
    data = base64.b64encode(style.figure_bytes(fig, "png", dpi=130)).decode()
    width = int(fig.get_figwidth() * 96)
    return f'<img alt="chart" style="max-width:{width}px" src="data:image/png;base64,{data}">'


def _figure(fig, title: str, caption: str) -> str:
    return f"<figure><h3>{_e(title)}</h3>{_img(fig)}<figcaption>{_e(caption)}</figcaption></figure>"


def _charted(table: pd.DataFrame, names: list[str]) -> list[str]:
    """The `BEST` and `WORST` scenarios by net value and the reference, in run order (all of
    them when there are few)."""
    ranked = list(table["scenario"])
    keep = set(ranked[:BEST]) | set(ranked[len(ranked) - WORST :]) | {names[0]}
    return [n for n in names if n in keep]


def _fmt_half(mean: float, half: float) -> str:
    """``113.9k ± 7.1k`` (EUR; the column says so)."""
    if not np.isfinite(half):
        return _k(mean)
    return f"{_k(mean)} ± {_k(half)}"


def _k(v: float) -> str:
    return eur(v).removeprefix("EUR ")


def _table_html(
    table: pd.DataFrame, names: list[str], shown: list[str], threshold: float, days: int
) -> str:
    colours = style.scenario_colours(shown)
    head = (
        "<tr><th>rank</th><th class=l>scenario</th><th>net value, EUR (± 95%)</th>"
        f"<th>vs {_e(names[0])}, EUR (± 95%)</th>"
        f"<th>trust, {_e(window_words(days).removeprefix('the '))}</th>"
        "<th>breaches per run</th><th>mean breach loss, EUR</th><th>95% VaR, EUR</th>"
        f"<th>expected shortfall, EUR</th><th>P(trust &lt; {threshold:g})</th></tr>"
    )
    rows = []
    for r in table.itertuples():
        diff = "reference" if r.scenario == names[0] else _fmt_half(r.diff_vs_ref, r.diff_half)
        rows.append(
            f"<tr><td>{r.rank}</td><td class=l><span class=swatch style='background:"
            f"{colours.get(r.scenario, 'transparent')}'></span>{_e(r.scenario)}</td>"
            f"<td>{_e(_fmt_half(r.net_value, r.net_value_half))}</td><td>{_e(diff)}</td>"
            f"<td>{r.trust_end:.3f}</td><td>{r.breaches_per_run:.2f}</td>"
            f"<td>{_e(_k(r.loss_mean))}</td><td>{_e(_k(r.var95))}</td>"
            f"<td>{_e(_k(r.es95))}</td><td>{r.p_trust_below:.0%}</td></tr>"
        )
    # the head row in <thead>: a printed table that runs onto the next page repeats it there
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _settings_html(res: Results) -> str:
    diff = differing_settings(res)
    if not len(res.scenarios):
        return (
            "<p class=note>This folder does not store the scenarios' contents (scenarios.json, "
            "written since version 0.1 of the report); their hashes are under Provenance.</p>"
        )
    if diff.empty:
        return "<p>The scenarios differ in nothing but their name.</p>"
    ref = diff.columns[0]
    if len(diff.columns) <= 4:
        head = "<tr><th class=l>setting</th>" + "".join(
            f"<th class=l>{_e(c)}</th>" for c in diff.columns
        )
        body = "".join(
            f"<tr><td class=l><code>{_e(k)}</code></td>"
            + "".join(f"<td class=l>{_e(_short(v))}</td>" for v in row)
            + "</tr>"
            for k, row in diff.iterrows()
        )
    else:
        # many scenarios: per scenario, only the settings in which it differs from the reference
        head = (
            f"<tr><th class=l>scenario</th><th class=l>setting</th><th class=l>value</th>"
            f"<th class=l>in {_e(ref)}</th>"
        )
        rows = []
        for name in diff.columns[1:]:
            changed = [k for k in diff.index if _key(diff.at[k, name]) != _key(diff.at[k, ref])]
            for i, k in enumerate(changed):
                rows.append(
                    f"<tr><td class=l>{_e(name) if i == 0 else ''}</td>"
                    f"<td class=l><code>{_e(k)}</code></td>"
                    f"<td class=l>{_e(_short(diff.at[k, name]))}</td>"
                    f"<td class=l>{_e(_short(diff.at[k, ref]))}</td></tr>"
                )
            if not changed:
                rows.append(
                    f"<tr><td class=l>{_e(name)}</td><td class=l colspan=3>as {_e(ref)}</td></tr>"
                )
        body = "".join(rows)
    return (
        "<p>Only the levers and world settings that differ between the scenarios (dotted "
        "schema paths, as in docs/PARAMETERS.md); everything else is equal.</p>"
        f"<table class=settings>{head}</tr>{body}</table>"
    )


def _key(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


def _short(v: Any) -> str:
    """A setting's value as a reader wants it: numbers to 4 digits, lists and events in full
    (they are what differs; an event's JSON as ``day 90; kind media_story; ...``), anything
    else cut at 400 characters."""
    if isinstance(v, float):
        return f"{v:.4g}"
    s = str(v)
    if s[:1] in "{[":
        with contextlib.suppress(ValueError):
            s = _readable(json.loads(s))
    return s if len(s) <= 400 else s[:397] + "..."


def _readable(v: Any) -> str:
    """JSON as words: an event ``day 120; kind breach; data_types contact, payment_card``,
    events one after another separated by `` / ``; booleans as in TOML."""
    if isinstance(v, dict):
        return "; ".join(f"{k} {_readable(x)}" for k, x in v.items() if x is not None)
    if isinstance(v, list):
        sep = " / " if any(isinstance(x, dict) for x in v) else ", "
        return sep.join(_readable(x) for x in v)
    if isinstance(v, bool):
        return str(v).lower()
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _provenance_html(res: Results) -> str:
    m = res.manifest
    rows = []
    for name, info in (m.get("scenarios") or {}).items():
        info = info or {}
        rows.append(
            f"<tr><td class=l>{_e(name)}</td><td class=l><code>{_e(info.get('hash', '?'))}"
            f"</code></td><td>{_e(info.get('seed', '?'))}</td></tr>"
        )
    for d in m.get("design") or []:
        rows.append(
            f"<tr><td class=l>{_e(d.get('scenario'))}</td><td class=l><code>"
            f"{_e(d.get('hash', '?'))}</code></td><td>{_e(m.get('seed', '?'))}</td></tr>"
        )
    versions = ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())
    return (
        "<table><tr><th class=l>scenario</th><th class=l>content hash (SHA-256)</th>"
        f"<th>base seed</th></tr>{''.join(rows)}</table>"
        f"<p>Results folder kind: <b>{_e(res.kind)}</b>; created {_e(m.get('created', '?'))}."
        f"<br>Command: <code>{_e(command_line(m.get('command', '?').split(' ')))}</code><br>Versions: {_e(versions)}"
        + (
            f"<br>Model fingerprint: <code>{_e(m['model_fingerprint'])}</code>"
            if m.get("model_fingerprint")
            else ""
        )
        + "</p>"
    )


def _leads(res: Results, brand: str, names: list[str]) -> str:
    """How often the focal brand ends with more trust than every rival (mean of the last 30
    days, of every day in a shorter run), and where that lead is within noise: the 95% t
    interval, over replications, of the brand's trust minus its nearest rival's (the rival
    with the most trust on average; the two are paired, measured in the same run) includes
    zero, as the verdict and the chart titles judge a gap (`report_charts._within_noise`)."""
    from .stats import t_interval

    ts = res.timeseries
    tr = ts[(ts["metric"] == "trust") & (ts["channel"] == "all") & (ts["brand"] != "all")]
    tail = tr[tr["day"] > tr["day"].max() - 30]
    per_run = tail.groupby(["scenario", "replication", "brand"], observed=True)["value"].mean()
    per_run = per_run.unstack("brand")
    end = per_run.groupby(level="scenario", observed=True).mean().reindex(names)
    rivals = [b for b in end.columns if b != brand]
    if not rivals:
        return f"{brand}'s trust, scenario by scenario"
    ahead = [n for n in names if end.at[n, brand] > end.loc[n, rivals].max()]
    noisy, single = [], False
    for n in ahead:
        nearest = end.loc[n, rivals].astype(float).idxmax()
        runs = per_run.xs(n, level="scenario")
        mean, _, _, half = t_interval((runs[brand] - runs[nearest]).dropna().to_numpy())
        if not np.isfinite(half):
            single = True
        elif mean - half <= 0:
            noisy.append((n, nearest, mean - half, mean + half))
    text = f"{brand} ends with more trust than every rival in {len(ahead)} of {len(names)} "
    text += "scenarios" + (f" ({', '.join(ahead)})" if 0 < len(ahead) <= 6 else "")
    if single:
        return text + " on average (one replication: no interval)"
    if len(noisy) == 1:
        n, nearest, lo, hi = noisy[0]
        where = f" in {n}" if len(ahead) > 1 else ""
        return (
            f"{text} on average, within noise{where}: the 95% interval of its lead over "
            f"{nearest}, {lo:.3f} to {hi:.3f}, includes zero"
        )
    if noisy:
        return (
            f"{text} on average, within noise in {len(noisy)} of them "
            f"({', '.join(n for n, *_ in noisy[:6])}{', ...' if len(noisy) > 6 else ''}): "
            "the 95% interval of its lead over the nearest rival includes zero"
        )
    return text


def _worlds_down(worlds: int, policies: int) -> bool:
    """Whether the regret table lists the worlds down its rows (a column per policy) rather than
    across its columns (a column per world, then the mean value and the largest regret). Across
    when there are at most `WORLD_COLUMNS` worlds, or when that makes fewer columns (``worlds +
    2`` against ``policies``) that still fit one table (`TABLE_COLUMNS`); down otherwise, where
    the policies are split over as many tables as it takes (`_column_groups`), so that the
    printed page holds every table at its full width whatever the numbers of both."""
    fits_across = worlds + 2 <= TABLE_COLUMNS
    return not (worlds <= WORLD_COLUMNS or (fits_across and policies > worlds + 2))


def _column_groups(n: int) -> list[range]:
    """``range(n)`` cut into the fewest runs of at most `TABLE_COLUMNS`, as even as they can be,
    the longer first (10 -> 5 + 5, not 8 + 2; 9 -> 5 + 4); none for n = 0."""
    if n <= 0:
        return []
    tables = -(-n // TABLE_COLUMNS)
    cuts = [-(-k * n // tables) for k in range(tables + 1)]
    return [range(a, b) for a, b in itertools.pairwise(cuts)]


def _wrap(label: str) -> str:
    """``label`` escaped, with places to break a line after ``_`` and ``=``, so that a
    long name (``transparent_personalization``, ``data_retention_days=730``) can wrap in a
    narrow column instead of widening the table beyond the page."""
    out = _e(label)
    for c in ("_", "="):
        out = out.replace(c, c + "<wbr>")
    return out


def _regret_html(res: Results, brand: str) -> str:
    """A sweep with named policies: each policy's regret in each world (how far it falls short
    of the best policy there, on the sweep's robustness metric, `criterion`, as its
    max_regret.csv) and the minimax-regret policy; empty otherwise."""
    out = sweep_regret(res, brand)
    if out is None:
        return ""
    crit = criterion(res)
    num = _k if crit.money else crit.fmt
    unit = ", EUR" if crit.money else ""
    regret, summary = out
    best = summary.iloc[0]
    worlds = list(dict.fromkeys(regret["world"]))
    grid = regret.pivot(index="policy", columns="world", values="regret").reindex(columns=worlds)
    # a label other than net value over the horizon's says its unit (metric_label)
    mean_head = f"{crit.mean_label()}{unit if crit.horizon_net_value else ''}"
    if _worlds_down(len(worlds), len(summary)):
        # many worlds: one row each, a column per policy (the minimax-regret one first), its
        # mean value and largest regret in the last two rows; many policies too: in several
        # tables of at most TABLE_COLUMNS policies each
        tables = []
        for group in _column_groups(len(summary)):
            part = summary.iloc[list(group)]
            head = (
                "<tr><th class=l>world</th>"
                + "".join(f"<th>{_wrap(p)}</th>" for p in part["policy"])
                + "</tr>"
            )
            rows = [
                f"<tr><td class=l>{_wrap(w)}</td>"
                + "".join(f"<td>{_e(num(grid.loc[p, w]))}</td>" for p in part["policy"])
                + "</tr>"
                for w in worlds
            ]
            rows.append(
                f"<tr class=total><td class=l>{_wrap(mean_head)}</td>"
                + "".join(f"<td>{_e(num(v))}</td>" for v in part["mean_value"])
                + "</tr>"
            )
            rows.append(
                f"<tr><td class=l><b>max regret{unit}</b></td>"
                + "".join(f"<td><b>{_e(num(v))}</b></td>" for v in part["max_regret"])
                + "</tr>"
            )
            tables.append((head, rows))
    else:
        head = (
            "<tr><th class=l>policy</th>"
            + "".join(f"<th>{_wrap(w)}</th>" for w in worlds)
            + f"<th>{_wrap(mean_head)}</th>"
            + f"<th>max regret{unit}</th></tr>"
        )
        rows = []
        for r in summary.itertuples():
            cells = "".join(f"<td>{_e(num(grid.loc[r.policy, w]))}</td>" for w in worlds)
            rows.append(
                f"<tr><td class=l>{_wrap(r.policy)}</td>{cells}"
                f"<td>{_e(num(r.mean_value))}</td><td><b>{_e(num(r.max_regret))}</b></td></tr>"
            )
        tables = [(head, rows)]
    worst = (
        f"(its worst world: {best['world_of_max_regret']})"
        if best["max_regret"] > 0
        else "(it is the best, or tied best, in every world)"
    )
    if crit.is_net_value:
        sentence = (
            f"{best['policy']} is the minimax-regret policy: in no world does it lose more than "
            f"{eur(best['max_regret'])} of {brand}'s net value against the best policy there "
            f"{worst}."
        )
    else:
        sentence = (
            f"{best['policy']} is the minimax-regret policy on {brand}'s {crit.label()}, the "
            f"experiment's robustness metric ({crit.direction} is better): in no world does it "
            f"fall more than {crit.fmt(best['max_regret'])} short of the best policy there "
            f"{worst}."
        )
    if len(summary) > 1:
        runner = summary.iloc[1]
        sentence += (
            f" The next, {runner['policy']}, can lose up to {crit.fmt(runner['max_regret'])} "
            f"({runner['world_of_max_regret']})."
        )
    legend = factor_legend(res)
    legend = f" Factors: {_e(legend)}." if legend else ""
    if crit.direction == "max":
        regret_is = f"the best policy's {crit.mean_label()} in that world minus this policy's"
    else:
        regret_is = f"this policy's {crit.mean_label()} in that world minus the best (lowest) one's"
    if crit.is_net_value:
        measured = f"{brand}, EUR over the horizon, mean over replications"
    else:
        measured = f"{brand}, {crit.label()}, mean over replications"
    declared = crit.declared_brand is not None
    source = (
        f"Judged on the experiment's [robustness] metric = {crit.metric!r}, direction = "
        f"{crit.direction!r}, as its max_regret.csv"
        + (
            f" (which is for {crit.declared_brand}; this report is for {brand})"
            if crit.declared_brand != brand
            else ""
        )
        + ". "
        if declared
        else ""
    )
    return (
        f"<section><h2>Regret: what each policy loses against the best one in each world</h2>"
        f"<p>{_e(sentence)}</p>"
        + "".join(
            f"<table class=regret><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
            for head, rows in tables
        )
        + f"<p class=note>Regret = "
        f"{_e(regret_is)} ({_e(measured)}; 0 for the best). A world is every design setting "
        f"but the policy.{legend} {_e(source)}Computed from the stored runs.</p></section>"
    )


def _size(res: Results) -> str:
    ts = res.timeseries
    reps = int(ts.groupby("scenario")["replication"].nunique().min())
    days = int(ts["day"].max()) + 1
    cons = {(v or {}).get("consumers") for v in (res.manifest.get("scenarios") or {}).values()}
    cons = {c for c in cons if c}
    if not cons and res.scenarios:
        cons = {s.simulation.consumers for s in res.scenarios.values()}
    size = f"{len(res.names)} scenario(s) x {reps} replication(s) x {days} days"
    if len(cons) == 1:
        size += f" x {next(iter(cons)):,} consumers"
    return size


def build_html(res: Results, brand: str | None = None, threshold: float | None = None) -> str:
    """The report of ``res`` as one self-contained HTML document."""
    from . import charts, report_charts

    names = res.names
    if res.kind == "run":  # (compare refuses other sizes itself; a sweep's points share one)
        check_one_size(res.scenarios, res.timeseries)
    brand = brand or focal_brand(res)
    if brand not in res.brands:
        raise UserError(
            f"--brand {brand!r} is not a brand of these results: {', '.join(res.brands)}"
        )
    threshold = res.threshold if threshold is None else float(threshold)
    table = scenario_table(res, brand, threshold)
    shown = _charted(table, names)
    winner = table["scenario"].iloc[0]
    other = table["scenario"].iloc[1] if len(table) > 1 else None
    # a sweep whose points differ in the world: titles say which world they compare in, and
    # the waterfall compares the two points of one world that the verdict compares
    points = sweep_points(res)
    pair = sweep_pair(res, brand)
    if pair is not None:
        _, winner, other = pair
    varies = own_settings_vary(res, brand)
    if len(names) == 1:
        title, why = f"{names[0]}: scenario report", ""
    elif varies is False:  # the scenarios change other brands or the world, not this brand
        title = f"How {brand} fares under each scenario: {len(names)} scenarios compared"
        why = (
            f" ({brand}'s own settings are the same in every scenario: the scenarios change "
            "other brands' policies or the world)"
        )
    else:
        title = f"Which policy for {brand}? {len(names)} scenarios compared"
        # (no stored scenarios: what they change cannot be told)
        why = " (the brand whose policy the scenarios change)" if varies else ""
    parts = [
        f"<header><h1>{_e(title)}</h1><p class=sub>{_e(_size(res))}; focal brand "
        f"<b>{_e(brand)}</b>{_e(why)}. Money is in EUR over the whole horizon; intervals are "
        "95%.</p></header>",
        "<section class=verdict><h2>Verdict</h2><ul>"
        + "".join(f"<li>{_e(s)}</li>" for s in verdict(res, brand, table))
        + f"</ul><p class=note>Net value = gross margin - marketing, security, "
        "personalization, integration, transparency and breach spend "
        f"(what the simulation records per day). {_e(loss_source(res).capitalize())}. "
        "Value at risk (VaR): the loss exceeded in only 5% of the runs; expected shortfall: "
        "the mean loss of those worst 5%.</p></section>",
        f"<section><h2>All scenarios, ranked by {_e(brand)}'s net value</h2>"
        + _table_html(table, names, shown, threshold, int(res.timeseries["day"].max()) + 1)
        + (
            f"<p class=note>The one-panel charts below show the {BEST} best and the {WORST} "
            f"weakest scenarios and the reference ({len(shown)} of {len(names)}, marked with "
            "their colour).</p>"
            if len(shown) < len(names)
            else ""
        )
        + "</section>",
        _regret_html(res, brand),
        "<h2>Trust</h2>",
    ]
    fig, t = report_charts.trust_trajectories(res, brand, shown, points)
    parts.append(
        _figure(
            fig,
            t,
            f"Mean trust in {brand} per day (0 = none, 1 = full); shaded: 5th-95th percentile "
            "of the replications. Colour = scenario.",
        )
    )
    multiples = shown if len(names) > SMALL_MULTIPLES else names
    rr = res.run_result(multiples)
    fig = charts.plot_trust(rr, title="Every brand's trust, one panel per scenario", screen=PAGE_IN)
    parts.append(
        _figure(
            fig,
            _leads(res, brand, multiples),
            "Small multiples: colour = brand (the same in every chart); triangles: breaches.",
        )
    )
    parts.append("<h2>Money</h2>")
    fig, t = report_charts.waterfall(res, brand, winner, other, points)
    parts.append(
        _figure(
            fig,
            t,
            "Horizon totals, mean over replications. Margin from personalization: the part of "
            "each purchase's margin that the brand's relevance made (the purchase's margin times "
            "1 - P0 V0 / (P V), P0 and V0 the choice probability and basket without the brand's "
            "relevance). Losses to spam: the expected margin lost at each purchase decision "
            "because the brand's irrelevant e-mail lowered the consumer's trust. The first bar "
            "is the gross margin without either (margin - personalization + spam losses), so "
            "the bars add up to net value; both are direct, first-order effects (docs/ODD.md "
            "7.9). Marketing spend: e-mails; security, personalization, integration and "
            "transparency spend: each lever's daily cost (its cost curve, ODD 7.12); breach "
            "costs: detection, notification, compensation, card reissue, fines.",
        )
    )
    fig, t = report_charts.frontier(table, brand, shown, points, fixed=varies is False)
    parts.append(
        _figure(
            fig,
            t,
            (
                "Each point is a design point, a policy in one world (grey: not among the "
                "charted ones): "
                if points is not None
                else "Each point is a scenario (grey: not among the charted ones): "
            )
            + "expected net value "
            "(bar: 95% interval) against the 95% "
            f"value at risk of breach losses; {loss_source(res)}."
            + (
                " With many scenarios only the frontier and the charted scenarios are named; the "
                "table above has every one."
                if len(table) > 8
                else ""
            ),
        )
    )
    parts.append("<h2>Risk</h2>")
    fig, t = report_charts.loss_exceedance(res, brand, shown, points)
    if fig is None:
        parts.append(f"<p>{_e(t)}.</p>")
    else:
        parts.append(
            _figure(
                fig,
                t,
                f"Share of runs whose breach loss reaches at least x; {loss_source(res)}. A "
                "policy with no loss in any run has no curve (dotted key in the legend).",
            )
        )
    fig, t = report_charts.trust_below(res, brand, shown, threshold, points)
    parts.append(
        _figure(
            fig,
            t,
            f"Share of replications in which {brand}'s mean daily trust has fallen below "
            f"{threshold:g} on some day up to the day on the axis. Curves at the same level are "
            "drawn over each other; the legend gives where each one ends.",
        )
    )
    fig = charts.plot_breach_window(rr, brand=brand, title="Trust around breaches", screen=PAGE_IN)
    if fig is not None:
        parts.append(
            _figure(
                fig,
                "Trust before and after breaches, with the day consumers are notified",
                "Breach day = 0; thick line: the breached brand; dashed: its rivals.",
            )
        )
    parts.append("<h2>Channels</h2>")
    fig, t = report_charts.channel_mix(res, brand, shown, points)
    parts.append(
        _figure(
            fig,
            t,
            "Left: revenue by the channel where the purchase was made, over the horizon. Right: "
            "among buyers, shares who researched in store and bought online (showrooming) and "
            "who researched online and bought in store (webrooming), at the end of the horizon.",
        )
    )
    parts.append("<h2>Assumptions: what differs between scenarios</h2>" + _settings_html(res))
    parts.append("<h2>Provenance</h2>" + _provenance_html(res))
    # every table in a box that scrolls sideways on a narrow screen (a phone), so that a table
    # wider than the screen does not make the whole page wider than it
    body = "\n".join(parts).replace("<table", "<div class=wide><table")
    body = body.replace("</table>", "</table></div>")
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------
def chromium_path() -> str | None:
    """The Chromium browser to print with: $OMNITRUST_CHROMIUM, else chromium on PATH or
    /usr/bin/chromium; None when there is none."""
    env = os.environ.get("OMNITRUST_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def can_print() -> bool:
    """Whether a PDF can be made here (Chromium and Playwright are installed)."""
    if chromium_path() is None:
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def html_to_pdf(html_path: str | Path, pdf_path: str | Path) -> Path:
    """Print the HTML file to PDF (A4) with headless Chromium, atomically.

    Playwright's sync API refuses to run inside an event loop (a Jupyter cell has one), so the
    browser is driven from a worker thread, which has none."""
    browser_path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_path = None
    if browser_path is None:
        raise UserError(INSTALL_HINT)
    url = Path(html_path).resolve().as_uri()

    def render() -> bytes:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(url, wait_until="load")
                return page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
            finally:
                browser.close()

    from concurrent.futures import ThreadPoolExecutor

    from playwright.sync_api import Error as PlaywrightError

    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pdf = pool.submit(render).result()
        except PlaywrightError as exc:  # a browser that will not start or print: said plainly
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise UserError(
                f"Chromium ({browser_path}) could not print {html_path} to PDF: {first}. "
                f"The HTML report is in {html_path}; check the browser "
                f"(`{browser_path} --headless --version`) or set OMNITRUST_CHROMIUM to another one"
            ) from None
    return write_bytes(Path(pdf_path), pdf)


def write_report(
    result,
    path: str | Path,
    brand: str | None = None,
    threshold: float | None = None,
) -> Path:
    """Write the report of ``result`` (a `RunResult`, a `Results` or a results folder) to
    ``path``: ``.html`` (self-contained) or ``.pdf`` (printed by Chromium)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm", ".pdf"):
        from ..core.errors import UserError

        raise UserError(
            f"{path}: the report is written as HTML or PDF; give a file name ending in .html "
            f"or .pdf (got {path.suffix or 'no ending'!r})"
        )
    res = _as_results(result)
    text = build_html(res, brand, threshold)
    if path.suffix.lower() == ".pdf":
        with tempfile.TemporaryDirectory(prefix="omnitrust-report-") as tmp:
            page = Path(tmp) / "report.html"
            page.write_text(text, encoding="utf-8")
            return html_to_pdf(page, path)
    return write_bytes(path, text.encode("utf-8"))


def write_folder_report(
    result, folder: str | Path, pdf: bool | None = None, **kw: Any
) -> dict[str, Path]:
    """``report.html`` in ``folder`` and, when ``pdf`` (default: when Chromium is installed),
    ``report.pdf`` printed from it. Returns the files written by name."""
    folder = Path(folder)
    out = {"report.html": write_report(result, folder / "report.html", **kw)}
    if pdf or (pdf is None and can_print()):
        out["report.pdf"] = html_to_pdf(out["report.html"], folder / "report.pdf")
    return out


def _as_results(result) -> Results:
    if isinstance(result, Results):
        return result
    if isinstance(result, (str, Path)):
        return load_results(result)
    return from_run_result(result)
