"""Charts of an experiment: trust per scenario with bands, forest plot of the differences, loss
exceedance curves. Built without pyplot (no display needed), in the package's one chart style
(`sim.style`: scenarios in the scenario palette, never in a brand's colour; metrics in words with
units) and written atomically as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from scipy import stats as st

from ..analysis import style
from .store import HEADLINE


def _save(fig: Figure, path: Path) -> Path:
    return style.save_figure(fig, path, dpi=130)


def _colours(names: list[str]) -> dict[str, str]:
    return style.scenario_colours(names)


def _legend_above(fig: Figure, colours: dict[str, str], title: str) -> None:
    handles = [
        mpl.lines.Line2D([], [], color=c, marker="o", linewidth=2, label=n)
        for n, c in colours.items()
    ]
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=min(len(handles), 4),
        frameon=False,
        title=title,
        title_fontproperties={"size": 11},
    )


def trust_bands(trust: pd.DataFrame, scenarios: list[str], brands: list[str], path: Path) -> Path:
    """Mean trust per day, one line per scenario (scenario palette), one panel per brand; band:
    95% t interval of the mean over replications. One y range holds every line."""
    brands = [b for b in brands if b in set(trust["brand"])]
    nrows, ncols, panel = style.panel_grid(len(brands), (4.4, 3.2), max_cols=4)
    colours = _colours(scenarios)
    with mpl.rc_context(style.RC):
        fig = Figure(figsize=(panel[0] * ncols + 0.4, panel[1] * nrows + 1.6), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
        for ax, brand in zip(axes, brands, strict=False):
            sel = trust[trust["brand"] == brand]
            for scenario in scenarios:
                g = sel[sel["scenario"] == scenario].groupby("day")["value"]
                mean, sd, n = g.mean(), g.std(), g.count()
                half = st.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
                ax.plot(mean.index, mean.values, color=colours[scenario], label=scenario, lw=1.4)
                ax.fill_between(
                    mean.index, mean - half, mean + half, color=colours[scenario], alpha=0.2, lw=0
                )
            ax.set_title(brand, color=style.brand_colours(brands)[brand], fontweight="bold")
            ax.set_xlabel("day")
            ax.set_ylabel(style.metric_label("trust"))
        for ax in axes[len(brands) :]:
            ax.set_visible(False)
        style.fit_ylim(axes[: len(brands)], (0.0, 1.0), pad=0.15, floor=0.02)
        reps = int(trust.groupby("scenario")["replication"].nunique().min())
        _legend_above(fig, colours, "Trust per scenario (colour = scenario)")
        fig.supxlabel(
            f"Lines: mean of {reps} replications; band: 95% t interval of the mean.",
            fontsize=8,
            color="0.35",
        )
    return _save(fig, path)


def forest(
    differences: pd.DataFrame, brands: list[str], path: Path, metrics: tuple[str, ...] = HEADLINE
) -> Path:
    """Forest plot: paired differences vs the reference with 95% intervals, one panel per
    headline metric (in words, with its unit and statistic), one row per scenario and brand,
    each scenario in its scenario colour."""
    d = differences[differences["metric"].isin(metrics) & differences["brand"].isin(brands)]
    metrics = tuple(m for m in metrics if m in set(d["metric"]))
    rows = d[["scenario", "brand"]].drop_duplicates().reset_index(drop=True)
    labels = [f"{s} | {b}" if len(brands) > 1 else s for s, b in rows.itertuples(index=False)]
    colours = _colours(list(dict.fromkeys(rows["scenario"])))
    ncols = min(3, max(1, len(metrics)))
    nrows = int(np.ceil(len(metrics) / ncols))
    height = min(style.SCREEN_IN[1], (0.3 * len(rows) + 1.3) * nrows + 1.0)
    with mpl.rc_context(style.RC):
        fig = Figure(figsize=(4.4 * ncols + 1.0, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
        y = np.arange(len(rows))[::-1]
        for ax, metric in zip(axes, metrics, strict=False):
            m = rows.merge(d[d["metric"] == metric], on=["scenario", "brand"], how="left")
            err = np.nan_to_num(np.vstack([m["diff"] - m["ci_low"], m["ci_high"] - m["diff"]]))
            for k in range(len(m)):
                ax.errorbar(
                    m["diff"].iloc[k],
                    y[k],
                    xerr=err[:, k : k + 1],
                    fmt="o",
                    color=colours[m["scenario"].iloc[k]],
                    capsize=3,
                )
            ax.axvline(0, color="0.4", lw=0.8, ls="--")
            stat = m["statistic"].dropna().iloc[0] if m["statistic"].notna().any() else None
            ax.set_title(style.metric_label(metric, stat), fontsize=9)
            if style.METRICS.get(metric, ("", ""))[1] == "EUR":
                ax.xaxis.set_major_formatter(FuncFormatter(style.money))
            ax.set_yticks(y, labels, fontsize=8)
            ax.grid(axis="y", visible=False)
        for ax in axes[len(metrics) :]:
            ax.set_visible(False)
        ref = differences["reference"].iloc[0] if len(differences) else ""
        brand_note = f" for {brands[0]}" if len(brands) == 1 else ""
        fig.suptitle(
            f"Difference vs {ref}{brand_note} (paired, common random numbers; "
            "dot: mean difference, bar: 95% paired t interval)",
            fontsize=10,
        )
    return _save(fig, path)


def loss_exceedance(losses: pd.DataFrame, brands: list[str], path: Path) -> Path:
    """Loss exceedance curves P(L >= x) per scenario (scenario palette), one panel per brand."""
    from .risk import exceedance_curves

    scenarios = list(dict.fromkeys(losses["scenario"]))
    colours = _colours(scenarios)
    nrows, ncols, panel = style.panel_grid(len(brands), (4.4, 3.2), max_cols=4)
    with mpl.rc_context(style.RC):
        fig = Figure(figsize=(panel[0] * ncols + 0.4, panel[1] * nrows + 1.6), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax, brand in zip(axes, brands, strict=False):
            for scenario, (x, p) in exceedance_curves(losses, brand).items():
                ax.step(x, p, where="post", color=colours[scenario], label=scenario)
            ax.set_title(brand, color=style.brand_colours(brands)[brand], fontweight="bold")
            ax.set_xlabel("loss over the horizon (EUR)")
            ax.xaxis.set_major_formatter(FuncFormatter(style.money))
            ax.set_ylabel("P(loss >= x)")
            ax.set_ylim(0, 1.05)
        for ax in axes[len(brands) :]:
            ax.set_visible(False)
        _legend_above(
            fig, colours, "Loss exceedance (breach cost + margin lost vs no-incident run)"
        )
    return _save(fig, path)
