"""The report's charts as a reader sees them: text that can be read.

The risk-return chart names its points; in a crowded case (many policies with no breach loss,
so the same value at risk of 0, and net values a few thousand euros apart, as the bundled
comparison has) the names must not overlap each other, cover a marker, or leave the axes. The
boxes are measured on the rendered figure (matplotlib's own text extents after drawing it, the
markers and error bars read back from what it drew), not taken from the placement code.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest


def crowded_table(n: int = 14) -> pd.DataFrame:
    """``n`` scenarios: most at VaR 0 with close net values, two identical, a few breached."""
    rng = np.random.default_rng(7)
    names = [f"policy_number_{k:02d}" for k in range(n)]
    var95 = np.zeros(n)
    var95[-4:] = [52_000, 192_000, 238_000, 283_000]
    net = 330_000 + rng.normal(0, 40_000, n)
    net[:3] = [422_000, 418_000, 400_000]  # three names within a font height of each other
    net[4] = net[5]  # two points on top of each other
    var95[4] = var95[5]
    net[0] = 735_000
    half = np.full(n, 6_000.0)
    half[-4:] = 80_000
    return pd.DataFrame(
        {"scenario": names, "var95": var95, "net_value": net, "net_value_half": half}
    )


def rendered_boxes(fig, dpi=150):
    """Text boxes of the point labels and the axes frame, in pixels of the picture written
    at ``dpi`` (the figure is drawn first, as saving it does)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    fig.savefig(io.BytesIO(), format="png", dpi=dpi)  # lay out as the report does
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    (ax,) = fig.axes
    # the text's own box (an Annotation's extent would include its leader line)
    labels = {t.get_text(): Text.get_window_extent(t, renderer) for t in ax.texts}
    return ax, labels, ax.get_window_extent(renderer), renderer


@pytest.mark.parametrize("shown", [None, "some"])
def test_frontier_labels_never_overlap_in_a_crowded_chart(shown):
    from sim.analysis import report_charts

    table = crowded_table()
    names = list(table["scenario"])
    shown = names[:5] + names[-2:] if shown else None
    fig, _ = report_charts.frontier(table, "Aurora", shown)
    ax, labels, frame, _ = rendered_boxes(fig)
    named = set(names) if shown is None or len(table) <= 8 else None
    if named is not None:
        assert set(labels) == named
    assert len(labels) >= 7
    for (a, ba), (b, bb) in itertools.combinations(labels.items(), 2):
        assert not ba.overlaps(bb), f"labels {a} and {b} overlap: {ba} {bb}"
    for name, box in labels.items():
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (name, box, frame)
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, (name, box, frame)
    # no label covers a marker (7 pt markers)
    centres = ax.transData.transform(table[["var95", "net_value"]].to_numpy())
    r = 3.5 * fig.dpi / 72
    for name, box in labels.items():
        for cx, cy in centres:
            inside = box.x0 < cx + r and cx - r < box.x1 and box.y0 < cy + r and cy - r < box.y1
            assert not inside, f"label {name} covers the marker at {cx:.0f},{cy:.0f}"
    # nor an error bar (the vertical lines matplotlib drew, read back from the figure)
    bars = [
        ax.transData.transform(seg)
        for coll in ax.collections
        for seg in coll.get_segments()
        if len(seg) == 2 and seg[0][0] == seg[1][0]
    ]
    assert len(bars) == (table["net_value_half"] > 0).sum()
    for name, box in labels.items():
        for (bx, y0), (_, y1) in bars:
            crossed = box.x0 < bx < box.x1 and box.y0 < max(y0, y1) and min(y0, y1) < box.y1
            assert not crossed, f"label {name} covers the error bar at x={bx:.0f}"


def test_frontier_labels_are_the_point_names_and_point_at_their_points():
    """Each label's annotated point is its scenario's point (a label moved far away keeps a
    leader line to the right point)."""
    from sim.analysis import report_charts

    table = crowded_table(6)
    fig, _ = report_charts.frontier(table, "Aurora")
    (ax,) = fig.axes
    got = {t.get_text(): t.xy for t in ax.texts}
    for r in table.itertuples():
        assert got[r.scenario] == pytest.approx((r.var95, r.net_value))


