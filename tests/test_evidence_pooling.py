"""Evidence figures of a replication: one warm-up branched into the journey run and one breach run
per brand, and the breach figures pooled over the brands (`sim.analysis.evidence`).

The expected values are independent computations: every model built on its own (each spinning its
own warm-up up, no ``warm_start``), and the pooled shares counted by hand from the populations of
those models (numerators and denominators summed over the brands, then divided).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis import evidence
from sim.analysis.evidence import BREACH_DAY, BREACH_FIGURES, breach_scenario
from sim.calibration.measure import measure_task
from sim.cli import main
from sim.core.catalogue import DATA_BIT
from sim.core.streams import replication_seed, stream_key, uniforms
from sim.mechanisms.metrics import STOCKS
from sim.model import TrustModel
from sim.model.market import Phase
from sim.scenario import Scenario
from sim.scenario.loading import load_scenario
from sim.state.population import ACCOUNT, CHURNED, CUSTOMER, NOTIFIED

from .conftest import SCENARIOS, baseline_data

SEED = 7
REPLICATION = 0  # `evidence.measure`'s first replication uses this seed too


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario.model_validate(baseline_data(consumers=600, days=30, warmup=40))


class _BreachWatch(TrustModel):
    """Keeps, just before the incidents phase of the breach day, who has an account with each
    brand and gave it a payment card (``card_at_breach``, consumers x brands), and just after it
    whose record of each brand was exposed that day (``exposed_at_breach``: exposed_day holds
    the last breach that exposed a record, so a later breach of the brand overwrites it)."""

    def build_phases(self):
        phases = super().build_phases()

        def watch_cards(day):
            if day.t == BREACH_DAY + self.warmup:
                pop = day.population
                gave = (pop.consent & DATA_BIT["payment_card"]) > 0
                self.card_at_breach = ((pop.flags & ACCOUNT) > 0) & gave

        def watch_exposed(day):
            if day.t == BREACH_DAY + self.warmup:
                self.exposed_at_breach = day.population.exposed_day == day.t

        at = [p.name for p in phases].index("incidents")
        return [
            *phases[:at],
            Phase("watch cards", watch_cards),
            phases[at],
            Phase("watch exposed", watch_exposed),
            *phases[at + 1 :],
        ]


def _churned_without_breach(scenario: Scenario, seed: int) -> np.ndarray:
    """Who is CHURNED (consumers x brands) at the end of the breach runs' horizon in the same
    market without the breach the evidence schedules (the scenario's own events only): built on
    its own (its own warm-up) from the scenario's data, with the horizon set by hand (day 120 +
    365 days + the breach day itself)."""
    data = scenario.model_dump(mode="python")
    data["simulation"]["days"] = BREACH_DAY + 365 + 1
    m = TrustModel(Scenario.model_validate(data), seed=seed)
    assert m.scenario.events == scenario.events
    m.run()
    return (m.population.flags & CHURNED) > 0


def _independent_branch(
    scenario: Scenario, seed: int, b: int, quiet: np.ndarray | None = None
) -> dict[str, float]:
    """Brand b's breach run built on its own (its own warm-up), counted by hand; ``quiet`` is
    `_churned_without_breach` of the same scenario and seed (built here when None)."""
    if quiet is None:
        quiet = _churned_without_breach(scenario, seed)
    name = scenario.brands[b].name
    m = _BreachWatch(breach_scenario(scenario, name), seed=seed)
    assert m.scenario.events[-1].brand == name
    while m.day < BREACH_DAY:
        m.step()
    f = m.population.flags[:, b]
    customers = ((f & CUSTOMER) > 0) & ((f & CHURNED) == 0)
    m.run()
    # a card record as the breach struck (the watcher's, just before the incidents phase of the
    # breach day): the brand collects cards (its policy) and the consumer has an account and
    # consented to give it (cards are not covert data)
    collects_cards = "payment_card" in scenario.brands[b].policy.data_collection
    card = collects_cards & m.card_at_breach[:, b]
    pop, t0 = m.population, BREACH_DAY + m.warmup
    f = pop.flags[:, b]
    unexposed = ~(pop.exposed_day >= t0).any(axis=1)
    # in the market all year: no row re-born since the breach day (N1: U(turnover, 0) < p)
    p = 1.0 - (1.0 - scenario.population.turnover_per_year) ** (1.0 / 365.0)
    u = [uniforms(stream_key(seed, "turnover", t), pop.size, 0) for t in range(t0, m.t)]
    stayed = (np.array(u) >= p).all(axis=0)
    assert 0 < (~stayed).sum() < 0.2 * pop.size
    # the notified: exposed by this breach (the watcher's, after the incidents phase of its day)
    notified = ((f & NOTIFIED) > 0) & m.exposed_at_breach[:, b] & stayed
    # who the definition before 2026-12-03 also counted: notified stayers exposed only by a
    # later breach of the brand (exposed_day >= t0 at the end); and who exposed_day == t0 at
    # the end would miss: notified stayers exposed by this breach and again later
    old = ((f & NOTIFIED) > 0) & (pop.exposed_day[:, b] >= t0) & stayed
    churned = (f & CHURNED) > 0
    fraud = pop.fraud_day >= t0
    daily = m.recorder.stocks[BREACH_DAY:, b]
    aware_days = daily[:, STOCKS.index("breach_aware")] > 0
    return {
        "nc": np.count_nonzero(customers & notified),
        "nc_churned": np.count_nonzero(customers & notified & churned),
        "nc_churned_anyway": np.count_nonzero(customers & notified & quiet[:, b]),
        "n": np.count_nonzero(notified),
        "n_fraud": np.count_nonzero(notified & fraud),
        "n_card": np.count_nonzero(notified & card),
        "n_card_fraud": np.count_nonzero(notified & card & fraud),
        "u": np.count_nonzero(unexposed & stayed),
        "u_fraud": np.count_nonzero(unexposed & stayed & fraud),
        "stated": list(daily[aware_days, STOCKS.index("stated_intent_to_leave")]),
        "later_only": np.count_nonzero(old & ~notified),
        "again_later": np.count_nonzero(notified & (pop.exposed_day[:, b] > t0)),
    }


def _pooled_by_hand(branches: list[dict]) -> dict[str, float]:
    s = {k: sum(br[k] for br in branches) for k in branches[0] if k != "stated"}
    stated = [v for br in branches for v in br["stated"]]
    stopped = s["nc_churned"] / s["nc"]
    return {
        "breach_stopped_dealing": stopped,
        "breach_abnormal_churn": stopped - s["nc_churned_anyway"] / s["nc"],
        "breach_stated_intent": sum(stated) / len(stated),
        "fraud_after_notice": s["n_card_fraud"] / s["n_card"] if s["n_card"] else float("nan"),
        "fraud_unexposed": s["u_fraud"] / s["u"],
    }


@pytest.fixture(scope="module")
def independent(scenario) -> dict:
    """Journey model and every brand's breach run, each built and warmed up on its own."""
    rs = replication_seed(SEED, REPLICATION)
    journey = TrustModel(scenario, seed=rs, replication=REPLICATION)
    journey.run()
    quiet = _churned_without_breach(scenario, rs)
    branches = [_independent_branch(scenario, rs, b, quiet) for b in range(len(scenario.brands))]
    return {"journey": evidence.journey_figures(journey), "branches": branches}


