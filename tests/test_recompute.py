"""The numbers users act on, recomputed independently from the stored per-run tables (issue 16).

`compare` writes one daily table per run (``runs/<scenario>/s<seed>-r<k>.parquet``). Every test
here reads those files with plain pandas and recomputes, with its own formulas and scipy, what the
package reports: per-run outcomes, levels, paired differences (sign B - A), t and Welch intervals,
losses, VaR, expected shortfall, P(trust below a threshold) with a Wilson interval, the loss
exceedance curve, the summary of `run`, and the sweep's regret. Tolerance: 1e-9 relative.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from scipy import stats as st

from sim.experiments import compare, sweep
from sim.experiments import risk as riskmod
from sim.runner import resolve, run

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
BREACH = ROOT / "scenarios" / "breach_data_maximalist.toml"
DAYS, CONSUMERS, REPS, SEED = 150, 1500, 5, 3
WINDOW = 30  # the documented outcome window: the last 30 days of a run (README, EXPERIMENTS.md)
# Flows are summed over the horizon, stocks averaged over the window (docs/EXPERIMENTS.md).
FLOWS = {"revenue", "net_value", "breach_cost", "margin", "purchases", "emails_sent"}
STOCKS = {"trust", "consent_rate", "subscribers", "records_held"}


def close(a, b, rel=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | (np.abs(a - b) <= rel * scale)))


def read_runs(folder: Path) -> pd.DataFrame:
    """Every stored daily table under ``folder/runs`` (channel ``all``), with the scenario and
    replication taken from the file's own metadata."""
    frames = []
    for path in sorted((folder / "runs").rglob("*.parquet")):
        meta = json.loads(pq.read_schema(path).metadata[b"omnitrust"])
        df = pd.read_parquet(path)
        df = df[df["channel"] == "all"].copy()
        for col in ("brand", "metric"):
            df[col] = df[col].astype(str)
        df["scenario"] = meta["scenario"]
        df["replication"] = meta["replication"]
        df["role"] = meta["role"]
        df["design"] = [meta.get("design") or {}] * len(df)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def per_run_outcome(daily: pd.DataFrame) -> pd.DataFrame:
    """scenario, role, replication, brand, metric -> window (last 30 days mean), total."""
    last = daily.groupby(["scenario", "role", "replication"])["day"].transform("max")
    keys = ["scenario", "role", "replication", "brand", "metric"]
    total = daily.groupby(keys)["value"].sum().rename("total")
    window = daily[daily["day"] > last - WINDOW].groupby(keys)["value"].mean().rename("window")
    return pd.concat([total, window], axis=1).reset_index()


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("recompute")
    scenarios = [resolve(p, days=DAYS, consumers=CONSUMERS) for p in (BASELINE, BREACH)]
    kw = dict(replications=REPS, seed=SEED, out=out, charts=False, progress=False, workers=1)
    first = compare(scenarios, risk=True, by_day=DAYS - 1, **kw)
    daily = read_runs(out)
    # a threshold between the runs' minimum trusts, so the probability is neither 0 nor 1
    trust = daily[(daily["metric"] == "trust") & (daily["role"] == "main")]
    minima = trust.groupby(["scenario", "brand", "replication"])["value"].min()
    threshold = float(np.median(minima))
    # the same folder again: every run is reused, only the tables are rebuilt
    c = compare(scenarios, risk=True, threshold=threshold, by_day=DAYS - 1, **kw)
    assert c.levels.equals(first.levels)
    return c, daily, threshold


def test_per_run_outcomes_are_the_window_mean_or_horizon_total(comparison):
    c, daily, _ = comparison
    mine = per_run_outcome(daily[daily["role"] == "main"])
    got = c.runs.merge(mine, on=["scenario", "replication", "brand", "metric"], suffixes=("", "_"))
    assert len(got) == len(c.runs) > 0
    assert close(got["total"], got["total_"]) and close(got["window"], got["window_"])
    stat = got.set_index("metric")["statistic"]
    assert set(stat[stat.index.isin(FLOWS)]) == {"total"}
    assert set(stat[stat.index.isin(STOCKS)]) == {"window"}
    expected = np.where(got["metric"].isin(FLOWS), got["total_"], got["window_"])
    flow_or_stock = got["metric"].isin(FLOWS | STOCKS)
    assert close(got["value"][flow_or_stock], expected[flow_or_stock])


def _outcomes(daily: pd.DataFrame, role: str = "main") -> pd.DataFrame:
    o = per_run_outcome(daily[daily["role"] == role])
    o["value"] = np.where(o["metric"].isin(FLOWS), o["total"], o["window"])
    return o[o["metric"].isin(FLOWS | STOCKS)]


