"""The model next to the published evidence: emergent figures vs the brief's calibration targets.

``omnitrust evidence [SCENARIO]`` runs the scenario (the baseline by default) and a copy of it with
one scheduled breach, and prints each published figure of docs/PARAMETERS.md ("Evidence") next to
what the model produces, with a 95% interval across replications. Nothing here is fitted: it
reports how far the defaults are from the evidence (six of them are fitted by `omnitrust
calibrate calibration/baseline.toml`, which measures these same figures; docs/CALIBRATION.md).

Every figure is measured on the source's own population: `Target.denominator` says who the
source counted (and so who the model counts), and the command prints it. The breach figures are
measured over the FOLLOW_UP_DAYS after the breach: the notified are the consumers exposed in that
breach whom the brand notified; "customers" are those who had bought from the brand before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..core.catalogue import DATA_BIT, DATA_TYPES
from ..core.streams import replication_seed
from ..mechanisms.metrics import EV, STOCKS
from ..model.market import TrustModel
from ..scenario import BreachEvent, Scenario
from ..state.population import (
    ACCOUNT,
    CHURNED,
    CUSTOMER,
    H_BOUGHT,
    H_SHOWROOMED,
    H_USED_DIGITAL,
    H_WEBROOMED,
    NOTIFIED,
)

BREACH_DAY = 120
BREACH_SHARE = 0.3
FOLLOW_UP_DAYS = 365


@dataclass(frozen=True)
class Target:
    """A published figure: its name, the band it gives, and where it comes from."""

    name: str
    low: float
    high: float
    source: str
    denominator: str = ""


TARGETS = {
    "multichannel_share": Target(
        "shoppers using store and digital channels in a year",
        0.73,
        0.73,
        "Sopadjieva, Dholakia & Benjamin, HBR 2017",
        "consumers who bought in the sector during the year",
    ),
    "store_only_share": Target(
        "store-only shoppers", 0.20, 0.20, "HBR 2017", "consumers who bought during the year"
    ),
    "online_only_share": Target(
        "online-only shoppers", 0.07, 0.07, "HBR 2017", "consumers who bought during the year"
    ),
    "webrooming_digital": Target(
        "digital shoppers who webroomed",
        0.78,
        0.78,
        "Accenture 2013",
        "buyers who used a digital channel during the year",
    ),
    "showrooming_digital": Target(
        "digital shoppers who showroomed",
        0.72,
        0.72,
        "Accenture 2013",
        "buyers who used a digital channel during the year",
    ),
    "unsubscribe_per_email": Target(
        "unsubscribes per email",
        0.0023,
        0.0027,
        "Mailchimp benchmarks 2018-2019",
        "emails delivered (unsubscribes / emails sent)",
    ),
    "complaint_per_email": Target(
        "spam complaints per email",
        0.0001,
        0.0002,
        "Mailchimp",
        "emails delivered (complaints / emails sent)",
    ),
    "plain_opt_in": Target(
        "opt-in to tracking asked plainly, no value offered",
        0.04,
        0.12,
        "Apple ATT opt-in, Flurry 2021",
        "every consumer asked plainly (transparency 0, trust at the prior)",
    ),
    "social_login_use": Target(
        "social login use where offered",
        0.60,
        0.60,
        "Gigya 2014",
        "consumers offered social login (asked for it)",
    ),
    "breach_stopped_dealing": Target(
        "notified customers who stopped dealing within a year",
        0.11,
        0.11,
        "RAND RR-1187 (Ablon et al. 2016)",
        "customers notified of the breach",
    ),
    "breach_abnormal_churn": Target(
        "abnormal churn of notified customers (minus that of unexposed customers)",
        0.02,
        0.04,
        "Ponemon Cost of a Data Breach 2006-2013",
        "customers notified of the breach; baseline: customers not exposed",
    ),
    "breach_stated_intent": Target(
        "breach-aware customers who say they would stop buying",
        0.70,
        0.91,
        "consumer surveys quoted in the brief (70-91% 'would stop buying')",
        "customers who heard of or were hit by the breach (daily mean over the year)",
    ),
    "fraud_after_notice": Target(
        "notified consumers who suffered fraud within a year",
        0.16,
        0.25,
        "Javelin Identity Fraud 2006-2013",
        "consumers notified of the breach (victims of any fraud / notified)",
    ),
    "fraud_unexposed": Target(
        "consumers not exposed who suffered fraud within a year",
        0.04,
        0.04,
        "Javelin Identity Fraud 2006-2013",
        "consumers not exposed in any breach (set by incidents.background_fraud_per_year)",
    ),
}


def _journey_and_email(scenario: Scenario, seed: int) -> dict[str, float]:
    m = TrustModel(scenario, seed=seed)
    m.run()
    return journey_figures(m)


BREACH_FIGURES = ("breach_stopped_dealing", "breach_abnormal_churn", "fraud_after_notice")
"""Figures measured on `breach_scenario`; every other figure comes from `journey_figures`."""


def journey_figures(m: TrustModel) -> dict[str, float]:
    """The journey, e-mail, consent and social-login figures of a finished run ``m``."""
    scenario = m.scenario
    pop, rec = m.population, m.recorder
    h = pop.history
    bought = (h & H_BOUGHT) != 0
    digital = bought & ((h & H_USED_DIGITAL) != 0)
    market = dict(
        zip(
            (
                "webrooming_share",
                "showrooming_share",
                "multichannel_share",
                "store_only_share",
                "online_only_share",
            ),
            rec.market[-1][:5],
            strict=True,
        )
    )
    emails = rec.counts[:, :, EV["emails_sent"]].sum()
    out = {k: float(v) for k, v in market.items() if k in TARGETS}
    out["webrooming_digital"] = float(((h & H_WEBROOMED) != 0)[digital].mean())
    out["showrooming_digital"] = float(((h & H_SHOWROOMED) != 0)[digital].mean())
    out["unsubscribe_per_email"] = float(
        rec.counts[:, :, EV["unsubscribes"]].sum() / max(emails, 1)
    )
    out["complaint_per_email"] = float(
        rec.counts[:, :, EV["spam_complaints"]].sum() / max(emails, 1)
    )
    c = scenario.consent
    sens = 0.7  # cross-site tracking, the ATT case
    logit = c.intercept - c.concern_effect * pop.concern.astype(np.float64) * sens
    out["plain_opt_in"] = float((1.0 / (1.0 + np.exp(-logit))).mean())
    bit = DATA_BIT["social_login"]
    asked = (pop.asked & bit) != 0
    if asked.any():
        out["social_login_use"] = float(((pop.consent & bit) != 0)[asked].mean())
    return out


def breach_scenario(scenario: Scenario, brand: str | None = None) -> Scenario:
    """``scenario`` plus one breach of BREACH_SHARE of ``brand``'s records (every type it holds) on
    day BREACH_DAY, run for FOLLOW_UP_DAYS after it."""
    target = next(b for b in scenario.brands if brand in (None, b.name))
    data = scenario.model_dump(mode="python")
    data["simulation"]["days"] = BREACH_DAY + FOLLOW_UP_DAYS + 1
    data["events"] = [
        *data["events"],
        BreachEvent(
            day=BREACH_DAY,
            kind="breach",
            brand=target.name,
            records_share=BREACH_SHARE,
            data_types=list(target.policy.data_collection),
        ).model_dump(),
    ]
    return Scenario.model_validate(data)


def _breach(scenario: Scenario, seed: int, brand_index: int) -> dict[str, float]:
    """The breach figures, each on its source's population (see `TARGETS` denominators)."""
    m = TrustModel(scenario, seed=seed)
    while m.day < BREACH_DAY:
        m.step()
    pop = m.population
    b = brand_index
    customers = ((pop.flags[:, b] & CUSTOMER) != 0) & ((pop.flags[:, b] & CHURNED) == 0)
    m.run()
    t0 = BREACH_DAY + m.warmup  # arrays hold internal days
    exposed_any = (pop.exposed_day >= t0).any(axis=1)
    notified = ((pop.flags[:, b] & NOTIFIED) != 0) & (pop.exposed_day[:, b] >= t0)
    left = ((pop.flags[:, b] & CHURNED) != 0) | (((pop.flags[:, b] & ACCOUNT) == 0) & notified)
    n_cust, u_cust = customers & notified, customers & ~exposed_any
    stopped = float(left[n_cust].mean()) if n_cust.any() else float("nan")
    base = float(left[u_cust].mean()) if u_cust.any() else float("nan")
    defrauded = pop.fraud_day >= t0
    stocks = m.recorder.stocks[BREACH_DAY:, b]
    aware = stocks[:, STOCKS.index("breach_aware")] > 0
    stated = stocks[aware, STOCKS.index("stated_intent_to_leave")]
    return {
        "breach_stopped_dealing": stopped,
        "breach_abnormal_churn": stopped - base,
        "breach_stated_intent": float(stated.mean()) if stated.size else float("nan"),
        "fraud_after_notice": float(defrauded[notified].mean()) if notified.any() else float("nan"),
        "fraud_unexposed": float(defrauded[~exposed_any].mean()),
    }


