"""Direction of effect: one lever changed, the same seeds, the expected sign (issue 2).

Each test runs two scenarios that differ in one lever with the same replication seeds (common
random numbers) and checks the sign of the difference on every replication-average, so a test
fails if the model loses the mechanism.
"""

from __future__ import annotations

import copy

import numpy as np

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


def test_transparent_relevant_personalization_raises_trust_and_consent():
    data = baseline_data(consumers=5000, days=365, replications=2)
    scope = ["contact", "purchase_history", "onsite_behaviour", "location", "payment_card"]
    good = variant(
        data,
        "good",
        transparency=1.0,
        personalization_skill=0.9,
        email_targeting=0.9,
        data_collection=scope,
    )
    none = variant(
        data,
        "none",
        transparency=0.0,
        personalization_skill=0.0,
        email_targeting=0.0,
        data_collection=scope,
    )
    result = run([good, none], seed=5)
    for metric in ("trust", "consent_rate"):
        diff = horizon_mean(result, "good", metric) - horizon_mean(result, "none", metric)
        assert (diff > 0).all(), (metric, diff.tolist())


def test_frequent_untargeted_email_hurts_vs_rare_targeted():
    data = baseline_data(consumers=5000, days=365, replications=2)
    blaster = variant(data, "blaster", emails_per_week=7.0, email_targeting=0.05)
    rare = variant(data, "rare", emails_per_week=0.5, email_targeting=0.9)
    result = run([blaster, rare], seed=6)
    assert (
        (horizon_mean(result, "blaster", "trust") - horizon_mean(result, "rare", "trust")) < 0
    ).all()
    for metric in ("unsubscribes", "spam_complaints"):
        assert (
            horizon_total(result, "blaster", metric) > horizon_total(result, "rare", metric)
        ).all(), metric


def test_omnichannel_integration_raises_multichannel_share():
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
    assert np.all(hi - lo > 0.005)
