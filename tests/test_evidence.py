"""`omnitrust evidence`: the model's figures next to the published ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.analysis.evidence import FOLLOW_UP_DAYS, TARGETS
from sim.cli import main
from sim.runner import run

from .conftest import SCENARIOS


def test_evidence_command_reports_every_target(tmp_path, capsys):
    out = tmp_path / "evidence.csv"
    code = main(
        [
            "evidence",
            str(SCENARIOS / "baseline.toml"),
            "--consumers",
            "3000",
            "--replications",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table["target"]) == list(TARGETS)
    for name in TARGETS:
        assert name in printed
    values = table.set_index("target")["model"]
    # recomputed from the tidy table of the same runs (same seeds): the market-wide shares on the
    # last day, and e-mail rates as totals over emails sent, averaged over replications
    ts = run(SCENARIOS / "baseline.toml", consumers=3000, replications=2).timeseries
    ts = ts[ts["channel"] == "all"]
    last = ts[ts["day"] == ts["day"].max()]
    for share in ("multichannel_share", "store_only_share", "online_only_share"):
        expected = last[(last["metric"] == share) & (last["brand"] == "all")]["value"].mean()
        assert np.isclose(values[share], expected, rtol=1e-9, atol=1e-12), share
    brands = ts[ts["brand"] != "all"]
    per_rep = brands.pivot_table(
        index="replication", columns="metric", values="value", aggfunc="sum", observed=True
    )
    for target, counter in (
        ("unsubscribe_per_email", "unsubscribes"),
        ("complaint_per_email", "spam_complaints"),
    ):
        expected = (per_rep[counter] / per_rep["emails_sent"]).mean()
        assert np.isclose(values[target], expected, rtol=1e-9, atol=1e-12), target
    assert 0 < values["breach_stopped_dealing"] < 1
    assert values["breach_abnormal_churn"] > 0  # exposed customers leave more than others
    # each figure names who it counts, in the CSV and in the printed table
    assert list(table["denominator"]) == [t.denominator for t in TARGETS.values()]
    assert all(t.denominator for t in TARGETS.values())
    assert "counts, in the source and in the model, among" in printed
    # the breach figures pool one breach of each brand (sim/analysis/evidence.py)
    assert "breach of each brand in turn, pooled (Aurora, Borealis, Cirrus)" in printed
    # say and do: far more aware customers say they would leave than notified customers leave
    assert values["breach_stated_intent"] > values["breach_stopped_dealing"] + 0.2
    # the unexposed are defrauded only by background fraud: 1 - (1 - p/365)^days over the
    # follow-up (days BREACH_DAY..BREACH_DAY + FOLLOW_UP_DAYS), p = 4% a year; the notified
    # carry the breach's harm on top of it
    days = FOLLOW_UP_DAYS + 1
    expected = 1 - (1 - 0.04 / 365) ** days
    # two replications of ~3000 consumers; the figure pools the unexposed of one breach per brand,
    # so this bound is conservative
    se = np.sqrt(expected * (1 - expected) / 3000 / 2)
    assert abs(values["fraud_unexposed"] - expected) < 4 * se, values["fraud_unexposed"]
    assert values["fraud_after_notice"] > values["fraud_unexposed"]


def test_evidence_rejects_unknown_brand(capsys):
    code = main(["evidence", str(SCENARIOS / "baseline.toml"), "--brand", "Nobody"])
    assert code == 2
    assert "Nobody" in capsys.readouterr().err


def test_fraud_denominator_holds_exactly_the_cards_the_breach_exposed():
    """``fraud_after_notice`` is a share of the notified whose card the breached brand held. The
    holders are taken as the breach strikes (`_card_holders_at_breach`), so among the exposed
    they are the cards the exposure kernel (I5) charged a reissue for: with detection free and
    a reissue costing 1 EUR, the day's breach cost counts them independently of the mask."""
    from sim.analysis.evidence import BREACH_DAY, _card_holders_at_breach, breach_scenario
    from sim.core.catalogue import COVERT_MASK, DATA_BIT
    from sim.mechanisms.metrics import EVENT_COUNTERS
    from sim.model.market import TrustModel
    from sim.scenario.loading import load_scenario
    from sim.state.population import ACCOUNT

    scenario = breach_scenario(load_scenario(SCENARIOS / "baseline.toml"))
    m = TrustModel(
        scenario,
        overrides={
            "simulation.consumers": 8000,  # 6000 ties at the seventh fit's defaults
            "simulation.warmup_days": 120,
            "incidents.detection_cost_per_record": 0.0,
            "incidents.card_reissue_cost": 1.0,
            # nothing else on the breach day: no fine if the media find it at once, nobody
            # leaves the market that evening (a leaver's exposure is reset), no second breach
            "world.fine_share_of_revenue": 0.0,
            "population.turnover_per_year": 0.0,
            "world.attack_pressure": 0.0,
        },
    )
    while m.day < BREACH_DAY:
        m.step()
    pop = m.population  # the holders as the day starts, the measure before 2026-12-03:
    held = np.int64(m.brand_levers.scope[0]) & (pop.consent[:, 0].astype(np.int64) | COVERT_MASK)
    at_dawn = ((pop.flags[:, 0] & ACCOUNT) != 0) & ((held & DATA_BIT["payment_card"]) != 0)
    card = _card_holders_at_breach(m, 0)
    assert m.day == BREACH_DAY + 1
    assert [p.name for p in m.phases].count("incidents") == 1  # the phase list is as it was
    t0 = BREACH_DAY + m.warmup
    exposed = m.population.exposed_day[:, 0] == t0
    reissued = m.recorder.counts[BREACH_DAY, 0, EVENT_COUNTERS.index("breach_cost")]
    assert exposed.sum() > 200  # a breach of 30% of the records
    assert reissued > 100
    assert int((card & exposed).sum()) == int(reissued)
    assert int((at_dawn & exposed).sum()) != int(reissued)  # this case tells the two apart


def test_held_masks_is_the_kernels_held_mask_for_every_consumer():
    """`held_masks` (the card holders of the fraud figure) is C1's held mask, as the kernels'
    `held_mask` computes it consumer by consumer, for every brand of a live market."""
    from sim.mechanisms.consent import held_mask, held_masks
    from sim.model.market import TrustModel

    m = TrustModel(SCENARIOS / "baseline.toml", overrides={"simulation.consumers": 1500,
                                                           "simulation.warmup_days": 60,
                                                           "simulation.days": 5})  # fmt: skip
    m.run()
    pop, levers = m.population, m.brand_levers
    for b in range(len(m.brands)):
        each = [held_mask(pop, levers, i, b) for i in range(pop.size)]
        assert (np.array(each) != 0).sum() > 100, b
        assert (held_masks(pop, levers, b) == np.array(each)).all(), b
