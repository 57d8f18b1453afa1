"""Charts of a calibration (convergence, posterior pairs) and of a sensitivity analysis (index
bars, tornado), in the package's chart style (`sim.charts`), built without pyplot and written
atomically with `sim.charts.save_figure`."""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..analysis.charts import _RC, BRAND_PALETTE, _caption, save_figure

FIT, TRUTH, BAND = BRAND_PALETTE[0], BRAND_PALETTE[1], "0.6"


def short_names(paths) -> dict[str, str]:
    """A readable label for each dotted parameter path: its last component
    (``population.affinity_concentration`` -> ``affinity_concentration``), or as many trailing
    components as it takes to tell it from the other paths (``brands[0].policy.transparency`` and
    ``brands[1].policy.transparency`` keep ``brands[0]...`` / ``brands[1]...``). Labels never
    cut a name."""
    parts = {p: str(p).split(".") for p in dict.fromkeys(paths)}
    keep = dict.fromkeys(parts, 1)
    while True:
        label = {p: ".".join(c[-keep[p] :]) for p, c in parts.items()}
        seen: dict[str, list[str]] = {}
        for p, text in label.items():
            seen.setdefault(text, []).append(p)
        clash = [p for group in seen.values() if len(group) > 1 for p in group]
        grow = [p for p in clash if keep[p] < len(parts[p])]
        if not grow:
            return label
        for p in grow:
            keep[p] += 1


def convergence(
    trials: pd.DataFrame,
    epsilons: list[float],
    path: Path,
    noise_scaled: bool = True,
    chosen: int | None = None,
) -> Path:
    """Left: each Optuna trial's distance and the best so far, and, for the best trials the fit
    measured again on fresh replications (column ``confirm_distance``, when it has values), that
    distance joined to the trial's own, with the trial ``chosen`` as the estimate filled; right:
    the ABC tolerance per generation. A distance of 1 puts the targets on the edges of their bands
    (widened by the Monte Carlo noise of the model's mean if ``noise_scaled``)."""
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(8.4, 3.6), layout="constrained")
        a, b = fig.subplots(1, 2)
        d = trials["distance"].clip(upper=np.nanmax(trials["distance"][trials["distance"] < 1e8]))
        a.scatter(trials["trial"], d, s=10, color=BAND, label="trial")
        a.step(trials["trial"], trials["best_so_far"], where="post", color=FIT, label="best so far")
        if "confirm_distance" in trials:
            again = trials[trials["confirm_distance"].notna()]
            if len(again):
                a.vlines(
                    again["trial"], again["distance"], again["confirm_distance"], color=FIT, lw=0.6
                )
                a.scatter(
                    again["trial"],
                    again["confirm_distance"],
                    s=22,
                    marker="D",
                    facecolors="none",
                    edgecolors=FIT,
                    label="re-measured (fresh replications)",
                )
                pick = again[again["trial"] == chosen]
                if len(pick):
                    a.scatter(
                        pick["trial"],
                        pick["confirm_distance"],
                        s=30,
                        marker="D",
                        color=FIT,
                        zorder=3,
                        label="estimate",
                    )
        a.axhline(1.0, color=TRUTH, lw=0.8, ls="--", label="edge of the bands")
        a.set_yscale("log")
        a.set_xlabel("Optuna trial")
        a.set_ylabel("distance to the targets")
        a.legend(frameon=False)
        a.set_title("Fit (Optuna, TPE)")
        b.plot(range(1, len(epsilons) + 1), epsilons, marker="o", color=FIT)
        b.axhline(1.0, color=TRUTH, lw=0.8, ls="--")
        b.set_xlabel("ABC-SMC generation")
        b.set_ylabel("tolerance")
        b.set_xticks(range(1, len(epsilons) + 1))
        b.set_title("Posterior (pyabc ABC-SMC)")
        scale = "sqrt(half-band^2 + sigma^2 / R)" if noise_scaled else "half-band"
        _caption(fig, f"distance: weighted RMS of (model - target) / {scale} over the targets")
        return save_figure(fig, path)


