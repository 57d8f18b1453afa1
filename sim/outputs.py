"""A run's outputs folder, its text summary and the ``omnitrust run`` command.

``save(result, folder)`` (``result.save(folder)``) writes, each file atomically:

==========================  ==================================================================
``timeseries.parquet``      the tidy table ``scenario, replication, day, brand, channel, metric,
                            value``; the run's provenance is in the file's metadata (key
                            ``omnitrust``, read it with `sim.storage.read_parquet_meta`)
``summary.csv``             per scenario, brand, channel and metric: mean over the last 30 days of
                            each replication, then over replications, with a 95% t interval
                            (`sim.runner.summarise`)
``manifest.json``           provenance (scenario content hashes, seeds, sizes, versions, command)
                            and the list of files written
``trust.png``               trust per brand over time, one panel per scenario
``revenue.png``             revenue by channel, one row per scenario and one panel per brand
``consent.png``             consent rate and e-mail subscribers per brand
``breach_window.png``       trust around each breach (only when a scenario has a breach)
``report.pdf``              the one-page report (only with ``report=True`` / ``--report``)
==========================  ==================================================================

The default folder is ``results/<name of the first scenario>`` (``results/<first>-and-<N>-more``
for several scenarios), so running the same command again replaces the same folder instead of
piling up copies; pass ``--out`` to keep runs apart. A file this module wrote on an earlier run and
does not write this time (``breach_window.png``, ``report.pdf``) is removed, so the folder never
mixes two runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import charts
from .errors import check_output_folder
from .storage import write_csv, write_json, write_parquet

if TYPE_CHECKING:
    from .runner import RunResult

RESULTS_DIR = Path("results")
CHARTS = {
    "trust.png": charts.plot_trust,
    "revenue.png": charts.plot_revenue,
    "consent.png": charts.plot_consent,
    "breach_window.png": charts.plot_breach_window,
}
OPTIONAL_FILES = ("breach_window.png", "report.pdf")
STOCK_HEADLINES = ("trust", "consent_rate")  # end-of-horizon means; the others: whole horizon
HEADLINE_METRICS = {  # metric -> column name in `headline`
    "trust": "trust",
    "revenue": "revenue_per_day",
    "net_value": "net_value_per_day",
    "consent_rate": "consent_rate",
}


def default_folder(names: list[str]) -> Path:
    """``results/<first scenario>``, or ``results/<first>-and-<N>-more`` for several."""
    first = names[0]
    return RESULTS_DIR / (first if len(names) == 1 else f"{first}-and-{len(names) - 1}-more")


def headline(result: RunResult, window: int | None = None) -> pd.DataFrame:
    """One row per scenario and brand: trust and consent rate (means of the last ``window`` days,
    default 30), revenue and net value per day (EUR, means over the whole horizon, so that breach
    costs and lost sales count wherever they fall), each averaged over replications with its 95%
    interval (``<column>_low``, ``<column>_high``), and ``breaches_per_run``, the mean number of
    breaches of the brand over the whole horizon per replication."""
    stocks = result.summary() if window is None else result.summary(window)
    horizon = result.summary(window=int(result.timeseries["day"].max()) + 1)
    summ = pd.concat(
        [
            stocks[stocks["metric"].isin(list(STOCK_HEADLINES))],
            horizon[~horizon["metric"].isin(list(STOCK_HEADLINES))],
        ]
    )
    summ = summ[
        (summ["channel"] == "all")
        & (summ["brand"] != "all")
        & summ["metric"].isin(list(HEADLINE_METRICS))
    ]
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
    ts = result.timeseries
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
    window = min(
        int(result.summary()["window_days"].iloc[0]), int(result.timeseries["day"].max()) + 1
    )
    lines.append(
        f"Trust and consent: means over the last {window} days; revenue and net value: daily means "
        "over the whole horizon (breach costs included); then over replications. "
        "± is the half-width of the 95% confidence interval."
    )
    return "\n".join(lines)


def save(
    result: RunResult,
    folder: str | Path,
    plots: bool = True,
    report: bool = False,
    band: charts.Band = "range",
) -> dict[str, Path]:
    """Write the run's outputs folder (see the module docstring); returns file name -> path.

    Args:
        plots: write the PNG charts.
        report: write the one-page ``report.pdf`` too.
        band: the charts' shaded band, ``"range"`` (5th-95th percentile of the replications) or
            ``"ci"`` (95% confidence interval of the mean over replications).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    summary = result.summary()
    meta = {**result.manifest, "summary_window_days": int(summary["window_days"].iloc[0])}
    written["timeseries.parquet"] = write_parquet(
        folder / "timeseries.parquet", result.timeseries, meta=meta
    )
    written["summary.csv"] = write_csv(folder / "summary.csv", summary)
    if plots:
        for name, plot in CHARTS.items():
            plot_kw = {} if plot is charts.plot_revenue else {"band": band}
            fig = plot(result, **plot_kw)
            if fig is not None:
                written[name] = charts.save_figure(fig, folder / name)
    if report:
        from .report import write_report

        written["report.pdf"] = write_report(result, folder / "report.pdf")
    for name in OPTIONAL_FILES:
        stale = folder / name
        if name not in written and stale.exists():
            stale.unlink()
    manifest: dict[str, Any] = {
        **meta,
        "chart_band": {
            "ci": "95% confidence interval of the mean over replications (t)",
            "range": "5th-95th percentile of the replications",
        }[band],
        "files": ["manifest.json", *written],
    }
    written["manifest.json"] = write_json(folder / "manifest.json", manifest)
    return written


