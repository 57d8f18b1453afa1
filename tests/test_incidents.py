"""Incidents: scheduled breaches, response, security and data scope (issue 3)."""

from __future__ import annotations

import copy

import numpy as np

from sim.core.catalogue import DATA_TYPE_PROPS, DATA_TYPES
from sim.mechanisms.metrics import MARKET_SHARES, STOCKS
from sim.model import TrustModel
from sim.runner import run
from sim.scenario import Scenario
from sim.state.population import HEARD

from .conftest import baseline_data, brand, variant

ALL_TYPES = list(DATA_TYPES)
BREACH_DAY = 100


def daily(result, scenario, metric, brand_name):
    ts = result.timeseries
    sel = ts[
        (ts["scenario"] == scenario)
        & (ts["metric"] == metric)
        & (ts["brand"] == brand_name)
        & (ts["channel"] == "all")
    ]
    return sel.pivot_table(index="day", columns="replication", values="value", observed=True)


def with_breach(data, name, share=0.5, types=ALL_TYPES, **policy):
    d = copy.deepcopy(data)
    d["events"] = [
        {
            "day": BREACH_DAY,
            "kind": "breach",
            "brand": "Aurora",
            "records_share": share,
            "data_types": types,
        }
    ]
    return variant(d, name, **policy)


def test_breach_drops_breached_brand_sharply_more_than_rivals_then_recovers_in_part():
    data = baseline_data(consumers=5000, days=BREACH_DAY + 240, replications=2)
    policy = dict(data_collection=ALL_TYPES, notify_within_days=2)
    breached = with_breach(data, "breach", **policy)
    calm = variant(data, "calm", **policy)
    result = run([breached, calm], seed=8)
    drop = {}
    for b in ("Aurora", "Borealis", "Cirrus"):
        before = daily(result, "breach", "trust", b).loc[BREACH_DAY - 1]
        after = daily(result, "breach", "trust", b).loc[BREACH_DAY + 7]
        drop[b] = before - after
    assert (drop["Aurora"] > 0.02).all(), drop["Aurora"].tolist()  # sharp: within a week
    assert (drop["Aurora"] > drop["Borealis"]).all() and (drop["Aurora"] > drop["Cirrus"]).all()
    # against the same world without the breach
    gap = daily(result, "calm", "trust", "Aurora") - daily(result, "breach", "trust", "Aurora")
    worst = gap.loc[BREACH_DAY : BREACH_DAY + 60].max()
    late = gap.loc[BREACH_DAY + 220 :].mean()
    assert (late < worst).all(), (worst.tolist(), late.tolist())  # recovers part of the way
    assert (late > 0).all()  # ... but not all of it


def test_fast_notice_with_compensation_loses_less_than_late_notice_without():
    data = baseline_data(consumers=5000, days=BREACH_DAY + 200, replications=2)
    fast = with_breach(
        data,
        "fast",
        notify_within_days=2,
        compensation="credit_monitoring",
        data_collection=ALL_TYPES,
    )
    late = with_breach(
        data, "late", notify_within_days=60, compensation="none", data_collection=ALL_TYPES
    )
    result = run([fast, late], seed=9)
    window = slice(BREACH_DAY + 60, BREACH_DAY + 199)
    tf = daily(result, "fast", "trust", "Aurora").loc[window].mean()
    tl = daily(result, "late", "trust", "Aurora").loc[window].mean()
    assert (tf > tl).all(), (tf.tolist(), tl.tolist())
    # (Purchases over the window are not asserted: no source says fast notice sells more, and
    # since round 25's eighth fit, whose notice shock is small and covert-data shock larger, the
    # fast notice's purchases here are 0.8% below the late one's in both replications; the
    # bundled report ranks the fast response last on net value for its own reasons:
    # docs/EXPERIMENTS.md, "Why the fast breach response ranks low".)


def test_security_investment_gives_fewer_breaches_and_lower_expected_cost():
    data = baseline_data(consumers=1500, days=365, replications=24)
    data["world"]["attack_pressure"] = 8.0
    weak = variant(data, "weak", security_investment=0.1, data_collection=ALL_TYPES)
    strong = variant(data, "strong", security_investment=0.9, data_collection=ALL_TYPES)
    result = run([weak, strong], seed=10)
    breaches_weak = daily(result, "weak", "breaches", "Aurora").to_numpy().sum()
    breaches_strong = daily(result, "strong", "breaches", "Aurora").to_numpy().sum()
    assert breaches_weak > 2 * max(breaches_strong, 1), (breaches_weak, breaches_strong)
    cost_weak = daily(result, "weak", "breach_cost", "Aurora").sum().mean()
    cost_strong = daily(result, "strong", "breach_cost", "Aurora").sum().mean()
    assert cost_weak > cost_strong