def test_levels_are_mean_and_student_t_interval_of_the_runs(comparison):
    c, daily, _ = comparison
    checked = 0
    for (scenario, brand, metric), g in _outcomes(daily).groupby(["scenario", "brand", "metric"]):
        x = g.sort_values("replication")["value"].to_numpy()
        row = c.levels.set_index(["scenario", "brand", "metric"]).loc[(scenario, brand, metric)]
        half = st.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
        assert row["replications"] == REPS
        assert close(row["mean"], x.mean()), (scenario, brand, metric)
        assert close([row["ci_low"], row["ci_high"]], [x.mean() - half, x.mean() + half])
        checked += 1
    assert checked >= 2 * 3 * len(FLOWS | STOCKS)  # two scenarios, three brands


def test_paired_differences_are_b_minus_a_with_paired_t_and_welch_intervals(comparison):
    c, daily, _ = comparison
    o = _outcomes(daily)
    ind = _outcomes(daily, role="independent")
    a = o[o["scenario"] == "baseline"].set_index(["brand", "metric", "replication"])["value"]
    b = o[o["scenario"] == "breach_data_maximalist"]
    b = b.set_index(["brand", "metric", "replication"]).sort_index()
    d = (b["value"] - a).dropna()
    diffs = c.differences.set_index(["brand", "metric"])
    assert set(c.differences["reference"]) == {"baseline"}
    assert set(c.differences["scenario"]) == {"breach_data_maximalist"}
    for (brand, metric), g in d.groupby(level=["brand", "metric"]):
        x = g.sort_index().to_numpy()
        row = diffs.loc[(brand, metric)]
        half = st.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
        assert close(row["diff"], x.mean()), (brand, metric)
        assert close([row["ci_low"], row["ci_high"]], [x.mean() - half, x.mean() + half])
        # Welch interval against the reference's independent-seeds runs (scipy's own)
        y = ind[(ind["brand"] == brand) & (ind["metric"] == metric)]["value"].to_numpy()
        bb = b.loc[(brand, metric)]["value"].to_numpy()
        if np.var(bb) + np.var(y) > 0:
            ci = st.ttest_ind(bb, y, equal_var=False).confidence_interval(0.95)
            assert close([row["indep_low"], row["indep_high"]], [ci.low, ci.high])
            assert close(row["width_ratio"], half / ((ci.high - ci.low) / 2))
        # bootstrap sanity: inside the range of the paired differences, around their mean
        if x.std() > 0:
            assert x.min() - 1e-9 <= row["boot_low"] <= row["boot_high"] <= x.max() + 1e-9
            assert row["boot_low"] <= x.mean() + 1e-9 and x.mean() - 1e-9 <= row["boot_high"]
    # the sign: the scenario with the scheduled breach has the larger breach cost at Aurora
    assert diffs.loc[("Aurora", "breach_cost"), "diff"] > 0
    assert diffs.loc[("Aurora", "breach_cost"), "ci_low"] > 0


def _losses(daily: pd.DataFrame) -> pd.DataFrame:
    o = per_run_outcome(daily[daily["role"].isin(["main", "no_incidents"])])
    o = o[o["brand"] != "all"]
    o["scenario"] = o["scenario"].str.removesuffix("__no_incidents")
    t = o.pivot_table(
        index=["scenario", "brand", "replication"], columns=["role", "metric"], values="total"
    )
    return pd.DataFrame(
        {
            "breach_cost": t[("main", "breach_cost")],
            "lost_margin": t[("no_incidents", "margin")] - t[("main", "margin")],
        }
    ).assign(loss=lambda f: f["breach_cost"] + f["lost_margin"])


def _quantile_linear(x: np.ndarray, q: float) -> float:
    """The q quantile with linear interpolation between order statistics (Hyndman-Fan 7)."""
    s = np.sort(x)
    h = (s.size - 1) * q
    lo = math.floor(h)
    return float(s[lo] + (h - lo) * (s[min(lo + 1, s.size - 1)] - s[lo]))


