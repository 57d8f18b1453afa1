"""Sweeps: run an experiment file's design and return one tidy table; robustness and regret.

``sweep("experiments/security_vs_attack.toml", out="results/sv")`` builds every design point
(policies x worlds x factor samples, see `sim.experiments.design`), runs each for the experiment's
replications with common random numbers (replication k of every point shares its seed), streams
each run to ``out`` and builds

* ``table``: one row per run, brand and metric, with the design values as columns
  (``point, [policy], [world], sample, <factor paths>, scenario, replication, seed, brand,
  metric, statistic, value``); the per-run outcome is as in `compare` (mean of the last 30
  days, or of all the days of a shorter run, for stocks; horizon total for flows);
* with named policies, ``robustness``: each policy's mean outcome (the robustness metric and
  brand) in each world (world x factor sample) and its regret, the shortfall vs the best policy
  in that world; ``max_regret``: per policy its largest regret (the minimax-regret choice is the
  first row) and the world where it occurs, labelled and by its design values.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis import regret
from ..analysis.outcomes import outcome_values, statistic_of
from ..analysis.summary import window_words_of
from ..core.errors import UserError
from ..core.storage import provenance, write_csv, write_json, write_parquet
from ..scenario.loading import load_scenario, scenario_reference, with_simulation
from .design import ExperimentError, build_points, load_experiment
from .engine import execute
from .executors import make_map
from .store import ResultStore, RunSpec

READABLE = ["policy", "mean_outcome", "worst_outcome", "max_regret", "world_of_max_regret"]
"""The columns of ``max_regret`` that a sweep's text and card show (its world's coordinates,
for joining, follow them in ``max_regret.csv`` and the attribute)."""


class SweepResult:
    """The outcome of `sweep`: ``table`` (tidy), ``robustness`` and ``max_regret`` (or None),
    ``out`` (results folder), ``manifest``."""

    def __init__(
        self,
        table: pd.DataFrame,
        robustness: pd.DataFrame | None,
        max_regret: pd.DataFrame | None,
        out: Path,
        manifest: dict[str, Any],
    ):
        self.table = table
        self.robustness = robustness
        self.max_regret = max_regret
        self.out = out
        self.manifest = manifest

    def report(self, path: str | os.PathLike | None = None, **kw: Any) -> Any:
        """``report("x.html")`` (or a path ending in .pdf) writes the executive report of the
        results folder, as ``omnitrust report FOLDER -o x.html`` does, and returns its path
        (``kw``: ``brand``, ``threshold``); ``report()`` returns the plain-text report, as
        `report_text`."""
        from .reporting import report_file, write_folder_report

        target = report_file(path)
        if target is not None:
            return write_folder_report(self.out, target, **kw)
        if path is not None:
            raise TypeError(
                "a sweep's plain-text report has no choice of metrics: call report() or "
                "report_text(), or report('x.html') for the executive report"
            )
        return self.report_text()

    def report_text(self) -> str:
        """A plain-text report: size of the table and the robustness tables."""
        m = self.manifest
        parts = [
            f"Sweep {m['experiment']}: {m['points']} design points x {m['replications']} "
            f"replications = {m['runs']} runs; {len(self.table)} rows in "
            f"{self.out / 'results.parquet'}"
        ]
        if self.max_regret is not None:
            parts += [
                "",
                f"{self._regret_on()}, per policy (max over worlds):",
                self.max_regret[READABLE].to_string(index=False, float_format=lambda v: f"{v:.4g}"),
            ]
            if m.get("verdict"):
                parts += ["", verdict_line(m["verdict"])]
        elif m.get("posterior"):
            parts += [
                "",
                f"Each replication drew its parameters from {m['posterior']['path']} "
                f"({m['posterior']['draws']} draws): the spread of the results includes "
                "parameter uncertainty.",
            ]
        return "\n".join(parts)

    def _regret_on(self) -> str:
        """``Regret on net_value of Aurora (total over the horizon; max is better)``: the metric,
        the per-run outcome it is judged on (`statistic_of`; a ``window`` mean is over the last
        30 days, or all the days of a shorter run: the points' horizons, from the folder's
        ``scenarios.json``) and the direction."""
        m = self.manifest
        r = m["robustness"]
        statistic = statistic_of(r["metric"], m.get("outcome", "auto"))
        per_run = (
            "total over the horizon"
            if statistic == "total"
            else f"mean of {window_words_of(self._horizons())}"
        )
        return f"Regret on {r['metric']} of {r['brand']} ({per_run}; {r['direction']} is better)"

    def _horizons(self) -> set[int]:
        """The days of the points' runs, from ``scenarios.json`` (none when it is missing)."""
        from ..scenario.loading import stored_definitions

        try:
            specs = stored_definitions(self.out)
        except UserError:
            return set()  # (only the words of the regret line read them)
        return {int(s["simulation"]["days"]) for s in specs.values() if "simulation" in s}

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"<SweepResult {m['experiment']}: {m['points']} points x {m['replications']} "
            f"replications, out={str(self.out)!r}>"
        )

    def _repr_html_(self) -> str:
        from ..analysis.display import card

        m = self.manifest
        facts = [
            f"{m['points']} design points x {m['replications']} replications = {m['runs']} runs",
            f"{len(self.table):,} rows",
            f"results in {self.out}",
        ]
        tables = []
        if self.max_regret is not None:
            tables.append(
                (
                    f"{self._regret_on()}: per policy, its largest shortfall against the best "
                    "policy of a world",
                    self.max_regret[READABLE],
                )
            )
        return card(
            f"Sweep {m['experiment']}",
            facts,
            tables,
            ".table, .robustness, .max_regret, .report('x.html'), .report_text()",
        )