def test_fewer_data_types_shrink_the_harm_of_the_same_breach():
    data = baseline_data(consumers=5000, days=BREACH_DAY + 120, replications=2)
    data["incidents"] = {"base_hazard_per_year": 0.0}
    rich = with_breach(data, "rich", data_collection=ALL_TYPES)
    lean = with_breach(data, "lean", data_collection=["contact", "purchase_history"])
    result = run([rich, lean], seed=11)
    harm = {}
    for name in ("rich", "lean"):
        harm[name] = sum(
            daily(result, name, m, "Aurora").sum()
            for m in ("fraud_victims", "takeover_victims", "phishing_victims")
        )
    assert (harm["rich"] > harm["lean"]).all(), harm
    window = slice(BREACH_DAY + 30, BREACH_DAY + 119)
    drop = {
        n: (
            daily(result, n, "trust", "Aurora").loc[BREACH_DAY - 1]
            - daily(result, n, "trust", "Aurora").loc[window].mean()
        )
        for n in ("rich", "lean")
    }
    assert (drop["rich"] > drop["lean"]).all(), drop


def test_contagion_hits_rivals_and_switching_is_measured():
    """Both channels to rivals are present: the trust spillover (rivals lose trust with contagion
    > 0, not with 0) and switching (without contagion, rivals sell more than in the same world
    without the breach). The net effect on rivals' sales is measured, not assumed."""
    data = baseline_data(consumers=5000, days=BREACH_DAY + 90, replications=2)
    with_c = with_breach(copy.deepcopy(data), "contagion", share=0.8, notify_within_days=2)
    d0 = copy.deepcopy(data)
    d0["world"]["contagion"] = 0.0
    without = with_breach(d0, "no_contagion", share=0.8, notify_within_days=2)
    calm0 = variant(d0, "calm_no_contagion", notify_within_days=2)
    result = run([with_c, without, calm0], seed=12)
    day = BREACH_DAY + 10
    for rival in ("Borealis", "Cirrus"):
        t_with = daily(result, "contagion", "trust", rival).loc[day]
        t_without = daily(result, "no_contagion", "trust", rival).loc[day]
        assert (t_with < t_without).all(), rival
    after = slice(BREACH_DAY, BREACH_DAY + 89)

    def rival_sales(name):
        return sum(
            daily(result, name, "purchases", r).loc[after].to_numpy().sum()
            for r in ("Borealis", "Cirrus")
        )

    assert rival_sales("no_contagion") > rival_sales("calm_no_contagion")  # switchers
    # the spillover costs rivals sales: the same breach with contagion leaves them fewer sales
    # than without it (the net effect against the calm world is an output, whatever its sign)
    assert rival_sales("contagion") < rival_sales("no_contagion")


def test_third_party_leak_and_media_story_lower_sector_trust():
    data = baseline_data(consumers=4000, days=120, replications=1)
    brand(data, "Borealis")["policy"]["data_collection"] = ["contact", "social_login"]
    calm = Scenario.model_validate({**copy.deepcopy(data), "name": "calm"})
    leak = copy.deepcopy(data)
    leak["name"] = "leak"
    leak["events"] = [
        {
            "day": 30,
            "kind": "third_party_leak",
            "records_share": 0.9,
            "data_types": ["contact", "social_login"],
        },
        {"day": 60, "kind": "media_story", "severity": 1.0},
    ]
    result = run([calm, Scenario.model_validate(leak)], seed=13)
    for b in ("Aurora", "Borealis", "Cirrus"):
        assert (
            daily(result, "leak", "trust", b).loc[80].iloc[0]
            < daily(result, "calm", "trust", b).loc[80].iloc[0]
        ), b


# -- issue 9: breach size, channel, say and do, background fraud, candour ------------------------
EARLY = 20  # breach day of the tests that step a model themselves (short runs)