def test_the_breach_figures_pool_every_brands_breach_as_counted_by_hand(scenario, independent):
    assert len(scenario.brands) >= 3
    branches = independent["branches"]
    # every brand's breach notified customers, and some of them churned in either run
    assert all(br["nc"] > 0 for br in branches)
    assert sum(br["nc_churned"] for br in branches) > 0
    assert sum(br["nc_churned_anyway"] for br in branches) > 0
    expected = _pooled_by_hand(branches)
    rs = replication_seed(SEED, REPLICATION)
    m, warm = evidence.start(scenario, rs, REPLICATION)
    got = evidence.breach_figures(scenario, rs, warm_start=warm)
    for name in BREACH_FIGURES:
        assert np.isclose(got[name], expected[name], rtol=1e-12, atol=1e-15), name
    # pooling is not the mean of the brands' shares: the brands notify different numbers
    per_brand = [_pooled_by_hand([br]) for br in branches]
    assert len({br["n"] for br in branches}) > 1
    for name in ("fraud_after_notice", "breach_stopped_dealing"):
        shares = [p[name] for p in per_brand if not np.isnan(p[name])]
        assert min(shares) <= got[name] <= max(shares)
    # fraud after notice counts only the notified whose card was held: a brand without cards adds
    # nothing to it (NaN alone), the brands with cards all of it
    cards = [b.name for b in scenario.brands if "payment_card" in b.policy.data_collection]
    assert 0 < len(cards) < len(scenario.brands)
    for p, b in zip(per_brand, scenario.brands, strict=True):
        assert np.isnan(p["fraud_after_notice"]) == (b.name not in cards)
    # one brand only (`omnitrust evidence --brand`): that brand's own shares
    for b, brand in enumerate(scenario.brands):
        one = evidence.breach_figures(scenario, rs, [brand.name], warm)
        for name in BREACH_FIGURES:
            assert np.isclose(
                one[name], per_brand[b][name], rtol=1e-12, atol=1e-15, equal_nan=True
            ), name


