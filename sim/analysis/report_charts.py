"""The report's charts. Each function returns ``(figure, title)`` where the title states the
finding in words computed from the data; the figure is drawn in the package's chart style
(`sim.style`: the charted scenarios, in the run's order, take the colour-blind-safe scenario
palette, so a scenario has one colour in every chart of a report; channels in theirs; axes hold
every line).

In a sweep whose points differ in the world (`sim.analysis.findings.sweep_points`), a scenario
is a policy in a world: a title compares points within one world and says so (``In world calm,
...``), or says that its points are of different worlds (``Across worlds, ...``) and names each
as the policy in its world, so that no title passes a gap between worlds off as one between
policies.
"""

from __future__ import annotations

import textwrap

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from ..core.catalogue import CHANNELS
from . import stats, style
from .charts import band_stats
from .findings import (
    WATERFALL_TERMS,
    Criterion,
    Results,
    eur,
    outcomes,
    own_settings_vary,
    pairwise,
    trust_below_curves,
    waterfall_values,
)
from .labels import place_labels

WIDE = (9.0, 3.6)


def _fig(size=WIDE, **kw):
    return Figure(figsize=size, layout="constrained", **kw)


def _legend(
    ax,
    styles: dict[str, dict[str, str]],
    labels: dict[str, str] | None = None,
    dashed: list[str] = (),
    **kw,
) -> None:
    """A key of the scenarios' ``styles`` (`style.scenario_styles`), each entry labelled
    ``labels[name]`` (or the name); the names in ``dashed`` get a thin dotted key (a line not
    drawn, so its entry says why)."""
    labels = labels or {}
    handles = [
        mpl.lines.Line2D(
            [],
            [],
            color=st["color"],
            linewidth=1.0 if n in dashed else 2,
            linestyle=":" if n in dashed else st["linestyle"],
            label=labels.get(n, n),
        )
        for n, st in styles.items()
    ]
    ax.legend(handles=handles, fontsize=7, frameon=False, **kw)


class _Points:
    """How titles name the charted scenarios ``names`` of a sweep whose points differ in the
    world (``points``: `sim.analysis.findings.sweep_points`; None for any other folder, whose
    scenarios are named as they are)."""

    def __init__(self, points: pd.DataFrame | None, names):
        self.points = None if points is None else points.reindex(list(names))
        worlds = set() if self.points is None else set(self.points["world"].dropna())
        self.world = worlds.pop() if len(worlds) == 1 else None  # the one world they share
        self.across = len(worlds) > 1
        noun = None if points is None else points.attrs.get("noun", "policy")
        self.kind = "policy×world points" if noun == "policy" else "design points"

    def name(self, n: str, value: str | None = None) -> str:
        """``low_security (low_security__calm__p0001)`` within one world, the point in words
        across worlds (``low_security__calm__p0001 (low_security in calm, ...)``), else ``n``;
        with ``value``, the value in the parentheses (``n (0.52)``, ``low_security
        (low_security__calm__p0001, 0.52)``)."""
        if self.points is None or n not in self.points.index:
            return n if value is None else f"{n} ({value})"
        tail = "" if value is None else f", {value}"
        if self.world is not None and self.points.at[n, "choice"]:
            return f"{self.points.at[n, 'choice']} ({n}{tail})"
        return f"{n} ({self.points.at[n, 'label']}{tail})"

    def plural(self) -> str:
        """What the charted scenarios are, in the plural: ``policies`` of one world,
        ``policy×world points`` or ``design points`` across worlds, else ``scenarios``."""
        if self.points is None:
            return "scenarios"
        if self.world is not None:
            return "policies" if self.kind.startswith("policy") else "design points"
        return self.kind

    def opening(self) -> str:
        """``In world calm, `` or ``Across worlds, `` (empty for another folder)."""
        if self.world is not None:
            return f"In world {self.world}, "
        return "Across worlds, " if self.across else ""

    def gap(self, a: str, b: str) -> str:
        """Why ``a`` and ``b`` of different worlds differ: the world's gap, or not the policy's
        alone (empty within one world or another folder)."""
        if not self.across:
            return ""
        ca, cb = self.points.at[a, "choice"], self.points.at[b, "choice"]
        if ca == cb:
            same = f"the same policy, {ca}, in two worlds" if ca else "two worlds"
            return f"{same}, so the gap is the world's" + (", not the policy's" if ca else "")
        return "points of different worlds, so the gap is not the policy's alone"