def measure(
    scenario: Scenario, replications: int = 3, seed: int | None = None, brand: str | None = None
) -> pd.DataFrame:
    """Model figures next to the published ones, one row per target (see module docstring).

    The breach figures come from ``breach_scenario(scenario, brand)`` (first brand by default).
    """
    seed = scenario.simulation.seed if seed is None else seed
    breached = breach_scenario(scenario, brand)
    b_index = next(k for k, b in enumerate(breached.brands) if brand in (None, b.name))
    rows: dict[str, list[float]] = {}
    for k in range(replications):
        rs = replication_seed(seed, k)
        for name, value in {
            **_journey_and_email(scenario, rs),
            **_breach(breached, rs, b_index),
        }.items():
            rows.setdefault(name, []).append(value)
    out = []
    for name, t in TARGETS.items():
        values = np.array(rows.get(name, [np.nan]), dtype=float)
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        n = int(np.isfinite(values).sum())
        half = (
            float(stats.t.ppf(0.975, n - 1) * np.nanstd(values, ddof=1) / np.sqrt(n))
            if n > 1
            else float("nan")
        )
        published = f"{t.low:.4g}" if t.low == t.high else f"{t.low:.4g}-{t.high:.4g}"
        gap = 0.0 if t.low <= mean <= t.high else (mean - t.high if mean > t.high else mean - t.low)
        out.append(
            {
                "target": name,
                "what": t.name,
                "published": published,
                "model": mean,
                "ci95": half,
                "gap": gap,
                "source": t.source,
                "denominator": t.denominator,
            }
        )
    return pd.DataFrame(out)


def format_table(table: pd.DataFrame) -> str:
    """A plain-text table of `measure`'s output, then who each figure counts."""
    lines = [f"{'target':24s} {'published':>13s} {'model':>9s} {'+-95%':>8s} {'gap':>8s}  source"]
    for r in table.itertuples():
        lines.append(
            f"{r.target:24s} {r.published:>13s} {r.model:9.4f} {r.ci95:8.4f} "
            f"{r.gap:+8.4f}  {r.source}"
        )
    lines += ["", "Each figure counts, in the source and in the model, among:"]
    lines += [f"  {r.target:24s} {r.denominator}" for r in table.itertuples()]
    return "\n".join(lines)


assert "social_login" in DATA_TYPES