def test_the_notified_are_the_consumers_this_breach_exposed_not_a_later_one():
    """A second scheduled breach of Aurora 60 days into the follow-up exposes half its records:
    some consumers the day-120 breach missed (exposed_day, the LAST breach that exposed a record,
    is then >= day 120 for them too, and they are notified of the later breach) and some it hit
    (exposed_day > day 120 at the end). `breach_counts` counts as notified exactly the notified
    stayers the watcher saw exposed on day 120, with the fraud and churn among them."""
    data = Scenario.model_validate(baseline_data(consumers=1500, warmup=40)).model_dump()
    aurora = next(b for b in data["brands"] if b["name"] == "Aurora")
    second = {"day": BREACH_DAY + 60, "kind": "breach", "brand": "Aurora", "records_share": 0.5}
    data["events"] = [
        *data["events"],
        {**second, "data_types": aurora["policy"]["data_collection"]},
    ]
    scenario = Scenario.model_validate(data)
    assert "payment_card" in aurora["policy"]["data_collection"]
    rs = replication_seed(SEED, REPLICATION)
    quiet = _churned_without_breach(scenario, rs)
    hand = _independent_branch(scenario, rs, 0, quiet)
    got = evidence.breach_counts(TrustModel(breach_scenario(scenario, "Aurora"), seed=rs), 0, quiet)
    # the case tells the definitions apart: exposed_day >= day 120 at the end would add the
    # first group, == day 120 at the end would drop the second
    assert hand["later_only"] > 20 and hand["again_later"] > 20
    assert hand["n_card"] > 20 and hand["nc"] > 20
    pairs = {
        "notified": "n",
        "notified_defrauded": "n_fraud",
        "notified_card": "n_card",
        "notified_card_defrauded": "n_card_fraud",
        "notified_customers": "nc",
        "notified_customers_churned": "nc_churned",
        "notified_customers_churned_without_breach": "nc_churned_anyway",
        "unexposed": "u",
        "unexposed_defrauded": "u_fraud",
    }
    assert {k: got[k] for k in pairs} == {k: hand[h] for k, h in pairs.items()}


def test_a_calibration_replication_branches_one_warm_up_with_the_numbers_of_separate_models(
    scenario, independent
):
    outputs = [
        {"evidence": name, "metric": None}
        for name in ("multichannel_share", "webrooming_digital", *BREACH_FIGURES)
    ]
    data = scenario.model_dump(mode="json")
    got = measure_task((data, REPLICATION, SEED, outputs))
    expected = [
        independent["journey"][o["evidence"]]
        if o["evidence"] in independent["journey"]
        else _pooled_by_hand(independent["branches"])[o["evidence"]]
        for o in outputs
    ]
    # journey figures to the last bit; breach figures as shares of the same integer counts
    assert got[0] == expected[0] and got[1] == expected[1]
    np.testing.assert_allclose(got[2:], expected[2:], rtol=1e-12, atol=1e-15)


def test_branched_breach_runs_equal_separately_built_ones_to_the_last_bit(scenario, monkeypatch):
    rs = replication_seed(SEED, 0)
    _, warm = evidence.start(scenario, rs)
    assert warm is not None
    branched = evidence.breach_figures(scenario, rs, warm_start=warm)
    monkeypatch.setenv("OMNITRUST_BRANCH", "off")  # every branch spins its own warm-up up
    _, none = evidence.start(scenario, rs)
    assert none is None
    separate = evidence.breach_figures(scenario, rs)
    assert list(branched) == list(separate)
    for name in branched:
        assert branched[name] == separate[name] or (
            np.isnan(branched[name]) and np.isnan(separate[name])
        ), name


