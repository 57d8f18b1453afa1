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


def _story(data: dict, day: int, reveals: bool) -> dict:
    d = copy.deepcopy(data)
    # A plain story names no brand (validation refuses a brand without reveals_covert, which
    # would be ignored); the revealing one names Aurora, whose covert data it exposes.
    story = {"day": day, "kind": "media_story", "severity": 0.5, "reveals_covert": reveals}
    if reveals:
        story["brand"] = "Aurora"
    d["events"] = [story]
    return d


def test_a_media_story_reveals_covert_data_and_the_opaque_brand_loses_more_trust():
    # A story on day 5 about Aurora's data practices reaches everyone (media_amplification 1).
    # Against the same story without the revelation (same seed, so every earlier draw is the same),
    # the opaque brand (transparency 0) loses more trust than the transparent one (1): its
    # consumers did not know it tracked them on site; the transparent brand's had been told (C7).
    data = baseline_data(consumers=2000, days=7, warmup=60)
    data["world"].update(attack_pressure=0.0, media_amplification=1.0)
    loss, found = {}, {}
    for x in (0.0, 1.0):
        d = _with(data, transparency=x)
        (plain,) = _runs(_story(d, 5, False), reps=1)
        (told,) = _runs(_story(d, 5, True), reps=1)
        # nothing differs before the story
        assert np.array_equal(plain.recorder.stocks[:5], told.recorder.stocks[:5])
        loss[x] = plain.recorder.stocks[5, 0, TRUST] - told.recorder.stocks[5, 0, TRUST]
        found[x] = (
            told.recorder.counts[5, 0, EV["covert_discoveries"]]
            - (plain.recorder.counts[5, 0, EV["covert_discoveries"]])
        )
        # only Aurora's covert data is revealed: the rivals' trust moves only through
        # feedback of the same day (none: the story is the last consumer rule before talk)
        assert told.recorder.counts[5, 1:, EV["covert_discoveries"]].sum() == (
            plain.recorder.counts[5, 1:, EV["covert_discoveries"]].sum()
        )
    assert found[0.0] > 200 and found[0.0] > 3 * found[1.0]
    assert loss[0.0] > 0.0 and loss[0.0] > 2 * max(loss[1.0], 0.0)


def _covert_market(seed: int) -> tuple[Scenario, TrustModel]:
    """A small market run for 3 days after a 40-day warm-up, Aurora holding three covert types
    (on-site behaviour, cross-site tracking, in-store camera) with low transparency, no attacks."""
    data = baseline_data(consumers=1500, days=3, warmup=40)
    data["world"]["attack_pressure"] = 0.0
    scenario = Scenario.model_validate(
        _with(data, transparency=0.3, data_collection=[
            "contact", "onsite_behaviour", "cross_site_tracking", "in_store_camera"])
    )  # fmt: skip
    m = TrustModel(scenario, seed=seed)
    m.run()
    return scenario, m


def _assert_covert_shock(scenario, m, s0, flags0, counts, hit, sigma) -> None:
    """Exactly the consumers ``hit`` took w_neg * e_covert * sigma about Aurora and became AWARE,
    each counted once as a covert discovery; nobody else and no other brand changed (ODD 7.3)."""
    from sim.state.population import AWARE

    pop = m.population
    expected = s0.copy()
    expected[hit, 0] += np.float32(
        scenario.trust.negative_weight * scenario.trust.covert_evidence * sigma
    )
    assert np.allclose(pop.s, expected, rtol=1e-6, atol=1e-6)
    assert ((pop.flags[hit, 0] & AWARE) != 0).all()
    assert (pop.flags[~hit] == flags0[~hit]).all()
    assert counts[0, EV["covert_discoveries"]] == hit.sum()
    assert counts[1:, EV["covert_discoveries"]].sum() == 0


def test_the_covert_reveal_of_a_breach_matches_its_equation():
    # C6, the kernel alone on a live population: each consumer exposed on the breach day whose
    # relation with Aurora holds covert types *that the breach took* and is not AWARE takes
    # w_neg * e_covert * sigma_max of those types. The breach takes one covert type of three
    # (on-site behaviour, sensitivity 0.3 where the brand's highest covert type has 0.9), so the
    # shock is the breach's, not the record's.
    from sim.core.catalogue import COVERT_MASK, DATA_TYPES, SENSITIVITY, mask_of
    from sim.mechanisms.consent import reveal
    from sim.state.population import ACCOUNT, AWARE

    scenario, m = _covert_market(seed=4)
    pop = m.population
    day = m.t
    assert (pop.exposed_day != day).all()
    pop.exposed_day[::3, 0] = day  # a third of the rows exposed today
    s0, flags0 = pop.s.copy(), pop.flags.copy()
    counts = np.zeros_like(m._counts)
    reveal(pop, m.brand_levers, m.params, 0, day, mask_of(["contact", "onsite_behaviour"]), counts)
    sigma = SENSITIVITY[DATA_TYPES.index("onsite_behaviour")]
    assert COVERT_MASK & mask_of(["onsite_behaviour"]) and sigma < 0.5
    # every Aurora record holds all its covert types (covert data needs no consent)
    exposed = pop.exposed_day[:, 0] == day
    revealed = exposed & ((flags0[:, 0] & ACCOUNT) != 0) & ((flags0[:, 0] & AWARE) == 0)
    assert revealed.sum() > 30
    _assert_covert_shock(scenario, m, s0, flags0, counts, revealed, sigma)


def test_the_covert_surprise_of_a_story_matches_its_equation():
    # The kernel alone on a live population: each consumer reached (reach 1 here) whose relation
    # with Aurora holds covert types and is not AWARE takes w_neg * e_covert * sigma_max of the
    # covert types held, and becomes AWARE (ODD 7.3, C7).
    from sim.core.catalogue import COVERT_MASK, DATA_TYPES, SENSITIVITY
    from sim.mechanisms.incidents import media_story
    from sim.state.population import ACCOUNT, AWARE

    scenario, m = _covert_market(seed=3)
    pop = m.population
    s0, flags0 = pop.s.copy(), pop.flags.copy()
    counts = np.zeros_like(m._counts)
    media_story(pop, m.brand_levers, m.params, np.uint64(12345), 0.0, 1.0, 0, counts)  # no news
    scope = [d for d in DATA_TYPES if d in scenario.brands[0].policy.data_collection]
    covert = [d for k, d in enumerate(DATA_TYPES) if COVERT_MASK >> k & 1 and d in scope]
    sigma = max(SENSITIVITY[DATA_TYPES.index(d)] for d in covert)
    # every Aurora record holds all its covert types (covert data needs no consent)
    surprised = ((flags0[:, 0] & ACCOUNT) != 0) & ((flags0[:, 0] & AWARE) == 0)
    assert surprised.sum() > 100
    _assert_covert_shock(scenario, m, s0, flags0, counts, surprised, sigma)