def stepped(data: dict, until: int, seed: int) -> TrustModel:
    """A model of ``data`` stepped through reported day ``until`` (inclusive)."""
    m = TrustModel(Scenario.model_validate(data), seed=seed)
    while m.day <= until:
        m.step()
    return m


def quiet_breach_data(share: float, types: list[str], consumers: int = 6000, **policy) -> dict:
    """Baseline without stochastic breaches or word of mouth, Aurora holding every data type and
    notifying on the breach day: the news reach of the breach is what the disclosure rule makes."""
    d = baseline_data(consumers=consumers, days=EARLY + 120, replications=1)
    d["incidents"] = {"base_hazard_per_year": 0.0}
    d["trust"] = {"talk_rate": 0.0}
    brand(d, "Aurora")["policy"].update(data_collection=ALL_TYPES, notify_within_days=0, **policy)
    d["events"] = [
        {
            "day": EARLY,
            "kind": "breach",
            "brand": "Aurora",
            "records_share": share,
            "data_types": types,
        }
    ]
    return d


def expected_reach(m: TrustModel, share: float, types: list[str]) -> float:
    """reach = 1 - (1 - m)^L, L = S (x / x_ref)^eta, x = share x records held the day before / N
    (ODD 7.10, I6), computed from the scenario's values and the catalogue's sensitivities."""
    sc = m.scenario
    records = m.recorder.stocks[EARLY - 1, 0, STOCKS.index("records_held")]
    x = share * records / sc.simulation.consumers
    severity = 0.5 + max(DATA_TYPE_PROPS[t].sensitivity for t in types)
    loud = severity * (x / sc.incidents.reach_reference_share) ** sc.incidents.reach_elasticity
    return 1.0 - (1.0 - sc.world.media_amplification) ** loud


def heard_share(m: TrustModel) -> tuple[float, int]:
    """Share of consumers not exposed in Aurora's breach who heard of it, and how many there are."""
    pop = m.population
    others = pop.exposed_day[:, 0] != EARLY + m.warmup
    heard = (pop.flags[others, 0] & HEARD) != 0
    return float(heard.mean()), int(others.sum())


def test_bigger_and_more_sensitive_breaches_reach_more_consumers_and_hit_harder():
    cases = {
        "small": (0.05, ["contact", "payment_card"]),
        "big": (0.8, ["contact", "payment_card"]),
        "mild": (0.8, ["contact"]),
    }
    reach, drop = {}, {}
    for name, (share, types) in cases.items():
        m = stepped(quiet_breach_data(share, types), EARLY, seed=21)
        observed, n_others = heard_share(m)
        expected = expected_reach(m, share, types)
        se = np.sqrt(expected * (1 - expected) / n_others)
        assert abs(observed - expected) < 4 * se + 1e-9, (name, observed, expected)
        reach[name] = observed
        trust = m.recorder.stocks[:, 0, STOCKS.index("trust")]
        drop[name] = trust[EARLY - 1] - trust[EARLY]
    assert reach["big"] > reach["small"] + 0.05, reach  # size: (0.8 / 0.05)^0.5 = 4x louder
    assert reach["big"] > reach["mild"] + 0.05, reach  # sensitivity: S 1.1 vs 0.7
    assert drop["big"] > drop["small"] and drop["big"] > drop["mild"], drop


def test_rival_holding_the_breached_data_loses_trust_one_that_does_not_gains_customers():
    """Contagion vs competition (I6): a card breach at Aurora spills onto a rival in proportion to
    the share of the breach's sensitivity it also holds (contact 0.2 + card 0.6 -> 1 for a rival
    with both, 0.25 for a rival with contact only). The rival without cards is hit 4x less, so it
    loses less trust and gains more of the customers who turn from Aurora, against the same
    market without the breach."""
    result_rows = {}
    for rival_cards in (True, False):
        d = baseline_data(consumers=5000, days=BREACH_DAY + 90, replications=2)
        d["incidents"] = {"base_hazard_per_year": 0.0}
        scope = ["contact", "purchase_history", "onsite_behaviour"]
        brand(d, "Borealis")["policy"]["data_collection"] = scope + (
            ["payment_card"] if rival_cards else []
        )
        breach = with_breach(
            d, "breach", share=0.8, types=["contact", "payment_card"], notify_within_days=2
        )
        calm = variant(d, "calm", notify_within_days=2)
        result = run([breach, calm], seed=14)
        window = slice(BREACH_DAY + 5, BREACH_DAY + 89)
        trust = {n: daily(result, n, "trust", "Borealis").loc[window] for n in ("breach", "calm")}
        sales = {n: daily(result, n, "purchases", "Borealis").loc[window] for n in trust}
        result_rows[rival_cards] = (
            trust["calm"].mean() - trust["breach"].mean(),
            sales["breach"].sum() - sales["calm"].sum(),
        )
    loss_cards, gain_cards = result_rows[True]
    loss_plain, gain_plain = result_rows[False]
    assert (loss_cards > loss_plain).all(), (loss_cards.tolist(), loss_plain.tolist())
    assert gain_plain.sum() > gain_cards.sum(), (gain_plain.tolist(), gain_cards.tolist())
    assert (gain_plain > 0).all()  # the safe-looking rival wins customers


