"""What a results folder says, computed: the numbers behind the report's verdict and titles.

`Results` is any results folder (``omnitrust run``, ``compare``, ``sweep``) or an in-memory
`sim.runner.RunResult` (`from_run_result`), reduced to what the report needs: the daily tidy table of the main runs
(``scenario, replication, day, brand, channel, metric, value``), the manifest, the validated
scenarios when the folder stores them (``scenarios.json``) and the losses of a ``compare --risk``.
`load_results` reads a folder; a new kind of folder (``calibrate``, say) plugs in by adding a
reader to `READERS`.

Per-run outcomes of the focal brand (`outcomes`) are horizon totals: net value, gross margin,
marketing, security and breach spend (EUR), and the mean trust of the last 30 days (all the days of a shorter run). Breach
losses are the breach cost of the run (detection, notification, compensation, card reissue,
fines), or, when the folder has a ``compare --risk`` losses table, that table's loss (breach cost
plus margin lost against the same run without incidents).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import UserError
from ..core.storage import read_json
from . import stats
from .outcomes import summarise_runs
from .regret import regret_tables
from .summary import SUMMARY_WINDOW_DAYS

REPORT_METRICS = (
    "trust",
    "net_value",
    "margin",
    "marketing_cost",
    "security_cost",
    "personalization_cost",
    "integration_cost",
    "transparency_cost",
    "breach_cost",
    "personalization_margin",
    "spam_losses",
    "breaches",
    "consent_rate",
    "subscribers",
    "revenue",
    "webrooming_share",
    "showrooming_share",
    "multichannel_share",
)
DEFAULT_THRESHOLD = 0.4  # trust threshold of P(trust < T by day), as `compare --threshold`
LEVEL = 0.95


@dataclass
class Results:
    """A results folder reduced to what a report needs (see the module docstring)."""

    kind: str
    timeseries: pd.DataFrame
    manifest: dict[str, Any]
    scenarios: dict[str, Any] = field(default_factory=dict)  # name -> Scenario (when stored)
    losses: pd.DataFrame | None = None
    threshold: float = DEFAULT_THRESHOLD
    folder: Path | None = None

    @property
    def names(self) -> list[str]:
        """Scenario names in the run's order."""
        return [str(s) for s in pd.unique(self.timeseries["scenario"].astype(str))]

    @property
    def brands(self) -> list[str]:
        return [b for b in pd.unique(self.timeseries["brand"].astype(str)) if b != "all"]

    def run_result(self, names: list[str] | None = None) -> Results:
        """(Some of) the scenarios, in the shape the run charts (`sim.analysis.charts`) read:
        ``.timeseries`` and ``.scenarios``."""
        ts = self.timeseries
        if names is not None:
            ts = ts[ts["scenario"].isin(names)].copy()
            ts["scenario"] = ts["scenario"].astype(str)
        specs = {n: s for n, s in self.scenarios.items() if names is None or n in names}
        return Results(
            self.kind, ts, self.manifest, specs, self.losses, self.threshold, self.folder
        )