def pairs(
    draws: pd.DataFrame, estimate: dict[str, float], truth: dict[str, float] | None, path: Path
) -> Path:
    """Posterior draws: histograms on the diagonal, scatter below; the estimate (and the truth of
    a recovery run) marked."""
    cols = list(draws.columns)
    n = len(cols)
    name = short_names(cols)
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(2.3 * n + 0.6, 2.3 * n + 0.8), layout="constrained")
        axes = fig.subplots(n, n, squeeze=False)
        for i, yi in enumerate(cols):
            for j, xj in enumerate(cols):
                ax = axes[i, j]
                if j > i:
                    ax.set_visible(False)
                    continue
                if i == j:
                    ax.hist(draws[xj], bins=20, color=BAND)
                    ax.axvline(estimate[xj], color=FIT, lw=1.5)
                    if truth:
                        ax.axvline(truth[xj], color=TRUTH, lw=1.5, ls="--")
                else:
                    ax.scatter(draws[xj], draws[yi], s=4, alpha=0.4, color=BAND)
                    ax.scatter([estimate[xj]], [estimate[yi]], color=FIT, s=30, zorder=3)
                    if truth:
                        ax.scatter([truth[xj]], [truth[yi]], color=TRUTH, marker="x", s=40)
                if i == j:
                    ax.set_title(name[xj], fontsize=8)
                if i == n - 1:
                    ax.set_xlabel(name[xj], fontsize=8)
                if j == 0 and i != j:
                    ax.set_ylabel(name[yi], fontsize=8)
        note = "grey: posterior draws; blue: estimate"
        _caption(fig, note + ("; orange dashed: true value" if truth else ""))
        return save_figure(fig, path)


def indices(table: pd.DataFrame, method: str, path: Path) -> Path:
    """One panel per output: the indices per parameter with their 95% bootstrap intervals
    (Sobol: S1 and ST; Morris: mu*)."""
    outputs = list(dict.fromkeys(table["output"]))
    short = short_names(table["parameter"])
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(4.2 * len(outputs) + 0.6, 3.8), layout="constrained")
        axes = fig.subplots(1, len(outputs), squeeze=False)[0]
        for ax, name in zip(axes, outputs, strict=True):
            t = table[table["output"] == name]
            y = np.arange(len(t))
            cols = (
                [("S1", "S1_conf"), ("ST", "ST_conf")]
                if method == "sobol"
                else [("mu_star", "mu_star_conf")]
            )
            for k, (c, e) in enumerate(cols):
                ax.barh(
                    y + (k - (len(cols) - 1) / 2) * 0.38,
                    t[c],
                    height=0.36,
                    xerr=t[e],
                    color=BRAND_PALETTE[k],
                    label=c,
                    capsize=2,
                )
            ax.set_yticks(y, [short[p] for p in t["parameter"]])
            ax.invert_yaxis()
            ax.set_title(name)
            ax.legend(frameon=False)
        _caption(fig, "bars: index; whiskers: 95% bootstrap interval (SALib)")
        return save_figure(fig, path)


def tornado(swings: pd.DataFrame, path: Path) -> Path:
    """`tornado_figure` saved to ``path``."""
    with mpl.rc_context(_RC):
        return save_figure(tornado_figure(swings), path)


def tornado_figure(swings: pd.DataFrame) -> Figure:
    """One panel per output: the output with each parameter at the low and the high end of its
    range, the others at their midpoints (`sim.calibration.sensitivity.swings`), around the
    output at the centre, sorted by the size of the swing."""
    outputs = list(dict.fromkeys(swings["output"]))
    short = short_names(swings["parameter"])
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(4.4 * len(outputs) + 0.6, 3.8), layout="constrained")
        axes = fig.subplots(1, len(outputs), squeeze=False)[0]
        for ax, name in zip(axes, outputs, strict=True):
            t = swings[swings["output"] == name].copy()
            centre = float(t["centre"].iloc[0])
            # sorted by the farther end from the centre (|high - low| ranks a U-shaped effect last)
            t["swing"] = np.maximum((t["at_low"] - centre).abs(), (t["at_high"] - centre).abs())
            t = t.sort_values("swing", ascending=True)
            y = np.arange(len(t))
            # the two ends side by side, not on top of each other: both may move the output the
            # same way (a U-shaped effect, or an integer parameter rounded at the centre)
            ax.barh(
                y + 0.2,
                t["at_low"] - centre,
                0.4,
                left=centre,
                color=BRAND_PALETTE[0],
                label="low end",
            )
            ax.barh(
                y - 0.2, t["at_high"] - centre, 0.4, left=centre, color=BRAND_PALETTE[1],
                label="high end",
            )  # fmt: skip
            ax.axvline(centre, color="0.3", lw=0.8)
            ax.set_yticks(y, [short[p] for p in t["parameter"]])
            ax.set_title(name)
            ax.legend(frameon=False, fontsize=7)
        _caption(
            fig,
            "output with one parameter at the low or high end of its range, the others at their "
            "midpoints (same random numbers), around the output at the midpoints",
        )
        return fig