def test_any_number_of_scenarios_keeps_colour_blind_safe_colours_told_apart_by_line_style():
    """Beyond the 10 colours of the scenario palette (Tol's muted scheme), a chart of 25
    scenarios still uses only those colours, never a brand's, and no two scenarios share
    both colour and line style; the drawn lines and the legend of a real chart carry them."""
    from sim.analysis import style
    from sim.experiments.plots import trust_bands_figure

    names = [f"s{k:02d}" for k in range(25)]
    styles = style.scenario_styles(names)
    assert {st["color"] for st in styles.values()} <= set(style.SCENARIO_PALETTE)
    assert not {st["color"] for st in styles.values()} & set(style.BRAND_PALETTE)
    assert len({(st["color"], st["linestyle"]) for st in styles.values()}) == 25
    assert style.scenario_colours(names[:10]) == dict(
        zip(names[:10], style.SCENARIO_PALETTE, strict=True)
    )

    rows = [
        {"scenario": n, "brand": "Aurora", "day": d, "replication": r, "value": 0.5 + 0.001 * k}
        for k, n in enumerate(names[:12])
        for d in range(3)
        for r in range(2)
    ]
    fig = trust_bands_figure(pd.DataFrame(rows), names[:12], ["Aurora"])
    drawn = {
        line.get_label(): (mpl_colour(line.get_color()), line.get_linestyle())
        for line in fig.axes[0].get_lines()
    }
    assert drawn["s00"][0] == drawn["s10"][0] and drawn["s00"][1] != drawn["s10"][1]
    assert len(set(drawn.values())) == 12
    keys = {
        t.get_text(): h
        for t, h in zip(fig.legends[0].get_texts(), fig.legends[0].legend_handles, strict=True)
    }
    assert keys["s10"].get_linestyle() == drawn["s10"][1]


def mpl_colour(c) -> str:
    from matplotlib.colors import to_hex

    return to_hex(c).upper()


