"""The model next to the published evidence: emergent figures vs the brief's calibration targets.

``omnitrust evidence [SCENARIO]`` runs the scenario (the baseline by default) and, for each brand
in turn, a copy of it with one scheduled breach of that brand, and prints each published figure of
docs/PARAMETERS.md ("Evidence") next to what the model produces, with a 95% interval across
replications. Nothing here is fitted: it reports how far the defaults are from the evidence (six
of them are fitted by `omnitrust calibrate calibration/baseline.toml`, which measures these same
figures; docs/CALIBRATION.md).

Every figure is measured on the source's own population: `Target.denominator` says who the
source counted (and so who the model counts), and the command prints it. The breach figures are
measured over the FOLLOW_UP_DAYS after the breach: the notified are the consumers exposed in that
breach (taken on its day: not those exposed only by a later breach of the brand) whom the brand
notified; "customers" are those who had bought from the brand before it.

One warm-up per replication: the journey run and every breach run share it (`breach_scenario`
changes only events and horizon, which the warm-up does not depend on), so it is spun up once and
each run branches from it (`start`, `sim.model.warmup`), with the numbers of separately built
models to the last bit (tests/test_evidence_pooling.py).

Pooled over the market's brands: each replication runs one breach of BREACH_SHARE of each brand's
records (all data types it holds; a brand that collects nothing is left out) on BREACH_DAY, each
a branch of the same warm-up, and every breach figure pools the counts over these branches
(`pool`): stopped dealing is the notified
customers who churned, summed over the brands, over the notified customers, summed; fraud after
notice and fraud among the unexposed likewise. Abnormal churn (Ponemon: churn *as a result of* the
breach) is the breach's effect on the churn of those same notified customers: their pooled churn
minus the pooled churn of the same consumers (same rows, same seeds, same warm-up) in one more
branch, the market run over the same horizon without the scheduled breach
(`follow_up_scenario`). Until 2026-12-04 it was stopped dealing counted as churned *or without
a record* minus the churn of the customers exposed in no breach, two groups measured unalike
(benchmarks/breach_churn_definition.py, docs/CALIBRATION.md). Fraud after notice counts the
notified whose payment card the breached brand held: US breach-notification laws, under which
Javelin's respondents received their notices, are triggered by exposed financial identifiers
(card and account numbers, SSNs), and in the model only an exposed card leads to fraud, so a
notice about contact or browsing data (brands without cards) would dilute the figure with
consumers Javelin's notified did not include. Stated intent is the mean daily
share over every brand-day with breach-aware customers. Why pool: the published figures (RAND,
Ponemon, Javelin) average over many breached companies, not one, and pooling the brands multiplies
the notified customers counted per replication by the number of brands, so the Monte Carlo noise
of the breach figures shrinks by about the square root of that number (at 3,000 consumers one
breach notifies only a few hundred customers, and the noise of abnormal churn was as wide as
Ponemon's 2-4% band; docs/CALIBRATION.md). The extra 486-day branches cost less than the second
1,825-day warm-up that branching saves. ``brand=`` (``omnitrust evidence --brand NAME``) measures
the breach of that brand alone. A brand whose records one of the scenario's own events exposes on
BREACH_DAY is left out (`exposed_by_the_scenario`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..core.catalogue import DATA_BIT, DATA_TYPES
from ..core.streams import replication_seed
from ..mechanisms.consent import held_masks
from ..mechanisms.metrics import EV, STOCKS
from ..mechanisms.turnover import reborn_between
from ..model.market import Phase, TrustModel
from ..model.warmup import WarmState, branching_enabled, capture
from ..scenario import BreachEvent, Scenario
from ..state.population import (
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
        "emails sent (unsubscribes / emails sent; a day's e-mails after an unsubscribe count as "
        "sent)",
    ),
    "complaint_per_email": Target(
        "spam complaints per email",
        0.0001,
        0.0002,
        "Mailchimp",
        "emails sent (complaints / emails sent; a day's e-mails after an unsubscribe count as "
        "sent)",
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
        "customers notified of the breach, pooled over one breach of each brand",
    ),
    "breach_abnormal_churn": Target(
        "abnormal churn of notified customers (their churn minus the churn they would have had)",
        0.02,
        0.04,
        "Ponemon Cost of a Data Breach 2006-2013",
        "customers notified of the breach; baseline: the same customers in the same market with "
        "the same seeds and no breach; pooled over one breach of each brand",
    ),
    "breach_stated_intent": Target(
        "breach-aware customers who say they would stop buying",
        0.70,
        0.91,
        "consumer surveys quoted in the brief (70-91% 'would stop buying')",
        "customers who heard of or were hit by the breach (daily mean over the year and over one "
        "breach of each brand)",
    ),
    "fraud_after_notice": Target(
        "notified consumers who suffered fraud within a year",
        0.16,
        0.25,
        "Javelin Identity Fraud 2006-2013",
        "consumers notified of a breach that exposed their payment card (victims of any fraud / "
        "those notified), pooled over one breach of each brand that holds cards",
    ),
    "fraud_unexposed": Target(
        "consumers not exposed who suffered fraud within a year",
        0.04,
        0.04,
        "Javelin Identity Fraud 2006-2013",
        "consumers in the market all year and not exposed in any breach, pooled over one breach "
        "of each brand (set by incidents.background_fraud_per_year)",
    ),
}


BREACH_FIGURES = (
    "breach_stopped_dealing",
    "breach_abnormal_churn",
    "breach_stated_intent",
    "fraud_after_notice",
    "fraud_unexposed",
)
"""Figures measured on the breach branches (`breach_figures`); every other figure comes from
`journey_figures`."""


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


def follow_up_scenario(scenario: Scenario) -> Scenario:
    """``scenario`` run for the breach branches' horizon (BREACH_DAY + FOLLOW_UP_DAYS + 1 days),
    with its own events only: the market without the scheduled breach, against which
    `breach_counts` measures the breach's effect on the same consumers (abnormal churn). It
    shares the warm-up of ``scenario`` (the horizon is not part of it)."""
    return Scenario.model_validate(_follow_up_data(scenario))


def _follow_up_data(scenario: Scenario) -> dict:
    """``scenario`` as a dict, its horizon set to the breach branches' (one place for both)."""
    data = scenario.model_dump(mode="python")
    data["simulation"]["days"] = BREACH_DAY + FOLLOW_UP_DAYS + 1
    return data


