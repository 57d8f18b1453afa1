"""The model's invariants, determinism and common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.core.catalogue import DATA_TYPES
from sim.mechanisms.trust import trust_matrix
from sim.model import TrustModel
from sim.runner import simulate
from sim.scenario import Scenario
from sim.state.population import create_population

from .conftest import baseline_data, variant

levels = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    transparency=levels,
    skill=levels,
    targeting=levels,
    integration=levels,
    security=levels,
    sharing=levels,
    emails=st.floats(0.0, 21.0),
    attack=st.floats(0.0, 20.0),
    contagion=levels,
    drift=st.floats(-0.5, 0.5),
    seed=st.integers(0, 2**32),
    n=st.integers(50, 600),
    scope=st.lists(st.sampled_from(DATA_TYPES), unique=True),
    turnover=levels,
    warmup=st.integers(0, 200),
)
def test_invariants_hold_for_any_valid_levers(
    transparency,
    skill,
    targeting,
    integration,
    security,
    sharing,
    emails,
    attack,
    contagion,
    drift,
    seed,
    n,
    scope,
    turnover,
    warmup,
):
    """Trust stays in [0, 1], nothing is NaN, consumers are conserved (leavers are replaced by
    newcomers, so the size is constant, and without turnover every row keeps its consumer),
    counts are non-negative."""
    data = baseline_data(consumers=n, days=60, warmup=warmup)
    data["population"]["turnover_per_year"] = turnover
    data["world"].update(attack_pressure=attack, contagion=contagion, privacy_concern_trend=drift)
    data["events"] = [
        {
            "day": 10,
            "kind": "breach",
            "brand": "Aurora",
            "records_share": 0.5,
            "data_types": ["contact", "payment_card", "social_login"],
        },
        {
            "day": 20,
            "kind": "third_party_leak",
            "records_share": 0.5,
            "data_types": ["contact", "social_login"],
        },
        {"day": 30, "kind": "media_story", "severity": 1.0},
    ]
    s = variant(
        data,
        "prop",
        transparency=transparency,
        personalization_skill=skill,
        email_targeting=targeting,
        omnichannel_integration=integration,
        security_investment=security,
        third_party_sharing=sharing,
        emails_per_week=emails,
        data_collection=scope,
    )
    model = TrustModel(s, seed=seed)
    segments = model.population.segment.copy()
    model.run()
    pop = model.population
    t = trust_matrix(pop, model.params)
    assert np.isfinite(t).all()
    assert (t >= 0).all() and (t <= 1).all()
    assert (pop.r >= 0).all() and (pop.s >= 0).all()
    assert pop.size == n
    if turnover == 0.0:
        assert np.array_equal(pop.segment, segments)
    assert ((pop.concern >= 0) & (pop.concern <= 1)).all()
    ts = model.timeseries()
    assert ts["value"].notna().all()
    flows = ts[
        ts["metric"].isin(
            [
                "emails_sent",
                "purchases",
                "revenue",
                "unsubscribes",
                "breach_cost",
                "consumers_exposed",
                "fraud_victims",
            ]
        )
    ]
    assert (flows["value"] >= 0).all()
    stocks = ts[ts["metric"].isin(["subscribers", "records_held", "active_customers"])]
    assert (stocks["value"] <= n).all()
    shares = ts[ts["metric"].str.endswith("_share")]
    assert ((shares["value"] >= 0) & (shares["value"] <= 1)).all()


def test_same_seed_same_numbers(small_baseline):
    s = Scenario.model_validate(small_baseline).with_overrides(days=90)
    a = simulate(s, replication=1, seed=7)
    b = simulate(s, replication=1, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = simulate(s, replication=2, seed=7)
    assert not np.array_equal(a["value"].to_numpy(), c["value"].to_numpy())


def test_levers_do_not_reshuffle_other_draws(small_baseline):
    """Common random numbers: the population and the needs do not depend on a brand's policy."""
    a = variant(small_baseline, "a", emails_per_week=0.5)
    b = variant(small_baseline, "b", emails_per_week=14.0, data_collection=["contact"])
    pa, pb = create_population(a, 11), create_population(b, 11)
    for name in ("segment", "concern", "affinity", "need_rate", "r", "s", "ties"):
        assert np.array_equal(getattr(pa, name), getattr(pb, name)), name
    ma, mb = TrustModel(a, seed=11), TrustModel(b, seed=11)
    for _ in range(3):
        ma.step()
        mb.step()
    # the days' needs arise for the same consumers (journeys started by email clicks aside)
    started_a = ma.population.history != 0
    started_b = mb.population.history != 0
    assert (started_a == started_b).mean() > 0.95


def test_model_is_a_mesa_model(small_baseline):
    import mesa

    s = Scenario.model_validate(small_baseline).with_overrides(days=5, consumers=200)
    model = TrustModel(s, seed=3)
    assert isinstance(model, mesa.Model)
    assert len(model.agents) == len(s.brands)
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()  # step 0 (end of warm-up) + 5 days
    assert (
        len(frame) == 6 and frame[[f"{b.name} trust" for b in s.brands]].stack().between(0, 1).all()
    )
    agents = model.datacollector.get_agent_vars_dataframe()
    assert len(agents) == 6 * len(s.brands)