# --------------------------------------------------------------------------------------------
# Reading folders
# --------------------------------------------------------------------------------------------
def _read_table(path: Path, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """The daily tidy table of a run file, its `REPORT_METRICS` and the metrics ``extra``."""
    import pyarrow.parquet as pq

    wanted = list(dict.fromkeys([*REPORT_METRICS, *extra]))
    table = pq.read_table(path, filters=[("metric", "in", wanted)])
    df = table.to_pandas()
    for col in ("scenario", "brand", "channel", "metric"):
        if col in df:
            df[col] = df[col].astype(str)
    return df


def _scenarios(folder: Path) -> dict[str, Any]:
    from ..scenario.loading import stored_scenarios

    return stored_scenarios(folder)


def _read_run(folder: Path, manifest: dict[str, Any]) -> Results:
    ts = _read_table(folder / "timeseries.parquet")
    return Results("run", ts, manifest, _scenarios(folder), folder=folder)


def _read_runs(folder: Path, manifest: dict[str, Any]) -> pd.DataFrame:
    """The main runs of an experiment folder (``runs/<scenario>/*.parquet``, role ``main``)."""
    from ..core.storage import read_parquet_meta

    wanted = manifest.get("runs") if isinstance(manifest.get("runs"), list) else None
    # a sweep's regret is judged on its robustness metric (`criterion`), perhaps not a report one
    extra = tuple(m for m in [(manifest.get("robustness") or {}).get("metric")] if m)
    frames = []
    for path in sorted((folder / "runs").glob("*/*.parquet")):
        run_id = f"{path.parent.name}/{path.stem}"
        if wanted is not None and run_id not in wanted:
            continue
        meta = read_parquet_meta(path)
        if meta.get("role", "main") != "main":
            continue
        frames.append(_read_table(path, extra))
    if not frames:
        raise UserError(f"{folder}/runs: no finished runs to report on")
    ts = pd.concat(frames, ignore_index=True)
    order = list(manifest.get("scenarios") or {}) or list(
        d["scenario"] for d in manifest.get("design") or []
    )
    if order:
        ts["scenario"] = pd.Categorical(ts["scenario"], [n for n in order if n in set(ts.scenario)])
        ts = ts.sort_values(["scenario", "replication", "day"], kind="stable", ignore_index=True)
        ts["scenario"] = ts["scenario"].astype(str)
    return ts


def _read_compare(folder: Path, manifest: dict[str, Any]) -> Results:
    ts = _read_runs(folder, manifest)
    losses = None
    if (folder / "losses.csv").exists():
        losses = pd.read_csv(folder / "losses.csv")
    threshold = DEFAULT_THRESHOLD
    if (folder / "trust_threshold.csv").exists():
        thr = pd.read_csv(folder / "trust_threshold.csv")
        if len(thr):
            threshold = float(thr["threshold"].iloc[0])
    return Results("compare", ts, manifest, _scenarios(folder), losses, threshold, folder)


def _read_sweep(folder: Path, manifest: dict[str, Any]) -> Results:
    return Results(
        "sweep", _read_runs(folder, manifest), manifest, _scenarios(folder), folder=folder
    )


READERS = {"run": _read_run, "compare": _read_compare, "sweep": _read_sweep}
"""Folder kind (``manifest.json``'s ``kind``; ``run`` when absent) -> reader."""


def load_results(folder: str | Path) -> Results:
    """Read a results folder written by ``omnitrust run``, ``compare`` or ``sweep``."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(
            f"{folder}: is a file, not a results folder; give the folder that `omnitrust run`, "
            "`compare` or `sweep` wrote (their --out)"
        )
    if not folder.is_dir():
        raise UserError(f"{folder}: no such results folder")
    mpath = folder / "manifest.json"
    if not mpath.exists():
        raise UserError(
            f"{folder}: not an omnitrust results folder (no manifest.json); give the folder "
            "that `omnitrust run`, `compare` or `sweep` wrote (their --out)"
        )
    manifest = read_json(mpath, "the manifest")
    if not isinstance(manifest, dict):
        raise UserError(f"{mpath}: not an omnitrust manifest (a JSON object is expected)")
    kind = manifest.get("kind", "run")
    if manifest.get("status", "complete") != "complete":  # as `sim.open` refuses it
        raise UserError(
            f"{folder}: the {kind} stopped before it finished (manifest.json: status = "
            f"{manifest.get('status')!r}); a report of it would judge part of the runs as if "
            "they were all: rerun the same command to complete it, then report"
        )
    if kind not in READERS:
        raise UserError(
            f"{mpath}: kind = {kind!r}: no report for this kind of folder yet "
            f"(allowed: {', '.join(READERS)})"
        )
    if kind == "run" and not (folder / "timeseries.parquet").exists():
        raise UserError(f"{folder}: timeseries.parquet is missing; rerun `omnitrust run`")
    return READERS[kind](folder, manifest)


def from_run_result(result) -> Results:
    """`Results` of an in-memory `sim.runner.RunResult`."""
    ts = result.timeseries
    ts = ts[ts["metric"].isin(REPORT_METRICS)].copy()
    for col in ("scenario", "brand", "channel", "metric"):
        ts[col] = ts[col].astype(str)
    return Results("run", ts, dict(result.manifest), dict(result.scenarios))


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------
def focal_brand(res: Results) -> str:
    """The brand the scenarios are about: the one whose policy differs between scenarios (the
    bundled variants all change Aurora), else the sweep's robustness brand, else the first."""
    robust = (res.manifest.get("robustness") or {}).get("brand")
    if res.scenarios and len(res.scenarios) > 1:
        changed = []
        for b in res.brands:
            policies = {
                json.dumps(
                    next((x.policy.model_dump(mode="json") for x in s.brands if x.name == b), None),
                    sort_keys=True,
                )
                for s in res.scenarios.values()
            }
            if len(policies) > 1:
                changed.append(b)
        if len(changed) == 1:
            return changed[0]
    if robust in res.brands:
        return robust
    return res.brands[0]


def own_settings_vary(res: Results, brand: str) -> bool | None:
    """Whether ``brand``'s own settings (its brand entry: policy and the rest) differ between
    the scenarios; None when that cannot be told (one scenario, or no stored scenarios)."""
    if not res.scenarios or len(res.scenarios) < 2:
        return None
    entries = {
        json.dumps(
            next((x.model_dump(mode="json") for x in s.brands if x.name == brand), None),
            sort_keys=True,
        )
        for s in res.scenarios.values()
    }
    return len(entries) > 1


# The money flows of the value waterfall (docs/ODD.md 7.9), besides margin and net value. A
# folder written before a flow was recorded has none of it: it counts as 0.
WATERFALL_FLOWS = (
    "personalization_margin",
    "spam_losses",
    "marketing_cost",
    "security_cost",
    "personalization_cost",
    "integration_cost",
    "transparency_cost",
    "breach_cost",
)


def outcomes(res: Results, brand: str) -> pd.DataFrame:
    """Per scenario and replication: horizon totals (EUR) of net value, margin, the margin from
    personalization, the losses to spam, marketing, security, lever and breach spend, breaches,
    the end trust (mean of the last 30 days, all of them in a shorter run) and the breach loss (see the module docstring)."""
    ts = res.timeseries
    sel = ts[(ts["brand"] == brand) & (ts["channel"] == "all")]
    flows = ["net_value", "margin", *WATERFALL_FLOWS, "breaches"]
    tot = (
        sel[sel["metric"].isin(flows)]
        .groupby(["scenario", "replication", "metric"])["value"]
        .sum()
        .unstack("metric")
        .reindex(columns=flows)
        .fillna(0.0)
    )
    trust = sel[sel["metric"] == "trust"]
    last = trust.groupby("scenario")["day"].transform("max")
    tail = trust[trust["day"] > last - SUMMARY_WINDOW_DAYS]
    tot["trust_end"] = tail.groupby(["scenario", "replication"])["value"].mean()
    tot["loss"] = tot["breach_cost"]
    if res.losses is not None:
        lo = res.losses[res.losses["brand"] == brand].set_index(["scenario", "replication"])
        tot["loss"] = lo["loss"].reindex(tot.index).fillna(tot["breach_cost"])
    out = tot.reset_index()
    out["scenario"] = pd.Categorical(out["scenario"], res.names, ordered=True)
    return out.sort_values(["scenario", "replication"], ignore_index=True).assign(
        scenario=lambda d: d["scenario"].astype(str)
    )


def loss_source(res: Results) -> str:
    if res.losses is not None:
        return (
            "breach losses = breach cost + gross margin lost against the same run without "
            "incidents (compare --risk)"
        )
    return (
        "breach losses = breach costs over the horizon (detection, notification, compensation, "
        "card reissue, fines); margin lost to the breach's damage to trust is not included"
    )


def check_one_size(scenarios: dict[str, Any], timeseries: pd.DataFrame | None = None) -> None:
    """Refuse scenarios that ran at different sizes (`Simulation.size_differences`: the report's
    verdict and table put them side by side, replication by replication): a 40-day total next to
    a 20-day one is no comparison. From the validated scenarios when stored, else from the days
    and replications of ``timeseries``."""
    if len(scenarios) > 1:
        items = list(scenarios.items())
        (ref_name, ref), rest = items[0], items[1:]
        for name, sc in rest:
            differ = sc.simulation.size_differences(ref.simulation)
            if differ:
                _refuse_sizes(name, ref_name, differ)
    elif timeseries is not None and timeseries["scenario"].nunique() > 1:
        g = timeseries.groupby("scenario", observed=True, sort=False)
        sizes = pd.DataFrame(
            {"days": g["day"].max() + 1, "replications": g["replication"].nunique()}
        )
        ref_name = str(sizes.index[0])
        for name, row in sizes.iloc[1:].iterrows():
            differ = [
                (f, int(row[f]), int(sizes.iloc[0][f])) for f in sizes if row[f] != sizes.iloc[0][f]
            ]
            if differ:
                _refuse_sizes(str(name), ref_name, differ)


def _refuse_sizes(name: str, ref_name: str, differ: list[tuple[str, Any, Any]]) -> None:
    raise UserError(
        f"{name!r} ran with "
        + ", ".join(f"{f} = {own}" for f, own, _ in differ)
        + f" but {ref_name!r} with "
        + ", ".join(f"{f} = {ref}" for f, _, ref in differ)
        + " ([simulation]): the report sets the scenarios side by side, replication by "
        "replication, which needs one size; run them at one size (omnitrust run ... --days D "
        "--consumers N --replications R sets every scenario's) or report them one at a time"
    )


def paired(res: Results) -> bool:
    """Whether replication k of every scenario used the same seed (common random numbers)."""
    seeds = {json.dumps(v.get("seed")) for v in (res.manifest.get("scenarios") or {}).values()}
    if res.kind in ("compare", "sweep"):
        return True
    return len(seeds) == 1


def scenario_table(res: Results, brand: str, threshold: float | None = None) -> pd.DataFrame:
    """One row per scenario: the focal brand's net value (mean, 95% interval), difference vs the
    reference (first scenario; paired when the seeds are shared), end trust, 95% VaR and expected
    shortfall of the breach losses, P(trust < threshold by the last day), ranked by net value."""
    threshold = res.threshold if threshold is None else threshold
    oc = outcomes(res, brand)
    ref = res.names[0]
    ref_rows = oc[oc["scenario"] == ref].set_index("replication")
    p_low = trust_below(res, brand, threshold)
    rows = []
    for name in res.names:
        g = oc[oc["scenario"] == name]
        mean, _, n, half = stats.t_interval(g["net_value"].to_numpy())
        if name == ref:
            diff = dhalf = 0.0
        elif paired(res):
            d = g.set_index("replication")["net_value"] - ref_rows["net_value"]
            diff, _, _, dhalf = stats.t_interval(d.dropna().to_numpy())
        else:
            diff, dhalf = stats.welch_interval(
                g["net_value"].to_numpy(), ref_rows["net_value"].to_numpy()
            )
        var, es = stats.var_es(g["loss"].to_numpy(), LEVEL)
        pl = p_low.get(name, (math.nan, 0))
        rows.append(
            {
                "scenario": name,
                "replications": n,
                "net_value": mean,
                "net_value_half": half,
                "diff_vs_ref": diff,
                "diff_half": dhalf,
                "trust_end": float(g["trust_end"].mean()),
                "breaches_per_run": float(g["breaches"].mean()),
                "loss_mean": float(g["loss"].mean()),
                "var95": var,
                "es95": es,
                "p_trust_below": pl[0],
            }
        )
    table = pd.DataFrame(rows)
    table["rank"] = table["net_value"].rank(ascending=False, method="first").astype(int)
    return table.sort_values("rank", ignore_index=True)


def trust_below(res: Results, brand: str, threshold: float) -> dict[str, tuple[float, int]]:
    """Per scenario: share of replications whose daily trust in ``brand`` fell below
    ``threshold`` on some day of the horizon, and the number of replications."""
    curves = trust_below_curves(res, brand, threshold)
    return {s: (float(c.iloc[-1]), int(c.attrs["n"])) for s, c in curves.items()}


def trust_below_curves(res: Results, brand: str, threshold: float) -> dict[str, pd.Series]:
    """Per scenario: P(trust in ``brand`` < threshold on some day <= d) for every day d, the
    share of replications (a step curve rising from 0)."""
    ts = res.timeseries
    tr = ts[(ts["brand"] == brand) & (ts["metric"] == "trust") & (ts["channel"] == "all")]
    out = {}
    for name in res.names:
        t = tr[tr["scenario"] == name].pivot_table(
            index="day", columns="replication", values="value"
        )
        if t.empty:
            continue
        below = (t < threshold).cummax()
        curve = below.mean(axis=1)
        curve.attrs["n"] = t.shape[1]
        out[name] = curve
    return out


def pairwise(
    res: Results, brand: str, a: str, b: str, crit: Criterion | None = None
) -> tuple[float, float, int]:
    """Net value (or the per-run outcome of ``crit``) of ``a`` minus ``b`` for ``brand``: mean,
    95% half-width, replications (paired by replication when the seeds are shared, Welch
    otherwise)."""
    values = run_values(res, brand, crit or Criterion())
    x = values.loc[a]
    y = values.loc[b]
    if paired(res):
        d = (x - y).dropna().to_numpy()
        mean, _, n, half = stats.t_interval(d)
        return mean, half, n
    mean, half = stats.welch_interval(x.to_numpy(), y.to_numpy())
    return mean, half, min(len(x), len(y))


def eur(v: float) -> str:
    """EUR in words-friendly form: EUR 1.23M, EUR 45.6k, EUR 820."""
    if v is None or not np.isfinite(v):
        return "n/a"
    sign = "-" if v < 0 else ""
    a = abs(v)
    if a >= 1e6:
        return f"EUR {sign}{a / 1e6:.2f}M"
    if a >= 1e3:
        return f"EUR {sign}{a / 1e3:.1f}k"
    return f"EUR {sign}{a:.0f}"


@dataclass(frozen=True)
class Criterion:
    """What a sweep's regret is judged on: the per-run outcome of ``metric`` for the report's
    brand (``statistic``: ``total`` over the horizon or ``window``, the mean of the last 30
    days or of all the days of a shorter run, as `sim.analysis.outcomes.statistic_of`; ``days``,
    the runs' horizon when known, says which in `label`), ``direction`` ``max`` (more is better) or
    ``min``. The default is net value, the report's measure; a sweep folder's is its
    experiment's ``[robustness]`` (`criterion`), which its ``max_regret.csv`` judges too.
    ``declared_brand``: the experiment's robustness brand (None when nothing was declared)."""

    metric: str = "net_value"
    direction: str = "max"
    statistic: str = "total"
    declared_brand: str | None = None
    days: int | None = None

    @property
    def is_net_value(self) -> bool:
        """Judged on net value over the horizon, more is better: the report's own measure."""
        return (self.metric, self.direction, self.statistic) == ("net_value", "max", "total")

    @property
    def horizon_net_value(self) -> bool:
        """Net value over the horizon (either direction): money earned, said as such; net value
        under ``--outcome window`` is a mean of daily values and said by its `label`."""
        return (self.metric, self.statistic) == ("net_value", "total")

    @property
    def money(self) -> bool:
        from .style import METRICS

        return METRICS.get(self.metric, ("", ""))[1] == "EUR"

    def fmt(self, v: float) -> str:
        """A value or a difference of the metric: EUR 1.2k for money, 0.0123 or 1,234 else."""
        if self.money:
            return eur(v)
        if v is None or not np.isfinite(v):
            return "n/a"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"

    def mean_label(self) -> str:
        """``mean net value`` (over the horizon), ``mean net value (EUR, mean of the last 30
        days)``, ``mean trust (0-1, mean of the last 30 days)`` (``of all 20 days`` in a run of
        20 days): the mean over replications, in words (not ``mean mean trust``)."""
        what = "net value" if self.horizon_net_value else self.label()
        return what if what.startswith("mean ") else f"mean {what}"

    def label(self) -> str:
        """``mean trust (0-1, mean of the last 30 days)``, or ``(0-1, mean of all 20 days)``
        for runs of 20 days (`days`)."""
        from .style import metric_label

        return metric_label(self.metric, self.statistic, days=self.days)

    def of(self, brand: str, days: int) -> str:
        """``Aurora's net value over 365 days`` or ``Aurora's mean trust (0-1, mean of the last
        30 days)`` (`label`)."""
        if self.horizon_net_value:
            return f"{brand}'s net value over {days} days"
        return f"{brand}'s {self.label()}"

    def better(self, diff: float, half: float = math.nan) -> tuple[str, float, float]:
        """A difference ``a - b`` (and its half-width) in words: ``("earns EUR 15 more", lo,
        hi)`` or ``("scores 0.012 lower on ...", lo, hi)``, with the 95% interval of the amount
        said (the size of the difference, in the direction said)."""
        up = diff >= 0  # a's value is the larger
        lo, hi = (diff - half, diff + half) if up else (-diff - half, -diff + half)
        if self.horizon_net_value:
            return f"earns {eur(abs(diff))} {'more' if up else 'less'}", lo, hi
        word = "higher" if up else "lower"
        return f"scores {self.fmt(abs(diff))} {word} on {self.label()}", lo, hi


def criterion(res: Results) -> Criterion:
    """What the regret of the sweep ``res`` is judged on: its experiment's ``[robustness]``
    metric and direction, on the per-run outcome the sweep used (``--outcome``), as its
    ``robustness.csv`` and ``max_regret.csv``; net value for any other folder."""
    rob = res.manifest.get("robustness") if res.kind == "sweep" else None
    if not rob or not rob.get("metric"):
        return Criterion()
    from .outcomes import statistic_of

    metric = str(rob["metric"])
    outcome = res.manifest.get("outcome") or "auto"
    return Criterion(
        metric,
        str(rob.get("direction") or "max"),
        statistic_of(metric, outcome),
        rob.get("brand"),
        int(res.timeseries["day"].max()) + 1 if len(res.timeseries) else None,
    )


def run_values(res: Results, brand: str, crit: Criterion) -> pd.Series:
    """Per (scenario, replication): ``brand``'s per-run outcome of ``crit``, its metric's horizon
    total or mean of the last 30 days of each run (all its days in a shorter run), as `sim.analysis.outcomes.summarise_runs` makes
    them (the function behind the per-run summaries a sweep judges its max_regret.csv on)."""
    ts = res.timeseries
    sel = ts[(ts["brand"] == brand) & (ts["channel"] == "all") & (ts["metric"] == crit.metric)]
    if sel.empty:
        raise UserError(
            f"{res.folder or 'these results'}: the runs store no {crit.metric!r} for {brand}, "
            f"the metric the sweep's regret is judged on ([robustness] metric)"
        )
    keys = ["scenario", "replication"]
    per_run = summarise_runs(sel, keys)
    return per_run.set_index(keys)[crit.statistic]


def verdict(res: Results, brand: str, table: pd.DataFrame | None = None) -> list[str]:
    """The verdict in sentences, computed from the results: which policy wins on the focal
    brand's net value, by how much and how sure (interval vs the runner-up), at what risk
    (95% VaR and expected shortfall of the breach losses).

    A sweep whose points differ in the world (`sweep_axes`) compares policies only within a
    world: the verdict names the minimax-regret policy, as the report's regret table does, and
    the best policy in each world (`_sweep_verdict`)."""
    table = scenario_table(res, brand) if table is None else table
    within = _sweep_verdict(res, brand, table)
    if within is not None:
        return within
    days = int(res.timeseries["day"].max()) + 1
    best = table.iloc[0]
    n = int(best["replications"])
    out = []
    if len(table) == 1:
        out.append(
            f"{best['scenario']}: {brand} earns a net value of {eur(best['net_value'])} over "
            f"{days} days (95% interval ± {eur(best['net_value_half'])}, {n} replications)."
        )
    else:
        second = table.iloc[1]
        diff, half, n_pairs = pairwise(res, brand, best["scenario"], second["scenario"])
        how = "paired by replication (common random numbers)" if paired(res) else "Welch"
        lo, hi = diff - half, diff + half
        if np.isfinite(half) and lo > 0:
            sure = (
                f"the 95% interval, {eur(lo)} to {eur(hi)} ({how}, {n_pairs} replications), "
                "excludes zero: the ranking is clear at this sample size"
            )
        elif np.isfinite(half):
            sure = (
                f"but the 95% interval, {eur(lo)} to {eur(hi)} ({how}, {n_pairs} replications), "
                "includes zero: the two cannot be told apart yet; run more replications"
            )
        else:
            sure = "with a single replication there is no interval: run more replications"
        fixed = own_settings_vary(res, brand) is False  # the scenarios change others only
        out.append(
            (
                f"{brand} fares best under {best['scenario']}, though its own settings are the "
                f"same in every scenario: a net value of {eur(best['net_value'])}"
                if fixed
                else f"{best['scenario']} wins on {brand}'s net value: {eur(best['net_value'])}"
            )
            + f" over {days} days, {eur(diff)} more than the runner-up {second['scenario']}; "
            f"{sure}."
        )
        ref = res.names[0]
        if best["scenario"] != ref:
            r = table[table["scenario"] == ref].iloc[0]
            d, h = best["diff_vs_ref"], best["diff_half"]
            out.append(
                f"Against the reference {ref} ({eur(r['net_value'])}) it earns {eur(d)} more"
                + (f" (95% interval {eur(d - h)} to {eur(d + h)})." if np.isfinite(h) else ".")
            )
        worst = table.iloc[-1]
        out.append(
            f"The weakest {'scenario for ' + brand if fixed else 'policy'} is "
            f"{worst['scenario']} ({eur(worst['net_value'])}, "
            f"{eur(worst['net_value'] - best['net_value'])} against the winner)."
        )
    design = _design(res)
    crit = criterion(res)
    policies = design is not None and "policy" in design.columns
    if policies and len(table) > 1 and not crit.is_net_value:
        # what max_regret.csv names, in a sweep whose points differ only in the policy
        top = sweep_regret(res, brand, crit)[1].iloc[0]
        out.append(
            f"On the experiment's robustness metric, {crit.of(brand, days)} "
            f"({crit.direction} is better, as in max_regret.csv), the best policy is "
            f"{top['policy']} ({crit.fmt(top['mean_value'])})."
        )
    if design is not None and len(table) > 1:
        world_factors = [c for c in _varying(design, design.columns) if c.startswith("world.")]
        if world_factors:
            out.append(
                "The design points also differ in world settings, not only in what "
                f"{brand} chooses ({', '.join(world_factors)}): part of each difference "
                "comes from the world the point assumes."
            )
    risky = table.sort_values("var95", ascending=False).iloc[0]
    if best["var95"] > 0 or best["es95"] > 0:
        risk = (
            f"At what risk: for {best['scenario']}, the 95% value at risk of {brand}'s breach "
            f"losses is {eur(best['var95'])} and the expected shortfall (mean of the worst 5%) "
            f"{eur(best['es95'])}"
        )
    else:
        risk = f"At what risk: {brand} had no breach losses in any run of {best['scenario']}"
    if risky["scenario"] != best["scenario"] and risky["var95"] > 0:
        risk += (
            f"; the riskiest policy is {risky['scenario']} (VaR {eur(risky['var95'])}, "
            f"expected shortfall {eur(risky['es95'])})"
        )
    out.append(risk + ".")
    return out


# (key, label, sign): the bars of the value waterfall, from the margin the brand would have made
# without personalization and without spam, to net value (`waterfall_values`)
WATERFALL_TERMS = (
    ("base_margin", "margin without personalization or spam", +1),
    ("personalization_margin", "margin from personalization", +1),
    ("spam_losses", "losses to spam", -1),
    ("marketing_cost", "marketing spend", -1),
    ("security_cost", "security spend", -1),
    ("personalization_cost", "personalization spend", -1),
    ("integration_cost", "integration spend", -1),
    ("transparency_cost", "transparency spend", -1),
    ("breach_cost", "breach costs", -1),
)


def waterfall_values(res: Results, brand: str) -> pd.DataFrame:
    """Per scenario (rows, run order): the signed bars of the value waterfall (columns: the keys of
    `WATERFALL_TERMS`, then ``net_value``), horizon totals averaged over replications (EUR).

    The first bar is the gross margin the brand would have made had it neither personalised nor
    spammed: margin - margin from personalization + losses to spam (docs/ODD.md 7.9). Margin from
    personalization adds back, losses to spam and every spend subtract, and the bars sum to net
    value (margin - marketing - security - lever - breach costs): the attributions move margin
    between bars, they are not cash.
    """
    oc = outcomes(res, brand)
    mean = oc.groupby("scenario", sort=False)[["margin", *WATERFALL_FLOWS, "net_value"]].mean()
    out = pd.DataFrame(index=mean.index)
    out["base_margin"] = mean["margin"] - mean["personalization_margin"] + mean["spam_losses"]
    for key, _, sign in WATERFALL_TERMS[1:]:
        out[key] = sign * mean[key]
    out["net_value"] = mean["net_value"]
    return out.reindex([n for n in res.names if n in out.index])


_NOT_A_SETTING = ("point", "policy", "world", "sample", "scenario", "hash")


def _design(res: Results) -> pd.DataFrame | None:
    """The sweep's design (one row per design point), None for another kind of folder."""
    design = res.manifest.get("design") or []
    if res.kind != "sweep" or not design:
        return None
    return pd.DataFrame(design)


def _varying(table: pd.DataFrame, cols) -> list[str]:
    """The columns of ``cols`` that take more than one value over the design (a column constant
    over the design tells no point from another)."""
    return [c for c in cols if c in table.columns and table[c].astype(str).nunique() > 1]


def sweep_axes(res: Results) -> tuple[list[str], list[str]] | None:
    """How a sweep's design points split into what the brand chooses and the world it meets:
    ``(choice_cols, world_cols)``, or None when the points differ in no world (or the folder is
    not a sweep), so that ranking the points is comparing choices.

    With named policies the choice is the policy and the world is every other design setting
    that varies (the named world, the factor sample and the factors' values), as in the
    robustness and regret tables (`sim.experiments.sweep.regret_tables`, `sweep_regret`).
    Without policies but with named worlds, the choice is the factor sample (possibly none: the
    points differ only in the world) and the world the named world."""
    table = _design(res)
    return None if table is None else design_axes(table)


def design_axes(table: pd.DataFrame) -> tuple[list[str], list[str]] | None:
    """`sweep_axes` of a sweep's design table (one row per design point, its design columns):
    also what a sweep labels the worlds of its ``max_regret.csv`` by (`world_labels`)."""
    settings = [c for c in table.columns if c not in _NOT_A_SETTING]
    if "policy" in table.columns:
        worlds = _varying(table, ["world", "sample", *settings])
        return (["policy"], worlds) if worlds else None
    if _varying(table, ["world"]):
        return _varying(table, ["sample", *settings]), ["world"]
    return None


def _short_names(paths: list[str]) -> dict[str, str]:
    """Each dotted path's shortest ending that no other path shares (``data_retention_days``
    for ``brands.Aurora.policy.data_retention_days``)."""
    out = {}
    for p in paths:
        parts = p.split(".")
        for k in range(1, len(parts) + 1):
            tail = ".".join(parts[-k:])
            if not any(q != p and (q == tail or q.endswith("." + tail)) for q in paths):
                break
        out[p] = tail
    return out


def _value(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "(none)"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.4g}"
    if isinstance(v, float):
        return str(int(v))
    return str(v)


def coordinate_labels(table: pd.DataFrame, cols: list[str]) -> pd.Series:
    """A readable label per design row for its values of ``cols``: a named world or policy by
    its name, a factor as ``name=value`` (the shortest unambiguous ending of its path), the
    factor sample number only where the factors' values do not tell the rows apart
    (``calm, data_retention_days=365``)."""
    settings = [c for c in cols if c not in _NOT_A_SETTING]
    short = _short_names(settings)

    def label(row, with_sample: bool) -> str:
        parts = []
        for c in cols:
            if c in ("world", "policy"):
                parts.append(_value(row[c]))
            elif c == "sample":
                if with_sample:
                    parts.append(f"sample {_value(row[c])}")
            else:
                parts.append(f"{short[c]}={_value(row[c])}")
        return ", ".join(parts) or "(one)"

    if table.empty:
        return pd.Series([], dtype=object, index=table.index)
    out = table.apply(lambda r: label(r, with_sample=False), axis=1)
    if "sample" in cols:
        # the sample tells rows apart only where the values do not; keep it just then
        distinct = table[cols].astype(str).drop_duplicates()
        if out.loc[distinct.index].nunique() < len(distinct):
            out = table.apply(lambda r: label(r, with_sample=True), axis=1)
    return out


ONE_WORLD = "(one world)"


def world_labels(table: pd.DataFrame, world_cols: list[str]) -> pd.Series:
    """The world of each design row in words (`coordinate_labels` of ``world_cols``, the worlds
    of `design_axes`; ``(one world)`` when there are none): the one labelling of a world in the
    report's regret table and verdict and in a sweep's ``max_regret.csv``."""
    if not world_cols:
        return pd.Series(ONE_WORLD, index=table.index, dtype=object)
    return coordinate_labels(table, world_cols)


def setting_names(cols: list[str]) -> str:
    """The design settings ``cols`` in words: ``world, data_retention_days`` (the factor sample
    only when no factor says the same)."""
    short = _short_names([c for c in cols if c not in _NOT_A_SETTING])
    names = [short.get(c, c) for c in cols if c != "sample"]
    return ", ".join(names or ["sample"])


def factor_legend(res: Results) -> str:
    """``data_retention_days = brands.Aurora.policy.data_retention_days; ...``: each varied
    factor's short label and its path in the scenario (empty when no label is shortened)."""
    axes = sweep_axes(res)
    cols = [c for c in (axes[1] if axes else []) if c not in _NOT_A_SETTING]
    short = _short_names(cols)
    return "; ".join(f"{short[c]} = {c}" for c in cols if short[c] != c)


def sweep_points(res: Results) -> pd.DataFrame | None:
    """Per scenario (the index) of a sweep whose points differ in the world (`sweep_axes`):
    ``choice`` (its policy, or its factor settings; empty when the points differ only in the
    world), ``world`` (`coordinate_labels`) and ``label``, the point in words
    (``low_security in calm, data_retention_days=730``). ``attrs["noun"]``: ``policy`` or
    ``settings``. None for any other folder, whose scenarios differ only in what the brand
    chooses, so that comparing them is comparing choices."""
    axes = sweep_axes(res)
    if axes is None:
        return None
    choice_cols, world_cols = axes
    table = _design(res)
    out = pd.DataFrame(index=pd.Index(table["scenario"].astype(str), name="scenario"))
    out["choice"] = coordinate_labels(table, choice_cols).to_numpy() if choice_cols else ""
    out["world"] = world_labels(table, world_cols).to_numpy()
    out["label"] = [
        f"{c} in {w}" if c else f"world {w}"
        for c, w in zip(out["choice"], out["world"], strict=True)
    ]
    out.attrs["noun"] = "policy" if choice_cols == ["policy"] else "settings"
    return out


def _regret(
    res: Results, brand: str, choice_cols: list[str], world_cols: list[str], crit: Criterion
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regret of the choices of a sweep (``choice_cols``) across its worlds (``world_cols``) on
    ``brand``'s per-run outcome of ``crit`` (`run_values`), computed by
    `sim.analysis.regret.regret_tables`, as the sweep's robustness.csv and max_regret.csv are:
    ``(points, summary)``.

    ``points``: per design point (design order): ``scenario``, its ``choice`` and ``world``
    labels (`coordinate_labels`), ``value`` (mean over the replications), ``best`` (the best one's
    in its world) and ``regret`` (how far it falls short of the best there, >= 0).
    ``summary``: per choice: ``policy`` (its label), ``mean_value`` (mean over worlds),
    ``max_regret`` and ``world_of_max_regret`` (label), the minimax-regret choice first (ties:
    in the order of the choice's design values, a policy's name)."""
    table = _design(res)
    cols = [*choice_cols, *world_cols]
    labels = table[["scenario", *cols]].copy()
    labels["_choice"] = coordinate_labels(table, choice_cols) if choice_cols else "(one)"
    labels["_world"] = world_labels(table, world_cols)
    values = run_values(res, brand, crit).rename("value").reset_index()
    runs = values.merge(table[["scenario", *cols]], on="scenario", how="inner")
    per_world, per_choice = regret_tables(runs, choice_cols, world_cols, crit.direction)
    points = labels.merge(per_world, on=cols, how="inner")
    points = points[["scenario", "_choice", "_world", "mean", "best", "regret"]].rename(
        columns={"_choice": "choice", "_world": "world", "mean": "value"}
    )
    named = per_choice.merge(labels.drop_duplicates(cols), on=cols, how="left")
    summary = pd.DataFrame(
        {
            "policy": named["_choice"],
            "mean_value": named["mean_outcome"].astype(float),
            "max_regret": named["max_regret"].astype(float),
            "world_of_max_regret": named["_world"],
        }
    )
    return points, summary


def sweep_regret(
    res: Results, brand: str, crit: Criterion | None = None
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Regret of each policy of a sweep with named policies, on ``brand``'s per-run outcome of
    ``crit`` (default: the sweep's `criterion`, its experiment's robustness metric and
    direction, as its ``max_regret.csv``), mean over replications, computed from the stored
    runs: ``(regret, summary)``.

    ``regret``: one row per policy and world (a world is every design column but the point and
    the policy: the named world, the factor sample and the factors' values, labelled by
    `coordinate_labels`) with the policy's scenario, its mean value, the best policy's in
    that world and the regret (how far it falls short of the best, >= 0).
    ``summary``: per policy its mean value over worlds, its largest regret and the world where
    it occurs, sorted so that the first row is the minimax-regret policy (ties: by name). None for
    a folder that is not a sweep with policies.
    """
    table = _design(res)
    if table is None or "policy" not in table.columns:
        return None
    axes = sweep_axes(res)
    world_cols = axes[1] if axes else []
    points, summary = _regret(res, brand, ["policy"], world_cols, crit or criterion(res))
    regret = points.rename(columns={"choice": "policy"})[
        ["policy", "world", "scenario", "value", "best", "regret"]
    ]
    return regret, summary


def _pair(points: pd.DataFrame, chosen: pd.Series) -> tuple[str, str, str, bool]:
    """The two design points of one world that tell how sure the choice is: the best one and
    the chosen one in the chosen one's worst world, or, where it is the best everywhere, it and
    the runner-up in the world where its lead is smallest. ``(world, a, b, a_is_best_there)``,
    ``a`` and ``b`` scenarios, ``a`` the better of the two."""
    winners = points.loc[points.groupby("world", sort=False)["regret"].idxmin()]
    winners = winners.set_index("world")
    mine = points[points["choice"] == chosen["policy"]].set_index("world")
    if chosen["max_regret"] > 0:
        w = chosen["world_of_max_regret"]
        return w, winners.at[w, "scenario"], mine.at[w, "scenario"], True
    lead = {}
    for w, g in points.groupby("world", sort=False):
        others = g[g["choice"] != chosen["policy"]]
        runner = others.loc[others["regret"].idxmin()]
        lead[w] = (float(runner["regret"]), runner["scenario"])
    w = min(lead, key=lambda k: lead[k][0])
    return w, mine.at[w, "scenario"], lead[w][1], False


def sweep_pair(res: Results, brand: str) -> tuple[str, str, str] | None:
    """The two design points of one world that the verdict of a sweep whose points differ in
    the world compares (`_pair`: the minimax-regret choice and the best one in its worst world,
    or its runner-up where its lead is smallest): ``(world, a, b)``, ``a`` the better on the
    sweep's `criterion`. None when the points differ in no world or in nothing else."""
    axes = sweep_axes(res)
    if axes is None:
        return None
    points, summary = _regret(res, brand, *axes, criterion(res))
    if points["choice"].nunique() < 2:
        return None
    w, a, b, _ = _pair(points, summary.iloc[0])
    return w, a, b


def _sweep_verdict(res: Results, brand: str, table: pd.DataFrame) -> list[str] | None:
    """The verdict of a sweep whose points differ in the world: policies compared only within a
    world, the robust choice by minimax regret (as the report's regret table, on the sweep's
    `criterion`, as its max_regret.csv), the best policy in each world, how sure (the paired
    interval in the chosen policy's worst world) and at what risk. None when the points differ
    in no world (the ranking of points is the verdict)."""
    axes = sweep_axes(res)
    if axes is None:
        return None
    choice_cols, world_cols = axes
    crit = criterion(res)
    points, summary = _regret(res, brand, choice_cols, world_cols, crit)
    days = int(res.timeseries["day"].max()) + 1
    worlds = list(dict.fromkeys(points["world"]))
    noun, nouns = ("policy", "policies") if choice_cols == ["policy"] else ("point", "points")
    settings = setting_names(world_cols)
    if points["choice"].nunique() < 2:
        values = "; ".join(f"{r.world}: {crit.fmt(r.value)}" for r in points.itertuples())
        return [
            f"These scenarios differ only in the world ({settings}), not in anything {brand} "
            f"chooses, so no policy wins: {crit.of(brand, days)}, mean over the replications, "
            f"is {values}."
            if not crit.is_net_value
            else f"These scenarios differ only in the world ({settings}), not in anything "
            f"{brand} chooses, so no policy wins: {brand}'s mean net value over {days} days is "
            f"{values}."
        ]
    best = summary.iloc[0]
    second = summary.iloc[1]
    declared = (
        f", the experiment's robustness metric ({crit.direction} is better, as in max_regret.csv)"
        if not crit.is_net_value
        else ""
    )
    what = crit.mean_label()
    regret_is = (
        f"Regret = the best {noun}'s {what} in a world minus this one's"
        if crit.direction == "max"
        else f"Regret = this one's {what} in a world minus the best (lowest) {noun}'s"
    )
    out = [
        f"{best['policy']} is the minimax-regret {noun} for {crit.of(brand, days)}{declared}: "
        f"its largest regret over the {len(worlds)} worlds is {crit.fmt(best['max_regret'])} "
        + (
            f"(in world {best['world_of_max_regret']})"
            if best["max_regret"] > 0
            else "(it is the best, or tied best, in every world)"
        )
        + f"; the next, {second['policy']}, can lose up to "
        f"{crit.fmt(second['max_regret'])} (in world {second['world_of_max_regret']}). "
        f"{regret_is}; a world is every design setting but the {noun} ({settings}): {nouns} "
        "are compared only within a world, never across worlds.",
    ]
    winners = points[points["regret"] == 0]  # every best one of a world (ties included)
    if len(worlds) <= 6:
        best_in = []
        for w, g in winners.groupby("world", sort=False):
            names = list(g["choice"])
            who = _and(names) + (" tie" if len(names) > 1 else "")
            best_in.append(f"{w}: {who} ({crit.fmt(g['value'].iloc[0])})")
        out.append(f"Best {noun} in each world: " + "; ".join(best_in) + ".")
    else:
        counts = winners["choice"].value_counts()
        ties = " (a tie counts for each)" if len(winners) > len(worlds) else ""
        out.append(
            f"The best {noun} differs by world{ties}: "
            + ", ".join(f"{c} in {n} of {len(worlds)} worlds" for c, n in counts.items())
            + "."
        )
    # how sure: the chosen one against the best in its worst world, or, where it is the best
    # everywhere, against the runner-up in the world where its lead is smallest
    w, a, b, a_is_best = _pair(points, best)
    choice = points.set_index("scenario")["choice"]
    if a_is_best:
        claim = f"In {w} the best, {choice[a]},"
        subject = f"than {best['policy']}"
    else:
        claim = f"It is the best {noun} in every world; its smallest lead is in {w}: it"
        subject = f"than {choice[b]}"
    diff, half, n_pairs = pairwise(res, brand, a, b, crit)
    how = "paired by replication (common random numbers)" if paired(res) else "Welch"
    said, lo, hi = crit.better(diff, half)
    if np.isfinite(half):
        sure = f"95% interval {crit.fmt(lo)} to {crit.fmt(hi)}, " + (
            "which excludes zero"
            if lo > 0 or hi < 0
            else "which includes zero: the two cannot be told apart there yet"
        )
        sure += f"; {how}, {n_pairs} replications"
    else:
        sure = "a single replication, no interval: run more replications"
    if diff == 0 and half == 0 and not a_is_best:  # the same value in every replication
        # every other one of that world with a's value in every replication, not only b
        there = points[(points["world"] == w) & (points["scenario"] != a)]["scenario"]
        tied = [o for o in there if pairwise(res, brand, a, o, crit)[:2] == (0, 0)]
        out.append(
            f"It is the best {noun} in every world, in {w} tied with "
            f"{_and([choice[o] for o in tied])} (the same {crit.label()} in each of the "
            f"{n_pairs} replications)."
        )
    else:
        out.append(f"{claim} {said} {subject} ({sure}).")
    if not crit.is_net_value and choice_cols == ["policy"]:
        out.append(_net_value_view(res, brand, choice_cols, world_cols, best["policy"]))
    # at what risk: the chosen one's breach losses in its riskiest world
    mine = points[points["choice"] == best["policy"]].set_index("world")
    rows = table.set_index("scenario").reindex(mine["scenario"])
    rows.index = mine.index
    if (rows["var95"] > 0).any() or (rows["es95"] > 0).any():
        w = rows["var95"].idxmax()
        out.append(
            f"At what risk: for {best['policy']} the 95% value at risk of {brand}'s breach losses "
            f"is highest in {w}, {eur(rows.at[w, 'var95'])}, with an expected shortfall (mean of "
            f"the worst 5%) of {eur(rows.at[w, 'es95'])}."
        )
    else:
        out.append(
            f"At what risk: {brand} had no breach losses in any run of {best['policy']}, in any "
            "world."
        )
    return out


def _and(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _net_value_view(
    res: Results, brand: str, choice_cols: list[str], world_cols: list[str], chosen: str
) -> str:
    """A sweep judged on another metric than net value: which policy minimax regret chooses on
    ``brand``'s net value, which the scenario table ranks by, against ``chosen``."""
    days = int(res.timeseries["day"].max()) + 1
    on_money = _regret(res, brand, choice_cols, world_cols, Criterion())[1]
    top = on_money.iloc[0]
    mine = on_money.set_index("policy").loc[chosen]

    def largest(r: pd.Series) -> str:  # as the regret table says it
        if r["max_regret"] > 0:
            return f"largest regret {eur(r['max_regret'])}, in world {r['world_of_max_regret']}"
        return "it is the best, or tied best, in every world"

    opening = (
        f"On {brand}'s net value over {days} days, by which the table below ranks the scenarios,"
    )
    if top["policy"] == chosen:
        return f"{opening} {chosen} is the minimax-regret policy too ({largest(top)})."
    if mine["max_regret"] == top["max_regret"]:  # tied with the first one, by name after it
        return (
            f"{opening} {chosen} is a minimax-regret policy too, tied with {top['policy']} "
            f"({largest(mine)})."
        )
    return (
        f"{opening} the minimax-regret policy would be {top['policy']} instead ({largest(top)}; "
        f"{chosen} can lose up to {eur(mine['max_regret'])} there, in world "
        f"{mine['world_of_max_regret']})."
    )


# --------------------------------------------------------------------------------------------
# Assumptions: what differs between scenarios
# --------------------------------------------------------------------------------------------
def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list) and obj and all(isinstance(x, dict) and "name" in x for x in obj):
        for x in obj:
            rest = {k: v for k, v in x.items() if k != "name"}
            out.update(_flatten(rest, f"{prefix}.{x['name']}"))
    elif isinstance(obj, list):
        out[prefix] = (
            ", ".join(
                json.dumps(x, separators=(",", ":")) if isinstance(x, dict) else str(x) for x in obj
            )
            or "(none)"
        )
    else:
        out[prefix] = obj
    return out


SKIP_KEYS = ("name", "description", "simulation.replications")


def differing_settings(res: Results) -> pd.DataFrame:
    """The levers and world settings that differ between the scenarios: one row per setting
    (dotted schema path), one column per scenario. Empty without stored scenarios."""
    if len(res.scenarios) < 2:
        return pd.DataFrame()
    flat = {
        n: _flatten(s.model_dump(mode="json"))
        for n, s in res.scenarios.items()
        if n in set(res.names)
    }
    keys = sorted({k for f in flat.values() for k in f})
    rows = {}
    for k in keys:
        if k in SKIP_KEYS:
            continue
        values = [flat[n].get(k, "(absent)") for n in flat]
        if len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1:
            rows[k] = values
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(flat))