def _within_noise(
    res: Results,
    brand: str,
    a: str,
    b: str,
    crit: Criterion | None = None,
    fmt=eur,
    lead: str = " on average",
) -> str:
    """The caveat a title stating that ``a`` differs from ``b`` must carry when the verdict's
    own test cannot tell them apart: ``" on average, within noise: the 95% interval, EUR -14.2k
    to EUR 75.5k, includes zero"`` (paired by replication when the seeds are shared, as
    `sim.analysis.findings.pairwise`), ``" on average (one replication: no interval)"``, or
    nothing when the interval excludes zero. ``lead``: the words before the caveat."""
    diff, half, _ = pairwise(res, brand, a, b, crit)
    if not np.isfinite(half):
        return f"{lead} (one replication: no interval)"
    lo, hi = diff - half, diff + half
    if lo > 0 or hi < 0:
        return ""
    return f"{lead}, within noise: the 95% interval, {fmt(lo)} to {fmt(hi)}, includes zero"


def _heading(text: str, width: int = 46) -> str:
    """A panel heading wrapped to fit half of a report-wide figure."""
    return textwrap.fill(text, width, break_on_hyphens=False)


def trust_trajectories(
    res: Results, brand: str, names: list[str], points: pd.DataFrame | None = None
) -> tuple[Figure, str]:
    """Mean trust in ``brand`` per day, one line per scenario, band 5th-95th percentile of the
    replications; ``points``: see `_Points`."""
    ts = res.timeseries
    tr = ts[(ts["brand"] == brand) & (ts["metric"] == "trust") & (ts["channel"] == "all")]
    styles = style.scenario_styles(names)
    ends = {}
    with mpl.rc_context(style.RC):
        fig = _fig((9.0, 3.8))
        ax = fig.subplots()
        for name in names:
            t = tr[tr["scenario"] == name].pivot_table(
                index="day", columns="replication", values="value"
            )
            st = band_stats(t, "range")
            ax.plot(st.index, st["mean"], label=name, linewidth=1.6, **styles[name])
            ax.fill_between(
                st.index,
                st["low"].clip(0, 1),
                st["high"].clip(0, 1),
                color=styles[name]["color"],
                alpha=0.15,
                linewidth=0,
            )
            ends[name] = float(st["mean"].iloc[-30:].mean())
        style.fit_ylim([ax], (0.0, 1.0), pad=0.1, floor=0.02)
        ax.set_xlabel("day")
        ax.set_ylabel(f"{brand}: {style.metric_label('trust')}")
        ax.set_xlim(tr["day"].min(), tr["day"].max())
        _legend(ax, styles, loc="center left", bbox_to_anchor=(1.0, 0.5))
    hi = max(ends, key=ends.get)
    lo = min(ends, key=ends.get)
    if len(ends) == 1:
        title = f"{_Points(points, [hi]).opening()}{brand}'s trust ends at {ends[hi]:.2f}"
        return fig, title
    if hi == lo:  # every end the same: max and min name the same scenario
        pts = _Points(points, names)
        title = (
            f"{pts.opening()}{brand}'s trust ends at {ends[hi]:.2f} under every one of the "
            f"{len(ends)} charted {pts.plural()}"
        )
        return fig, title
    pts = _Points(points, [hi, lo])
    # the gap between the two ends, judged as the verdict judges net value (mean trust of the
    # last 30 days of each run, all its days in a shorter run)
    noise = _within_noise(
        res,
        brand,
        hi,
        lo,
        Criterion("trust", "max", "window"),
        lambda v: f"{v:.3f}",
        lead="; the gap is a mean over runs",
    )
    if pts.across:
        title = (
            f"Across worlds, {brand}'s trust ends highest under {pts.name(hi)} at "
            f"{ends[hi]:.2f} and lowest under {pts.name(lo)} at {ends[lo]:.2f}{noise}: "
            f"{pts.gap(hi, lo)}"
        )
    else:
        title = (
            f"{pts.opening()}{brand}'s trust ends highest under {pts.name(hi, f'{ends[hi]:.2f}')}"
            f" and lowest under {pts.name(lo, f'{ends[lo]:.2f}')}{noise}"
        )
    return fig, title


