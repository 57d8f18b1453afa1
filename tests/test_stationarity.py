"""Warm-up diagnostic (MSER-5) and the trend check behind `omnitrust run`'s warning."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.stationarity import mser5, mser5_bound, trend_table, trend_warnings
from sim.cli import main

from .conftest import SCENARIOS


def test_mser5_matches_a_hand_computed_case():
    # Batch means z = 6, 3, 1, 2, 1, 2 (m = 6; d runs over 0..3). By hand:
    #   d=0: mean 2.5, SS 17.5, / 36 = 0.486;  d=1: mean 1.8, SS 2.8, / 25 = 0.112
    #   d=2: mean 1.5, SS 1.0, / 16 = 0.0625;  d=3: mean 5/3, SS 2/3, / 9 = 0.074
    # -> d* = 2 batches = 10 observations. Spread inside each batch sums to 0, and a trailing
    # partial batch is ignored.
    z = [6.0, 3.0, 1.0, 2.0, 1.0, 2.0]
    spread = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    series = np.concatenate([m + spread for m in z] + [np.array([100.0, -50.0])])
    assert mser5(series) == 10


def test_mser5_of_a_steady_trend_sits_at_the_bound():
    # A linear trend never settles: every deletion lowers the statistic, so the minimiser is the
    # largest allowed truncation (half the batches), 5 * floor(20 / 2) = 50 for 100 observations.
    assert mser5(np.arange(100.0)) == mser5_bound(100) == 50
    # and a series that is flat from the start needs no truncation
    assert mser5(np.ones(100)) == 0


def _frame(values: dict[tuple[str, str], np.ndarray]) -> pd.DataFrame:
    rows = []
    for (brand, metric), v in values.items():
        for day, x in enumerate(v):
            rows.append(("s", 0, day, brand, "all", metric, float(x)))
    return pd.DataFrame(
        rows, columns=["scenario", "replication", "day", "brand", "channel", "metric", "value"]
    )


def test_trend_check_flags_what_moves_more_than_the_tolerance():
    days = np.arange(120)
    trust = 0.50 + 0.0004 * days  # first 30 days mean 0.5058, last 30 days mean 0.5418: +7.1%
    flat = np.full(120, 0.4)
    subs = 1000.0 + 0.3 * days  # 1004.35 -> 1031.35: +2.7% < 5%
    table = trend_table(
        _frame({("A", "trust"): trust, ("A", "consent_rate"): flat, ("A", "subscribers"): subs})
    ).set_index("metric")
    expected = (0.50 + 0.0004 * 104.5) / (0.50 + 0.0004 * 14.5) - 1.0
    assert np.isclose(table.loc["trust", "change"], expected)
    assert table.loc["trust", "trends"]
    assert not table.loc["consent_rate", "trends"]
    assert not table.loc["subscribers", "trends"]


def _write(tmp_path, name: str, warmup: int, trend: float = 0.0):
    """The bundled baseline, small, without attacks (no events), no warm-up."""
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\nname = "{name}"\n'
        f"[simulation]\nconsumers = 1500\ndays = 120\nreplications = 1\nwarmup_days = {warmup}\n"
        f"[world]\nattack_pressure = 0.0\nprivacy_concern_trend = {trend}\n"
    )
    return path


def test_run_warns_when_a_quiet_market_trends(tmp_path, capsys):
    # No warm-up: consents and subscriber lists start empty, so the market trends by construction.
    cold = _write(tmp_path, "cold", warmup=0)
    assert main(["run", str(cold), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: scenario 'cold' has no events and no trend" in err
    assert "subscribers moves +" in err


def test_a_declared_trend_is_no_warning_though_the_check_sees_the_market_move(tmp_path, capsys):
    # The same cold market with a privacy-concern trend: it moves (the check sees it), but the
    # scenario declares a trend, so `run` does not warn.
    from sim.loading import load_scenario
    from sim.runner import run

    path = _write(tmp_path, "worried", warmup=0, trend=0.5)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    assert "warning" not in capsys.readouterr().err
    scenario = load_scenario(path)
    result = run([scenario], progress=False)
    assert trend_warnings(result.timeseries, [scenario]) == []
    assert trend_table(result.timeseries)["trends"].any()


def _synthetic(*runs: tuple[float, int | None]) -> pd.DataFrame:
    """A 120-day table with one replication per (fall, breach day) pair: its trust falls by
    ``fall`` (0.05: about 7.5% between the first and last 30-day means, beyond the 3% tolerance),
    with one breach on that day or none."""
    days = np.arange(120)
    rows = []
    for rep, (fall, breach_day) in enumerate(runs):
        rows += [
            {"scenario": "s", "replication": rep, "brand": "Aurora", "metric": "trust",
             "channel": "all", "day": d, "value": 0.5 - fall * d / 119}
            for d in days
        ]  # fmt: skip
        rows += [
            {"scenario": "s", "replication": rep, "brand": "Aurora", "metric": "breaches",
             "channel": "all", "day": d, "value": float(d == breach_day)}
            for d in days
        ]  # fmt: skip
    return pd.DataFrame(rows)


def test_a_run_that_met_a_breach_is_no_drift_warning():
    from sim.loading import load_scenario

    scenario = load_scenario(SCENARIOS / "baseline.toml")
    quiet = scenario.model_copy(update={"name": "s"})
    # 0.5 -> ~0.4625 mean over the windows: about -7.5%, beyond the 3% tolerance.
    assert len(trend_warnings(_synthetic((0.05, None)), [quiet])) == 1
    assert trend_warnings(_synthetic((0.05, 60)), [quiet]) == []
    # Only the breached run is left out, not the scenario: a flat run without a breach next to a
    # falling one with a breach is quiet (the mean over both would fall ~3.8%) ...
    assert trend_warnings(_synthetic((0.0, None), (0.05, 60)), [quiet]) == []
    # ... and a drifting run without a breach is still warned about when another run met one.
    assert len(trend_warnings(_synthetic((0.05, None), (0.0, 60)), [quiet])) == 1


def test_run_to_run_noise_is_no_drift_warning():
    from sim.loading import load_scenario

    quiet = load_scenario(SCENARIOS / "baseline.toml").model_copy(update={"name": "s"})
    # Two runs falling by about 7.5% and 0.5% (fall 0.05 and 0.0033): their mean change, about
    # -4%, is beyond the 3% tolerance, but the standard error of the two changes is
    # |(-7.5%) - (-0.5%)| / 2 = 3.5%, so -4% is within 3% + 2 x 3.5% of no drift.
    assert trend_warnings(_synthetic((0.05, None), (0.0033, None)), [quiet]) == []
    # Two runs that both fall 7.5%: no noise, the drift is reported with its run count.
    (warning,) = trend_warnings(_synthetic((0.05, None), (0.05, None)), [quiet])
    assert "over 2 runs" in warning
    # One run only: reported, marked as possibly noise.
    (warning,) = trend_warnings(_synthetic((0.05, None)), [quiet])
    assert "could be noise" in warning


def test_a_policy_change_is_an_intervention_not_a_quiet_market():
    from sim.analysis.stationarity import is_quiet
    from sim.loading import load_scenario

    assert is_quiet(load_scenario(SCENARIOS / "baseline.toml"))
    assert not is_quiet(load_scenario(SCENARIOS / "privacy_first_switch.toml"))


# --- the warm-up check (`omnitrust warmup`) and the steady span of a scenario ---------------------

STOCK_NAMES = ("trust", "consent_rate", "subscribers", "active_customers", "churned")


def _stepped_stocks(days: int = 200, step_day: int = 40) -> np.ndarray:
    """(days, 2 brands, 5 stocks): every series flat with a +-1 zig-zag, except brand B's
    subscribers, 100 before ``step_day`` and 50 from it on (the same zig-zag)."""
    zigzag = np.where(np.arange(days) % 2 == 0, 1.0, -1.0)
    stocks = np.tile((10.0 + zigzag)[:, None, None], (1, 2, len(STOCK_NAMES)))
    stocks[:, 1, 2] = np.where(np.arange(days) < step_day, 100.0, 50.0) + zigzag
    return stocks


def test_mser_table_truncates_a_step_where_it_is_and_a_flat_series_nowhere():
    # By construction: batches of 5 days have means +-0.2 around the level (an odd number of
    # +-1 days each), so once the 8 batches before the step (day 40) are deleted what is left has
    # a spread of 0.04 per batch, and MSER(d) = 0.04 / (m - d) grows with every further batch
    # deleted; with any batch at 100 kept the spread is thousands of times larger. A flat series
    # has MSER(d) = 0.04 / (m - d), smallest at d = 0.
    from sim.analysis.stationarity import mser_table, warmup_verdict

    table = mser_table(_stepped_stocks(), ["A", "B"], STOCK_NAMES).set_index(["brand", "metric"])
    assert table.loc[("B", "subscribers"), "truncation"] == 40
    others = table.drop(index=("B", "subscribers"))
    assert (others["truncation"] == 0).all() and not table["at_bound"].any()
    assert list(table.index.get_level_values("metric").unique()) == [
        "trust", "consent_rate", "subscribers", "active_customers",
    ]  # fmt: skip
    table = table.reset_index()
    assert "shorter than the largest MSER-5 truncation point, 40 days (B's subscribers)" in (
        warmup_verdict(table, 35)
    )
    assert "covers the largest MSER-5 truncation point, 40 days" in warmup_verdict(table, 40)


def test_a_series_still_moving_at_half_the_run_is_reported_at_the_bound():
    from sim.analysis.stationarity import mser_table, warmup_verdict

    stocks = _stepped_stocks()
    stocks[:, 0, 0] = np.arange(200.0)  # a steady trend never settles: the bound, 100 days
    table = mser_table(stocks, ["A", "B"], STOCK_NAMES)
    assert table["at_bound"].sum() == 1 and table["truncation"].max() == 100
    assert "is at the bound" in warmup_verdict(table, 5000)


def test_the_steady_span_ends_at_the_first_event_or_the_policy_change():
    from sim.analysis.stationarity import quiet_before, steady_days
    from sim.loading import load_scenario

    # scenarios/*.toml: no event (365-day horizon), a breach on day 120, a media story on day 90,
    # and a switch to privacy-first on day 90 after the baseline's policy
    assert steady_days(load_scenario(SCENARIOS / "baseline.toml")) == 365
    assert steady_days(load_scenario(SCENARIOS / "store_card_skimming.toml")) == 120
    assert steady_days(load_scenario(SCENARIOS / "sector_scandal.toml")) == 90
    switch = load_scenario(SCENARIOS / "privacy_first_switch.toml")
    assert steady_days(switch) == 90
    quiet = quiet_before(switch)
    aurora = next(b for b in quiet.brands if b.name == "Aurora")
    assert aurora.policy.emails_per_week == 1.0 and aurora.policy.transparency == 0.5  # baseline
    assert quiet.policy_from_day is None and quiet.events == []
    assert quiet.world.attack_pressure == 0.0 and quiet.simulation.days == 90
    cold = quiet_before(load_scenario(SCENARIOS / "breach_data_maximalist.toml"), 200, warmup=0)
    assert cold.events == [] and cold.simulation.days == 200 and cold.simulation.warmup_days == 0


def test_omnitrust_warmup_reports_the_mser5_points_of_the_cold_market(tmp_path, capsys):
    # The command's table against MSER-5 applied here to the tidy table of `sim.run` of the same
    # cold, quiet market (another path to the same daily stocks).
    from sim.analysis.stationarity import quiet_before
    from sim.loading import load_scenario
    from sim.runner import run

    path = _write(tmp_path, "small", warmup=1095)
    assert main(["warmup", str(path), "--days", "80", "--consumers", "600", "-r", "2"]) == 0
    out = capsys.readouterr().out
    cold = quiet_before(load_scenario(path, days=80, consumers=600, replications=2), warmup=0)
    ts = run([cold], progress=False).timeseries
    ts = ts[(ts["channel"] == "all") & (ts["brand"] != "all")]
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1] in "ABC"}
    for brand in ("Aurora", "Borealis", "Cirrus"):
        for k, metric in enumerate(("trust", "consent_rate", "subscribers", "active_customers")):
            s = ts[(ts["brand"] == brand) & (ts["metric"] == metric)]
            expected = mser5(s.groupby("day")["value"].mean().to_numpy())
            assert rows[brand][1 + k].rstrip("*") == str(expected), (brand, metric)
    assert "simulation.warmup_days = 1095 covers" in out or "at the bound" in out
    assert "tolerances: " in out and "its 120 steady days" in out


def test_omnitrust_warmup_refuses_a_run_too_short_for_mser5(capsys):
    assert main(["warmup", "baseline", "--days", "5"]) == 2
    assert "--days must be 10 (two MSER-5 batches) to 3650" in capsys.readouterr().err
    assert main(["warmup", "baseline", "--days", "4000"]) == 2


def test_the_tolerance_warm_up_starts_where_a_step_has_passed():
    # Every series flat except brand B's subscribers, 100 until day 300 and 50 from it on. A
    # 120-day span started at W compares days W..W+29 with W+90..W+119. Spans that end before the
    # step (W <= 180) are steady, those from W = 210 to 299 set a first window at (or partly at)
    # 100 against a last one at 50 (-50%, or about -45% for W = 275), and from W = 300 on nothing
    # moves. The warm-up must keep every later span steady too: 300.
    from sim.analysis.stationarity import tolerance_warmup

    stocks = _stepped_stocks(days=800, step_day=300)
    assert tolerance_warmup(stocks, STOCK_NAMES, span=120) == 300
    assert tolerance_warmup(stocks, STOCK_NAMES, span=120, step=25) == 300
    assert tolerance_warmup(_stepped_stocks(days=800, step_day=0), STOCK_NAMES, span=120) == 0
    # a step within the last span that fits: no warm-up in this run is long enough
    assert tolerance_warmup(_stepped_stocks(days=400, step_day=350), STOCK_NAMES, 120) is None
    assert tolerance_warmup(stocks, STOCK_NAMES, span=900) is None  # longer than the run
