"""Reopen a results folder as the object that wrote it: ``sim.open(FOLDER)``.

A folder written by ``omnitrust run`` / `RunResult.save` becomes a `sim.runner.RunResult`, one
written by ``omnitrust compare`` / `sim.compare(out=...)` a `sim.experiments.Comparison`, one
written by ``omnitrust sweep`` / `sim.sweep` a `sim.experiments.SweepResult`. The folder's
``manifest.json`` says which (its ``kind``); nothing is rerun.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..core.errors import UserError
from ..core.storage import read_json


def open_results(folder: str | Path) -> Any:
    """The result object stored in ``folder`` (see the module docstring)."""
    folder = Path(folder)
    path = folder / "manifest.json"
    try:
        manifest = read_json(path, "the manifest")
    except FileNotFoundError:
        raise UserError(
            f"{folder}: not a results folder (no manifest.json); give a folder written by "
            "omnitrust run, compare or sweep"
        ) from None
    if not isinstance(manifest, dict):
        raise UserError(f"{path}: not an omnitrust manifest (a JSON object is expected)")
    kind = manifest.get("kind", "run" if (folder / "timeseries.parquet").exists() else None)
    if manifest.get("status", "complete") != "complete":
        raise UserError(
            f"{folder}: the {kind} stopped before it finished (status "
            f"{manifest.get('status')!r}); rerun the same command to complete it"
        )
    if kind == "run":
        return _open_run(folder, manifest)
    if kind == "compare":
        return _open_comparison(folder, manifest)
    if kind == "sweep":
        return _open_sweep(folder, manifest)
    raise UserError(f"{path}: kind = {kind!r}: not one of run, compare, sweep")


def _open_run(folder: Path, manifest: dict[str, Any]):
    from ..runner import RunResult
    from ..scenario.loading import scenario_from_record

    info = manifest.get("scenarios", {})
    missing = [name for name, s in info.items() if "definition" not in s]
    if missing or not info:
        raise UserError(
            f"{folder}/manifest.json: the scenarios' definitions are not recorded (written by an "
            "older omnitrust); rerun `omnitrust run` to reopen the folder"
        )
    scenarios = {
        name: scenario_from_record(s["definition"], f"{folder}/manifest.json [scenarios.{name}]")
        for name, s in info.items()
    }
    ts = pd.read_parquet(folder / "timeseries.parquet")
    keep = {
        k: v for k, v in manifest.items() if k not in ("files", "chart_band", "summary_window_days")
    }
    return RunResult(ts, scenarios, keep)


def _open_comparison(folder: Path, manifest: dict[str, Any]):
    from .compare import Comparison
    from .store import read_series

    def table(name: str) -> pd.DataFrame | None:
        p = folder / name
        return pd.read_csv(p) if p.exists() else None

    names = list(manifest["scenarios"])
    seed, reps = int(manifest["seed"]), int(manifest["replications"])
    runs = pd.read_parquet(folder / "runs.parquet")
    trust = read_series(folder, names, seed, reps, "trust")
    cf_trust = None
    if manifest.get("counterfactuals"):
        cf_trust = read_series(folder, list(manifest["counterfactuals"]), seed, reps, "trust")
        cf_trust["scenario"] = cf_trust["scenario"].str.removesuffix("__no_incidents")
    target = manifest.get("target_result")
    # the day each scenario's policies change (the line a fresh compare draws on the trust
    # chart), from the definitions the comparison wrote
    from ..scenario.loading import stored_definitions

    specs = stored_definitions(folder)
    changes = {
        name: int(spec["policy_from_day"])
        for name, spec in specs.items()
        if name in names and spec.get("policy_from_day") is not None
    }
    return Comparison(
        levels=table("levels.csv"),
        differences=table("differences.csv"),
        runs=runs,
        risk=table("risk.csv"),
        losses=table("losses.csv"),
        threshold=table("trust_threshold.csv"),
        replications=reps,
        target=target,
        reference=manifest["reference"],
        scenarios=names,
        focus_brands=manifest["focus_brands"],
        trust=trust,
        trust_no_incidents=cf_trust,
        out=folder,
        charts=[folder / c for c in manifest.get("charts", [])],
        manifest=manifest,
        policy_days=changes,
    )


def _open_sweep(folder: Path, manifest: dict[str, Any]):
    from .sweep import SweepResult

    def table(name: str) -> pd.DataFrame | None:
        p = folder / name
        return pd.read_csv(p) if p.exists() else None

    return SweepResult(
        pd.read_parquet(folder / "results.parquet"),
        table("robustness.csv"),
        table("max_regret.csv"),
        folder,
        manifest,
    )