def waterfall(
    res: Results,
    brand: str,
    winner: str,
    other: str | None,
    points: pd.DataFrame | None = None,
) -> tuple[Figure, str]:
    """Where the winner's net value comes from: bars from the margin the brand would have made
    without personalization or spam, up by the margin from personalization, down by the losses
    to spam and every spend (marketing, security, personalization, integration, transparency,
    breaches) to net value (`sim.analysis.findings.waterfall_values`: horizon totals, mean over
    replications); with ``other``, a second waterfall of the winner's difference against it,
    term by term. ``points``: see `_Points` (the report gives a sweep's two points of one
    world, `sim.analysis.findings.sweep_pair`)."""
    values = waterfall_values(res, brand)
    pts = _Points(points, [winner, other] if other else [winner])
    with mpl.rc_context(style.RC):
        fig = _fig((9.0, 4.2))
        axes = fig.subplots(1, 2 if other else 1, squeeze=False)[0]

        def draw(ax, values: dict[str, float], total_label: str, heading: str):
            x, run = 0, 0.0
            labels, heights = [], []
            for key, label, _ in WATERFALL_TERMS:
                v = values[key]
                colour = "#117733" if v >= 0 else "#CC6677"
                ax.bar(x, v, bottom=run, color=colour, width=0.7, label=key)
                ax.text(
                    x,
                    run + v,
                    style.money(v),
                    ha="center",
                    va="bottom" if v >= 0 else "top",
                    fontsize=6,
                )
                heights += [run, run + v]
                run += v
                labels.append(label)
                x += 1
            ax.bar(x, run, color="#332288", width=0.7, label="net_value")
            ax.text(
                x,
                run,
                style.money(run),
                ha="center",
                va="bottom" if run >= 0 else "top",
                fontsize=7,
                fontweight="bold",
            )
            labels.append(total_label)
            ax.axhline(0, color="black", linewidth=0.8)
            # room for the value labels above and below the bars (bars stick to their ends)
            ends = [0.0, *heights, run]
            lo, hi = min(ends), max(ends)
            pad = 0.14 * max(hi - lo, 1.0)
            ax.set_ylim(lo - (pad if lo < 0 else 0), hi + pad)
            ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right", fontsize=6.5)
            ax.yaxis.set_major_formatter(style.MoneyFormatter())
            ax.set_ylabel("EUR over the horizon")
            ax.set_title(_heading(heading), fontsize=9)
            ax.grid(axis="x", visible=False)
            return run

        w = values.loc[winner]
        first = winner if pts.points is None else pts.points.at[winner, "label"]
        draw(axes[0], w.to_dict(), "net value", f"{first}: {brand}'s money")
        if other:
            d = (values.loc[winner] - values.loc[other]).to_dict()
            if pts.world is not None and pts.points.at[winner, "choice"]:
                heading = (
                    f"{pts.points.at[winner, 'choice']} minus {pts.points.at[other, 'choice']}, "
                    f"both in world {pts.world}"
                )
            elif pts.across:
                heading = f"{winner} minus {other} (different worlds)"
            else:
                heading = f"{winner} minus {other}"
            draw(axes[1], d, "net value gap", heading)
    if other:
        d = values.loc[winner] - values.loc[other]
        labels = {key: label for key, label, _ in WATERFALL_TERMS}
        top = max(labels, key=lambda k: abs(d[k]))
        gap = d["net_value"]
        earns = (
            f"earns {eur(gap)} more" if gap >= 0 or points is None else f"earns {eur(-gap)} less"
        )
        title = (
            f"{pts.opening()}{pts.name(winner)} {earns} than {pts.name(other)}"
            + _within_noise(res, brand, winner, other)
            + (f" ({pts.gap(winner, other)})" if pts.across else "")
            + f"; the largest part comes from {labels[top]} ({eur(d[top])})"
        )
    else:
        margin = w["base_margin"] + w["personalization_margin"] + w["spam_losses"]  # signed bars
        share = w["personalization_margin"] / margin if margin > 0 else np.nan
        title = (
            f"{pts.name(winner)}: {brand}'s net value is {eur(w['net_value'])} over the horizon; "
            f"personalization makes {share:.0%} of its gross margin"
            if np.isfinite(share)
            else f"{pts.name(winner)}: {brand}'s net value is {eur(w['net_value'])} over the horizon"
        )
    return fig, title