def test_run_charts_of_every_bundled_scenario_have_titles_that_neither_overlap_nor_leave_the_picture():
    """`omnitrust run scenarios/*.toml` draws the consent and trust charts with one or two
    panels per scenario; the panel titles (scenario and metric) must each stay readable:
    no title box overlaps another one, and none is cut off by the picture's edge."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.analysis import charts

    from .conftest import SCENARIOS

    names = sorted(p.stem for p in SCENARIOS.glob("*.toml"))
    assert len(names) >= 12
    rows = [
        {"scenario": n, "brand": b, "metric": m, "channel": "all", "day": d, "replication": 0,
         "value": v}
        for n in names
        for b, v in (("Aurora", 0.5), ("Borealis", 0.45))
        for m in ("consent_rate", "subscribers", "trust")
        for d in range(0, 60, 5)
    ]  # fmt: skip
    ts = pd.DataFrame(rows)
    for plot in (charts.plot_consent, charts.plot_trust):
        fig = plot(ts)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        picture = fig.bbox
        titles = [
            (ax.title.get_text(), ax.title.get_window_extent(renderer))
            for ax in fig.axes
            if ax.get_visible() and ax.title.get_text()
        ]
        assert len(titles) >= len(names)
        for (a, ba), (b, bb) in itertools.combinations(titles, 2):
            assert not ba.overlaps(bb), f"{plot.__name__}: titles {a!r} and {b!r} overlap"
        for text, box in titles:
            inside = picture.x0 <= box.x0 and box.x1 <= picture.x1
            assert inside, f"{plot.__name__}: title {text!r} leaves the picture"


def test_any_number_of_brands_keeps_colour_blind_safe_colours_told_apart_by_a_marker():
    """Beyond the 8 Okabe-Ito colours, brands repeat them (never tab20, never a scenario's
    colour) with a marker on their lines, never the breach marker "^"; no two of 20 brands share
    colour and marker, the first 8 keep their colours in palette order, and matplotlib draws a
    line with each style."""
    from matplotlib.figure import Figure

    from sim.analysis import style

    names = [f"b{k:02d}" for k in range(20)]
    styles = style.brand_styles(names)
    colours = {st["color"] for st in styles.values()}
    assert colours <= set(style.BRAND_PALETTE)
    assert not colours & set(style.SCENARIO_PALETTE)
    marks = [st.get("marker", "") for st in styles.values()]
    assert marks[:8] == [""] * 8 and "" not in marks[8:] and "^" not in marks
    assert len({(st["color"], st.get("marker", "")) for st in styles.values()}) == 20
    assert style.brand_colours(names[:8]) == dict(zip(names[:8], style.BRAND_PALETTE, strict=True))
    assert style.brand_colours(names) == {n: st["color"] for n, st in styles.items()}
    assert styles["b08"]["color"] == styles["b00"]["color"]  # the 9th repeats the 1st, marked

    ax = Figure().subplots()
    for n, st in styles.items():
        ax.plot(range(30), range(30), label=n, **st)
    drawn = {ln.get_label(): (mpl_colour(ln.get_color()), ln.get_marker()) for ln in ax.lines}
    assert len(set(drawn.values())) == 20


def test_run_charts_mark_the_lines_and_legend_of_brands_beyond_the_palette():
    """With 10 brands, the run charts draw the 9th and 10th brands in the 1st and 2nd brands'
    colours with a circle on their lines and legend entries (`style.brand_styles`), and the first
    8 without a marker, on the trust, consent and breach-window charts."""
    from sim.analysis import charts, style

    brands = [f"brand{k}" for k in range(10)]
    rows = [
        {"scenario": "many", "brand": b, "metric": m, "channel": "all", "day": d,
         "replication": r, "value": (1.0 if d == 20 and b == "brand9" else 0.0)
         if m == "breaches" else 0.3 + 0.02 * k + 0.001 * d}
        for k, b in enumerate(brands)
        for m in ("trust", "consent_rate", "subscribers", "breaches")
        for d in range(40)
        for r in range(2)
    ]  # fmt: skip
    ts = pd.DataFrame(rows)
    first, second = style.BRAND_PALETTE[:2]
    for plot in (charts.plot_trust, charts.plot_consent, charts.plot_breach_window):
        fig = plot(ts)
        lines = {ln.get_label(): ln for ax in fig.axes for ln in ax.get_lines()}
        assert mpl_colour(lines["brand8"].get_color()) == first, plot.__name__
        assert mpl_colour(lines["brand9"].get_color()) == second, plot.__name__
        assert lines["brand8"].get_marker() == "o" and lines["brand9"].get_marker() == "o"
        assert all(lines[b].get_marker() in ("None", "", None) for b in brands[:8] if b in lines)
        (legend,) = fig.legends
        keys = {h.get_label(): h for h in legend.legend_handles}
        assert keys["brand9"].get_marker() == "o", plot.__name__
        assert mpl_colour(keys["brand9"].get_color()) == second
        assert keys["brand0"].get_marker() in ("None", "", None)
        fig.savefig(io.BytesIO(), format="png")  # and it draws


# --------------------------------------------------------------------------------------------
# Money axes: distinct ticks get distinct labels; an all-zero axis shows a single 0
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ticks", "labels"),
    [
        # matplotlib's ticks around an axis of near-zero amounts: cents, not five "0"
        ([-0.04, -0.02, 0.0, 0.02, 0.04], ["-0.04", "-0.02", "0", "0.02", "0.04"]),
        ([0.0, 500.0, 1000.0], ["0", "500", "1.0k"]),
        ([0.0, 2e5, 4e5], ["0", "200k", "400k"]),
        ([0.0, 2500.0, 5000.0, 7500.0, 10000.0, 12500.0],
         ["0", "2.5k", "5.0k", "7.5k", "10.0k", "12.5k"]),
        ([1e6, 1.02e6, 1.04e6], ["1.00M", "1.02M", "1.04M"]),
        ([-1000.0, -500.0, 0.0, 500.0], ["-1.0k", "-500", "0", "500"]),
        ([-10000.0, -5000.0, 0.0, 5000.0, 10000.0], ["-10k", "-5k", "0", "5k", "10k"]),
        ([0.0, 1e6, 2e6, 3e6], ["0", "1M", "2M", "3M"]),
        ([0.1 + 0.2, 0.4, 0.5], ["0.3", "0.4", "0.5"]),  # float noise in a tick
    ],
)  # fmt: skip
def test_money_tick_labels_follow_the_tick_spacing(ticks, labels):
    from sim.analysis import style

    assert style.MoneyFormatter().format_ticks(ticks) == labels


def test_money_in_text_keeps_its_short_form():
    from sim.analysis import style

    assert [style.money(v) for v in (0.3, -0.3, 950, 1234, 35_000, 1.2e6, 2.5e9)] == [
        "0", "0", "950", "1.2k", "35k", "1.2M", "2.5bn"
    ]  # fmt: skip


def tick_labels(fig, axis: str = "x") -> list[list[str]]:
    """The tick labels matplotlib draws on each visible axes of ``fig`` (non-empty ones)."""
    fig.savefig(io.BytesIO(), format="png")
    out = []
    for ax in fig.axes:
        if ax.get_visible():
            ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
            out.append([t.get_text() for t in ticks if t.get_text()])
    return out


def test_a_money_axis_whose_data_are_all_zero_shows_one_zero_tick():
    from sim.analysis import report_charts
    from sim.experiments.plots import forest_figure

    # the risk-return frontier with no breach loss anywhere: value at risk 0 for every policy
    table = crowded_table(6).assign(var95=0.0)
    fig, _ = report_charts.frontier(table, "Aurora")
    (x,) = tick_labels(fig, "x")
    assert x == ["0"], x
    # a comparison's differences where one money metric is 0 in every run (no breach)
    rows = []
    for scenario, d in (("b", 1200.0), ("c", -800.0)):
        for metric, diff, half in (("breach_cost", 0.0, 0.0), ("net_value", d, 300.0)):
            rows.append(
                {"scenario": scenario, "brand": "Aurora", "metric": metric, "diff": diff,
                 "ci_low": diff - half, "ci_high": diff + half, "reference": "a",
                 "statistic": "total"}
            )  # fmt: skip
    fig = forest_figure(pd.DataFrame(rows), ["Aurora"], ("breach_cost", "net_value"))
    breach, net = tick_labels(fig, "x")
    assert breach == ["0"], breach
    assert len(net) > 2 and len(set(net)) == len(net), net  # distinct, as usual


def test_shared_money_axes_keep_their_labels_when_the_last_panel_is_all_zero():
    """Panels sharing a money axis share one formatter (the last set): a last panel with no
    revenue must not blank the labels of the others (review of the MoneyFormatter)."""
    from matplotlib.figure import Figure

    from sim.analysis import style

    fig = Figure()
    axes = fig.subplots(1, 2, sharey=True)
    for ax, values in zip(axes, ([100.0, 2000.0, 3000.0], [0.0, 0.0, 0.0]), strict=True):
        ax.stackplot([0, 1, 2], values)
        ax.yaxis.set_major_formatter(style.MoneyFormatter())
    fig.canvas.draw()
    labels = [t.get_text() for t in axes[0].get_yticklabels() if t.get_text()]
    assert len(labels) > 2 and len(set(labels)) == len(labels), labels


def test_breach_window_title_says_the_lowest_point_once_when_it_is_the_last_day():
    from sim.analysis.charts import breach_finding

    def rows(trust_after: list[float]) -> pd.DataFrame:
        days = list(range(-2, len(trust_after)))
        trust = [0.531, 0.529, *trust_after]  # the day before the breach: 0.529 -> "0.53"
        return pd.DataFrame({"brand": "Aurora", "days_since": days, "trust": trust})

    # still falling on the window's last day (day +3): the lowest is the end, said once
    falling = rows([0.52, 0.51, 0.505, 0.501])
    assert breach_finding(falling, "Aurora") == "trust 0.53 -> lowest 0.50 at the end (day +3)"
    # a dip (day +1) and a recovery: before -> lowest -> end
    dip = rows([0.45, 0.41, 0.44, 0.47])
    assert breach_finding(dip, "Aurora") == "trust 0.53 -> lowest 0.41 (day +1) -> 0.47 (day +3)"


# --------------------------------------------------------------------------------------------
# Loss exceedance: the drawn curve is the empirical P(L >= x), counted by hand
# --------------------------------------------------------------------------------------------
def losses_results(losses: dict[str, list[float]]):
    """A compare `Results` of Aurora whose breach loss in replication k of scenario s is
    ``losses[s][k]`` (two days a run; the losses table of ``compare --risk``)."""
    from sim.analysis import findings

    rows, loss_rows = [], []
    for s, values in losses.items():
        for rep, loss in enumerate(values):
            loss_rows.append((s, "Aurora", rep, loss, 0.0, loss))
            for day in (0, 1):
                for metric, value in (("trust", 0.5), ("net_value", 100.0 - loss / 2)):
                    rows.append((s, rep, day, "Aurora", "all", metric, value))
    ts = pd.DataFrame(
        rows, columns=["scenario", "replication", "day", "brand", "channel", "metric", "value"]
    )
    table = pd.DataFrame(
        loss_rows,
        columns=["scenario", "brand", "replication", "breach_cost", "lost_margin", "loss"],
    )
    return findings.Results("compare", ts, {}, losses=table)


def drawn_at(line, x: float) -> float:
    """The value at ``x`` of a step line drawn with ``where="post"`` (matplotlib stores the
    steps as the corners of the drawn path)."""
    path = line.get_path().vertices  # the drawn staircase, corner by corner
    xs, ys = path[:, 0], path[:, 1]
    k = np.searchsorted(xs, x, side="right") - 1
    assert 0 <= k < len(xs) and xs[0] <= x <= xs[-1], (x, xs)
    return float(ys[k])


def test_loss_exceedance_draws_the_share_of_runs_with_at_least_that_loss():
    from sim.analysis import report_charts

    res = losses_results(
        {"a": [38_500.0, 0.0, 29_200.0], "b": [0.0, 0.0, 0.0], "c": [5_000.0, 5_000.0, 0.0]}
    )
    fig, title = report_charts.loss_exceedance(res, "Aurora", ["a", "b", "c"])
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    # by hand: a's losses 0, 29.2k, 38.5k: 2 of 3 runs lose at least 10k, 1 of 3 at least 30k,
    # none at least 39k; c: 2 of 3 lose at least 1k (the tie counted once per run), none 6k
    for x, share in ((1.0, 2 / 3), (10_000, 2 / 3), (29_000, 2 / 3), (30_000, 1 / 3),
                     (38_000, 1 / 3), (39_000, 0.0)):  # fmt: skip
        assert drawn_at(lines["a"], x) == pytest.approx(share), x
    assert drawn_at(lines["c"], 1_000) == pytest.approx(2 / 3)
    assert drawn_at(lines["c"], 6_000) == 0.0
    # every curve ends at 0, drawn past the largest loss; b (no loss) draws no stroke at all
    assert "b" not in lines
    assert lines["a"].get_ydata()[-1] == 0 and lines["a"].get_xdata()[-1] > 38_500
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[:2] == ["a: a loss in 67% of runs", "b: no loss in any run"]
    assert "breach loss in 67% of the runs of a" in title


def test_most_exposed_policy_of_a_tie_in_the_share_of_runs_is_the_one_that_loses_more():
    from sim.analysis import report_charts

    # both lose in 1 run of 2; "mild" loses EUR 32k there, "severe" EUR 168k
    res = losses_results({"mild": [0.0, 64_000.0], "severe": [336_000.0, 0.0]})
    _, title = report_charts.loss_exceedance(res, "Aurora", ["mild", "severe"])
    assert title == (
        "Aurora has a breach loss in 50% of the runs of severe, the most exposed policy "
        "(mean loss EUR 168.0k)"
    ), title


def test_trust_tick_labels_have_the_decimals_their_spacing_needs():
    from sim.analysis import charts, findings

    # trust from 0.44 to 0.56: matplotlib ticks it every 0.025 (0.425, 0.475, ...); each label
    # must read back as its tick
    rows = [
        ("s", rep, day, b, "all", "trust", 0.44 + 0.12 * day / 9)
        for rep in (0, 1)
        for day in range(10)
        for b in ("Aurora", "Borealis")
    ]
    ts = pd.DataFrame(
        rows, columns=["scenario", "replication", "day", "brand", "channel", "metric", "value"]
    )
    fig = charts.plot_trust(findings.Results("run", ts, {}))
    fig.savefig(io.BytesIO(), format="png")
    ax = fig.axes[0]
    ticks = [(t.get_position()[1], t.get_text()) for t in ax.get_yticklabels() if t.get_text()]
    assert len(ticks) >= 3 and "0.475" in {text for _, text in ticks}
    for value, text in ticks:
        assert float(text) == pytest.approx(value, abs=1e-9), (value, text)
    assert len({text for _, text in ticks}) == len(ticks)
    # and a spacing of 0.025 needs three decimals, by hand
    from sim.analysis.style import DecimalFormatter

    f = DecimalFormatter(2)
    f.set_locs([0.45, 0.475, 0.5, 0.525])
    assert [f(v) for v in (0.45, 0.475, 0.5, 0.525)] == ["0.450", "0.475", "0.500", "0.525"]
    f.set_locs([0.4, 0.5, 0.6])
    assert [f(v) for v in (0.4, 0.5, 0.6)] == ["0.40", "0.50", "0.60"]


def test_breach_window_caption_says_which_panels_it_left_out_and_why():
    from types import SimpleNamespace

    from sim.analysis.charts import breach_panels, left_out_words

    def window(scenario: str, breached: str, day: int, event: int) -> list[tuple]:
        return [(scenario, breached, day, event, d) for d in (-1, 0, 1)]

    win = pd.DataFrame(
        window("story", "Aurora", 20, 0)
        + window("story", "Aurora", 20, 1)
        + window("quiet", "Aurora", 7, 2),  # the same brand, random, in an unscheduled scenario
        columns=["scenario", "breached", "breach_day", "event", "days_since"],
    )
    result = SimpleNamespace(
        scenarios={
            "story": SimpleNamespace(
                events=[SimpleNamespace(kind="breach", brand="Aurora", day=20)]
            ),
            "quiet": SimpleNamespace(events=[]),
        }
    )
    panels, left = breach_panels(result, win, "Aurora")
    assert [key for key, _ in panels] == [("story", "Aurora")]
    words = left_out_words(left, 6)
    assert "Aurora in quiet" in words and "other brand" not in words
    assert words.startswith(" Not shown: 1 panel(s) of random breaches, where the other panels")
    # without a scheduled breach, the focal brand's panels; a rival's are what is left out
    win2 = pd.DataFrame(
        window("quiet", "Aurora", 7, 0) + window("quiet", "Borealis", 9, 1),
        columns=win.columns,
    )
    panels, left = breach_panels(SimpleNamespace(scenarios={}), win2, "Aurora")
    assert [key for key, _ in panels] == [("quiet", "Aurora")]
    assert left_out_words(left, 6) == (
        " Not shown: 1 panel(s) of random breaches of another brand than the one charted "
        "(Borealis in quiet)."
    )


@pytest.mark.parametrize("width", [1.6, 2.0, 2.6])
def test_a_caption_stays_inside_a_narrow_figure(width):
    # review: captions wrapped at no fewer than 40 characters, ~2.7 in at 8 pt, so a narrower
    # figure cut its caption at both edges. Measured on the drawn figure (the text's own
    # extent from matplotlib's renderer), not taken from the wrapping code
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sim.analysis.charts import _caption, band_caption

    fig = Figure(figsize=(width, 2.5), layout="constrained")
    fig.subplots().plot([0, 1], [0, 1])
    text = band_caption("range", 2) + " Each breach is one replication's event, aligned on its day."
    _caption(fig, text)
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    box, frame = fig._supxlabel.get_window_extent(renderer), fig.bbox
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (box, frame)
    assert frame.y0 <= box.y0, (box, frame)
    assert " ".join(fig._supxlabel.get_text().split()) == text  # wrapped, not cut


def breach_result(notify: int, days: int = 240, breach_day: int = 40, second: int | None = None):
    """A result of one scenario, two replications, three brands: Aurora breached on
    ``breach_day`` (scheduled) and notifies ``notify`` days later; trust of Aurora 0.45, then
    0.35 after the breach (0.30 after a ``second``, unscheduled breach on that day in both
    replications); the rivals flat, Borealis at 0.56 (the highest line) and Cirrus at 0.50."""
    from types import SimpleNamespace

    rows = []
    for rep in (0, 1):
        for day in range(days):
            aurora = 0.45 if day < breach_day else 0.35
            if second is not None and day >= second:
                aurora = 0.30
            for brand, trust in (("Aurora", aurora), ("Borealis", 0.56), ("Cirrus", 0.50)):
                rows.append(("s", rep, day, brand, "all", "trust", trust))
                hit = brand == "Aurora" and day in (breach_day, second)
                rows.append(("s", rep, day, brand, "all", "breaches", 1.0 if hit else 0.0))
    ts = pd.DataFrame(
        rows, columns=["scenario", "replication", "day", "brand", "channel", "metric", "value"]
    )
    brands = [
        SimpleNamespace(name=b, policy=SimpleNamespace(notify_within_days=notify))
        for b in ("Aurora", "Borealis", "Cirrus")
    ]
    events = [SimpleNamespace(kind="breach", brand="Aurora", day=breach_day)]
    return SimpleNamespace(
        timeseries=ts, scenarios={"s": SimpleNamespace(brands=brands, events=events)}
    )


@pytest.mark.parametrize(("notify", "before"), [(30, 30), (3, 30), (30, 0), (300, 30)])
def test_breach_window_notification_words_sit_on_no_line_and_no_other_words(notify, before):
    # review: "notified (+30 d)" was written at 84% of the panel's height, where the highest
    # line (a rival's, dashed) runs when fit_ylim pads the lines' range by a quarter above and
    # below (0.25 / 1.5 of the height free at the top). Measured on the drawn figure: the
    # words' box against the brands' drawn lines and against the "breach" label
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from sim.analysis.charts import plot_breach_window

    fig = plot_breach_window(breach_result(notify), before=before)
    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    ax = fig.axes[0]
    texts = {t.get_text().strip(): t.get_window_extent(renderer) for t in ax.texts}
    note = next(box for words, box in texts.items() if words.startswith("notified"))
    assert note.x0 >= ax.bbox.x0 - 1 and note.x1 <= ax.bbox.x1 + 1  # inside the panel
    assert note.y1 <= ax.bbox.y1 + 1
    assert not note.overlaps(texts["breach"])
    for line in ax.get_lines():
        if line.get_label() in ("Aurora", "Borealis", "Cirrus"):
            drawn = line.get_transform().transform_path(line.get_path())
            assert not drawn.intersects_bbox(note, filled=False), line.get_label()


# --------------------------------------------------------------------------------------------
# Run charts: words that say what the numbers are, and stay inside their panel
# --------------------------------------------------------------------------------------------
def money_timeseries(days: int, scenarios=("baseline", "privacy_first")) -> pd.DataFrame:
    """Two replications of ``days`` days, Aurora and Borealis: trust 0.5 and 0.6, net value
    EUR 100 and 200 a day."""
    rows = [
        (s, rep, day, brand, "all", metric, value)
        for s in scenarios
        for rep in (0, 1)
        for day in range(days)
        for brand, trust, net in (("Aurora", 0.5, 100.0), ("Borealis", 0.6, 200.0))
        for metric, value in (("trust", trust), ("net_value", net))
    ]
    return pd.DataFrame(
        rows, columns=["scenario", "replication", "day", "brand", "channel", "metric", "value"]
    )


def drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    return renderer


@pytest.mark.parametrize(("days", "words"), [(20, "Mean of all 20 days"), (45, "the last 30 days")])
def test_value_chart_caption_says_the_days_it_averages_and_the_whole_net_value(days, words):
    # review: a 20-day run's caption said "Mean of the last 30 days" (the CLI's table says
    # "all 20 days"), and defined net value without the lever costs that it subtracts
    # (sim/mechanisms/metrics.py net_value; README: "gross margin minus marketing, security,
    # lever (personalization, integration, transparency) and breach costs")
    from sim.analysis.charts import plot_value

    fig = plot_value(money_timeseries(days))
    caption = " ".join(fig._supxlabel.get_text().split())
    assert words in caption, caption
    assert ("last 30" in caption) == (days >= 30), caption
    for cost in ("marketing", "security", "personalization", "integration", "transparency"):
        assert cost in caption, (cost, caption)


def test_captions_on_a_callers_axes_side_by_side_neither_overlap_nor_leave_the_figure():
    # review: on three axes of a 9-in figure, captions wrapped at 70 characters ran into each
    # other and off the figure's right edge
    from matplotlib.figure import Figure

    from sim.analysis.charts import plot_trust, plot_value

    ts = money_timeseries(20)
    fig = Figure(figsize=(9, 3.5), layout="constrained")
    axes = fig.subplots(1, 3)
    plot_trust(ts, scenarios="baseline", ax=axes[0])
    plot_trust(ts, scenarios="privacy_first", ax=axes[1])
    plot_value(ts, scenarios="baseline", ax=axes[2])
    renderer = drawn(fig)
    for part in ("xaxis.label", "title"):
        boxes = [
            (ax.xaxis.label if part == "xaxis.label" else ax.title).get_window_extent(renderer)
            for ax in axes
        ]
        for a, b in itertools.pairwise(boxes):
            assert not a.overlaps(b), (part, a, b)
        for box in boxes:
            assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, (part, box)


def test_a_long_scenario_name_stays_inside_its_panel():
    # review: "privacy_first_with_full_transparency_and_minimal_data_collection_for_aurora" as
    # a panel title ran past its panel into the neighbours'
    from sim.analysis.charts import plot_trust

    long = "privacy_first_with_full_transparency_and_minimal_data_collection_for_aurora"
    fig = plot_trust(money_timeseries(20, ("baseline", long, "breach_fast_response")))
    renderer = drawn(fig)
    for ax in fig.axes:
        box = ax.title.get_window_extent(renderer)
        assert ax.bbox.x0 - 1 <= box.x0 and box.x1 <= ax.bbox.x1 + 1, (ax.get_title(), box)
    titled = next(ax for ax in fig.axes if "minimal" in ax.get_title())
    assert titled.get_title().replace("\n", "") == long  # wrapped, every character kept


def test_titles_do_not_call_the_scenarios_policies_of_a_brand_whose_settings_never_change():
    # review: a report on a brand whose own settings are the same in every scenario (the
    # scenarios change the world or other brands) still titled "(no other policy earns
    # more...)" and "..., the most exposed policy"; 773ff8e frames the verdict for that case
    # as how the brand fares under each scenario
    from pathlib import Path

    from sim.analysis import findings, report_charts
    from sim.loading import load_scenario

    scenarios = Path(__file__).resolve().parents[1] / "scenarios"
    base = load_scenario(scenarios / "baseline.toml")
    mine = load_scenario(scenarios / "privacy_first.toml")  # changes Aurora's own policy
    res = losses_results({"baseline": [0.0, 10.0], "other": [50.0, 80.0]})
    same = {"baseline": base, "other": base.model_copy(update={"name": "other"})}
    changed = {"baseline": base, "other": mine.model_copy(update={"name": "other"})}

    def titles(stored: dict) -> tuple[str, str]:
        r = findings.Results(res.kind, res.timeseries, {}, stored, losses=res.losses)
        fixed = findings.own_settings_vary(r, "Aurora") is False
        table = pd.DataFrame(
            {"scenario": ["baseline", "other"], "var95": [10.0, 80.0],
             "net_value": [100.0, 60.0], "net_value_half": [5.0, 5.0]}
        )  # fmt: skip
        _, front = report_charts.frontier(table, "Aurora", fixed=fixed)
        _, loss = report_charts.loss_exceedance(r, "Aurora", ["baseline", "other"])
        return front, loss

    front, loss = titles(same)
    assert "policy" not in front and "policy" not in loss, (front, loss)
    assert "own settings are the same in every scenario" in front
    assert "own settings are the same in every scenario" in loss
    front, loss = titles(changed)  # a brand the scenarios do change: its policies, as before
    assert "no other policy earns more" in front and "the most exposed policy" in loss


def test_breach_window_lowest_point_is_this_breachs_not_a_later_breachs():
    # review: the finding took the lowest trust over the whole window after the scheduled
    # breach, so a later, separate breach's drop (breach_fast_response: day +164) was blamed
    # on it. Here Aurora falls 0.45 -> 0.35 on its breach (day 40) and to 0.30 on a second
    # breach 60 days later: the scheduled breach's lowest is 0.35, the window's end 0.30
    from sim.analysis.charts import plot_breach_window

    fig = plot_breach_window(breach_result(30, second=100))
    title = " ".join(fig.axes[0].get_title().split())
    assert "trust 0.45 -> lowest 0.35 (day +0; next breach day +60) -> 0.30 (day +180)" in title
    assert "next breach" in " ".join(fig._supxlabel.get_text().split())
    alone = plot_breach_window(breach_result(30))  # no later breach: no such words
    assert "next breach" not in alone.axes[0].get_title() + alone._supxlabel.get_text()


def test_run_chart_pngs_carry_the_scenario_hashes_seeds_and_version(tmp_path):
    # review: the PNGs said only "Software: omnitrust", so a chart found on its own could not
    # be traced to its run. Read back from the file's text chunks (PIL), both through what the
    # chart painter is sent (pickled) and as the run's own process draws it
    import pickle

    from PIL import Image

    import sim
    from sim.analysis.painters import Charted, draw

    manifest = {
        "scenarios": {
            "baseline": {"hash": "0f80aa30", "seed": 20161},
            "privacy_first": {"hash": "9c1e2b77", "seed": 20162},
        },
        "versions": {"model_fingerprint": "f24ac17683c7328a"},
    }
    sent = pickle.loads(pickle.dumps(Charted(money_timeseries(5), {}, manifest)))
    path = draw("trust.png", sent, tmp_path, "range")
    text = Image.open(path).text
    assert text["Software"] == f"omnitrust {sim.__version__}"
    assert text["Scenario hashes"] == "baseline=0f80aa30; privacy_first=9c1e2b77"
    assert text["Seeds"] == "baseline=20161; privacy_first=20162"
    assert text["Model fingerprint"] == "f24ac17683c7328a"
