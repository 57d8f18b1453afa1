"""Charts of an experiment: trust per scenario with bands, forest plot of the differences, loss
exceedance curves. Built without pyplot (no display needed), in the package's one chart style
(`sim.style`: scenarios in the scenario palette, never in a brand's colour; metrics in words with
units) and written atomically as PNG."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats as st

from ..analysis import stats, style
from .store import HEADLINE


def _save(fig: Figure, path: Path) -> Path:
    return style.save_figure(fig, path, dpi=130)


def _fill(fig: Figure, text: str, fontsize: float) -> str:
    """``text`` wrapped to the width of ``fig`` at ``fontsize`` points (a character of the
    package's sans-serif font is at most ~0.6 em wide on average), so no line runs off it."""
    chars = int(0.95 * fig.get_figwidth() * 72 / (0.6 * fontsize))
    return textwrap.fill(text, max(20, chars), break_on_hyphens=False)


def _legend_above(fig: Figure, styles: dict[str, dict[str, str]], title: str) -> None:
    """The scenarios' key above the panels (``styles``: `style.scenario_styles`)."""
    handles = [
        mpl.lines.Line2D([], [], marker="o", linewidth=2, label=n, **st) for n, st in styles.items()
    ]
    fig.legend(
        handles=handles,
        loc="outside upper center",
        ncols=min(len(handles), 4),
        frameon=False,
        title=_fill(fig, title, 11),
        title_fontproperties={"size": 11},
    )


def _panels(n: int, size: tuple[float, float], ax, extra: tuple[float, float], sharey=False):
    """A new figure holding ``n`` panels of ``size`` inches in the package's grid (``extra``:
    inches added for titles and legends), or the caller's single ``ax``. Returns the figure, the
    panels and whether the figure is ours (so its title and legend may be set)."""
    if ax is not None:
        if n != 1:
            raise ValueError(f"ax= draws one panel, but this chart has {n}; choose one")
        return ax.figure, np.array([ax]), False
    nrows, ncols, panel = style.panel_grid(n, size, max_cols=4)
    fig = Figure(
        figsize=(panel[0] * ncols + extra[0], panel[1] * nrows + extra[1]), layout="constrained"
    )
    return fig, fig.subplots(nrows, ncols, squeeze=False, sharey=sharey).ravel(), True


def trust_bands_figure(
    trust: pd.DataFrame,
    scenarios: list[str],
    brands: list[str],
    ax=None,
    changes: dict[str, int] | None = None,
) -> Figure:
    """Mean trust per day, one line per scenario (scenario palette), one panel per brand; band:
    95% t interval of the mean over replications. One y range holds every line. ``ax``: draw the
    one brand's panel there. ``changes``: scenario -> the day its policies take effect, marked
    by a dash-dot line in the scenario's colour."""
    brands = [b for b in brands if b in set(trust["brand"])]
    styles = style.scenario_styles(scenarios)
    colours = {n: st["color"] for n, st in styles.items()}
    with mpl.rc_context(style.RC):
        fig, axes, own = _panels(len(brands), (4.4, 3.2), ax, (0.4, 1.6), sharey=True)
        for ax_, brand in zip(axes, brands, strict=False):
            sel = trust[trust["brand"] == brand]
            for scenario in scenarios:
                g = sel[sel["scenario"] == scenario].groupby("day")["value"]
                mean, sd, n = g.mean(), g.std(), g.count()
                half = st.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
                ax_.plot(mean.index, mean.values, label=scenario, lw=1.4, **styles[scenario])
                ax_.fill_between(
                    mean.index, mean - half, mean + half, color=colours[scenario], alpha=0.2, lw=0
                )
            for scenario, day in (changes or {}).items():
                if scenario in colours:
                    ax_.axvline(day, color=colours[scenario], linestyle="-.", lw=1.1)
            ax_.set_title(brand, color=style.brand_colours(brands)[brand], fontweight="bold")
            ax_.set_xlabel("day")
            ax_.set_ylabel(style.metric_label("trust"))
        for ax_ in axes[len(brands) :]:
            ax_.set_visible(False)
        style.fit_ylim(axes[: len(brands)], (0.0, 1.0), pad=0.15, floor=0.02)
        reps = int(trust.groupby("scenario")["replication"].nunique().min())
        note = f"Lines: mean of {reps} replications; band: 95% t interval of the mean."
        if changes:
            note += " Dash-dot: the day a scenario's policies take effect."
        if own:
            _legend_above(fig, styles, "Trust per scenario (colour = scenario)")
            fig.supxlabel(_fill(fig, note, 8), fontsize=8, color="0.35")
        else:
            axes[0].legend(fontsize=8, loc="best")
            axes[0].set_xlabel(f"day. {note}", fontsize=8)
    return fig


def trust_bands(
    trust: pd.DataFrame,
    scenarios: list[str],
    brands: list[str],
    path: Path,
    changes: dict[str, int] | None = None,
) -> Path:
    """`trust_bands_figure`, written to ``path`` as PNG."""
    return _save(trust_bands_figure(trust, scenarios, brands, changes=changes), path)


def forest_figure(
    differences: pd.DataFrame,
    brands: list[str],
    metrics: tuple[str, ...] = HEADLINE,
    ax=None,
    scenarios: list[str] | None = None,
) -> Figure:
    """Forest plot: paired differences vs the reference with 95% intervals, one panel per
    headline metric (in words, with its unit and statistic), one row per scenario and brand,
    each scenario in its scenario colour. ``ax``: draw the one metric's panel there.
    ``scenarios``: the comparison's scenarios, reference included, in its order, so each has
    the colour it has in the comparison's other charts (default: the rows' order)."""
    d = differences[differences["metric"].isin(metrics) & differences["brand"].isin(brands)]
    metrics = tuple(m for m in metrics if m in set(d["metric"]))
    rows = d[["scenario", "brand"]].drop_duplicates().reset_index(drop=True)
    labels = [f"{s} | {b}" if len(brands) > 1 else s for s, b in rows.itertuples(index=False)]
    colours = style.scenario_colours([*(scenarios or []), *rows["scenario"]])
    with mpl.rc_context(style.RC):
        if ax is not None:
            fig, axes, own = _panels(len(metrics), (4.4, 3.0), ax, (0.0, 0.0))
        else:
            own = True
            ncols = min(3, max(1, len(metrics)))
            nrows = int(np.ceil(len(metrics) / ncols))
            height = min(style.SCREEN_IN[1], (0.3 * len(rows) + 1.3) * nrows + 1.0)
            fig = Figure(figsize=(4.4 * ncols + 1.0, height), layout="constrained")
            axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
        y = np.arange(len(rows))[::-1]
        for ax_, metric in zip(axes, metrics, strict=False):
            m = rows.merge(d[d["metric"] == metric], on=["scenario", "brand"], how="left")
            err = np.nan_to_num(np.vstack([m["diff"] - m["ci_low"], m["ci_high"] - m["diff"]]))
            for k in range(len(m)):
                ax_.errorbar(
                    m["diff"].iloc[k],
                    y[k],
                    xerr=err[:, k : k + 1],
                    fmt="o",
                    color=colours[m["scenario"].iloc[k]],
                    capsize=3,
                )
            ax_.axvline(0, color="0.4", lw=0.8, ls="--")
            stat = m["statistic"].dropna().iloc[0] if m["statistic"].notna().any() else None
            ax_.set_title(style.metric_label(metric, stat), fontsize=9)
            if style.METRICS.get(metric, ("", ""))[1] == "EUR":
                ax_.xaxis.set_major_formatter(style.MoneyFormatter())
            ax_.set_yticks(y, labels, fontsize=8)
            ax_.grid(axis="y", visible=False)
        for ax_ in axes[len(metrics) :]:
            ax_.set_visible(False)
        ref = differences["reference"].iloc[0] if len(differences) else ""
        brand_note = f" for {brands[0]}" if len(brands) == 1 else ""
        title = (
            f"Difference vs {ref}{brand_note} (paired, common random numbers; "
            "dot: mean difference, bar: 95% paired t interval)"
        )
        if own:
            fig.suptitle(_fill(fig, title, 10), fontsize=10)
        else:
            axes[0].set_xlabel(title, fontsize=8)
    return fig


def forest(
    differences: pd.DataFrame,
    brands: list[str],
    path: Path,
    metrics: tuple[str, ...] = HEADLINE,
    scenarios: list[str] | None = None,
) -> Path:
    """`forest_figure`, written to ``path`` as PNG."""
    return _save(forest_figure(differences, brands, metrics, scenarios=scenarios), path)


def loss_exceedance_figure(
    losses: pd.DataFrame, brands: list[str], ax=None, scenarios: list[str] | None = None
) -> Figure:
    """Loss exceedance curves P(L >= x) per scenario (scenario palette), one panel per brand
    (``ax``: the one brand's panel there). ``scenarios``: the comparison's scenarios in its
    order, so each has the colour it has in the comparison's other charts (default: the
    order of ``losses``). A scenario with no loss in any run has no curve; its key says so."""
    scenarios = list(scenarios or dict.fromkeys(losses["scenario"]))
    styles = style.scenario_styles(scenarios)
    with mpl.rc_context(style.RC):
        fig, axes, own = _panels(len(brands), (4.4, 3.2), ax, (0.4, 1.6))
        for ax_, brand in zip(axes, brands, strict=False):
            sel = losses[losses["brand"] == brand]
            x_all = sel["loss"].to_numpy(dtype=float)
            start = min(0.0, float(x_all.min())) if x_all.size else 0.0
            top = float(x_all.max()) if x_all.size else 1.0
            end = top + (0.05 * (top - start) if top > start else 1.0)
            idle = []
            for scenario in scenarios:
                x = sel.loc[sel["scenario"] == scenario, "loss"].to_numpy(dtype=float)
                if not (x > 0).any():  # no curve: a stroke down at 0 would say nothing
                    colour = styles[scenario]["color"]
                    idle.append(
                        mpl.lines.Line2D(
                            [], [], color=colour, ls=":", label=f"{scenario}: no loss in any run"
                        )
                    )
                    continue
                # the share of runs whose loss exceeds x, down to 0 past the largest loss
                xs, p = stats.exceedance_steps(x, end)
                ax_.step(xs, p, where="post", label=scenario, **styles[scenario])
            if idle:  # (not ours: the caller's one panel keys every scenario below)
                key = idle if own else [*ax_.get_lines(), *idle]
                ax_.legend(handles=key, fontsize=7, frameon=False, loc="best")
            ax_.set_xlim(start, end)
            ax_.set_title(brand, color=style.brand_colours(brands)[brand], fontweight="bold")
            ax_.set_xlabel("loss over the horizon (EUR)")
            ax_.xaxis.set_major_formatter(style.MoneyFormatter())
            ax_.set_ylabel("P(loss >= x)")
            ax_.set_ylim(0, 1.05)
        for ax_ in axes[len(brands) :]:
            ax_.set_visible(False)
        title = "Loss exceedance (breach cost + margin lost vs no-incident run)"
        if own:
            _legend_above(fig, styles, title)
        else:
            if axes[0].get_legend() is None:
                axes[0].legend(fontsize=8)
            axes[0].set_title(f"{brands[0]}: {title[0].lower()}{title[1:]}", fontsize=9)
    return fig


def loss_exceedance(
    losses: pd.DataFrame, brands: list[str], path: Path, scenarios: list[str] | None = None
) -> Path:
    """`loss_exceedance_figure`, written to ``path`` as PNG."""
    return _save(loss_exceedance_figure(losses, brands, scenarios=scenarios), path)
