"""The flows that let a quiet market stand still (issue 9, part 1; docs/ODD.md 5.1, 7.8, 7.11):
consumers leave and arrive, consent rounds lapse and are asked again, records are deleted under
the retention policy."""

from __future__ import annotations

import copy

import numpy as np

from sim.mechanisms.metrics import EV, MARKET_SHARES, STOCKS
from sim.mechanisms.turnover import leavers
from sim.model import TrustModel
from sim.reference import ReferenceModel
from sim.scenario import Scenario
from sim.state.population import LAYOUT

from .conftest import baseline_data, brand


def quiet(consumers=3000, days=120, warmup=0, **policy) -> dict:
    data = copy.deepcopy(baseline_data(consumers=consumers, days=days, replications=1))
    data["simulation"]["warmup_days"] = warmup
    data["world"]["attack_pressure"] = 0.0
    brand(data, "Aurora")["policy"].update(policy)
    return data


def test_leavers_follow_the_yearly_turnover():
    # a share T leaves in a year: daily p = 1 - (1 - T)^(1/365); over 365 days N * 365 * p leave,
    # Binomial, so the count is within 4 standard deviations of it
    n, t_year = 20_000, 0.1
    p = 1.0 - (1.0 - t_year) ** (1.0 / 365.0)
    total = sum(leavers(7, day, n, p).size for day in range(365))
    expected, sd = n * 365 * p, np.sqrt(n * 365 * p * (1 - p))
    assert abs(total - expected) < 4 * sd
    assert abs(expected / n - t_year) < 0.006  # ~ 10% of the market a year (compounding aside)
    assert leavers(7, 3, n, 0.0).size == 0


def test_leavers_are_the_consumers_whose_turnover_uniform_is_below_p():
    # N1 written out: the uniform of slot 0 of (seed, "turnover", day) per consumer, vectorised
    from sim.core.streams import stream_key, uniforms

    for n, p in (
        (20_000, 0.000289),
        (20_000, 0.05),
        (5_000, 0.3),
        (3_000, 1.0),
        (7, 0.5),
        (1, 1.0),
    ):
        for day in (0, 17, 400):
            want = np.flatnonzero(uniforms(stream_key(11, "turnover", day), n, 0) < p)
            got = leavers(11, day, n, p)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, want)
    assert leavers(11, 5, 3_000, 1.0).size == 3_000


def test_newcomers_arrive_with_no_relation_and_reputation_trust():
    data = quiet(consumers=1000, days=5)
    data["population"]["turnover_per_year"] = 1.0  # everyone leaves every day (p = 1)
    scenario = Scenario.model_validate(data)
    model = TrustModel(scenario, seed=3)
    model.run()
    pop = model.population
    assert pop.size == 1000  # arrays keep their size
    for name in ("consent", "asked", "flags", "harm_kind", "journey_left", "history"):
        assert not getattr(pop, name).any(), name
    for name in ("last_seen", "last_purchase", "exposed_day", "harm_day", "last_research"):
        assert (getattr(pop, name) == -1).all(), name
    # trust by reputation: r + s is the initial evidence E (section 5, step 7)
    assert np.allclose(pop.r + pop.s, scenario.trust.initial_evidence, atol=1e-5)
    # yesterday's customers departed: every brand counts them
    assert (model.recorder.counts[:, :, EV["departed_customers"]].sum(axis=0) > 0).all()


def test_a_newcomer_row_holds_every_fixed_start_value_of_the_layout():
    """N2 (docs/ODD.md 7.11): a newcomer has no relation, no journey, no history, no channel
    aversion and no fraud, i.e. every array whose `LAYOUT` start value is fixed holds that value in
    a re-born row. Before the day every such array holds another value, so a forgotten reset shows;
    the expected values are LAYOUT's, whatever the turnover kernel resets."""
    data = quiet(consumers=500, days=3)
    data["population"]["turnover_per_year"] = 1.0  # everyone leaves every day (p = 1)
    scenario = Scenario.model_validate(data)
    model = TrustModel(scenario, seed=4)
    pop = model.population
    fixed = {name: start for name, (_, _, start) in LAYOUT.items() if start is not None}
    assert {"wary", "wary_day", "fraud_day"} <= set(fixed)
    for name, start in fixed.items():
        # in range for the kernels that index with them: wary 2 is (brand 0, app), channel 2
        getattr(pop, name)[:] = 1 if start == 0 else 2
    model.step()
    for name, start in fixed.items():
        assert (getattr(pop, name) == start).all(), name
    # the drawn arrays: no journey under way, trust by reputation (section 5, step 7)
    assert not pop.journey_left.any()
    assert np.allclose(pop.r + pop.s, scenario.trust.initial_evidence, atol=1e-5)


PER_YEAR = 0.9  # background fraud (I9) per consumer-year in the same-day-leaver tests


def _everyone_leaves_daily(n: int, days: int) -> tuple[Scenario, float, float]:
    """Background fraud alone (I9) with everyone leaving the market every day (7.11), and the
    expected run total of consumers defrauded with its SD: each day's count is Binomial(N, p),
    p = background_fraud_per_year / 365."""
    data = quiet(consumers=n, days=days)
    data["population"]["turnover_per_year"] = 1.0
    data["incidents"] = {"base_hazard_per_year": 0.0, "background_fraud_per_year": PER_YEAR}
    p = PER_YEAR / 365.0
    return Scenario.model_validate(data), n * days * p, np.sqrt(n * days * p * (1 - p))


