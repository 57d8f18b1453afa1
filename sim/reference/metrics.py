"""Counters, the end-of-day tally and a summary common to both implementations: the twin of
`sim.mechanisms.metrics`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.catalogue import STORE
from ..mechanisms.metrics import EV, MARKET_SHARES, STOCKS

if TYPE_CHECKING:
    from .model import ReferenceModel

# Counters kept per brand, named as in sim.mechanisms.metrics.EVENT_COUNTERS where both exist.
COUNTERS = (
    "emails_sent",
    "unsubscribes",
    "spam_complaints",
    "email_clicks",
    "consent_requests",
    "consents_granted",
    "consent_revocations",
    "creepy_moments",
    "churn_events",
    "margin",
    "breaches",
    "consumers_exposed",
    "consumers_notified",
    "fraud_victims",
    "phishing_victims",
    "takeover_victims",
    "accounts_deleted",
    "consent_lapses",
    "departed_customers",
    "covert_discoveries",
    "stale_addresses",
    "personalization_cost",
    "integration_cost",
    "transparency_cost",
    "personalization_margin",
    "spam_losses",
    "purchases",
    "revenue",
)


def tally(model: ReferenceModel) -> None:
    """End-of-day stocks per brand and the market's journey shares."""
    n = model.n_consumers
    for b, brand in enumerate(model.brands):
        rels = [c.relations[b] for c in model.consumers]
        brand.trust = sum(c.trust(b) for c in model.consumers) / n
        asked = sum(len(r.asked) for r in rels)
        brand.consent_rate = sum(len(r.consent & r.asked) for r in rels) / asked if asked else 0.0
        brand.subscribers = sum(r.subscribed for r in rels)
        brand.records_held = sum(r.account for r in rels)
        brand.churned = sum(r.churned for r in rels)
        brand.active_customers = sum(
            r.customer
            and not r.churned
            and r.last_purchase >= model.day - model.scenario.simulation.active_window_days
            for r in rels
        )
        # say and do: breach-aware customers (heard of or hit by a breach of b); who would say
        # they leave (a rival is trusted more; the prior with no rival) and who did leave
        aware = [c for c in model.consumers if c.relations[b].customer and c.relations[b].heard]
        aware += [
            c
            for c in model.consumers
            if c.relations[b].customer and c.relations[b].harmed and not c.relations[b].heard
        ]
        said = 0
        for c in aware:
            rivals = [c.trust(k) for k in range(len(model.brands)) if k != b]
            said += c.trust(b) < (max(rivals) if rivals else model.scenario.trust.prior)
        brand.breach_aware = len(aware)
        brand.stated_intent_to_leave = said / len(aware) if aware else 0.0
        brand.breach_aware_churned = (
            sum(c.relations[b].churned for c in aware) / len(aware) if aware else 0.0
        )
    buyers = [c for c in model.consumers if c.bought]
    denom = max(len(buyers), 1)
    model.market = {
        "webrooming_share": sum(c.webroomed for c in buyers) / denom,
        "showrooming_share": sum(c.showroomed for c in buyers) / denom,
        "multichannel_share": sum(c.used_store and c.used_digital for c in buyers) / denom,
        "buyers": float(len(buyers)),
    }


# -- a common summary of a run of either implementation ----------------------------------------
SUMMARY_COUNTERS = (
    "purchases",
    "revenue",
    "margin",
    "emails_sent",
    "unsubscribes",
    "spam_complaints",
    "email_clicks",
    "consent_requests",
    "consents_granted",
    "consent_revocations",
    "creepy_moments",
    "churn_events",
    "breaches",
    "consumers_exposed",
    "consumers_notified",
    "fraud_victims",
    "phishing_victims",
    "takeover_victims",
    "accounts_deleted",
    "consent_lapses",
    "departed_customers",
    "covert_discoveries",
    "stale_addresses",
    "personalization_cost",
    "integration_cost",
    "transparency_cost",
    "personalization_margin",
    "spam_losses",
)
SUMMARY_STOCKS = (
    "trust",
    "consent_rate",
    "subscribers",
    "records_held",
    "churned",
    "active_customers",
    "store_purchases",
    "breach_aware",
    "stated_intent_to_leave",
    "breach_aware_churned",
)
SUMMARY_MARKET = (
    "webrooming_share",
    "showrooming_share",
    "multichannel_share",
    "buyers",
    "fraud_victims_any",  # a total over the run (the others are the end of the run)
)


def _summary(counters: dict, stocks: dict, market: dict) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, row in counters.items():
        for k in SUMMARY_COUNTERS:
            out[f"{k}/{name}"] = float(row[k])
    for name, row in stocks.items():
        for k in SUMMARY_STOCKS:
            out[f"{k}/{name}"] = float(row[k])
    for k in SUMMARY_MARKET:
        out[k] = float(market[k])
    return out


def engine_summary(model) -> dict[str, float]:
    """The same summary as `ReferenceModel.summary` for a finished `sim.model.TrustModel`."""
    rec, d = model.recorder, model.recorder.days_recorded
    counts = rec.counts[:d].sum(axis=0)
    purchases = rec.purchases[:d].sum(axis=0)
    revenue = rec.revenue[:d].sum(axis=0)
    counters, stocks = {}, {}
    for b, name in enumerate(rec.brands):
        row = {k: counts[b, EV[k]] for k in SUMMARY_COUNTERS if k in EV}
        row["purchases"] = purchases[b].sum()
        row["revenue"] = revenue[b].sum()
        counters[name] = row
        last = rec.stocks[d - 1, b]
        stocks[name] = {k: last[STOCKS.index(k)] for k in SUMMARY_STOCKS if k in STOCKS}
        stocks[name]["store_purchases"] = purchases[b, STORE]
    market = {  # end-of-run shares; the frauds are a total over the run
        k: rec.market[d - 1, MARKET_SHARES.index(k)]
        for k in SUMMARY_MARKET
        if k != "fraud_victims_any"
    }
    market["fraud_victims_any"] = rec.market[:d, MARKET_SHARES.index("fraud_victims_any")].sum()
    return _summary(counters, stocks, market)


def summary_array(summaries: list[dict[str, float]]) -> tuple[list[str], np.ndarray]:
    """Keys and a (runs, keys) array of a list of summaries with the same keys."""
    keys = list(summaries[0])
    return keys, np.array([[s[k] for k in keys] for s in summaries])