def sweep(
    experiment: str | Path,
    out: str | Path | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    days: int | None = None,
    consumers: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    outcome: str = "auto",
    progress: bool = True,
    posterior: str | Path | None = None,
) -> SweepResult:
    """Run the experiment file ``experiment`` (see the module docstring).

    Args:
        experiment: path of the experiment TOML file.
        out: results folder (default ``results/<experiment name>``); rerunning resumes.
        replications, seed, days, consumers: override the experiment's values.
        workers, scheduler, client: executor (see `make_map`); results do not depend on it.
        outcome: per-run outcome ``auto`` | ``window`` | ``total``.
        progress: show a progress bar.
        posterior: a posterior.parquet of `omnitrust calibrate`: replication k of every point
            draws its parameters from it (`sim.experiments.posterior`); with policies,
            ``verdict`` says how often the minimax-regret choice is the same across draws.
    """
    from .posterior import Posterior, holds, posterior_caveat

    draws = Posterior(posterior) if posterior is not None else None
    exp, _ = load_experiment(experiment)
    base_path = scenario_reference(exp.base, experiment, "base").resolve()  # here, or bundled
    base = load_scenario(base_path)
    # (a 0 given is a 0: refused below, not replaced by the file's value)
    reps = replications if replications is not None else exp.replications
    if reps < 1:
        raise ExperimentError(f"replications = {reps}: must be at least 1 (--replications)")
    over = {  # every point's [simulation] as it runs (its scenarios.json records it)
        "replications": reps,
        "seed": seed if seed is not None else exp.seed,
        "days": days if days is not None else exp.days,
        "consumers": consumers if consumers is not None else exp.consumers,
    }
    base = with_simulation(base, **over)
    seed_ = base.simulation.seed
    points = build_points(exp, base, str(experiment))
    brands = [b.name for b in base.brands]
    rob_brand = exp.robustness.brand or brands[0]
    if rob_brand not in brands:
        raise ExperimentError(
            f"{experiment}: robustness.brand = {rob_brand!r}: not a brand of "
            f"the base scenario; allowed: {', '.join(brands)}"
        )
    if draws is not None:
        clash = sorted(set(draws.paths) & set(exp.design.factors))
        if clash:
            raise ExperimentError(
                f"{experiment}: --posterior {draws.path} sets {', '.join(clash)}, which the "
                "design varies; drop the factor or the posterior column"
            )
    specs = [
        RunSpec(
            p.scenario if draws is None else draws.apply(p.scenario, seed_, k),
            k,
            seed_,
            design=p.columns(),
        )
        for p in points
        for k in range(reps)
    ]
    store = ResultStore(out if out is not None else Path("results") / exp.name)
    taskmap = make_map(workers=workers, scheduler=scheduler, client=client, tasks=len(specs))
    manifest_fields = dict(
        kind="sweep",
        experiment=str(experiment),
        experiment_spec=exp.model_dump(mode="json"),
        base={"path": str(base_path), "hash": base.content_hash()},
        seed=seed_,
        replications=reps,
        points=len(points),
        runs=len(specs),
        outcome=outcome,
        design=[
            {**p.columns(), "scenario": p.scenario.name, "hash": p.scenario.content_hash()}
            for p in points
        ],
        executor=taskmap.describe(),
        posterior=draws.describe() if draws is not None else None,
        robustness={
            "metric": exp.robustness.metric,
            "brand": rob_brand,
            "direction": exp.robustness.direction,
        }
        if exp.policies
        else None,
    )
    store.write_manifest(provenance(**manifest_fields, status="running"))
    try:
        execute(specs, store, taskmap, progress, desc=f"sweep {exp.name}")
    finally:
        taskmap.close()

    runs = store.summaries(specs)
    runs = runs[runs["metric"].isin(exp.metrics)]
    runs = outcome_values(runs, outcome)
    design_cols = list(points[0].columns())
    table = runs[
        [*design_cols, "scenario", "replication", "seed", "brand", "metric", "statistic", "value"]
    ].sort_values(["point", "replication", "brand", "metric"], kind="stable", ignore_index=True)
    root = store.root
    write_json(
        root / "scenarios.json",
        {p.scenario.name: p.scenario.model_dump(mode="json") for p in points},
    )
    write_parquet(root / "results.parquet", table)
    write_csv(root / "results.csv", table)
    robustness = max_regret = verdict = None
    if exp.policies:
        rob_runs = outcome_values(store.summaries(specs), outcome)
        robustness, max_regret = regret_tables(
            rob_runs, exp.robustness.metric, rob_brand, exp.robustness.direction, design_cols
        )
        write_csv(root / "robustness.csv", robustness)
        write_csv(root / "max_regret.csv", max_regret)
        if draws is not None:
            chosen = max_regret["policy"].iloc[0]
            per_draw = [
                regret_tables(
                    g, exp.robustness.metric, rob_brand, exp.robustness.direction, design_cols
                )[1]["policy"].iloc[0]
                for _, g in rob_runs.groupby("replication", sort=True)
            ]
            share = sum(c == chosen for c in per_draw) / len(per_draw)
            verdict = {
                "policy": chosen,
                "draws": len(per_draw),
                "share_same_choice": share,
                "holds": holds(share, len(per_draw)),
                "posterior": str(draws.path),
                "caveat": posterior_caveat(draws.path),
            }
    manifest = provenance(
        **manifest_fields,
        status="complete",
        verdict=verdict,
        tables=["results.parquet", "results.csv"]
        + (["robustness.csv", "max_regret.csv"] if exp.policies else []),
    )
    store.write_manifest(manifest)
    return SweepResult(table, robustness, max_regret, root, manifest)


