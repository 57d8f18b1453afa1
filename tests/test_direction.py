"""Direction of effect: exactly one lever changed, the same seeds, the expected sign (issues 2, 16).

Each test runs two scenarios that differ in one lever with the same replication seeds (common
random numbers) and checks the sign of the difference on every replication-average, so a test
fails if the model loses the mechanism.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim.runner import run
from sim.scenario import Scenario

from .conftest import baseline_data, variant


def horizon_mean(result, scenario, metric, brand="Aurora", window=60):
    ts = result.timeseries
    sel = ts[
        (ts["scenario"] == scenario)
        & (ts["metric"] == metric)
        & (ts["brand"] == brand)
        & (ts["channel"] == "all")
    ]
    last = sel["day"].max()
    return sel[sel["day"] > last - window].groupby("replication", observed=True)["value"].mean()


def horizon_total(result, scenario, metric, brand="Aurora"):
    ts = result.timeseries
    sel = ts[
        (ts["scenario"] == scenario)
        & (ts["metric"] == metric)
        & (ts["brand"] == brand)
        & (ts["channel"] == "all")
    ]
    return sel.groupby("replication", observed=True)["value"].sum()


@pytest.fixture(scope="module")
def one_lever():
    """Aurora's levers one at a time against the baseline's (the same data and seeds)."""
    data = baseline_data(consumers=5000, days=365, replications=2)
    scenarios = [
        variant(data, "opaque", transparency=0.0),
        variant(data, "transparent", transparency=1.0),
        variant(data, "clumsy", personalization_skill=0.0),
        variant(data, "skilful", personalization_skill=0.9),
        variant(data, "untargeted", email_targeting=0.05),
        variant(data, "targeted", email_targeting=0.9),
        variant(data, "rare", emails_per_week=0.5),
        variant(data, "blaster", emails_per_week=7.0),
    ]
    return run(scenarios, seed=5)


def diff(result, hi, lo, metric, stat=horizon_mean):
    return stat(result, hi, metric) - stat(result, lo, metric)


def test_transparency_alone_raises_consent(one_lever):
    d = diff(one_lever, "transparent", "opaque", "consent_rate")
    assert (d > 0.1).all(), d.tolist()


def test_transparency_alone_raises_trust(one_lever):
    d = diff(one_lever, "transparent", "opaque", "trust")
    assert (d > 0).all(), d.tolist()


def test_personalization_skill_alone_raises_trust_and_revenue(one_lever):
    assert (diff(one_lever, "skilful", "clumsy", "trust") > 0).all()
    assert (diff(one_lever, "skilful", "clumsy", "revenue", horizon_total) > 0).all()


def test_email_targeting_alone_raises_trust(one_lever):
    assert (diff(one_lever, "targeted", "untargeted", "trust") > 0).all()


def test_email_frequency_alone_lowers_trust_and_raises_unsubscribes_and_complaints(one_lever):
    assert (diff(one_lever, "blaster", "rare", "trust") < 0).all()
    for metric in ("unsubscribes", "spam_complaints"):
        assert (diff(one_lever, "blaster", "rare", metric, horizon_total) > 0).all(), metric


def test_omnichannel_integration_raises_multichannel_share():
    """One lever, set the same at every brand (the share is market-wide)."""
    data = baseline_data(consumers=5000, days=365, replications=2)

    def market(name, level):
        d = copy.deepcopy(data)
        d["name"] = name
        for b in d["brands"]:
            b["policy"]["omnichannel_integration"] = level
        return Scenario.model_validate(d)

    result = run([market("integrated", 0.95), market("siloed", 0.05)], seed=7)
    hi = horizon_mean(result, "integrated", "multichannel_share", brand="all", window=1)
    lo = horizon_mean(result, "siloed", "multichannel_share", brand="all", window=1)
    assert (hi > lo).all(), (hi.tolist(), lo.tolist())
    # At the seventh fit's defaults about 77% of shoppers are multichannel already (need for touch
    # sends nine in ten to a store now and then), so the lever moves the share by under a point:
    # 0.52 and 0.36 points in these two paired replications (2026-12-04). The bound keeps the
    # test from passing on a difference that is only rounding.
    assert np.all(hi - lo > 0.002), (hi - lo).tolist()
