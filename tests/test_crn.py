"""Common random numbers over the whole horizon: the warm-up and every reported day (issue 16).

* Levers that cannot matter (compensation and notice delay with no breach) give byte-identical
  tables.
* A lever that matters only for money (security investment at zero attack pressure) changes
  security cost and net value by exactly the spend difference, and nothing else.
* A shock on a reported day leaves every number before it identical.
* A lever that changes behaviour (e-mail frequency) leaves every other stream's keys identical:
  the same streams are asked for the same keys on the same days, in the same order.
"""

from __future__ import annotations

import copy
import sys

import numpy as np
import pandas as pd
import pytest

from sim.core import streams
from sim.runner import run
from sim.scenario import Scenario

from .conftest import baseline_data, variant

DAYS = 200  # reported days, after the default 180-day warm-up


def quiet(**sim) -> dict:
    """The baseline without any incident: attack pressure 0, no events."""
    d = baseline_data(consumers=1500, days=DAYS, replications=1)
    d["world"]["attack_pressure"] = 0.0
    d["events"] = []
    d["simulation"].update(sim)
    return d


def values(ts: pd.DataFrame, name: str) -> pd.DataFrame:
    out = ts[ts["scenario"] == name].drop(columns="scenario").reset_index(drop=True)
    for col in ("brand", "channel", "metric"):
        out[col] = out[col].astype(str)
    return out


def test_levers_that_cannot_matter_give_byte_identical_tables():
    d = quiet()
    a = variant(d, "a", compensation="none", notify_within_days=30)
    b = variant(d, "b", compensation="credit_monitoring", notify_within_days=1)
    c = variant(d, "c", compensation="voucher", notify_within_days=90)
    ts = run([a, b, c], seed=21).timeseries
    ref = values(ts, "a")
    assert ref["day"].max() == DAYS - 1
    for other in ("b", "c"):
        got = values(ts, other)
        pd.testing.assert_frame_equal(ref, got)
        assert ref["value"].to_numpy().tobytes() == got["value"].to_numpy().tobytes()


def test_security_spend_changes_only_security_cost_and_net_value():
    d = quiet()
    low = variant(d, "low", security_investment=0.2)
    high = variant(d, "high", security_investment=0.8)
    ts = run([low, high], seed=22).timeseries
    lo, hi = values(ts, "low"), values(ts, "high")
    money = lo["metric"].isin(["security_cost", "net_value"]) & (lo["brand"] == "Aurora")
    assert np.array_equal(lo.loc[~money, "value"].to_numpy(), hi.loc[~money, "value"].to_numpy())
    sec = lo["metric"] == "security_cost"
    aurora = lo["brand"] == "Aurora"
    spend = hi.loc[sec & aurora, "value"].to_numpy() - lo.loc[sec & aurora, "value"].to_numpy()
    assert (spend > 0).all()
    net = lo["metric"] == "net_value"
    gap = lo.loc[net & aurora, "value"].to_numpy() - hi.loc[net & aurora, "value"].to_numpy()
    assert np.allclose(gap, spend, rtol=1e-12, atol=1e-9)


def test_a_shock_on_a_reported_day_leaves_every_earlier_number_identical():
    d = quiet()
    calm = Scenario.model_validate({**copy.deepcopy(d), "name": "calm"})
    s = copy.deepcopy(d)
    s["name"] = "story"
    s["events"] = [{"day": 150, "kind": "media_story", "severity": 1.0}]
    ts = run([calm, Scenario.model_validate(s)], seed=23).timeseries
    a, b = values(ts, "calm"), values(ts, "story")
    before = a["day"] < 150
    assert np.array_equal(a.loc[before, "value"].to_numpy(), b.loc[before, "value"].to_numpy())
    trust = (a["metric"] == "trust") & (a["day"] == 150) & (a["channel"] == "all")
    assert (b.loc[trust, "value"].to_numpy() < a.loc[trust, "value"].to_numpy()).all()


@pytest.fixture
def key_log(monkeypatch):
    """Log every (stream, day, part) key a run asks for, wherever `stream_key` was imported."""
    log: list[tuple[str, int, int]] = []
    original = streams.stream_key
    # Every run spins its own warm-up up: with shared warm-ups a scenario run a second time in the
    # same process starts from its saved state and asks for no warm-up keys (docs/EXPERIMENTS.md,
    # "Shared warm-ups"), and these tests compare the keys of whole runs.
    monkeypatch.setenv("OMNITRUST_BRANCH", "off")

    def logged(seed, stream, day=-1, part=0):
        log.append((stream, day, part))
        return original(seed, stream, day, part)

    for module in list(sys.modules.values()):
        if (module.__name__ or "").startswith("sim") and getattr(
            module, "stream_key", None
        ) is original:
            monkeypatch.setattr(module, "stream_key", logged)
    return log


def test_a_lever_that_matters_leaves_other_streams_keys_identical(key_log):
    d = quiet(days=60, consumers=600, warmup_days=40)
    few = variant(d, "few", emails_per_week=0.5, email_targeting=0.5)
    run(few, seed=24)
    first = list(key_log)
    key_log.clear()
    many = variant(d, "many", emails_per_week=7.0, email_targeting=0.5)
    ts = run([few, many], seed=24).timeseries
    second = key_log[len(first) :]
    assert len(first) > 0 and second == first  # same streams, same days, same parts, same order
    days = {day for _, day, _ in first}
    assert set(range(0, 100)) <= days  # warm-up (0..39) and reported days (40..99), internal days
    # ... although the lever changed what happened
    a, b = values(ts, "few"), values(ts, "many")
    sent = (a["metric"] == "emails_sent") & (a["brand"] == "Aurora")
    assert b.loc[sent, "value"].sum() > 5 * a.loc[sent, "value"].sum()
    # the draws themselves are a pure function of (seed, stream, day, consumer, slot)
    key = streams.stream_key(7, "need", 120)
    u = streams.uniforms(key, 1000, 0)
    assert np.array_equal(u, streams.uniforms(key, 1000, 0))
    assert not np.array_equal(u, streams.uniforms(streams.stream_key(7, "need", 121), 1000, 0))
    assert abs(u.mean() - 0.5) < 0.05