def test_media_framed_story_spills_more_onto_peers_than_one_the_brand_tells():
    """I6: spillover to a peer is contagion x overlap x (1 + media_framing) when the media break
    the story, without the factor when the brand notifies. The ratio of a peer's new negative
    evidence to the breached brand's on the day the breach becomes public estimates the spill
    factor (exposed and news shocks alike pass through it), so it doubles with framing 1."""
    ratios = {}
    for name, leak in (("media", 1.0), ("brand", 0.0)):
        d = quiet_breach_data(0.5, ["contact", "payment_card"], consumers=4000)
        brand(d, "Aurora")["policy"]["notify_within_days"] = 5
        brand(d, "Borealis")["policy"]["data_collection"] = ALL_TYPES  # overlap 1
        d["incidents"]["media_leak_rate"] = leak
        d["incidents"]["background_fraud_per_year"] = 0.0
        d["outreach"] = {"subscribe_probability": 0.0}  # no spam evidence in the window
        m = TrustModel(Scenario.model_validate(d), seed=22)
        public = EARLY if leak else EARLY + 5
        while m.day < public:
            m.step()
        s_before = m.population.s.astype(np.float64).sum(axis=0)
        m.step()
        # today's evidence is forgotten once tonight (T2) like yesterday's stock
        gained = m.population.s.astype(np.float64).sum(axis=0) / m.params.derived.decay - s_before
        ratios[name] = gained[1] / gained[0]
    contagion = 0.25  # world.contagion of the baseline
    framing = 1.0  # incidents.media_framing default
    assert abs(ratios["brand"] - contagion) < 0.05, ratios
    assert abs(ratios["media"] - contagion * (1 + framing)) < 0.08, ratios


def test_store_breach_moves_the_brands_purchases_out_of_its_stores():
    """I8: consumers who learn of a point-of-sale breach weigh Aurora's store by their comfort
    (< 1), so Aurora's store share of purchases falls against the same breach tied to no channel;
    the other brands' store share is not lowered."""
    d = baseline_data(consumers=5000, days=BREACH_DAY + 90, replications=2)
    d["incidents"] = {"base_hazard_per_year": 0.0}
    d["world"] = {"media_amplification": 0.6}
    d["events"] = [
        {
            "day": BREACH_DAY,
            "kind": "breach",
            "brand": "Aurora",
            "records_share": 0.8,
            "data_types": ["contact", "payment_card"],
        }
    ]
    anywhere = variant(d, "anywhere", notify_within_days=2)
    d["events"][0]["channel"] = "store"
    store = variant(d, "store", notify_within_days=2)
    result = run([store, anywhere], seed=15)
    ts = result.timeseries
    after = ts[(ts["metric"] == "purchases") & (ts["day"] > BREACH_DAY + 2)]

    def store_share(name, b):
        sel = after[
            (after["scenario"] == name) & (after["brand"] == b) & (after["channel"] != "all")
        ]
        by = sel.groupby(["replication", "channel"], observed=True)["value"].sum().unstack()
        return by["store"] / by.sum(axis=1)

    assert (store_share("store", "Aurora") < store_share("anywhere", "Aurora") - 0.01).all()
    assert (store_share("store", "Cirrus") >= store_share("anywhere", "Cirrus") - 0.01).all()


