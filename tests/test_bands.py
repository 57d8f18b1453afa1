"""One lever at a time, against bands derived from the ODD equations (issue 16).

A direction test passes if a mechanism is cut by two thirds; these do not. Each recomputes, from the
scenario's parameters and the run's own recorded state, the expected count of an event under the
equation of docs/ODD.md, and requires the observed count within a 99.9% band (|z| < 3.3) of a
sum of Bernoulli trials (variance sum p(1 - p)). With the counts used here a 25% error in a rate
is more than 4 standard errors away. Runs are seeded: the bands only move when the model does.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest

from sim.runner import run
from sim.scenario import Scenario

from .conftest import baseline_data

Z = 3.3


def wide(ts: pd.DataFrame, name: str) -> pd.DataFrame:
    sel = ts[(ts["scenario"] == name) & (ts["channel"] == "all") & (ts["brand"] != "all")]
    return sel.pivot_table(index=["brand", "day"], columns="metric", values="value", observed=True)


def z_score(observed: float, p: np.ndarray) -> float:
    p = np.asarray(p, dtype=float)
    return (observed - p.sum()) / math.sqrt((p * (1 - p)).sum())


def market(name: str, data: dict, **policy) -> Scenario:
    """``data`` with ``policy`` applied to every brand: one lever, set the same everywhere."""
    d = copy.deepcopy(data)
    d["name"] = name
    for b in d["brands"]:
        b["policy"].update(policy)
    return Scenario.model_validate(d)


# -- I1: the breach hazard and security investment ----------------------------------------------
def expected_hazard(s: Scenario, t: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per brand, the daily breach probability of eq. I1 on days 1.. from yesterday's records."""
    inc, n = s.incidents, s.simulation.consumers
    out = {}
    for b in s.brands:
        held = t.loc[b.name, "records_held"].to_numpy()[:-1]  # yesterday's, for days 1..D-1
        scope = set(b.policy.data_collection)
        h = (
            inc.base_hazard_per_year
            / 365
            * s.world.attack_pressure
            * len(scope)
            / 8
            * (0.5 + held / n)
            * (1 + inc.sharing_effect * b.policy.third_party_sharing)
            * (1 + inc.social_login_effect * ("social_login" in scope))
            * math.exp(-inc.security_effect * (b.policy.security_investment - 0.5))
        )
        out[b.name] = np.clip(h, 0, 1)
    return out


@pytest.fixture(scope="module")
def security_runs():
    d = baseline_data(consumers=800, days=730, replications=1)
    d["world"]["attack_pressure"] = 20.0
    d["incidents"] = {"base_hazard_per_year": 4.0}
    d["events"] = []
    low, high = (
        market("low", d, security_investment=0.1),
        market("high", d, security_investment=0.9),
    )
    return {"low": low, "high": high}, run([low, high], seed=31).timeseries


def test_breach_counts_follow_the_hazard_equation_at_low_and_high_security(security_runs):
    scenarios, ts = security_runs
    totals = {}
    for name, s in scenarios.items():
        t = wide(ts, name)
        p_all, observed = [], 0.0
        for brand, p in expected_hazard(s, t).items():
            observed += t.loc[brand, "breaches"].to_numpy()[1:].sum()
            p_all.append(p)
        p_all = np.concatenate(p_all)
        z = z_score(observed, p_all)
        assert abs(z) < Z, (name, observed, p_all.sum(), z)
        totals[name] = (observed, p_all.sum())
    # the ratio between the two levels: within a Poisson band of the equation's ratio
    (o_lo, e_lo), (o_hi, e_hi) = totals["low"], totals["high"]
    assert o_hi >= 40, "too few breaches for a band"
    log_gap = math.log(o_lo / o_hi) - math.log(e_lo / e_hi)
    assert abs(log_gap) < Z * math.sqrt(1 / o_lo + 1 / o_hi), (o_lo, o_hi, e_lo, e_hi)
    # the equation's own ratio is about exp(3.0 * 0.8) = 11 (records held differ a little)
    assert 5 < e_lo / e_hi < 20