def frontier(
    table: pd.DataFrame,
    brand: str,
    shown: list[str] | None = None,
    points: pd.DataFrame | None = None,
    fixed: bool = False,
) -> tuple[Figure, str]:
    """Expected net value (with 95% interval) against the 95% VaR of breach losses, one point
    per scenario; the efficient frontier (no other scenario earns more at lower VaR) joined.
    ``points``: see `_Points` (the frontier of a sweep's points runs across worlds).
    ``fixed``: ``brand``'s own settings are the same in every scenario
    (`sim.analysis.findings.own_settings_vary` is False), so the title speaks of scenarios
    for the brand, not of its policies."""
    # the charted scenarios in their colours (as in every chart of the report), others grey
    shown = list(table["scenario"]) if shown is None else shown
    colours = {n: style.scenario_colours(shown).get(n, "#9a9a9a") for n in table["scenario"]}
    t = table.sort_values(["var95", "net_value"], ascending=[True, False])
    eff, best = [], -np.inf
    for r in t.itertuples():
        if r.net_value > best:
            eff.append(r.scenario)
            best = r.net_value
    with mpl.rc_context(style.RC):
        fig = _fig((9.0, 3.8))
        ax = fig.subplots()
        e = t[t["scenario"].isin(eff)]
        ax.plot(e["var95"], e["net_value"], color="0.6", linewidth=1, linestyle="--", zorder=1)
        for r in table.itertuples():
            ax.errorbar(
                r.var95,
                r.net_value,
                yerr=np.nan_to_num(r.net_value_half),
                fmt="o",
                color=colours[r.scenario],
                markersize=7,
                capsize=3,
                zorder=3 if r.scenario in shown else 2,  # a grey point never hides a coloured one
            )
        ax.xaxis.set_major_formatter(style.MoneyFormatter())
        ax.yaxis.set_major_formatter(style.MoneyFormatter())
        ax.set_xlabel(f"{brand}: 95% value at risk of breach losses (EUR over the horizon)")
        ax.set_ylabel(f"{brand}: expected net value (EUR)")
        ax.margins(x=0.15, y=0.15)
        # with many scenarios only the frontier and the charted ones are named; the frontier
        # gets the nearest places, then the best earners; unnamed points are kept clear too
        named = set(eff) | set(shown) if len(table) > 8 else set(table["scenario"])
        rows = table.assign(on=table["scenario"].isin(eff), named=table["scenario"].isin(named))
        rows = rows.sort_values(["named", "on", "net_value"], ascending=False, kind="stable")
        place_labels(
            ax,
            rows["var95"],
            rows["net_value"],
            [n if k else None for n, k in zip(rows["scenario"], rows["named"], strict=True)],
            yerr=rows["net_value_half"],
            marker_pt=7,
        )
    pts = _Points(points, table["scenario"])
    if pts.across:
        title = (
            f"Across worlds, on the risk-return frontier of all {len(table)} {pts.kind}: "
            f"{', '.join(eff)} (no other point, in any world, earns more at a lower value at "
            f"risk); a point's place mixes what {brand} chooses and the world, which {brand} "
            "cannot choose"
        )
    elif fixed:  # the scenarios change other brands or the world, not this brand's policy
        title = (
            f"{pts.opening()}on the risk-return frontier for {brand}: {', '.join(eff)} (no "
            f"other scenario gives {brand} more at a lower value at risk), though its own "
            "settings are the same in every scenario"
        )
    else:
        title = (
            f"{pts.opening()}on the risk-return frontier: {', '.join(eff)} (no other policy "
            "earns more at a lower value at risk)"
        )
        title = title[0].upper() + title[1:]
    return fig, title