def test_stated_intent_to_leave_exceeds_churn_and_depends_on_rivals():
    """Say and do: a breach-aware customer says it would stop buying when it trusts a rival more
    (a survey answer compares brands and costs nothing), but leaves only once trust falls below
    the churn threshold (L1). After a breach the stated share is far above the churned share. With
    full contagion (every rival holding the same data takes the same shock) the ranking of
    brands is kept, so fewer say they would leave than without contagion."""
    d = baseline_data(consumers=5000, days=BREACH_DAY + 120, replications=2)
    d["incidents"] = {"base_hazard_per_year": 0.0}
    for b in d["brands"]:
        b["policy"]["data_collection"] = ALL_TYPES
    low = copy.deepcopy(d)
    low["world"]["contagion"] = 0.0
    high = copy.deepcopy(d)
    high["world"]["contagion"] = 1.0
    r = run([with_breach(low, "isolated"), with_breach(high, "sector")], seed=16)
    day = BREACH_DAY + 119
    said = daily(r, "isolated", "stated_intent_to_leave", "Aurora").loc[day]
    done = daily(r, "isolated", "breach_aware_churned", "Aurora").loc[day]
    aware = daily(r, "isolated", "breach_aware", "Aurora").loc[day]
    assert (aware > 100).all()
    assert (said > done + 0.3).all(), (said.tolist(), done.tolist())
    before = daily(r, "isolated", "breach_aware", "Aurora").loc[BREACH_DAY - 1]
    assert (before == 0).all()  # nobody is aware of a breach that has not happened
    said_sector = daily(r, "sector", "stated_intent_to_leave", "Aurora").loc[day]
    assert (said_sector < said).all(), (said_sector.tolist(), said.tolist())


def test_background_fraud_hits_unexposed_consumers_at_the_documented_rate():
    """I9: each consumer is defrauded with probability p/365 a day whatever its exposure, so the
    share of consumers defrauded at least once in D days is 1 - (1 - p/365)^D."""
    d = baseline_data(consumers=20000, days=365, replications=1)
    d["incidents"] = {"base_hazard_per_year": 0.0, "background_fraud_per_year": 0.08}
    d["population"]["turnover_per_year"] = 0.0  # a newcomer's row (7.11) starts with no fraud
    m = TrustModel(Scenario.model_validate(d), seed=23)
    m.run()
    pop = m.population
    hit = (pop.fraud_day >= m.warmup).mean()
    expected = 1 - (1 - 0.08 / 365) ** 365
    se = np.sqrt(expected * (1 - expected) / pop.fraud_day.size)
    assert abs(hit - expected) < 4 * se, (hit, expected)
    victims = m.recorder.market[:, MARKET_SHARES.index("fraud_victims_any")].sum()
    assert victims >= (pop.fraud_day >= m.warmup).sum()  # daily counts cover every last victim
    d["incidents"]["background_fraud_per_year"] = 0.0
    m0 = TrustModel(Scenario.model_validate(d), seed=23)
    m0.run()
    assert (m0.population.fraud_day < 0).all()
    trust = STOCKS.index("trust")
    assert (m.recorder.stocks[-1, :, trust] < m0.recorder.stocks[-1, :, trust]).all()


def test_candid_notice_softens_the_shock_and_costs_what_the_schema_says():
    """Candour (I6, I4): a fully candid notice takes candour_softening of the disclosure and news
    shock away, so trust falls less; it costs candour_cost per notified consumer. Without other
    breaches the two runs are identical until the notice, so the cost difference is exact."""
    d = baseline_data(consumers=5000, days=BREACH_DAY + 60, replications=2)
    d["incidents"] = {"base_hazard_per_year": 0.0}
    candid = with_breach(d, "candid", notify_within_days=2, breach_candour=1.0)
    minimal = with_breach(d, "minimal", notify_within_days=2, breach_candour=0.0)
    r = run([candid, minimal], seed=17)
    window = slice(BREACH_DAY + 3, BREACH_DAY + 59)
    tc = daily(r, "candid", "trust", "Aurora").loc[window].mean()
    tm = daily(r, "minimal", "trust", "Aurora").loc[window].mean()
    assert (tc > tm).all(), (tc.tolist(), tm.tolist())
    notified = daily(r, "candid", "consumers_notified", "Aurora").sum()
    assert (notified > 0).all()
    cost_diff = (
        daily(r, "candid", "breach_cost", "Aurora").sum()
        - daily(r, "minimal", "breach_cost", "Aurora").sum()
    )
    per_notified = candid.incidents.candour_cost * 1.0
    assert np.allclose(cost_diff, per_notified * notified, rtol=1e-9), (cost_diff, notified)