def test_evidence_measure_pools_by_default_and_takes_one_brand(scenario, independent):
    """`evidence.measure` (what `omnitrust evidence` prints) on one replication: the journey
    figures of the journey model and the pooled (or one brand's) breach figures."""
    table = evidence.measure(scenario, replications=1, seed=SEED).set_index("target")["model"]
    branches = independent["branches"]
    pooled = _pooled_by_hand(branches)
    for name in BREACH_FIGURES:
        assert np.isclose(table[name], pooled[name], rtol=1e-12, atol=1e-15), name
    for name, value in independent["journey"].items():
        assert table[name] == value, name
    name = scenario.brands[1].name
    one = evidence.measure(scenario, replications=1, seed=SEED, brand=name)
    one = one.set_index("target")["model"]
    alone = _pooled_by_hand([branches[1]])
    for fig in BREACH_FIGURES:
        assert np.isclose(one[fig], alone[fig], rtol=1e-12, atol=1e-15, equal_nan=True), fig


def test_evidence_brand_option_names_the_allowed_brands(capsys):
    code = main(["evidence", str(SCENARIOS / "baseline.toml"), "--brand", "Nobody"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--brand" in err and "Nobody" in err and "Traceback" not in err
    assert all(b in err for b in ("Aurora", "Borealis", "Cirrus"))


def test_a_brand_that_collects_nothing_is_not_breached(tmp_path, capsys):
    f = tmp_path / "nothing.toml"
    f.write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
        '[[brands]]\nname = "Cirrus"\n[brands.policy]\ndata_collection = []\n'
    )
    assert evidence.breached_brands(load_scenario(f)) == ["Aurora", "Borealis"]
    assert main(["evidence", str(f), "--brand", "Cirrus", "--consumers", "100"]) == 2
    err = capsys.readouterr().err
    assert "--brand = 'Cirrus'" in err and "collects no data" in err and str(f) in err
    assert "Aurora, Borealis" in err and "Traceback" not in err


def test_a_brand_the_scenario_itself_exposes_on_the_breach_day_is_left_out(tmp_path, capsys):
    """Exposure is dated by the day only: a scenario's own breach of Aurora on day 120 (the
    bundled breach_data_maximalist) would add its exposed to the notified of the evidence's
    breach and put itself in the run without it. Aurora is left out, and said to be; a
    third-party leak that day exposes every brand."""
    f = SCENARIOS / "breach_data_maximalist.toml"
    own = load_scenario(f)
    assert [(e.kind, e.day, e.brand) for e in own.events] == [("breach", 120, "Aurora")]
    assert evidence.breached_brands(own) == ["Borealis", "Cirrus"]
    assert main(["evidence", str(f), "--brand", "Aurora", "--consumers", "100"]) == 2
    err = capsys.readouterr().err
    assert "--brand = 'Aurora'" in err and "own breach of it is on day 120" in err, err
    assert "Borealis, Cirrus" in err and "Traceback" not in err
    leak = tmp_path / "leak.toml"
    leak.write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
        '[[events]]\nday = 120\nkind = "third_party_leak"\nrecords_share = 0.5\n'
        'data_types = ["social_login"]\n'
    )
    assert evidence.breached_brands(load_scenario(leak)) == []
    moved = tmp_path / "moved.toml"  # the same leak a day later leaves every brand in
    moved.write_text(leak.read_text().replace("day = 120", "day = 121"))
    assert evidence.breached_brands(load_scenario(moved)) == ["Aurora", "Borealis", "Cirrus"]


def test_the_market_without_the_breach_differs_from_a_breach_run_by_that_breach_only(scenario):
    """Abnormal churn subtracts the notified customers' churn in `follow_up_scenario`: it must be
    the breach runs' market (horizon: the breach day, then 365 days) with the scenario's own
    events and nothing else changed."""
    quiet = evidence.follow_up_scenario(scenario)
    for brand in scenario.brands:
        breach = breach_scenario(scenario, brand.name)
        assert quiet.simulation.days == breach.simulation.days == BREACH_DAY + 365 + 1
        assert breach.events[:-1] == scenario.events == quiet.events
        assert breach.events[-1].kind == "breach" and breach.events[-1].day == BREACH_DAY
        a, b = quiet.model_dump(mode="json"), breach.model_dump(mode="json")
        a.pop("events"), b.pop("events")
        assert a == b