def loss_exceedance(
    res: Results, brand: str, names: list[str], points: pd.DataFrame | None = None
) -> tuple[Figure | None, str]:
    """P(breach loss >= x) per scenario (empirical, over replications); ``points``: see
    `_Points`."""
    oc = outcomes(res, brand)
    styles = style.scenario_styles(names)
    if not (oc[oc["scenario"].isin(names)]["loss"] > 0).any():
        return None, f"No run of these scenarios had a breach loss for {brand}"
    p_any, labels, size = {}, {}, {}
    charted = oc[oc["scenario"].isin(names)]["loss"].to_numpy()
    start, top = min(0.0, float(charted.min())), float(charted.max())
    end = top + 0.05 * (top - start)  # every curve drawn on to here, at 0 past its largest loss
    with mpl.rc_context(style.RC):
        fig = _fig((9.0, 3.6))
        ax = fig.subplots()
        for name in names:
            x = oc[oc["scenario"] == name]["loss"].to_numpy()
            p_any[name] = float((x > 0).mean())
            # ties in the share of runs with a loss: the larger losses are the more exposed
            size[name] = (p_any[name], float(x.mean()), stats.var_es(x, 0.95)[0])
            if p_any[name] == 0:  # no curve to draw: a vertical stroke at 0 would mean nothing
                labels[name] = f"{name}: no loss in any run"
                continue
            labels[name] = f"{name}: a loss in {p_any[name]:.0%} of runs"
            # the share of runs whose loss exceeds x: P(L > 0) at 0, down each step, 0 past
            # the largest loss
            xs, p = stats.exceedance_steps(x, end)
            ax.step(xs, p, where="post", label=name, linewidth=1.6, **styles[name])
        ax.set_ylim(0, 1.05)
        ax.set_xlim(start, end)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.xaxis.set_major_formatter(style.MoneyFormatter())
        ax.set_xlabel(f"{brand}: breach loss over the horizon (EUR)")
        ax.set_ylabel("P(loss >= x), share of runs")
        _legend(
            ax,
            styles,
            labels=labels,
            dashed=[n for n in names if p_any[n] == 0],
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
        )
    worst = max(size, key=size.get)
    pts = _Points(points, names)
    if pts.across:
        most = f"the most exposed of the {len(names)} charted {pts.kind}"
    elif own_settings_vary(res, brand) is False:  # the scenarios change others, not the brand
        most = (
            f"the scenario that exposes {brand} most, though its own settings are the same "
            "in every scenario"
        )
    else:
        most = "the most exposed policy"
    return fig, (
        f"{pts.opening()}{brand} has a breach loss in {p_any[worst]:.0%} of the runs of "
        f"{pts.name(worst)}, {most} (mean loss {eur(size[worst][1])})"
    )


def trust_below(
    res: Results,
    brand: str,
    names: list[str],
    threshold: float,
    points: pd.DataFrame | None = None,
) -> tuple[Figure, str]:
    """P(trust in ``brand`` has fallen below ``threshold`` by day d) per scenario; ``points``:
    see `_Points`."""
    curves = trust_below_curves(res, brand, threshold)
    styles = style.scenario_styles(names)
    with mpl.rc_context(style.RC):
        fig = _fig((9.0, 3.4))
        ax = fig.subplots()
        final = {n: float(curves[n].iloc[-1]) for n in names}
        for name in names:
            c = curves[name]
            ax.step(c.index, c.to_numpy(), where="post", label=name, linewidth=1.6, **styles[name])
        ax.set_ylim(-0.03, 1.03)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("day")
        ax.set_ylabel(f"P({brand}'s trust < {threshold:g} by day)")
        # curves at one level are drawn over each other: the legend says where each one ends
        _legend(
            ax,
            styles,
            labels={n: f"{n}: {final[n]:.0%} by the last day" for n in names},
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
        )
    worst = max(final, key=final.get)
    pts = _Points(points, names)
    if final[worst] == 0:
        title = f"In no run did {brand}'s trust fall below {threshold:g}"
        if pts.world is not None:
            title += f" (world {pts.world})"
    else:
        title = (
            f"{pts.opening()}{brand}'s trust falls below {threshold:g} in {final[worst]:.0%} of "
            f"the runs of {pts.name(worst)} by the last day"
        )
        if pts.across:
            title += f", the most of the {len(names)} charted {pts.kind}"
    return fig, title


