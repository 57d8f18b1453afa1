"""Compare policies with common random numbers: levels, paired differences, replication rule.

``compare([A, B, ...], replications=R, seed=S)`` runs replication k of every scenario with the
same seed ``replication_seed(S, k)`` (same consumers, same draws in every stream a policy does not
touch). Per scenario, brand and metric it reports

* levels: mean over replications of the per-run outcome with a 95% Student t interval;
* differences against a reference scenario (the first by default): the mean of the paired
  per-replication differences with a 95% paired t interval and a percentile bootstrap interval;
* how much pairing helps: the reference is run again with independent seeds
  (``independent_seed(S)``), giving a Welch interval for the same difference as if the scenarios
  had been run with independent seeds; ``width_ratio`` = paired width / independent width
  (below 1: pairing narrows the interval; its square is the variance reduction).

The per-run outcome (see `sim.analysis.outcomes.OUTCOMES`) is, by default, the mean over the last
30 days of each run (all its days in a shorter run) for stocks (trust, consent_rate, subscribers, ...) and the total over the
horizon for flows (revenue, net_value, breach_cost, ...).

With ``target_width`` replications are added in batches until the 95% half-width of every chosen
difference (of levels when there is one scenario) is at most the target, or ``max_replications``
is reached; the result says how many it took.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis import stats
from ..analysis.outcomes import (
    OUTCOMES,
    _order,
    differences_table,
    metric_list,
    outcome_values,
    window_words,
)
from ..core.errors import UserError
from ..core.storage import provenance, write_csv, write_json, write_parquet
from ..core.streams import replication_seed
from ..runner import resolve
from ..scenario import Scenario
from ..scenario.loading import with_simulation
from ..scenario.schema import PAIRED_FIELDS
from .engine import Interrupted, execute
from .executors import TaskMap, make_map
from .store import HEADLINE, ResultStore, RunSpec


def independent_seed(seed: int) -> int:
    """The base seed of the reference's independent-seeds rerun (a hash of ``seed``)."""
    return replication_seed(seed, -1)


def no_incidents(scenario: Scenario) -> Scenario:
    """The counterfactual of a scenario without incidents: attack pressure 0 and no scheduled
    breach or third-party leak (media stories stay). Everything else, seeds included, is equal."""
    data = scenario.model_dump(mode="python")
    data["name"] = f"{scenario.name}__no_incidents"
    data["world"]["attack_pressure"] = 0.0
    data["events"] = [e for e in data["events"] if e["kind"] not in ("breach", "third_party_leak")]
    return Scenario.model_validate(data)