def breach_scenario(scenario: Scenario, brand: str | None = None) -> Scenario:
    """``scenario`` plus one breach of BREACH_SHARE of ``brand``'s records (every type it holds;
    the first brand when None) on day BREACH_DAY, run for FOLLOW_UP_DAYS after it.

    It shares the warm-up of ``scenario`` (events and horizon are not part of it:
    `sim.model.warmup`), so `breach_figures` branches it from the journey run's warm-up. The
    breach figures pool one such scenario per brand of the market (module docstring)."""
    target = next(b for b in scenario.brands if brand in (None, b.name))
    data = _follow_up_data(scenario)  # the market of `follow_up_scenario`, plus the breach
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


BREACH_COUNTS = (
    "notified_customers",
    "notified_customers_churned",
    "notified_customers_churned_without_breach",
    "notified",
    "notified_defrauded",
    "notified_card",
    "notified_card_defrauded",
    "unexposed",
    "unexposed_defrauded",
    "aware_days",
    "stated_intent_sum",
)
"""What one breach branch counts (`breach_counts`); `pool` turns the sums over branches into the
breach figures."""


def breach_counts(
    m: TrustModel, brand_index: int, churned_without_breach: np.ndarray
) -> dict[str, float]:
    """Run ``m`` (a model of ``breach_scenario`` for brand ``brand_index``, at day 0) to its end and
    count, on each source's population (see `TARGETS` denominators), what the breach figures are
    shares of: the numerators and denominators of `BREACH_COUNTS`.

    ``churned_without_breach`` (consumers x brands, bool) is who is CHURNED at the end of the same
    market run with the same seed and no scheduled breach (`churned_at_end` of a
    `follow_up_scenario` model): the notified customers' churn there is the churn they would have
    had anyway, which abnormal churn subtracts (`pool`)."""
    while m.day < BREACH_DAY:
        m.step()
    pop = m.population
    b = brand_index
    customers = ((pop.flags[:, b] & CUSTOMER) != 0) & ((pop.flags[:, b] & CHURNED) == 0)
    card = _card_holders_at_breach(m, b)  # steps the breach day
    t0 = BREACH_DAY + m.warmup  # arrays hold internal days
    # Exposed by this breach, taken now: exposed_day holds the day of the LAST breach that exposed
    # the record, so a later breach of the brand in the year (stochastic, or another scheduled one)
    # overwrites it. At the end, exposed_day >= t0 would also take those exposed only by the later
    # breach (notified of it, not of this one), and == t0 would drop those exposed by both.
    exposed = pop.exposed_day[:, b] == t0
    m.run()
    # exposed in any breach of any brand from the breach day on (stayers' exposed_day only grows)
    exposed_any = (pop.exposed_day >= t0).any(axis=1)
    # A row re-born since the breach day (7.11) holds a newcomer, in the market for part of the
    # year only. Javelin's "fraud within a year" counts people over a whole year (and a newcomer
    # starts with no fraud); and a customer who left the market is no longer in either churn group
    # (a notified one loses the notice with the row, an unexposed one would count as "stayed"
    # while a newcomer holds the row). Both figures count the consumers there all year.
    stayed = ~reborn_between(m.seed_value, t0, m.t, pop.size, m.params.derived.turnover)
    # The notified: exposed by this breach, notified (NOTIFIED at the end: the notice comes
    # notify_within_days later) and in the market all year (a row re-born since the breach day
    # has lost the notice and holds a newcomer, who may be exposed by a later breach)
    notified = ((pop.flags[:, b] & NOTIFIED) != 0) & exposed & stayed
    # Stopped dealing is churn, the consumer's own decision (7.9): a record the brand deleted
    # without churn (retention, L4: 730 days unseen) is not the breach's doing, and the same
    # consumers lose theirs as often without it (benchmarks/breach_churn_definition.py).
    churned = (pop.flags[:, b] & CHURNED) != 0
    n_cust = customers & notified
    defrauded = pop.fraud_day >= t0
    unexposed = ~exposed_any & stayed
    stocks = m.recorder.stocks[BREACH_DAY:, b]
    aware = stocks[:, STOCKS.index("breach_aware")] > 0
    stated = stocks[aware, STOCKS.index("stated_intent_to_leave")]
    return {
        "notified_customers": int(n_cust.sum()),
        "notified_customers_churned": int(churned[n_cust].sum()),
        "notified_customers_churned_without_breach": int(churned_without_breach[n_cust, b].sum()),
        "notified": int(notified.sum()),
        "notified_defrauded": int(defrauded[notified].sum()),
        "notified_card": int((notified & card).sum()),
        "notified_card_defrauded": int(defrauded[notified & card].sum()),
        "unexposed": int(unexposed.sum()),
        "unexposed_defrauded": int(defrauded[unexposed].sum()),
        "aware_days": int(stated.size),
        "stated_intent_sum": float(stated.sum()),
    }


