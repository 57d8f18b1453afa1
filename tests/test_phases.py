"""The day as a list of phases: printable, reorderable in a subclass, timed on request."""

from __future__ import annotations

import time

import pandas as pd

from sim.model import TrustModel
from sim.model.market import Phase
from sim.scenario import Scenario

from .conftest import baseline_data

# docs/ODD.md, section 3 "Process overview and scheduling", in order
ODD_ORDER = [
    "needs",
    "research",
    "outreach",
    "purchase",
    "incidents",
    "word_of_mouth",
    "forgetting",
    "churn",
    "turnover",
    "costs",
]


def _scenario(days: int = 30) -> Scenario:
    data = baseline_data(consumers=600, days=days, replications=1)
    data["simulation"]["warmup_days"] = 10
    return Scenario.model_validate(data)


def _run(model: TrustModel) -> pd.DataFrame:
    model.run()
    return model.timeseries()


def test_the_day_is_the_documented_list_of_phases_and_prints_numbered():
    model = TrustModel(_scenario())
    assert [p.name for p in model.phases] == ODD_ORDER
    text = str(model.phases)
    lines = text.splitlines()
    assert len(lines) == len(ODD_ORDER)
    for k, (line, name) in enumerate(zip(lines, ODD_ORDER, strict=True), 1):
        assert line.startswith(f"{k}. {name}")
    assert "journey.research_phase" in text and "Incidents.phase" in text


def test_timings_add_up_every_phase_and_change_no_number():
    sc = _scenario()
    plain = _run(TrustModel(sc, seed=5))
    start = time.perf_counter()
    timed_model = TrustModel(sc, seed=5, timings=True)  # builds: the warm-up days, timed too
    timed = _run(timed_model)
    wall = time.perf_counter() - start
    pd.testing.assert_frame_equal(plain, timed)
    assert set(timed_model.phase_times) == {*ODD_ORDER, "record"}
    assert all(v > 0.0 for v in timed_model.phase_times.values()), timed_model.phase_times
    # the phases run one after the other (warm-up days in the constructor, then run()): their
    # times cannot add up to more than the wall time around both
    assert sum(timed_model.phase_times.values()) <= wall, (timed_model.phase_times, wall)
    assert sum(TrustModel(sc, seed=5).phase_times.values()) == 0.0  # off unless asked


def test_a_subclass_reorders_removes_and_adds_phases():
    sc = _scenario()
    calls: list[int] = []

    class SameDay(TrustModel):
        def build_phases(self):
            return super().build_phases()

    class ForgetFirst(TrustModel):
        def build_phases(self):
            phases = {p.name: p for p in super().build_phases()}
            order = ["forgetting", *(n for n in ODD_ORDER if n != "forgetting")]
            return [phases[n] for n in order]

    class NoWordOfMouth(TrustModel):
        def build_phases(self):
            return [p for p in super().build_phases() if p.name != "word_of_mouth"]

    class Counted(TrustModel):
        def build_phases(self):
            return [*super().build_phases(), Phase("census", lambda day: calls.append(day.t))]

    base = _run(TrustModel(sc, seed=3))
    pd.testing.assert_frame_equal(base, _run(SameDay(sc, seed=3)))
    trust = base["metric"] == "trust"
    for cls in (ForgetFirst, NoWordOfMouth):
        other = _run(cls(sc, seed=3))
        assert list(other.columns) == list(base.columns)
        assert (
            not other.loc[trust, "value"]
            .reset_index(drop=True)
            .equals(base.loc[trust, "value"].reset_index(drop=True))
        ), f"{cls.__name__} ran the same day as the default"
    counted = Counted(sc, seed=3)
    pd.testing.assert_frame_equal(base, _run(counted))
    assert calls == list(range(10 + 30))  # once a day, warm-up included, in order
    assert counted.phases[-1].name == "census"
