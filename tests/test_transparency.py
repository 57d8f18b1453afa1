"""Transparency acts on trust (issue 9, part 3; docs/ODD.md 7.3, C5-C6): consumers who knowingly
shared are not surprised; covert data costs trust when it comes to light."""

from __future__ import annotations

import copy

import numpy as np

from sim.core.streams import replication_seed
from sim.mechanisms.metrics import EV, STOCKS
from sim.model import TrustModel
from sim.scenario import Scenario

from .conftest import baseline_data, brand

TRUST = STOCKS.index("trust")


def _runs(data: dict, reps: int = 2) -> list[TrustModel]:
    scenario = Scenario.model_validate(data)
    models = []
    for k in range(reps):
        m = TrustModel(scenario, seed=replication_seed(scenario.simulation.seed, k))
        m.run()
        models.append(m)
    return models


def _with(data: dict, **policy) -> dict:
    d = copy.deepcopy(data)
    brand(d, "Aurora")["policy"].update(policy)
    return d


def test_a_transparent_brand_ends_with_higher_trust():
    # Same data and skill, transparency 0.9 vs 0.0 for Aurora only. Expected (ODD 7.3): higher
    # trust, about +0.05 at the defaults (more consent -> more relevance, fewer unexplained asks,
    # no covert surprises, and its extra subscribers knowingly subscribed).
    data = baseline_data(consumers=4000, days=240)
    data["world"]["attack_pressure"] = 0.0
    clear, opaque = _runs(_with(data, transparency=0.9)), _runs(_with(data, transparency=0.0))
    diffs = [
        c.recorder.stocks[-30:, 0, TRUST].mean() - o.recorder.stocks[-30:, 0, TRUST].mean()
        for c, o in zip(clear, opaque, strict=True)
    ]
    assert all(d > 0.01 for d in diffs), diffs
    # the opaque brand's covert data (on-site behaviour) comes to light; the transparent one's
    # consumers mostly knew
    found = [m.recorder.counts[:, 0, EV["covert_discoveries"]].sum() for m in (*clear, *opaque)]
    assert sum(found[2:]) > 5 * max(sum(found[:2]), 1.0)


def test_covert_data_does_not_improve_relevance_for_free():
    # Aurora tracks across sites and films in store without saying so. Free covert data (nobody
    # ever notices) would leave trust higher than when its use can come to light.
    data = baseline_data(consumers=4000, days=180)
    data["world"]["attack_pressure"] = 0.0
    covert = ["contact", "purchase_history", "onsite_behaviour", "cross_site_tracking",
              "in_store_camera"]  # fmt: skip
    noticed = _with(data, transparency=0.0, data_collection=covert)
    free = copy.deepcopy(noticed)
    free["consent"] = {"covert_notice_rate": 0.0}
    with_cost, without = _runs(noticed), _runs(free)
    for a, b in zip(with_cost, without, strict=True):
        assert a.recorder.counts[:, 0, EV["covert_discoveries"]].sum() > 0
        assert b.recorder.counts[:, 0, EV["covert_discoveries"]].sum() == 0
        assert a.recorder.stocks[-30:, 0, TRUST].mean() < b.recorder.stocks[-30:, 0, TRUST].mean()


def test_a_breach_reveals_covert_data_to_those_who_did_not_know():
    # A breach of all Aurora's data on day 20, notified at once. Consumers of an opaque brand learn
    # that it held covert data on them; a fully transparent brand told everyone it asked.
    data = baseline_data(consumers=3000, days=40)
    data["world"]["attack_pressure"] = 0.0
    data["events"] = [
        {"day": 20, "kind": "breach", "brand": "Aurora", "records_share": 1.0,
         "data_types": ["contact", "purchase_history", "onsite_behaviour", "payment_card"]}
    ]  # fmt: skip
    found = {}
    for x in (0.0, 1.0):
        (m,) = _runs(_with(data, transparency=x, notify_within_days=0), reps=1)
        found[x] = m.recorder.counts[20, 0, EV["covert_discoveries"]]
    assert found[0.0] > 100
    assert found[1.0] < 0.5 * found[0.0]
    assert np.isfinite(found[1.0])