# --------------------------------------------------------------------------------------------
# omnitrust run
# --------------------------------------------------------------------------------------------
def add_run_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``omnitrust run`` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "run",
        help="run scenarios and write data, summary and charts to a folder",
        description="Run one or more scenario files and write timeseries.parquet, summary.csv, "
        "manifest.json and PNG charts (and report.pdf with --report) to a folder.",
    )
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario TOML file(s)")
    p.add_argument(
        "--replications",
        "-r",
        type=int,
        metavar="R",
        help="replications per scenario (default: the scenario's)",
    )
    p.add_argument("--seed", type=int, metavar="S", help="base seed (default: the scenario's)")
    p.add_argument(
        "--days", type=int, metavar="D", help="horizon in days (default: the scenario's)"
    )
    p.add_argument(
        "--consumers", type=int, metavar="N", help="number of consumers (default: the scenario's)"
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: results/<first scenario name>)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run replications in N local processes (default: in this process)",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="send the replications to an existing Dask cluster",
    )
    p.add_argument("--report", action="store_true", help="also write the one-page report.pdf")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(handler=cmd_run)
    return p


def cmd_run(args: argparse.Namespace) -> int:
    """``omnitrust run``: run, save, print the summary and the folder."""
    from .errors import UserError
    from .loading import load_scenario
    from .runner import run

    overrides = {
        "days": args.days,
        "consumers": args.consumers,
        "replications": args.replications,
        "seed": args.seed,
    }
    scenarios = [load_scenario(path, **overrides) for path in args.scenarios]
    names = [s.name for s in scenarios]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UserError(
            f"two scenarios are named {', '.join(repeated)}; names must be unique "
            "in one run (set `name` in the file)"
        )
    folder = args.out if args.out is not None else default_folder(names)
    check_output_folder(folder)
    if args.workers is None and args.scheduler is None:
        result = run(scenarios, progress=args.progress)
    else:
        from .experiments.executors import make_map

        with make_map(workers=args.workers, scheduler=args.scheduler) as map_tasks:
            result = run(scenarios, progress=args.progress, map_tasks=map_tasks)
    written = save(result, folder, report=args.report)
    print(text_summary(result))
    print(f"\nOutputs in {folder}/: {', '.join(written)}")
    sys.stdout.flush()
    return 0