def verdict_line(v: dict[str, Any]) -> str:
    """The printed verdict of a sweep under parameter uncertainty."""
    from .posterior import MIN_DRAWS

    if v["draws"] < MIN_DRAWS:
        said = f"too few draws to tell whether the choice holds (needs at least {MIN_DRAWS})"
    else:
        said = (
            f"the choice {'holds' if v['holds'] else 'does NOT hold'} across plausible parameters"
        )
    caveat = f" {v['caveat'][0].upper()}{v['caveat'][1:]}." if v.get("caveat") else ""
    return (
        f"Verdict under parameter uncertainty (each replication draws its parameters from "
        f"{v['posterior']}): {v['policy']} is the minimax-regret choice in "
        f"{v['share_same_choice']:.0%} of {v['draws']} draws; {said}.{caveat}"
    )


def regret_tables(
    runs: pd.DataFrame, metric: str, brand: str, direction: str, design_cols: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Robustness table (policy x world: mean outcome, best, regret) and max regret per policy,
    of ``brand``'s ``metric`` in the per-run table ``runs`` (`outcome_values` rows).

    A world is every design column but ``point`` and ``policy`` (named world and factor sample).
    Regret = best policy's mean outcome in that world minus this policy's (``direction="max"``),
    or this policy's minus the best (``"min"``); always >= 0. Computed by
    `sim.analysis.regret.regret_tables`, as the report's regret table is; the world of each
    policy's largest regret is labelled as the report labels it (`world_labels`:
    ``hostile, data_retention_days=730``, from the settings that vary), and given by its
    coordinates too: the world columns (``world``, ``sample``, the factor paths) with their
    values there, as in the robustness table, so that the two (and the results) can be joined.
    """
    from ..analysis.findings import design_axes, world_labels

    sel = runs[(runs["metric"] == metric) & (runs["brand"] == brand)]
    world_cols = [c for c in design_cols if c not in ("point", "policy")]
    keys = ["policy", *world_cols]
    mean, per_policy = regret.regret_tables(sel, ["policy"], world_cols, direction)
    mean.insert(len(keys), "metric", metric)
    mean.insert(len(keys) + 1, "brand", brand)
    mr = per_policy[["policy", "mean_outcome", "worst_outcome", "max_regret"]].copy()
    design = runs.drop_duplicates("point")[design_cols].reset_index(drop=True)
    axes = design_axes(design)
    labels = design[world_cols].assign(_world=world_labels(design, axes[1] if axes else []))
    mr["world_of_max_regret"] = per_policy[world_cols].merge(
        labels.drop_duplicates(world_cols), how="left"
    )["_world"]
    # and that world's coordinates as robustness.csv and the results table hold them, to join on
    mr[world_cols] = per_policy[world_cols]
    return mean, mr
