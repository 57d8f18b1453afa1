"""One name per parameter: the kernels' tables carry every scenario field under its dotted path."""

from __future__ import annotations

import math

from sim.scenario import Scenario
from sim.state.parameters import SECTIONS, parameters

from .conftest import baseline_data


def test_every_section_field_reaches_the_kernels_under_its_own_name():
    data = baseline_data(consumers=100, days=10)
    data.setdefault("trust", {})["negative_weight"] = 2.75  # a value no default has
    data.setdefault("world", {})["privacy_concern_trend"] = 0.073
    sc = Scenario.model_validate(data)
    par = parameters(sc)
    for section in SECTIONS:
        expected = getattr(sc, section).model_dump()
        table = getattr(par, section)._asdict()
        assert table == expected, section  # same names, same values, nothing missing
    assert par.trust.negative_weight == 2.75
    # the per-day conversions, computed here independently from the stated formulas
    assert math.isclose(par.derived.concern_drift, 0.073 / 365)
    assert math.isclose(par.derived.decay, 2 ** (-1 / sc.trust.half_life_days))
    assert par.derived.n_brands == len(sc.brands)