def levels_table(runs: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    """Mean of the per-run outcome per scenario, brand and metric, with a 95% t interval."""
    rows = []
    for (scenario, brand, metric, statistic), g in runs.groupby(
        ["scenario", "brand", "metric", "statistic"], sort=True
    ):
        mean, sd, n, half = stats.t_interval(g.sort_values("replication")["value"].to_numpy())
        rows.append(
            (scenario, brand, metric, statistic, n, mean, sd, mean - half, mean + half, half)
        )
    cols = [
        "scenario",
        "brand",
        "metric",
        "statistic",
        "replications",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
        "half_width",
    ]
    return _order(pd.DataFrame(rows, columns=cols), scenarios)


class Comparison:
    """The outcome of `compare`.

    Attributes:
        levels: per scenario, brand and metric: mean with 95% t interval.
        differences: per scenario (not the reference), brand and metric: paired difference vs
            the reference with 95% paired t and bootstrap intervals, independent-seeds interval
            and ``width_ratio``.
        runs: per-run outcome rows (scenario, replication, seed, brand, metric, statistic, value).
        risk: per scenario and brand: losses' mean, VaR and expected shortfall at 95% (``risk``
            only), ``losses``: the per-run losses; ``threshold``: probability that trust falls
            below the threshold by the given day, with Wilson interval.
        replications: replications used; ``target``: the replication rule's record (or None).
        trust: daily trust per scenario, replication and brand (what `plot_trust` draws);
            ``trust_no_incidents``: the same for each scenario's no-incident counterfactual
            (``risk`` only, else None), to measure how far trust is below where it would be.
        out: the results folder (None when `compare` ran without ``out``: nothing was kept on
            disk); ``charts``: paths of the charts written.
        policy_days: the day each scenario's policies take effect, for the scenarios that set
            ``policy_from_day`` (the trust chart marks it).
    """

    def __init__(self, **fields: Any):
        self.levels: pd.DataFrame = fields["levels"]
        self.differences: pd.DataFrame = fields["differences"]
        self.runs: pd.DataFrame = fields["runs"]
        self.risk: pd.DataFrame | None = fields.get("risk")
        self.losses: pd.DataFrame | None = fields.get("losses")
        self.threshold: pd.DataFrame = fields["threshold"]
        self.replications: int = fields["replications"]
        self.target: dict[str, Any] | None = fields.get("target")
        self.reference: str = fields["reference"]
        self.scenarios: list[str] = fields["scenarios"]
        self.focus_brands: list[str] = fields["focus_brands"]
        self.trust: pd.DataFrame = fields["trust"]
        self.trust_no_incidents: pd.DataFrame | None = fields.get("trust_no_incidents")
        self.out: Path | None = fields["out"]
        self.charts: list[Path] = fields.get("charts", [])
        self.manifest: dict[str, Any] = fields["manifest"]
        self.verdicts: pd.DataFrame | None = fields.get("verdicts")
        self.posterior: Path | None = fields.get("posterior")
        self.policy_days: dict[str, int] = fields.get("policy_days") or {}

    @property
    def days(self) -> int | None:
        """Reported days of each run (None when no daily trust is kept)."""
        day = self.trust.get("day")
        return None if day is None or not len(day) else int(day.max()) + 1

    def report(
        self,
        path: str | os.PathLike | Sequence[str] | None = None,
        metrics: Sequence[str] = HEADLINE,
        **kw: Any,
    ) -> Any:
        """``report("x.html")`` (or a path ending in .pdf) writes the executive report of the
        results folder, as ``omnitrust report FOLDER -o x.html`` does, and returns its path
        (``kw``: ``brand``, ``threshold``); needs the folder (`compare` with ``out``).
        ``report()`` or ``report([metrics])`` returns the plain-text report, as `report_text`."""
        from .reporting import report_file, write_folder_report

        target = report_file(path)
        if target is not None:
            return write_folder_report(self.out, target, **kw)
        return self.report_text(metrics if path is None else list(path))

    def report_text(self, metrics: str | Sequence[str] = HEADLINE) -> str:
        """A plain-text report of the headline levels, differences and pairing gains
        (``metrics``: a metric's name or a list of them; an unknown one is refused)."""
        return _report(self, self._metrics(metrics))

    def _metrics(self, metrics: str | Sequence[str]) -> list[str]:
        """``metrics`` as a list (one name is one metric), each a metric of these results."""
        return metric_list(metrics, {*HEADLINE, *self.levels["metric"].astype(str)})

    def plot_trust(self, brand: str | None = None, ax=None):
        """Mean trust per day per scenario with the 95% t interval of the mean, one panel per
        focus brand (``brand``: that one; ``ax``: draw its panel there). Returns the Figure."""
        from .plots import trust_bands_figure

        brands = [brand] if brand else self.focus_brands
        return trust_bands_figure(
            self.trust, self.scenarios, brands, ax=ax, changes=self.policy_days
        )

    def plot_differences(self, metrics: str | Sequence[str] = HEADLINE, ax=None):
        """Forest plot of the paired differences vs the reference with 95% intervals, one panel
        per metric (one metric with ``ax``). Returns the Figure."""
        from .plots import forest_figure

        return forest_figure(
            self.differences,
            self.focus_brands,
            tuple(self._metrics(metrics)),
            ax=ax,
            scenarios=self.scenarios,
        )

    def plot_loss_exceedance(self, brand: str | None = None, ax=None):
        """Loss exceedance curves per scenario (needs ``risk=True``). Returns the Figure."""
        from .plots import loss_exceedance_figure

        if self.losses is None:
            raise ValueError("no losses: run compare(..., risk=True) for a loss exceedance chart")
        brands = [brand] if brand else self.focus_brands
        return loss_exceedance_figure(self.losses, brands, ax=ax, scenarios=self.scenarios)

    def __repr__(self) -> str:
        where = f", out={str(self.out)!r}" if self.out is not None else ""
        return (
            f"<Comparison of {len(self.scenarios)} scenarios vs {self.reference!r}, "
            f"{self.replications} replications{where}>"
        )

    def _repr_html_(self) -> str:
        from ..analysis.display import card, with_interval

        d = self.differences
        d = d[d["metric"].isin(HEADLINE) & d["brand"].isin(self.focus_brands)]
        cells = with_interval(d, "diff", "ci_low", "ci_high")
        table = (
            cells.pivot(index=["scenario", "brand"], columns="metric", values="diff")
            .reindex(columns=[m for m in HEADLINE if m in set(d["metric"])])
            .reindex(pd.MultiIndex.from_frame(d[["scenario", "brand"]].drop_duplicates()))
            .reset_index()
            .rename_axis(columns=None)
        )
        facts = [
            f"reference {self.reference}",
            f"{self.replications} replications with common random numbers",
            f"results in {self.out}" if self.out is not None else "nothing kept on disk",
        ]
        return card(
            f"Comparison of {', '.join(self.scenarios)}",
            facts,
            [
                (
                    f"Paired differences, scenario minus {self.reference}, with the 95% paired t "
                    "interval: trust, consent rate and subscribers as means of "
                    f"{window_words(self.days)}, money as totals over the horizon (EUR)",
                    table,
                )
            ]
            if len(table)
            else [],
            ".levels, .differences, .runs, .report('x.html'), .report_text(), .plot_trust(), "
            ".plot_differences()",
        )


def compare(
    scenarios: Sequence[Scenario | str | Path],
    replications: int | None = None,
    seed: int | None = None,
    *,
    reference: str | None = None,
    out: str | Path | None = None,
    days: int | None = None,
    consumers: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    outcome: str = "auto",
    independent: bool = True,
    bootstrap: int = 2000,
    target_width: float | None = None,
    target_metrics: Sequence[str] = ("trust",),
    max_replications: int = 100,
    batch: int | None = None,
    focus_brand: str | None = None,
    risk: bool = False,
    threshold: float = 0.4,
    by_day: int | None = None,
    charts: bool = True,
    progress: bool = True,
    posterior: str | Path | None = None,
) -> Comparison:
    """Run scenarios with common random numbers and compare them (see the module docstring).

    Args:
        scenarios: `Scenario` objects or TOML paths; names must be unique.
        replications: replications per scenario (default: the files', which must then agree);
            with ``target_width``, the first batch.
        seed: base seed shared by all scenarios (default: the reference's file).
        reference: name of the reference scenario (default: the first).
        out: results folder; rerunning into the same folder resumes. Without it the runs go
            to a temporary folder that is deleted before returning (nothing is left on disk;
            the result keeps its tables and can still draw its charts).
        days, consumers: override every scenario's [simulation] values. Scenarios whose
            days, consumers, warm-up or active window (or replications, unless given) differ
            from the reference's are refused (`UserError` naming the field and both values):
            paired differences need one market size and horizon.
        workers, scheduler, client: executor (see `make_map`); results do not depend on it.
        outcome: per-run outcome, ``auto`` | ``window`` | ``total`` (see `sim.analysis.outcomes.OUTCOMES`).
        independent: also run the reference with independent seeds to measure the pairing gain.
        bootstrap: bootstrap resamples for the difference intervals (0: none).
        target_width: 95% half-width to reach on ``target_metrics`` (differences when comparing),
            for the focus brand (default: every brand); ``max_replications`` caps the total and
            ``batch`` (default: the first ``replications``) is the step.
        focus_brand: brand of the forest plot, printed tables and replication rule.
        risk: also run each scenario's no-incident counterfactual and report losses, VaR and ES.
        threshold, by_day: report P(trust < threshold on some day <= by_day) per brand.
        charts: write charts into ``out/charts``.
        progress: show a progress bar.
        posterior: a posterior.parquet of `omnitrust calibrate`: replication k of every
            scenario draws its parameters from it (`sim.experiments.posterior`), so intervals
            include parameter uncertainty and ``verdicts`` says whether each difference holds
            across plausible parameters.
    """
    if out is None:  # work in a temporary folder that is gone when the result is returned
        kw = {k: v for k, v in locals().items() if k not in ("scenarios", "out", "charts")}
        import tempfile

        with tempfile.TemporaryDirectory(prefix="omnitrust-compare-") as tmp:
            result = compare(scenarios, out=tmp, charts=False, **kw)
        result.out = None
        return result
    from .posterior import Posterior

    draws = Posterior(posterior) if posterior is not None else None
    if not scenarios:
        raise UserError("compare needs at least one scenario")
    resolved = [resolve(s, days=days, consumers=consumers) for s in scenarios]
    names = [s.name for s in resolved]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UserError(
            f"scenario names must be unique in a comparison; repeated: "
            f"{', '.join(dup)} (set `name = ...` in the scenario files)"
        )
    reference = names[0] if reference is None else reference
    if reference not in names:
        raise UserError(
            f"--reference {reference!r} is not one of the scenarios: {', '.join(names)}"
        )
    ref_scn = resolved[names.index(reference)]
    _check_one_size(resolved, ref_scn, replications is None, scenarios)
    seed = ref_scn.simulation.seed if seed is None else int(seed)
    reps = ref_scn.simulation.replications if replications is None else int(replications)
    brands = [b.name for b in ref_scn.brands]
    if focus_brand is not None and focus_brand not in brands:
        raise UserError(
            f"--focus-brand {focus_brand!r} is not a brand of {reference!r}: {', '.join(brands)}"
        )
    if outcome not in OUTCOMES:
        raise UserError(f"--outcome {outcome!r} is not one of: {', '.join(OUTCOMES)}")
    if reps < 1:
        raise UserError(f"--replications must be at least 1, got {reps}")
    _check_options(seed, bootstrap, threshold, by_day, ref_scn.simulation.days)
    if target_width is not None and int(max_replications) < 1:
        raise UserError(f"--max-replications must be at least 1, got {max_replications}")
    if target_width is not None and batch is not None and int(batch) < 1:
        raise UserError(f"--batch must be at least 1, got {batch}")
    if isinstance(target_metrics, str):  # one metric's name, not its letters
        target_metrics = [target_metrics]
    if target_width is not None:
        if target_width <= 0:
            raise UserError(f"--target-width must be positive, got {target_width}")
        from ..mechanisms.metrics import EVENT_COUNTERS, MARKET_SHARES, STOCKS

        known = {*EVENT_COUNTERS, *STOCKS, *MARKET_SHARES, "purchases", "revenue", "net_value"}
        bad = [m for m in target_metrics if m not in known]
        if bad:
            raise UserError(
                f"--metric {bad[0]!r} is not a metric; allowed: {', '.join(sorted(known))}"
            )
        max_replications = max(int(max_replications), reps)
    focus = [focus_brand] if focus_brand else brands
    resolved = [with_simulation(s, seed=seed) for s in resolved]
    counterfactuals = [no_incidents(s) for s in resolved] if risk else []

    store = ResultStore(out)

    def drawn(s: Scenario, base: int, k: int) -> Scenario:
        return s if draws is None else draws.apply(s, base, k)

    def specs_for(n: int) -> tuple[list[RunSpec], list[RunSpec], list[RunSpec]]:
        main = [RunSpec(drawn(s, seed, k), k, seed) for s in resolved for k in range(n)]
        ind_seed = independent_seed(seed)
        ind_scn = with_simulation(ref_scn, seed=ind_seed)
        ind = (
            [
                RunSpec(drawn(ind_scn, ind_seed, k), k, ind_seed, role="independent")
                for k in range(n)
            ]
            if independent
            else []
        )
        cf = [  # the draw first, so a drawn attack pressure cannot undo the counterfactual
            RunSpec(no_incidents(drawn(s, seed, k)), k, seed, role="no_incidents")
            for s in (resolved if risk else [])
            for k in range(n)
        ]
        return main, ind, cf

    base_manifest = dict(
        kind="compare",
        reference=reference,
        focus_brands=focus,
        seed=seed,
        outcome=outcome,
        independent_seed=independent_seed(seed) if independent else None,
        scenarios={s.name: {"hash": s.content_hash(), "seed": seed} for s in resolved},
        counterfactuals={s.name: s.content_hash() for s in counterfactuals},
        posterior=draws.describe() if draws is not None else None,
        target={
            "width": target_width,
            "kind": "95% half-width",
            "metrics": list(target_metrics),
            "brands": focus,
            "max_replications": max_replications,
        }
        if target_width
        else None,
    )
    taskmap: TaskMap = make_map(
        workers=workers, scheduler=scheduler, client=client, tasks=sum(map(len, specs_for(reps)))
    )
    executor = taskmap.describe()
    history: list[dict[str, Any]] = []
    try:
        n = reps
        step = int(batch) if batch else reps
        while True:
            main, ind, cf = specs_for(n)
            store.write_manifest(
                provenance(**base_manifest, replications=n, status="running", executor=executor)
            )
            execute(main, store, taskmap, progress, desc=f"compare ({n} replications)")
            if target_width is None:
                break
            runs = outcome_values(store.summaries(main), outcome)
            crit = _criterion(runs, names, reference, target_metrics, focus)
            history.append({"replications": n, "max_half_width": crit})
            if (not math.isnan(crit) and crit <= target_width) or n >= max_replications:
                break
            n = min(n + step, max_replications)
        extra = ind + cf
        if extra:
            execute(extra, store, taskmap, progress, desc="independent/counterfactual runs")
    except Interrupted:  # count every run of the comparison on disk, not only this phase's
        everything = {s.run_id: s for s in [*main, *ind, *cf]}
        raise Interrupted(store.count_done(list(everything.values())), store.root) from None
    finally:
        taskmap.close()

    runs = outcome_values(store.summaries(main), outcome)
    levels = levels_table(runs, names)
    indep_runs = outcome_values(store.summaries(ind), outcome) if ind else None
    diffs = differences_table(runs, reference, names, indep_runs, bootstrap)
    target = None
    if target_width is not None:
        last = history[-1]["max_half_width"]
        target = {
            "width": target_width,
            "kind": "95% half-width",
            "metrics": list(target_metrics),
            "brands": focus,
            "replications": n,
            "met": bool(not math.isnan(last) and last <= target_width),
            "history": history,
        }

    from . import risk as riskmod

    trust = store.series(main, "trust")
    thr = riskmod.threshold_table(trust, threshold, by_day, names)
    risk_table = losses = cf_trust = None
    if risk:
        cf_trust = store.series(cf, "trust")
        cf_trust["scenario"] = cf_trust["scenario"].str.removesuffix("__no_incidents")
        cf_runs = store.summaries(cf)
        losses = riskmod.losses_table(store.summaries(main), cf_runs)
        risk_table = riskmod.risk_table(losses, names)

    verdict_table = None
    if draws is not None and len(names) > 1:
        from .posterior import verdicts

        verdict_table = verdicts(runs, reference, names, HEADLINE, focus)
    runs_out = runs[
        [
            "scenario",
            "replication",
            "seed",
            "brand",
            "metric",
            "statistic",
            "value",
            "window",
            "total",
            "final",
            "minimum",
        ]
    ]
    runs_out = _order(runs_out, names).sort_values(
        ["scenario", "brand", "metric", "replication"], kind="stable", ignore_index=True
    )
    root = store.root
    write_json(  # as run: the replications of every scenario are the comparison's, not the file's
        root / "scenarios.json",
        {s.name: with_simulation(s, replications=n).model_dump(mode="json") for s in resolved},
    )
    write_csv(root / "levels.csv", levels)
    write_csv(root / "differences.csv", diffs)
    write_parquet(root / "runs.parquet", runs_out)
    write_csv(root / "trust_threshold.csv", thr)
    if risk_table is not None:
        write_csv(root / "risk.csv", risk_table)
        write_csv(root / "losses.csv", losses)
    if verdict_table is not None:
        write_csv(root / "verdicts.csv", verdict_table)
    changes = {s.name: s.policy_from_day for s in resolved if s.policy_from_day is not None}
    chart_paths: list[Path] = []
    if charts:
        from . import plots

        chart_paths.append(
            plots.trust_bands(trust, names, focus, root / "charts" / "trust.png", changes)
        )
        if len(names) > 1:
            chart_paths.append(
                plots.forest(diffs, focus, root / "charts" / "differences.png", scenarios=names)
            )
        if losses is not None:
            chart_paths.append(
                plots.loss_exceedance(
                    losses, focus, root / "charts" / "loss_exceedance.png", scenarios=names
                )
            )
    manifest = provenance(
        **base_manifest,
        replications=n,
        status="complete",
        executor=executor,
        target_result=target,
        runs=[s.run_id for s in main + ind + cf],
        tables=["levels.csv", "differences.csv", "runs.parquet", "trust_threshold.csv"]
        + (["risk.csv", "losses.csv"] if risk_table is not None else [])
        + (["verdicts.csv"] if verdict_table is not None else []),
        charts=[str(p.relative_to(root)) for p in chart_paths],
    )
    store.write_manifest(manifest)
    return Comparison(
        levels=levels,
        differences=diffs,
        runs=runs_out,
        risk=risk_table,
        losses=losses,
        threshold=thr,
        replications=n,
        target=target,
        reference=reference,
        scenarios=names,
        focus_brands=focus,
        trust=trust,
        trust_no_incidents=cf_trust,
        out=root,
        charts=chart_paths,
        manifest=manifest,
        verdicts=verdict_table,
        posterior=draws.path if draws is not None else None,
        policy_days=changes,
    )


def _check_options(seed: int, bootstrap: int, threshold: float, by_day: int | None, days: int):
    """Reject option values that would crash or mislead, naming the option, value and range."""
    if not 0 <= seed <= 2**63 - 1:
        raise UserError(f"--seed must be an integer in [0, 2**63 - 1], got {seed}")
    if bootstrap < 0:
        raise UserError(f"--bootstrap must be at least 0 (0: no bootstrap), got {bootstrap}")
    if not 0.0 <= threshold <= 1.0:
        raise UserError(f"--threshold must be a trust level in [0, 1], got {threshold}")
    if by_day is not None and not 0 <= by_day <= days - 1:
        raise UserError(f"--by-day must be a day in [0, {days - 1}], got {by_day}")


def _criterion(
    runs: pd.DataFrame, names: list[str], reference: str, metrics: Sequence[str], brands: list[str]
) -> float:
    """Largest 95% half-width among the chosen differences (levels if one scenario)."""
    if len(names) > 1:
        table = differences_table(runs, reference, names, None, bootstrap=0)
    else:
        table = levels_table(runs, names)
    sel = table[table["metric"].isin(metrics) & table["brand"].isin(brands)]
    if sel.empty or sel["half_width"].isna().any():
        return math.nan
    return float(sel["half_width"].max())


SIZE_OPTIONS = {
    "days": "--days D",
    "consumers": "--consumers N",
    "replications": "--replications R",
}
"""The option that sets a [simulation] field for every scenario of a comparison (the Python
keyword is the field's name)."""


def _check_one_size(
    resolved: list[Scenario],
    ref: Scenario,
    check_replications: bool,
    given: Sequence[Scenario | str | Path] = (),
) -> None:
    """Refuse scenarios whose [simulation] size differs from the reference's (`PAIRED_FIELDS`:
    days, consumers, warm-up, active window; and replications unless ``replications`` is given):
    paired differences compare one market with another policy, not a 30-day market of 500
    consumers with a 40-day one of 600. The seed needs no check: every scenario runs with the
    reference's (or the one given)."""
    fields = (*PAIRED_FIELDS, "replications") if check_replications else PAIRED_FIELDS
    files = {  # a scenario given as a file or a bundled name: say which
        s.name: str(g) for s, g in zip(resolved, given, strict=False) if not isinstance(g, Scenario)
    }

    def called(s: Scenario) -> str:
        return f"{s.name!r}" + (f" ({files[s.name]})" if s.name in files else "")

    for s in resolved:
        for field, own, theirs in s.simulation.size_differences(ref.simulation, fields)[:1]:
            option = SIZE_OPTIONS.get(field)
            fix = (
                f"give {option} ({field}= in Python) to set every scenario's, or make the "
                "files agree"
                if option
                else "make the files agree"
            )
            raise UserError(
                f"{called(s)} has [simulation] {field} = {own} but the reference "
                f"{called(ref)} has {field} = {theirs}; paired differences need the same "
                f"{field} in every scenario: {fix}"
            )


def _fmt(df: pd.DataFrame) -> str:
    return df.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def _report(c: Comparison, metrics: Sequence[str]) -> str:
    lv = c.levels[c.levels["metric"].isin(metrics) & c.levels["brand"].isin(c.focus_brands)]
    parts = [
        f"Comparison of {', '.join(c.scenarios)} - reference {c.reference!r}, "
        f"{c.replications} replications (common random numbers), "
        + (f"results in {c.out}" if c.out is not None else "results in memory only"),
        f"Outcome per run: mean of {window_words(c.days)} for stocks, total over the horizon "
        "for flows (statistic column).",
        "",
        "Levels (mean, 95% t interval):",
        _fmt(lv[["scenario", "brand", "metric", "statistic", "mean", "ci_low", "ci_high"]]),
    ]
    if len(c.differences):
        d = c.differences
        d = d[d["metric"].isin(metrics) & d["brand"].isin(c.focus_brands)]
        parts += [
            "",
            f"Differences vs {c.reference} (paired t 95% interval; bootstrap 95%; "
            "width_ratio = paired / independent-seeds interval width):",
            _fmt(
                d[
                    [
                        "scenario",
                        "brand",
                        "metric",
                        "diff",
                        "ci_low",
                        "ci_high",
                        "boot_low",
                        "boot_high",
                        "width_ratio",
                    ]
                ]
            ),
        ]
        ratio = d["width_ratio"].dropna()
        if len(ratio):
            parts += [
                "",
                f"Pairing: median width ratio on headline differences "
                f"{ratio.median():.3f} (min {ratio.min():.3f}, max {ratio.max():.3f}); "
                "below 1 means common random numbers narrowed the interval.",
            ]
    if c.target is not None:
        t = c.target
        parts += [
            "",
            f"Replication rule: 95% half-width of {', '.join(t['metrics'])} "
            f"{'met' if t['met'] else 'NOT met'} (target {t['width']:g}) after "
            f"{t['replications']} replications: "
            + ", ".join(f"{h['replications']}: {h['max_half_width']:.4g}" for h in t["history"]),
        ]
    if c.risk is not None:
        r = c.risk[c.risk["brand"].isin(c.focus_brands)]
        parts += [
            "",
            "Losses vs no-incident counterfactual (breach cost + lost margin, horizon total):",
            _fmt(r),
        ]
    if c.verdicts is not None and c.posterior is not None:
        from .posterior import verdict_lines

        v = c.verdicts[c.verdicts["metric"].isin(metrics)]
        parts += ["", *verdict_lines(v, c.reference, c.posterior)]
    th = c.threshold[c.threshold["brand"].isin(c.focus_brands)]
    parts += ["", "P(trust below threshold by day), Wilson 95%:", _fmt(th)]
    if c.charts:
        parts += ["", "Charts: " + ", ".join(str(p) for p in c.charts)]
    return "\n".join(parts)
