"""The Python API as a notebook uses it: result objects that show themselves, folders that reopen,
paired differences from a plain run, charts on a caller's axes, and no files left behind."""

from __future__ import annotations

import inspect
import os
import tempfile
import textwrap

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

import sim
from sim.analysis.charts import plot_value
from sim.core.errors import UserError
from sim.experiments import compare, run, sweep
from sim.experiments.executors import PoolMap, TaskMap, make_map

from .conftest import ROOT, baseline_data, variant

SMALL = dict(days=60, consumers=1500, progress=False, workers=1)


@pytest.fixture(scope="module")
def two_policies():
    data = baseline_data(consumers=1500, days=60, replications=4)
    base = variant(data, "base", transparency=0.3)
    open_ = variant(data, "open", transparency=0.9)
    return base, open_


@pytest.fixture(scope="module")
def result(two_policies):
    return run(list(two_policies), seed=21, progress=False, workers=1)


def _per_rep(ts: pd.DataFrame, scenario: str, brand: str, metric: str, how: str) -> np.ndarray:
    """The per-replication outcome, recomputed from the stored daily table: the mean of the last
    30 days (a stock) or the sum over the horizon (a flow), in replication order."""
    sel = ts[
        (ts["scenario"] == scenario)
        & (ts["brand"] == brand)
        & (ts["metric"] == metric)
        & (ts["channel"] == "all")
    ]
    if how == "window":
        sel = sel[sel["day"] > sel["day"].max() - 30]
    g = sel.groupby("replication", observed=True)["value"]
    return (g.mean() if how == "window" else g.sum()).sort_index().to_numpy()


@pytest.mark.parametrize(("metric", "how"), [("trust", "window"), ("revenue", "total")])
def test_differences_from_a_plain_run_match_a_paired_t_recomputation(result, metric, how):
    ts = result.timeseries
    d = _per_rep(ts, "open", "Aurora", metric, how) - _per_rep(ts, "base", "Aurora", metric, how)
    n = len(d)
    assert n == 4
    half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)
    table = result.differences(reference="base")
    row = table[(table["brand"] == "Aurora") & (table["metric"] == metric)]
    assert len(row) == 1
    row = row.iloc[0]
    assert row["scenario"] == "open" and row["reference"] == "base"
    assert row["statistic"] == how
    assert row["diff"] == pytest.approx(d.mean(), rel=1e-9, abs=1e-12)
    assert row["ci_low"] == pytest.approx(d.mean() - half, rel=1e-9, abs=1e-12)
    assert row["ci_high"] == pytest.approx(d.mean() + half, rel=1e-9, abs=1e-12)


def test_differences_sign_follows_the_reference(result):
    a = result.differences(reference="base", metrics=["trust"], bootstrap=0)
    b = result.differences(reference="open", metrics=["trust"], bootstrap=0)
    a = a.set_index("brand")["diff"]
    b = b.set_index("brand")["diff"]
    assert np.allclose(a, -b.reindex(a.index))


def test_differences_refuse_runs_that_do_not_share_seeds(two_policies):
    base, open_ = two_policies
    r1 = run(base, seed=1, replications=2, **SMALL)
    r2 = run(open_, seed=2, replications=2, **SMALL)
    mixed = sim.RunResult(
        pd.concat([r1.timeseries, r2.timeseries], ignore_index=True),
        {**r1.scenarios, **r2.scenarios},
        {"scenarios": {**r1.manifest["scenarios"], **r2.manifest["scenarios"]}},
    )
    with pytest.raises(ValueError, match="do not pair"):
        mixed.differences(reference="base")


def test_differences_of_runs_of_different_sizes_name_the_size_not_the_seeds(tmp_path):
    # review: `sim.run([a, b])` of a 30-day and a 40-day market said "3 replications x 40 days"
    # for both and blamed seeds ("did not run with 'baseline''s replication seeds"); and a
    # resized Scenario next to a file runs the file at its own size (run's docstring)
    small = variant(baseline_data(consumers=200, days=5, replications=2, warmup=30), "small")
    big = tmp_path / "big.toml"
    big.write_text(
        f'extends = "{(ROOT / "scenarios" / "privacy_first.toml").as_posix()}"\nname = "big"\n'
        "[simulation]\ndays = 7\nconsumers = 300\nreplications = 3\nwarmup_days = 30\n"
    )
    r = run([small, big], progress=False, workers=1)
    assert repr(r) == "<RunResult small (2 replications x 5 days), big (3 replications x 7 days)>"
    html = r._repr_html_()
    assert "small: 2 replications x 5 days x 200 consumers" in html
    # means of all the days of a run shorter than the 30-day window, not "the last 30 days"
    assert "over the last 30 days (all the days of a shorter run)" in html
    assert "over all 5 days" in run([small], progress=False, workers=1)._repr_html_()
    assert "big: 3 replications x 7 days x 300 consumers" in html
    with pytest.raises(UserError) as err:
        r.differences()
    text = str(err.value)
    assert isinstance(err.value, ValueError)  # (what it raised before: callers may catch it)
    assert text.startswith(
        "'big' ran with days = 7, consumers = 300, replications = 3 but the reference 'small' "
        "with days = 5, consumers = 200, replications = 2 ([simulation])"
    ), text
    assert "seed" not in text and "days=D, consumers=N, replications=R" in text
    with pytest.raises(UserError, match="'small' ran with days = 5"):
        r.differences(reference="big")