def test_the_frauds_of_a_day_count_the_consumers_who_leave_that_day():
    """fraud_victims_any (ODD 7.9) counts every consumer defrauded today, including those who
    leave the market later the same day (7.11 re-births their rows with no fraud). Background fraud
    alone (I9) with everyone leaving every day: each day's count is Binomial(N, p) with
    p = background_fraud_per_year / 365."""
    scenario, expected, sd = _everyone_leaves_daily(4000, 5)
    model = TrustModel(scenario, seed=6)
    model.run()
    victims = model.recorder.market[:, MARKET_SHARES.index("fraud_victims_any")].sum()
    assert abs(victims - expected) < 4 * sd, (victims, expected)
    assert (model.population.fraud_day == -1).all()  # today's victims have all left


def test_the_reference_model_counts_the_frauds_of_a_day_as_the_engine_does():
    """The twin of the test above for the per-agent reference (`sim.reference`), whose summary's
    ``fraud_victims_any`` (a run total) the agreement test compares with the engine's: every
    consumer defrauded today counts once, including those who leave the market the same day."""
    scenario, expected, sd = _everyone_leaves_daily(1500, 4)
    ref = ReferenceModel(scenario, seed=6)
    ref.run()
    victims = ref.summary()["fraud_victims_any"]
    assert abs(victims - expected) < 4 * sd, (victims, expected)
    assert victims > 0
    assert all(c.fraud_day == -1 for c in ref.consumers)  # today's victims have all left


def test_a_newcomer_of_the_reference_model_starts_with_no_aversion_and_no_fraud():
    """The per-agent twin of N2: after `move` a leaver's place holds a newcomer in the start state
    of a consumer (docs/ODD.md 2 and 7.11): no channel aversion, no fraud, no journey, no history,
    a fresh relation (reputation only) with every brand."""
    data = quiet(consumers=20, days=1)
    data["population"]["turnover_per_year"] = 1.0  # the consumer leaves (p = 1)
    scenario = Scenario.model_validate(data)
    c = ReferenceModel(scenario, seed=2).consumers[0]
    c.wary, c.wary_day, c.fraud_day = (0, "store"), 7, 9
    c.journey_left, c.journey_channels, c.last_research = 2, {"web"}, "web"
    c.bought = c.webroomed = c.showroomed = c.used_store = c.used_digital = True
    for rel in c.relations:
        rel.customer = rel.account = rel.heard = rel.harmed = True
        rel.consent, rel.asked, rel.last_seen, rel.exposed_day = {"contact"}, {"contact"}, 5, 5
    c.move()
    assert (c.wary, c.wary_day, c.fraud_day) == (None, -1, -1)
    assert (c.journey_left, c.journey_channels, c.last_research) == (0, set(), None)
    assert not (c.bought or c.webroomed or c.showroomed or c.used_store or c.used_digital)
    for rel in c.relations:
        assert rel == type(rel)(rel.r, rel.s)  # every other field at its default
        assert abs(rel.r + rel.s - scenario.trust.initial_evidence) < 1e-9


def _refused_everything(refresh_days: float) -> TrustModel:
    """A market in which every consumer has been asked everything and granted nothing (as after a
    refusal or a revocation), with trusting consumers and no turnover."""
    data = quiet(consumers=3000, days=150, consent_refresh_days=refresh_days)
    data["population"]["turnover_per_year"] = 0.0
    model = TrustModel(Scenario.model_validate(data), seed=5)
    model.population.asked[:] = 0xFF
    model.population.consent[:] = 0
    model.run()
    return model


def test_a_refusal_or_revocation_is_not_forever():
    # Aurora asks again every ~30 days on average; the others keep their (365-day) default. With a
    # 36,500-day refresh, a lapse within 150 days has probability ~0.4%: almost nobody is asked.
    short, long_ = _refused_everything(30.0), _refused_everything(36_500.0)
    a = 0  # Aurora
    grants_short = short.recorder.counts[:, a, EV["consents_granted"]].sum()
    grants_long = long_.recorder.counts[:, a, EV["consents_granted"]].sum()
    lapses_short = short.recorder.counts[:, a, EV["consent_lapses"]].sum()
    assert lapses_short > 0.5 * 3000  # 1 - exp(-150/30) = 99% of the rounds lapse at least once
    assert grants_short > 10 * max(grants_long, 1.0)
    consent = STOCKS.index("consent_rate")
    assert short.recorder.stocks[-1, a, consent] > 0.1


def test_retention_deletes_records_so_holdings_reach_a_balance():
    data_short = quiet(consumers=3000, days=300, data_retention_days=60)
    data_long = quiet(consumers=3000, days=300, data_retention_days=3650)
    records = STOCKS.index("records_held")
    short = TrustModel(Scenario.model_validate(data_short), seed=9)
    long_ = TrustModel(Scenario.model_validate(data_long), seed=9)
    short.run()
    long_.run()
    held_short = short.recorder.stocks[:, 0, records]
    held_long = long_.recorder.stocks[:, 0, records]
    assert held_short[-1] < held_long[-1]
    assert short.recorder.counts[:, 0, EV["accounts_deleted"]].sum() > 0
    # with 60-day retention the holdings have levelled off: the last two months are within 5%
    # of each other, while without deletion they still grow
    early, late = held_short[-120:-60].mean(), held_short[-60:].mean()
    assert abs(late / early - 1.0) < 0.05
    assert held_long[-60:].mean() > held_long[-120:-60].mean()