def channel_mix(
    res: Results, brand: str, names: list[str], points: pd.DataFrame | None = None
) -> tuple[Figure, str]:
    """Left: share of ``brand``'s revenue by channel of purchase per scenario. Right: the
    market's showrooming and webrooming shares of buyers (end of horizon). ``points``: see
    `_Points`."""
    ts = res.timeseries
    rev = ts[(ts["brand"] == brand) & (ts["metric"] == "revenue") & (ts["channel"] != "all")]
    by = rev.groupby(["scenario", "channel"])["value"].sum().unstack("channel", fill_value=0.0)
    channels = [c for c in CHANNELS if c in by.columns and by[c].sum() > 0]
    share = by[channels].div(by[channels].sum(axis=1), axis=0).reindex(names)
    mk = ts[(ts["brand"] == "all") & ts["metric"].isin(["showrooming_share", "webrooming_share"])]
    last = mk[mk["day"] == mk["day"].max()]
    rooming = last.groupby(["scenario", "metric"])["value"].mean().unstack("metric").reindex(names)
    h = max(2.6, 0.32 * len(names) + 1.4)
    with mpl.rc_context(style.RC):
        fig = _fig((9.0, h))
        ax, ax2 = fig.subplots(1, 2, width_ratios=[1.6, 1.0], sharey=True)
        y = np.arange(len(names))[::-1]
        left = np.zeros(len(names))
        for c in channels:
            v = share[c].to_numpy()
            ax.barh(y, v, left=left, color=style.CHANNEL_COLOURS.get(c, "0.5"), label=c)
            left += v
        ax.set_yticks(y, names, fontsize=8)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(f"share of {brand}'s revenue by channel of purchase")
        ax.grid(axis="y", visible=False)
        ax.legend(
            handles=[Patch(color=style.CHANNEL_COLOURS.get(c, "0.5"), label=c) for c in channels],
            loc="lower center",
            bbox_to_anchor=(0.5, 1.0),
            ncols=min(len(channels), 7),
            fontsize=7,
            frameon=False,
        )
        for k, (metric, colour) in enumerate(
            (("showrooming_share", "#555555"), ("webrooming_share", "#AAAAAA"))
        ):
            if metric in rooming:
                ax2.barh(
                    y + (0.2 - 0.4 * k),
                    rooming[metric].to_numpy(),
                    height=0.38,
                    color=colour,
                    label=style.METRICS[metric][0],
                )
        ax2.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax2.set_xlabel("share of buyers (whole market)")
        if ax2.get_legend_handles_labels()[0]:  # (no rooming metric in the folder: no legend)
            ax2.legend(
                loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, fontsize=7, frameon=False
            )
        ax2.grid(axis="y", visible=False)
    pts = _Points(points, names)
    # a scenario without revenue has no channel shares (0 / 0): it is named as such, and the
    # store's share is said of the others only (not "nan%", not "under every one" of them all)
    earned = by.sum(axis=1).reindex(names, fill_value=0.0)
    idle = [n for n in names if not earned[n] > 0]
    store = share.get("store")
    if store is not None:
        store = store.drop(idle)
    with_revenue = " with revenue" if idle else ""
    if len(idle) == len(names):
        title = f"{pts.opening()}{brand} has no revenue" + (
            f" under any of the {len(names)} charted {pts.plural()}" if len(names) > 1 else ""
        )
        title = title[0].upper() + title[1:]
    elif store is not None and len(store) > 1 and f"{store.min():.0%}" == f"{store.max():.0%}":
        # the same share, as the title writes it, everywhere: not "from 68% to 68%"
        title = (
            f"{pts.opening()}the store brings {store.max():.0%} of {brand}'s revenue under every "
            f"one of the {len(store)} charted {pts.plural()}{with_revenue}"
        )
        title = title[0].upper() + title[1:]
    elif store is not None and len(store) > 1:
        title = (
            f"{pts.opening()}the store's share of {brand}'s revenue runs from {store.min():.0%} "
            f"({pts.name(store.idxmin())}) to {store.max():.0%} ({pts.name(store.idxmax())})"
        )
        if pts.across:
            title = (
                f"Across the {len(store)} charted {pts.kind}{with_revenue}, the store's share of "
                f"{brand}'s revenue runs from {store.min():.0%} under {pts.name(store.idxmin())} "
                f"to {store.max():.0%} under {pts.name(store.idxmax())}"
            )
        title = title[0].upper() + title[1:]
    elif store is not None:
        title = f"The store brings {store.iloc[0]:.0%} of {brand}'s revenue" + (
            f" under {pts.name(store.index[0])}" if idle else ""
        )
    else:
        title = f"{brand}'s revenue by channel"
    if idle and len(idle) < len(names):
        title += f"; no revenue under {', '.join(pts.name(n) for n in idle)}"
    if "showrooming_share" in rooming and rooming["showrooming_share"].notna().any():
        title += (
            f"; {rooming['showrooming_share'].mean():.0%} of buyers showroom and "
            f"{rooming['webrooming_share'].mean():.0%} webroom"
        )
    return fig, title