def test_differences_take_one_metric_name_and_refuse_an_unknown_one(result):
    # review: metrics="trust" was read letter by letter and metrics=["trsut"] ended in pandas'
    # "No objects to concatenate"
    one = result.differences(metrics="trust", bootstrap=0)
    assert set(one["metric"]) == {"trust"}
    pd.testing.assert_frame_equal(one, result.differences(metrics=["trust"], bootstrap=0))
    for bad in (["trsut"], "trsut", ["trust", "trsut"]):
        with pytest.raises(UserError) as err:
            result.differences(metrics=bad)
        text = str(err.value)
        assert text.startswith("metrics: 'trsut' is not a metric of these results; allowed: ")
        assert "trust" in text.split("allowed: ")[1].split(", ")
    with pytest.raises(UserError, match="'trsut' is not a metric"):
        result.plot_value(metric="trsut")
    # an unknown reference is one line too (it was a bare ValueError), still a ValueError
    with pytest.raises(UserError) as err:
        result.differences(reference="nope")
    assert isinstance(err.value, ValueError)
    assert str(err.value).startswith("reference = 'nope': not a scenario of these results")


def test_results_show_a_short_repr_and_an_html_card(result):
    text = repr(result)
    assert "\n" not in text and len(text) < 120 and "base" in text and "open" in text
    html = result._repr_html_()
    assert "<table" in html
    for word in ("base", "open", "Aurora", "Borealis", "Cirrus", "trust"):
        assert word in html


def test_a_saved_run_folder_reopens_as_the_same_result(result, tmp_path):
    result.save(tmp_path / "run", plots=False)
    back = sim.open(tmp_path / "run")
    assert isinstance(back, sim.RunResult)
    pd.testing.assert_frame_equal(back.timeseries, result.timeseries, check_categorical=False)
    assert {n: s.content_hash() for n, s in back.scenarios.items()} == {
        n: s.content_hash() for n, s in result.scenarios.items()
    }
    pd.testing.assert_frame_equal(
        back.differences(reference="base", bootstrap=0),
        result.differences(reference="base", bootstrap=0),
    )


def test_compare_without_out_leaves_nothing_on_disk(two_policies, tmp_path, monkeypatch):
    scratch, cwd = tmp_path / "tmp", tmp_path / "cwd"
    scratch.mkdir()
    cwd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.chdir(cwd)
    before = sorted(os.listdir(scratch)), sorted(os.listdir(cwd))
    c = compare(list(two_policies), replications=2, **SMALL)
    assert (sorted(os.listdir(scratch)), sorted(os.listdir(cwd))) == before == ([], [])
    assert c.out is None and c.charts == []
    assert "nothing kept on disk" in c._repr_html_()
    assert isinstance(c.plot_trust(), Figure)  # the charts still draw from memory
    # the executive report is made from the stored runs: without a folder, say so
    with pytest.raises(UserError, match="out="):
        c.report(tmp_path / "c.html")