def _card_holders_at_breach(m: TrustModel, b: int) -> np.ndarray:
    """Step ``m`` through the breach day (it is at its start) and return who had an account with
    brand ``b`` whose payment card the brand held (eq. C1's held mask) when the scheduled breach
    struck, if the breach takes cards: the records a breach notice is about in Javelin's surveys
    (`TARGETS["fraud_after_notice"]`). The mask is taken as the incidents phase starts, so it is
    the mask the exposure kernel (I5) reads with the breach's data types: a consumer who gives
    the card earlier that day (research, purchase) counts, one who revokes it after the breach
    (churn, the same evening) still counts. The incidents phase is wrapped in place for that day
    (same name and position: ``timings`` and the phase list are as they were)."""
    name = m.scenario.brands[b].name
    breach = next(
        e for e in m.scenario.events if e.kind == "breach" and e.day == m.day and e.brand == name
    )
    takes_cards = "payment_card" in breach.data_types
    taken: list[np.ndarray] = []
    plan = m.phases
    at = [p.name for p in plan].index("incidents")
    incidents = plan[at]

    def card_holders_then_incidents(today) -> None:
        held = held_masks(today.population, today.levers, b)
        taken.append(takes_cards & ((held & DATA_BIT["payment_card"]) != 0))
        incidents.run(today)

    plan[at] = Phase(incidents.name, card_holders_then_incidents)
    try:
        m.step()
    finally:
        plan[at] = incidents
    assert len(taken) == 1
    return taken[0]


def pool(counts: Sequence[dict[str, float]]) -> dict[str, float]:
    """The breach figures of one or more branches' `breach_counts`, pooled: every share is the
    sum of its numerators over the branches divided by the sum of its denominators (NaN when that
    is 0). Stated intent is the mean of the daily share over every brand-day with breach-aware
    customers. With one branch these are that branch's own shares."""
    tot = {k: sum(c[k] for c in counts) for k in BREACH_COUNTS}

    def share(num: str, den: str) -> float:
        return float(tot[num] / tot[den]) if tot[den] else float("nan")

    stopped = share("notified_customers_churned", "notified_customers")
    anyway = share("notified_customers_churned_without_breach", "notified_customers")
    return {
        "breach_stopped_dealing": stopped,
        "breach_abnormal_churn": stopped - anyway,
        "breach_stated_intent": share("stated_intent_sum", "aware_days"),
        "fraud_after_notice": share("notified_card_defrauded", "notified_card"),
        "fraud_unexposed": share("unexposed_defrauded", "unexposed"),
    }


