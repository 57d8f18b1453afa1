"""Risk views across replications: losses, VaR, expected shortfall, trust-threshold probabilities.

Loss of a brand in one replication (decision, documented in docs/EXPERIMENTS.md): the cost of
incidents relative to the *same* replication of the same scenario without incidents (the
no-incident counterfactual: attack pressure 0, no scheduled breach or third-party leak; same
seeds, hence the same consumers and draws elsewhere):

    loss = breach_cost (horizon total) + (margin without incidents - margin with incidents)

The first term is what the incidents cost directly (detection, notification, compensation, card
reissue, fines); the second the gross margin lost to consumers who trusted the brand less,
bought less or left. A competitor's breach can make the second term negative (a gain).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import stats


def losses_table(runs: pd.DataFrame, counterfactual: pd.DataFrame) -> pd.DataFrame:
    """Per scenario, brand and replication: breach cost, lost margin and loss (horizon totals).

    ``runs`` and ``counterfactual`` are per-run summaries (`ResultStore.summaries`); the
    counterfactual's scenario names carry the suffix ``__no_incidents``.
    """
    keys = ["scenario", "brand", "replication"]
    act = runs[runs["brand"] != "all"]
    cost = act[act["metric"] == "breach_cost"][[*keys, "total"]].rename(
        columns={"total": "breach_cost"}
    )
    margin = act[act["metric"] == "margin"][[*keys, "total"]].rename(columns={"total": "margin"})
    cf = counterfactual[
        (counterfactual["metric"] == "margin") & (counterfactual["brand"] != "all")
    ][[*keys, "total"]]
    cf = cf.assign(scenario=cf["scenario"].str.removesuffix("__no_incidents")).rename(
        columns={"total": "margin_no_incidents"}
    )
    out = cost.merge(margin, on=keys).merge(cf, on=keys)
    out["lost_margin"] = out["margin_no_incidents"] - out["margin"]
    out["loss"] = out["breach_cost"] + out["lost_margin"]
    return out.sort_values(keys, ignore_index=True)


def risk_table(
    losses: pd.DataFrame, scenarios: list[str] | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Per scenario and brand: mean loss, VaR and expected shortfall at ``level``, P(loss > 0)."""
    rows = []
    for (scenario, brand), g in losses.groupby(["scenario", "brand"], sort=True):
        x = g["loss"].to_numpy()
        var, es = stats.var_es(x, level)
        p, lo, hi = stats.wilson(int((x > 0).sum()), x.size)
        rows.append(
            (
                scenario,
                brand,
                x.size,
                float(x.mean()),
                float(g["breach_cost"].mean()),
                float(g["lost_margin"].mean()),
                var,
                es,
                p,
                lo,
                hi,
            )
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "scenario",
            "brand",
            "replications",
            "mean_loss",
            "mean_breach_cost",
            "mean_lost_margin",
            "var95",
            "es95",
            "p_loss",
            "p_loss_low",
            "p_loss_high",
        ],
    )
    return _in_scenario_order(df, scenarios)


def threshold_table(
    trust: pd.DataFrame,
    threshold: float = 0.4,
    by_day: int | None = None,
    scenarios: list[str] | None = None,
) -> pd.DataFrame:
    """Per scenario and brand: share of replications whose mean trust falls below ``threshold``
    on some day up to ``by_day`` (default: the last day), with a Wilson 95% interval.

    ``trust``: daily trust rows (scenario, replication, day, brand, value).
    """
    last = int(trust["day"].max()) if len(trust) else 0
    day = last if by_day is None else min(int(by_day), last)
    w = trust[trust["day"] <= day]
    low = w.groupby(["scenario", "brand", "replication"], sort=True)["value"].min() < threshold
    rows = []
    for (scenario, brand), g in low.groupby(level=["scenario", "brand"], sort=True):
        p, lo, hi = stats.wilson(int(g.sum()), int(g.size))
        rows.append((scenario, brand, threshold, day, int(g.size), int(g.sum()), p, lo, hi))
    df = pd.DataFrame(
        rows,
        columns=[
            "scenario",
            "brand",
            "threshold",
            "by_day",
            "replications",
            "below",
            "probability",
            "ci_low",
            "ci_high",
        ],
    )
    return _in_scenario_order(df, scenarios)


def exceedance_curves(losses: pd.DataFrame, brand: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per scenario: the loss exceedance curve of ``brand`` (distinct losses, P(L >= x))."""
    sel = losses[losses["brand"] == brand]
    return {
        s: stats.exceedance(g["loss"].to_numpy()) for s, g in sel.groupby("scenario", sort=False)
    }


def _in_scenario_order(df: pd.DataFrame, scenarios) -> pd.DataFrame:
    """Rows sorted by the given scenario order, then brand (unchanged if no order is given)."""
    if not scenarios:
        return df
    df = df.assign(scenario=pd.Categorical(df["scenario"], scenarios, ordered=True))
    df = df.sort_values(["scenario", "brand"], ignore_index=True)
    return df.assign(scenario=df["scenario"].astype(str))