def _wilson(k: int, n: int, z: float = 1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return p, max(0.0, centre - half), min(1.0, centre + half)


def test_losses_var_es_and_exceedance_recomputed_from_the_run_files(comparison):
    c, daily, _ = comparison
    mine = _losses(daily)
    got = c.losses.set_index(["scenario", "brand", "replication"]).sort_index()
    mine = mine.reindex(got.index)
    for col in ("breach_cost", "lost_margin", "loss"):
        assert close(got[col], mine[col]), col
    risk = c.risk.set_index(["scenario", "brand"])
    for (scenario, brand), g in mine.groupby(level=["scenario", "brand"]):
        x = g["loss"].to_numpy()
        var = _quantile_linear(x, 0.95)
        row = risk.loc[(scenario, brand)]
        assert close(row["mean_loss"], x.mean())
        assert close(row["var95"], var) and close(row["es95"], x[x >= var - 1e-12].mean())
        p, lo, hi = _wilson(int((x > 0).sum()), x.size)
        assert close([row["p_loss"], row["p_loss_low"], row["p_loss_high"]], [p, lo, hi])
        # the exceedance curve: at each distinct loss x, P(L >= x) is the share of runs >= x
        xs_, ps = riskmod.exceedance_curves(c.losses, brand)[scenario]
        for value in np.unique(xs_):
            assert close(ps[xs_ == value].max(), (x >= value).mean()), (scenario, brand, value)
    # the breached brand loses money in every run of the breach scenario
    assert (mine.loc[("breach_data_maximalist", "Aurora"), "breach_cost"] > 0).all()


def test_probability_of_trust_below_threshold_with_wilson_interval(comparison):
    c, daily, threshold = comparison
    trust = daily[(daily["metric"] == "trust") & (daily["role"] == "main")]
    trust = trust[trust["day"] <= DAYS - 1]
    below = trust.groupby(["scenario", "brand", "replication"])["value"].min() < threshold
    thr = c.threshold.set_index(["scenario", "brand"])
    probabilities = []
    for (scenario, brand), g in below.groupby(level=["scenario", "brand"]):
        row = thr.loc[(scenario, brand)]
        p, lo, hi = _wilson(int(g.sum()), g.size)
        assert row["threshold"] == threshold and row["below"] == int(g.sum())
        assert close([row["probability"], row["ci_low"], row["ci_high"]], [p, lo, hi])
        probabilities.append(p)
    assert 0 < np.mean(probabilities) < 1  # the threshold splits the runs: a real check


def test_run_summary_is_last_30_days_then_t_interval_over_replications():
    s = resolve(BASELINE, days=60, consumers=800)
    result = run(s, replications=3, seed=4)
    summary = result.summary().set_index(["brand", "channel", "metric"])
    ts = result.timeseries
    ts = ts[ts["day"] > ts["day"].max() - WINDOW]
    for metric in ("trust", "revenue", "consent_rate", "net_value"):
        for brand in ("Aurora", "Cirrus"):
            sel = ts[(ts["metric"] == metric) & (ts["brand"] == brand) & (ts["channel"] == "all")]
            per_rep = sel.groupby("replication", observed=True)["value"].mean().to_numpy()
            assert per_rep.size == 3
            half = st.t.ppf(0.975, 2) * per_rep.std(ddof=1) / math.sqrt(3)
            row = summary.loc[(brand, "all", metric)]
            assert close(row["mean"], per_rep.mean()), (metric, brand)
            assert close(
                [row["ci_low"], row["ci_high"]], [per_rep.mean() - half, per_rep.mean() + half]
            )


def test_sweep_regret_recomputed_from_the_run_files(tmp_path):
    base = BASELINE.as_posix()
    exp = tmp_path / "exp.toml"
    exp.write_text(
        f'name = "r"\nbase = "{base}"\nreplications = 2\nmetrics = ["net_value"]\n'
        "[policies.few_emails]\n"
        '"brands.Aurora.policy.emails_per_week" = 0.5\n'
        "[policies.many_emails]\n"
        '"brands.Aurora.policy.emails_per_week" = 6.0\n'
        "[worlds.calm]\n"
        '"world.attack_pressure" = 0.5\n'
        "[worlds.hostile]\n"
        '"world.attack_pressure" = 3.0\n'
        '[robustness]\nmetric = "net_value"\nbrand = "Aurora"\n'
    )
    r = sweep(exp, out=tmp_path / "out", days=40, consumers=800, progress=False, workers=1)
    daily = read_runs(tmp_path / "out")
    sel = daily[(daily["metric"] == "net_value") & (daily["brand"] == "Aurora")]
    policy = sel["design"].map(lambda d: d["policy"])
    world = sel["design"].map(lambda d: d["world"])
    totals = (
        sel.assign(policy=policy, world=world)
        .groupby(["policy", "world", "replication"])["value"]
        .sum()
    )
    mean = totals.groupby(level=["policy", "world"]).mean()
    rob = r.robustness.set_index(["policy", "world"])
    for (p, w), m in mean.items():
        best = mean.xs(w, level="world").max()
        assert close(rob.loc[(p, w), "mean"], m) and close(rob.loc[(p, w), "regret"], best - m)
    max_regret = r.max_regret.set_index("policy")["max_regret"]
    for p in ("few_emails", "many_emails"):
        expected = max(mean.xs(w, level="world").max() - mean[(p, w)] for w in ("calm", "hostile"))
        assert close(max_regret[p], expected)
    assert r.max_regret["policy"].iloc[0] == min(max_regret.index, key=lambda p: max_regret[p])