def start(
    scenario: Scenario, seed: int, replication: int = 0
) -> tuple[TrustModel, WarmState | None]:
    """The journey model of one replication at day 0 (its warm-up spun up), and that warm-up's
    state for the breach branches (`sim.model.warmup`; None when ``OMNITRUST_BRANCH`` is off, then
    every branch spins its own, with the same numbers)."""
    m = TrustModel(scenario, seed=seed, replication=replication)
    return m, (capture(m) if branching_enabled() else None)


def breached_brands(scenario: Scenario) -> list[str]:
    """The brands whose breaches the pooled breach figures count: every brand that holds some data
    type (a brand that collects nothing has no records to lose) and whose records none of the
    scenario's own events exposes on BREACH_DAY (`exposed_by_the_scenario`)."""
    taken = exposed_by_the_scenario(scenario)
    return [b.name for b in scenario.brands if b.policy.data_collection and b.name not in taken]


def exposed_by_the_scenario(scenario: Scenario) -> dict[str, str]:
    """Brand name -> why: the brands whose records one of the scenario's own events exposes on
    BREACH_DAY, the day the evidence's breach strikes. Exposure is dated by the day only, so the
    consumers that event exposed would count as notified of the evidence's breach, and the run
    without it (abnormal churn's baseline) would hold the scenario's breach too: the figure would
    measure one breach on top of another. Such brands are left out of the breach figures. A
    third-party leak exposes every brand's shared and social-login records."""
    out: dict[str, str] = {}
    for e in scenario.events:
        if e.day != BREACH_DAY:
            continue
        if e.kind == "breach":
            out.setdefault(e.brand, f"the scenario's own breach of it is on day {BREACH_DAY}")
        elif e.kind == "third_party_leak":
            for b in scenario.brands:
                out.setdefault(b.name, f"the scenario's third-party leak is on day {BREACH_DAY}")
    return out


def breach_figures(
    scenario: Scenario,
    seed: int,
    brands: Sequence[str] | None = None,
    warm_start: WarmState | None = None,
) -> dict[str, float]:
    """The breach figures of one replication (seed ``seed``), pooled over one branch per brand of
    ``brands`` (default: `breached_brands`, in order): ``breach_scenario(scenario,
    brand)`` continued from ``warm_start`` (the warm-up of ``scenario`` with this seed, `start`),
    or spinning its own warm-up up when it is None."""
    names = breached_brands(scenario) if brands is None else list(brands)
    if not names:
        return dict.fromkeys(BREACH_FIGURES, float("nan"))
    index = {b.name: k for k, b in enumerate(scenario.brands)}
    quiet = churned_at_end(
        TrustModel(follow_up_scenario(scenario), seed=seed, warm_start=warm_start)
    )
    counts = [
        breach_counts(
            TrustModel(breach_scenario(scenario, name), seed=seed, warm_start=warm_start),
            index[name],
            quiet,
        )
        for name in names
    ]
    return pool(counts)


def churned_at_end(m: TrustModel) -> np.ndarray:
    """Run ``m`` to its end and return who is CHURNED then (consumers x brands, bool)."""
    m.run()
    return (m.population.flags & CHURNED) != 0


def measure(
    scenario: Scenario, replications: int = 3, seed: int | None = None, brand: str | None = None
) -> pd.DataFrame:
    """Model figures next to the published ones, one row per target (see module docstring).

    Each replication spins its warm-up up once (`start`) and branches the journey run and the
    breach runs from it. The breach figures are pooled over one breach of each brand in turn
    (`breach_figures`); ``brand`` measures them on that brand's breach only.
    """
    seed = scenario.simulation.seed if seed is None else seed
    brands = None if brand is None else [brand]
    rows: dict[str, list[float]] = {}
    for k in range(replications):
        rs = replication_seed(seed, k)
        m, warm = start(scenario, rs)
        m.run()
        for name, value in {
            **journey_figures(m),
            **breach_figures(scenario, rs, brands, warm),
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
