"""Charts of an experiment: trust per scenario with bands, forest plot of the differences, loss
exceedance curves. Built without pyplot (no display needed) and written atomically as PNG."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats as st

from ..core.storage import write_bytes
from .store import HEADLINE

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def _save(fig: Figure, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight")
    return write_bytes(Path(path), buf.getvalue())


def _colours(names: list[str]) -> dict[str, str]:
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def trust_bands(trust: pd.DataFrame, scenarios: list[str], brands: list[str], path: Path) -> Path:
    """Mean trust per day, one line per scenario, one panel per brand; band: 95% t interval of
    the mean over replications."""
    brands = [b for b in brands if b in set(trust["brand"])]
    fig = Figure(figsize=(4.2 * len(brands), 3.4), layout="constrained")
    axes = fig.subplots(1, len(brands), squeeze=False, sharey=True)[0]
    colours = _colours(scenarios)
    for ax, brand in zip(axes, brands, strict=True):
        sel = trust[trust["brand"] == brand]
        for scenario in scenarios:
            g = sel[sel["scenario"] == scenario].groupby("day")["value"]
            mean, sd, n = g.mean(), g.std(), g.count()
            half = st.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
            ax.plot(mean.index, mean.values, color=colours[scenario], label=scenario, lw=1.4)
            ax.fill_between(
                mean.index, mean - half, mean + half, color=colours[scenario], alpha=0.2, lw=0
            )
        ax.set_title(brand)
        ax.set_xlabel("day")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean trust")
    axes[-1].legend(fontsize=8, loc="best")
    reps = int(trust.groupby("scenario")["replication"].nunique().min())
    fig.suptitle(
        f"Trust per scenario (band: 95% t interval of the mean, {reps} replications)", fontsize=10
    )
    return _save(fig, path)


def forest(
    differences: pd.DataFrame, brands: list[str], path: Path, metrics: tuple[str, ...] = HEADLINE
) -> Path:
    """Forest plot: paired differences vs the reference with 95% intervals, one panel per
    headline metric, one row per scenario and brand."""
    d = differences[differences["metric"].isin(metrics) & differences["brand"].isin(brands)]
    metrics = tuple(m for m in metrics if m in set(d["metric"]))
    rows = d[["scenario", "brand"]].drop_duplicates().reset_index(drop=True)
    labels = [f"{s} | {b}" for s, b in rows.itertuples(index=False)]
    ncols = min(3, max(1, len(metrics)))
    nrows = int(np.ceil(len(metrics) / ncols))
    fig = Figure(
        figsize=(4.3 * ncols, 0.45 * len(rows) * nrows + 1.6 * nrows), layout="constrained"
    )
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    y = np.arange(len(rows))[::-1]
    for ax, metric in zip(axes, metrics, strict=False):
        m = rows.merge(d[d["metric"] == metric], on=["scenario", "brand"], how="left")
        err = np.vstack([m["diff"] - m["ci_low"], m["ci_high"] - m["diff"]])
        ax.errorbar(m["diff"], y, xerr=np.nan_to_num(err), fmt="o", color="#0072B2", capsize=3)
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        stat = m["statistic"].dropna().iloc[0] if m["statistic"].notna().any() else ""
        ax.set_title(
            f"{metric} ({'total over horizon' if stat == 'total' else 'last 30 days'})", fontsize=9
        )
        ax.set_yticks(y, labels, fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    ref = differences["reference"].iloc[0] if len(differences) else ""
    fig.suptitle(
        f"Difference vs {ref} (paired, common random numbers; 95% paired t interval)", fontsize=10
    )
    return _save(fig, path)


def loss_exceedance(losses: pd.DataFrame, brands: list[str], path: Path) -> Path:
    """Loss exceedance curves P(L >= x) per scenario, one panel per brand."""
    from .risk import exceedance_curves

    fig = Figure(figsize=(4.2 * len(brands), 3.4), layout="constrained")
    axes = fig.subplots(1, len(brands), squeeze=False)[0]
    scenarios = list(dict.fromkeys(losses["scenario"]))
    colours = _colours(scenarios)
    for ax, brand in zip(axes, brands, strict=True):
        for scenario, (x, p) in exceedance_curves(losses, brand).items():
            ax.step(x, p, where="post", color=colours[scenario], label=scenario)
        ax.set_title(brand)
        ax.set_xlabel("loss over horizon (EUR)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("P(loss >= x)")
    axes[-1].legend(fontsize=8)
    fig.suptitle(
        "Loss exceedance (breach cost + margin lost vs no-incident counterfactual)", fontsize=10
    )
    return _save(fig, path)
