"""Validated scenario -> the flat numeric tables the compiled phase kernels read.

`Parameters` holds scalars shared by all brands; `BrandTable` holds one array per policy lever,
indexed by brand. Both are NamedTuples so Numba can pass them to kernels as typed tuples.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.catalogue import DATA_BIT, DATA_TYPES, SENSITIVITY, VALUE, mask_of
from ..scenario import Scenario

# Data whose use in personalization can feel "creepy" when not explained: sensitivity >= 0.7
# (cross-site tracking, location, in-store cameras; Accenture 2018: location-triggered notices
# "creepy" for 41%).
SENSITIVE_MASK = sum(DATA_BIT[d] for d, s in zip(DATA_TYPES, SENSITIVITY, strict=True) if s >= 0.7)
COMPENSATION_CODE = {"none": 0, "voucher": 1, "credit_monitoring": 2}


def _mask_table(weights: np.ndarray) -> np.ndarray:
    """Sum of ``weights`` over the set bits of every 8-bit mask (lookup table of 256 entries)."""
    masks = np.arange(256)[:, None]
    bits = (masks >> np.arange(len(weights))[None, :]) & 1
    return (bits * weights[None, :]).sum(axis=1).astype(np.float64)


VALUE_OF_MASK = _mask_table(VALUE.astype(np.float64))
POPCOUNT = _mask_table(np.ones(8))


class Parameters(NamedTuple):
    """Scalars of a scenario, in the units of docs/PARAMETERS.md (per day where rates)."""

    n_brands: int
    days: int
    prior: float
    prior_weight: float
    decay: float  # daily evidence retention factor: 0.5 ** (1 / half_life_days)
    negative_weight: float
    purchase_evidence: float
    personalization_evidence: float
    spam_evidence: float
    creepy_evidence: float
    ask_evidence: float
    word_of_mouth: float
    talk_rate: float
    churn_threshold: float
    churn_rate: float
    return_threshold: float
    research_days: float
    outside_utility: float
    channel_switching: float
    integration_switching: float
    trust_weight: float
    relevance_weight: float
    digital_trust_exponent: float
    basket_value: float
    relevance_uplift: float
    consent_intercept: float
    consent_trust: float
    consent_transparency: float
    consent_concern: float
    unread_bonus: float
    revoke_rate: float
    creepy_rate: float
    subscribe_probability: float
    unsubscribe_per_email: float
    complaint_per_email: float
    targeting_unsubscribe_cut: float
    click_rate: float
    email_cost: float
    concern_drift: float  # per day
    harm_delay_days: float
    fraud_probability: float
    phishing_probability: float
    takeover_probability: float
    attribution_notified: float
    attribution_unnotified: float
    disclosure_evidence: float
    news_evidence: float
    harm_evidence: float
    late_notice_penalty: float
    compensation_softening: float
    account_deletion: float
    contagion: float
    media_amplification: float


class BrandTable(NamedTuple):
    """One entry per brand, in scenario order."""

    presence: np.ndarray  # float64
    log_presence: np.ndarray
    gross_margin: np.ndarray
    scope: np.ndarray  # int64 bit mask of collected data types
    transparency: np.ndarray
    skill: np.ndarray
    emails_per_day: np.ndarray
    targeting: np.ndarray
    fatigue: np.ndarray  # complaint multiplier (mailings per month / 5) ** fatigue_exponent
    sharing: np.ndarray
    integration: np.ndarray
    security: np.ndarray
    retention: np.ndarray  # days
    notify_days: np.ndarray
    compensation: np.ndarray  # int64 code, see COMPENSATION_CODE


def brand_table(scenario: Scenario) -> BrandTable:
    """Per-brand lever arrays of ``scenario``."""
    o = scenario.outreach
    pol = [b.policy for b in scenario.brands]
    presence = np.array([b.presence for b in scenario.brands], dtype=np.float64)
    epw = np.array([p.emails_per_week for p in pol], dtype=np.float64)
    per_month = epw * 30.4 / 7.0
    return BrandTable(
        presence=presence,
        log_presence=np.log(presence),
        gross_margin=np.array([b.gross_margin for b in scenario.brands], dtype=np.float64),
        scope=np.array([mask_of(p.data_collection) for p in pol], dtype=np.int64),
        transparency=np.array([p.transparency for p in pol], dtype=np.float64),
        skill=np.array([p.personalization_skill for p in pol], dtype=np.float64),
        emails_per_day=epw / 7.0,
        targeting=np.array([p.email_targeting for p in pol], dtype=np.float64),
        fatigue=(per_month / 5.0) ** o.fatigue_exponent,
        sharing=np.array([p.third_party_sharing for p in pol], dtype=np.float64),
        integration=np.array([p.omnichannel_integration for p in pol], dtype=np.float64),
        security=np.array([p.security_investment for p in pol], dtype=np.float64),
        retention=np.array([p.data_retention_days for p in pol], dtype=np.float64),
        notify_days=np.array([p.notify_within_days for p in pol], dtype=np.float64),
        compensation=np.array([COMPENSATION_CODE[p.compensation] for p in pol], dtype=np.int64),
    )


def parameters(scenario: Scenario) -> Parameters:
    """Scalar parameters of ``scenario``."""
    j, t, c, o, inc, w = (
        scenario.journey,
        scenario.trust,
        scenario.consent,
        scenario.outreach,
        scenario.incidents,
        scenario.world,
    )
    presence = np.array([b.presence for b in scenario.brands], dtype=np.float64)
    # The outside option ("buy nothing in this sector now") is scaled so that a consumer whose
    # trust sits at the prior, with no relevance, buys with probability purchase_probability.
    p = min(max(j.purchase_probability, 1e-9), 1 - 1e-9)
    outside = float(np.log((1.0 - p) / p * presence.sum()))
    return Parameters(
        n_brands=len(scenario.brands),
        days=scenario.simulation.days,
        prior=t.prior,
        prior_weight=t.prior_weight,
        decay=0.5 ** (1.0 / t.half_life_days),
        negative_weight=t.negative_weight,
        purchase_evidence=t.purchase_evidence,
        personalization_evidence=t.personalization_evidence,
        spam_evidence=t.spam_evidence,
        creepy_evidence=t.creepy_evidence,
        ask_evidence=t.ask_evidence,
        word_of_mouth=t.word_of_mouth,
        talk_rate=t.talk_rate,
        churn_threshold=t.churn_threshold,
        churn_rate=t.churn_rate,
        return_threshold=t.return_threshold,
        research_days=j.research_days,
        outside_utility=outside,
        channel_switching=j.channel_switching,
        integration_switching=j.integration_switching,
        trust_weight=j.trust_weight,
        relevance_weight=j.relevance_weight,
        digital_trust_exponent=j.digital_trust_exponent,
        basket_value=j.basket_value,
        relevance_uplift=j.relevance_uplift,
        consent_intercept=c.intercept,
        consent_trust=c.trust_effect,
        consent_transparency=c.transparency_effect,
        consent_concern=c.concern_effect,
        unread_bonus=c.unread_bonus,
        revoke_rate=c.revoke_rate,
        creepy_rate=c.creepy_rate,
        subscribe_probability=o.subscribe_probability,
        unsubscribe_per_email=o.unsubscribe_per_email,
        complaint_per_email=o.complaint_per_email,
        targeting_unsubscribe_cut=o.targeting_unsubscribe_cut,
        click_rate=o.click_rate,
        email_cost=o.email_cost,
        concern_drift=w.privacy_concern_trend / 365.0,
        harm_delay_days=inc.harm_delay_days,
        fraud_probability=inc.fraud_probability,
        phishing_probability=inc.phishing_probability,
        takeover_probability=inc.takeover_probability,
        attribution_notified=inc.attribution_notified,
        attribution_unnotified=inc.attribution_unnotified,
        disclosure_evidence=inc.disclosure_evidence,
        news_evidence=inc.news_evidence,
        harm_evidence=inc.harm_evidence,
        late_notice_penalty=inc.late_notice_penalty,
        compensation_softening=inc.compensation_softening,
        account_deletion=inc.account_deletion,
        contagion=w.contagion,
        media_amplification=w.media_amplification,
    )
