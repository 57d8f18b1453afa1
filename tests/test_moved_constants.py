"""Numbers that used to be constants in the code are scenario parameters: an override by dotted path
changes the model, and the engine and the per-agent reference read the same parameter.

The case is the journey-length cap `journey.max_days` (J1; 60 days by default, once the constant
MAX_JOURNEY_DAYS of both implementations). With long journeys (research_days = 10, mean of a
geometric length), a cap of 1 day must (a) keep every consumer's days left at or below 1 on every
day, which the default cap does not (a geometric length of mean 10 exceeds 1 with probability 0.9),
and (b) raise purchases: a consumer starts a new journey only when idle, so shorter journeys mean
more journeys, hence more purchase decisions, in the same horizon. Then the engine and the
reference, both run with the override, must agree by the paired test of
tests/test_reference_agreement.py; as the engine's purchases move far more than the agreement
tolerance, a reference that ignored the override would fail it.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import TrustModel
from sim.reference import engine_summary
from sim.scenario.loading import apply_overrides

from .test_reference_agreement import agreement_scenario, compare, report

LONG = {"journey.research_days": 10.0}
CAPPED = {**LONG, "journey.max_days": 1}


def _scenario(overrides: dict, consumers: int = 400, days: int = 62):
    return apply_overrides(agreement_scenario(consumers=consumers, days=days), overrides)


def _max_days_left(scenario, seed: int = 3) -> int:
    model = TrustModel(scenario, seed=seed)
    most = int(model.population.journey_left.max())
    for _ in range(scenario.simulation.days):
        model.step()
        most = max(most, int(model.population.journey_left.max()))
    return most


def test_smaller_journey_cap_by_dotted_path_shortens_journeys():
    capped = _scenario(CAPPED)
    assert capped.journey.max_days == 1
    assert _max_days_left(capped) <= 1
    assert _max_days_left(_scenario(LONG)) > 1  # the check can fail: the default cap allows more


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_engine_and_reference_agree_on_the_overridden_cap():
    seeds = range(24)
    capped = _scenario(CAPPED, consumers=600, days=62)
    rows = {r[0]: r for r in compare(capped, seeds)}
    bad = [r for r in rows.values() if abs(r[3]) > r[5]]
    assert not bad, "engine and reference disagree under journey.max_days = 1:\n" + report(bad)

    # the override moved the model: the engine's total purchases without the cap, same seeds
    default = apply_overrides(capped, {"journey.max_days": 60})
    keys = [k for k in rows if k.startswith("purchases/")]
    uncapped = []
    for seed in seeds:
        model = TrustModel(default, seed=seed)
        model.run()
        summary = engine_summary(model)
        uncapped.append(sum(summary[k] for k in keys))
    capped_engine = sum(rows[k][1] for k in keys)
    capped_reference = sum(rows[k][2] for k in keys)
    tolerance = sum(rows[k][5] for k in keys)
    assert capped_engine > np.mean(uncapped) + 2 * tolerance, (capped_engine, np.mean(uncapped))
    assert capped_reference > np.mean(uncapped) + 2 * tolerance