def test_a_compare_folder_reopens_as_a_comparison(two_policies, tmp_path):
    c = compare(list(two_policies), replications=2, out=tmp_path / "c", **SMALL)
    back = sim.open(tmp_path / "c")
    assert type(back) is type(c)
    assert back.scenarios == c.scenarios and back.reference == c.reference
    assert back.focus_brands == c.focus_brands
    cols = ["scenario", "brand", "metric", "diff", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(back.differences[cols], c.differences[cols], check_dtype=False)
    pd.testing.assert_frame_equal(
        back.trust.reset_index(drop=True), c.trust.reset_index(drop=True), check_dtype=False
    )
    assert "Comparison" in back._repr_html_() and "\n" not in repr(back)
    assert_reports_like_the_cli(back, tmp_path / "c", tmp_path)
    # the plain-text report stays: no argument, a list of metrics, or metrics=
    text = back.report_text(["trust"])
    assert "trust" in text and "net_value" not in text
    assert back.report(["trust"]) == back.report(metrics=["trust"]) == text
    assert back.report(np.array(["trust"])) == back.report(pd.Index(["trust"])) == text
    assert back.report() == back.report_text() != text


def test_a_sweep_folder_reopens_as_a_sweep_result(tmp_path):
    base = (ROOT / "scenarios" / "baseline.toml").as_posix()
    exp = tmp_path / "exp.toml"
    exp.write_text(
        f'name = "t"\nbase = "{base}"\n'
        + textwrap.dedent(
            """
            replications = 2
            metrics = ["trust"]
            [design.factors]
            "brands.Aurora.policy.transparency" = [0.2, 0.8]
            """
        )
    )
    s = sweep(exp, out=tmp_path / "s", **SMALL)
    back = sim.open(tmp_path / "s")
    assert type(back) is type(s)
    pd.testing.assert_frame_equal(back.table, s.table)
    assert "Sweep" in back._repr_html_() and "\n" not in repr(back)
    assert_reports_like_the_cli(back, tmp_path / "s", tmp_path)
    assert back.report() == back.report_text() == s.report_text()
    assert ": 2 design points x 2 replications = 4 runs" in back.report_text()
    with pytest.raises(TypeError, match="no choice of metrics"):
        back.report(["trust"])  # a sweep's text report has none: said, not ignored


def assert_reports_like_the_cli(result, folder, tmp_path):
    """``result.report("x.html")`` writes the HTML report that ``omnitrust report FOLDER -o``
    writes (README: "again.report(...)" on any opened folder); a name that is neither HTML nor
    PDF is refused with what is allowed."""
    from sim.cli import main

    assert main(["report", str(folder), "-o", str(tmp_path / "cli.html")]) == 0
    written = result.report(str(tmp_path / "api.html"))
    assert written == tmp_path / "api.html"
    api, cli = written.read_text(), (tmp_path / "cli.html").read_text()
    assert api.lower().startswith("<!doctype html>") and "<h2>Verdict</h2>" in api
    assert api == cli
    assert result.report(tmp_path / "api2.HTML").read_text() == cli  # a Path, any case
    with pytest.raises(UserError, match=r"ending in \.html or \.pdf"):
        result.report(tmp_path / "x.txt")


def test_opening_a_folder_that_is_not_results_says_so(tmp_path):
    with pytest.raises(UserError, match="not a results folder"):
        sim.open(tmp_path)


def test_charts_draw_one_panel_on_the_callers_axes(result):
    fig = Figure()
    ax = fig.subplots()
    assert result.plot_trust(scenarios="open", ax=ax) is fig
    assert len(ax.get_lines()) >= 3  # one line per brand
    fig2 = Figure()
    ax2 = fig2.subplots()
    assert result.plot_value(ax=ax2) is fig2
    assert len(ax2.patches) == 2 * 3  # a bar per scenario and brand
    with pytest.raises(ValueError, match="one panel"):
        result.plot_trust(ax=Figure().subplots())  # two scenarios are two panels


def _tiny_timeseries() -> pd.DataFrame:
    """Two brands, 3 days, one replication: trust (0-1), purchases (a count) and two money
    metrics, revenue and net_value (EUR per day)."""
    rows = [
        ("s", 0, day, brand, "all", metric, value)
        for day in range(3)
        for brand in ("A", "B")
        for metric, value in (
            ("trust", 0.5),
            ("purchases", 10.0),
            ("revenue", 100.0),
            ("net_value", 40.0),
        )
    ]
    cols = ["scenario", "replication", "day", "brand", "channel", "metric", "value"]
    return pd.DataFrame(rows, columns=cols)


@pytest.mark.parametrize("metric", ["trust", "purchases"])
def test_plot_value_refuses_a_metric_that_is_not_money(metric):
    # review: plot_value(metric="trust") drew trust (0-1) as bars on a "EUR per day" axis
    ts = _tiny_timeseries()
    with pytest.raises(UserError) as err:
        plot_value(ts, metric=metric)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"metric = {metric!r} is not money")
    # the allowed ones: the EUR metrics of the table above, by its construction
    assert "allowed: net_value, revenue (" in text
    fig = plot_value(ts, metric="revenue")  # money still draws
    assert fig.axes[0].get_ylabel() == "EUR per day"


def test_comparison_charts_return_figures_and_accept_ax(two_policies):
    c = compare(list(two_policies), replications=2, **SMALL)
    assert isinstance(c.plot_differences(), Figure)
    fig = Figure()
    ax = fig.subplots()
    assert c.plot_differences("trust", ax=ax) is fig
    assert c.plot_trust(brand="Aurora", ax=fig.subplots()) is fig
    # one metric's name is one metric; an unknown one is refused, naming it
    assert c.report_text("trust") == c.report_text(["trust"]) == c.report(metrics="trust")
    for call in (c.report_text, c.plot_differences):
        with pytest.raises(UserError, match="'trsut' is not a metric of these results"):
            call(["trsut"])


def test_run_compare_and_sweep_share_the_workers_default_and_progress_bars():
    for fn in (sim.run, sim.compare, sim.sweep):
        params = inspect.signature(fn).parameters
        assert params["workers"].default is None, fn.__name__
        assert params["progress"].default is True, fn.__name__
    assert type(make_map(None, tasks=1)) is TaskMap  # one run: no pool to start
    pool = make_map(None, tasks=50)
    assert isinstance(pool, PoolMap) or (os.cpu_count() or 1) == 1
    assert pool.workers == min(os.cpu_count() or 1, 50)
    pool.close()