# -- O1-O4: emails, complaints and unsubscribes ------------------------------------------------
@pytest.fixture(scope="module")
def email_runs():
    """No relevant email (personalization skill 0, so p_rel = 0 whatever the targeting): every email
    is spam. Half an email a day per subscriber (Bernoulli), so at most one email a day, and a
    memory of one day (inbox_memory_days 1: O0 keeps nothing of yesterday), so every e-mail finds
    exactly one remembered, itself, read as 30.4 a month: the counts are binomial."""
    d = baseline_data(consumers=6000, days=365, replications=1)
    d.setdefault("outreach", {}).update(inbox_memory_days=1.0)
    base = dict(personalization_skill=0.0, emails_per_week=3.5)
    untargeted = market("untargeted", d, email_targeting=0.0, **base)
    targeted = market("targeted", d, email_targeting=1.0, **base)
    rare = market("rare", d, email_targeting=0.0, personalization_skill=0.0, emails_per_week=0.7)
    scenarios = {s.name: s for s in (untargeted, targeted, rare)}
    return scenarios, run(list(scenarios.values()), seed=32).timeseries


def _email_counts(s: Scenario, t: pd.DataFrame):
    """Totals over brands and days 1..: emails, subscriber-days (yesterday's), complaints, unsubs."""
    sent = subs = complaints = unsubs = 0.0
    for b in s.brands:
        rows = t.loc[b.name]
        subs += rows["subscribers"].to_numpy()[:-1].sum()
        sent += rows["emails_sent"].to_numpy()[1:].sum()
        complaints += rows["spam_complaints"].to_numpy()[1:].sum()
        unsubs += rows["unsubscribes"].to_numpy()[1:].sum()
    return sent, subs, complaints, unsubs


@pytest.mark.parametrize("name", ["untargeted", "targeted", "rare"])
def test_emails_complaints_and_unsubscribes_follow_o1_o3(email_runs, name):
    scenarios, ts = email_runs
    s = scenarios[name]
    t = wide(ts, name)
    o = s.outreach
    rate = s.brands[0].policy.emails_per_week / 7  # < 1: a Bernoulli number of emails a day
    sent, subs, complaints, unsubs = _email_counts(s, t)
    # O4 then O1: each of yesterday's subscribers (turnover, 7.11, runs before the tally) keeps
    # an address with probability (1 - D)^(1/365), then gets an email with probability e_b
    p_kept = (1 - o.list_decay_per_year) ** (1 / 365)
    p_mail = p_kept * rate
    z = (sent - p_mail * subs) / math.sqrt(subs * p_mail * (1 - p_mail))
    assert abs(z) < Z, (name, sent, p_mail * subs)
    # O2: complaints per (spam) email, with the fatigue multiplier of the remembered spam: one
    # e-mail remembered over a memory of one day, i.e. 30.4 a month (ODD 7.4)
    remembered = 1.0 * 30.4 / 1.0
    p_comp = o.complaint_per_email * (remembered / 5) ** o.fatigue_exponent
    assert abs(z_score(complaints, np.full(int(sent), p_comp))) < Z, (
        name,
        complaints,
        sent * p_comp,
    )
    # O3: an email not ended by a complaint unsubscribes with p_unsub (remembered / 5)^k_u, times
    # relevant_unsubscribe_ratio only if relevant: none is (p_rel = 0), so targeting changes nothing
    p_uns = o.unsubscribe_per_email * (remembered / 5) ** o.unsubscribe_fatigue_exponent
    p_any = p_comp + (1 - p_comp) * p_uns
    assert abs(z_score(unsubs, np.full(int(sent), p_any))) < Z, (name, unsubs, sent * p_any)
    assert unsubs > 100  # enough events for the band to mean something
