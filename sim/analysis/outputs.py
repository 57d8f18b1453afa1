"""A run's outputs folder, its text summary and the ``omnitrust run`` command.

``save(result, folder)`` (``result.save(folder)``) writes, each file atomically:

==========================  ==================================================================
``timeseries.parquet``      the tidy table ``scenario, replication, day, brand, channel, metric,
                            value``; the run's provenance is in the file's metadata (key
                            ``omnitrust``, read it with `sim.core.storage.read_parquet_meta`)
``summary.csv``             per scenario, brand, channel and metric: mean over the last 30 days of
                            each replication (all its days in a shorter run; the column
                            ``window_days`` says how many), then over replications, with a 95% t
                            interval (`sim.analysis.summary.summarise`)
``manifest.json``           provenance (scenario content hashes, seeds, sizes, versions, command)
                            and the list of files written
``trust.png``               trust per brand over time, one panel per scenario
``revenue.png``             revenue by channel, one row per scenario and one panel per brand
``consent.png``             consent rate and e-mail subscribers per brand
``breach_window.png``       trust around each breach (only when a scenario has a breach)
``scenarios.json``          the validated scenarios (what the report's assumptions compare)
``report.html``             the executive report (only with ``report=True`` / ``--report``;
                            `sim.analysis.report`), self-contained
``report.pdf``              the same report printed by Chromium (with ``--report``, when
                            Chromium and Playwright are installed)
==========================  ==================================================================

The default folder is ``results/<name of the first scenario>`` (``results/<first>-and-<N>-more``
for several scenarios), so running the same command again replaces the same folder instead of
piling up copies; pass ``--out`` to keep runs apart. A file this module wrote on an earlier run and
does not write this time (``breach_window.png``, ``report.html``, ``report.pdf``) is removed, so
the folder never mixes two runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import timing
from ..core.storage import write_csv, write_json, write_parquet

if TYPE_CHECKING:
    from ..runner import RunResult
    from .charts import Band
    from .painters import ChartPainters

RESULTS_DIR = Path("results")
CHARTS = ("trust.png", "revenue.png", "consent.png", "breach_window.png")
OPTIONAL_FILES = ("breach_window.png", "report.html", "report.pdf")


def default_folder(names: list[str]) -> Path:
    """``results/<first scenario>``, or ``results/<first>-and-<N>-more`` for several."""
    first = names[0]
    return RESULTS_DIR / (first if len(names) == 1 else f"{first}-and-{len(names) - 1}-more")


def save(
    result: RunResult,
    folder: str | Path,
    plots: bool = True,
    report: bool = False,
    band: Band = "range",
    painters: ChartPainters | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> dict[str, Path]:
    """Write the run's outputs folder (see the module docstring); returns file name -> path.

    Args:
        plots: write the PNG charts.
        report: write ``report.html`` too, and ``report.pdf`` when Chromium is installed.
        band: the charts' shaded band, ``"range"`` (5th-95th percentile of the replications) or
            ``"ci"`` (95% confidence interval of the mean over replications).
        painters: helper processes that draw the charts while the data files are written
            (`sim.analysis.painters`, as ``omnitrust run`` does); charts they could not draw
            are drawn here. Without them (the default) the charts are drawn in this process.
        meanwhile: called once the data files are written, before the charts are waited for
            or drawn (``omnitrust run`` prepares its printed summary there while the painters
            draw).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if plots and painters is not None:
        painters.paint(result, folder, band)
    summary = result.summary()
    meta = {**result.manifest, "summary_window_days": int(summary["window_days"].iloc[0])}
    written["timeseries.parquet"] = write_parquet(
        folder / "timeseries.parquet", result.timeseries, meta=meta
    )
    written["summary.csv"] = write_csv(folder / "summary.csv", summary)
    timing.mark("write data")
    if meanwhile is not None:
        meanwhile()
    if plots:
        drawn = painters.collect() if painters is not None else {}
        timing.mark("chart painters")
        for name in CHARTS:
            if name not in drawn:
                from .painters import draw

                drawn[name] = draw(name, result, folder, band)
                timing.mark(f"chart {name}")
            if drawn[name] is not None:
                written[name] = drawn[name]
    written["scenarios.json"] = write_json(
        folder / "scenarios.json",
        {name: spec.model_dump(mode="json") for name, spec in result.scenarios.items()},
    )
    if report:
        from .report import write_folder_report

        written.update(write_folder_report(result, folder))
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
    timing.mark("write manifest")
    return written
