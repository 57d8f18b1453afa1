"""The scenario schema: what a scenario file may say, with units, ranges and sources.

A scenario is plain data (TOML on disk), validated once on load by these pydantic models; the model
code trusts validated input. Every parameter carries its unit, range and source in its field
metadata; the parameter tables of docs/PARAMETERS.md (between its GENERATED markers) are generated
from this module by ``omnitrust params --update docs/PARAMETERS.md``, and a test checks that they
agree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..core.catalogue import COMPENSATIONS, DATA_TYPES

DataType = Literal[
    "contact",
    "purchase_history",
    "onsite_behaviour",
    "cross_site_tracking",
    "location",
    "in_store_camera",
    "social_login",
    "payment_card",
]
Compensation = Literal["none", "voucher", "credit_monitoring"]
BreachChannel = Literal["store", "web", "app"]
assert tuple(DataType.__args__) == DATA_TYPES  # type: ignore[attr-defined]
assert tuple(Compensation.__args__) == COMPENSATIONS  # type: ignore[attr-defined]


def P(
    default: Any,
    unit: str,
    source: str,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    **kw: Any,
) -> Any:
    """A documented parameter: default, unit, allowed range and the source or rationale."""
    return Field(
        default, ge=ge, le=le, gt=gt, json_schema_extra={"unit": unit, "source": source}, **kw
    )


class Section(BaseModel):
    """Base of every scenario section: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# ---------------------------------------------------------------------------------------------
# Rules across several keys. Each is a function of a getter, ``get(*path)``: the value at a path
# relative to the rule's section (``get("events", 0, "day")``), or `INVALID` when that value
# failed validation. The model validators below give it the validated model (nothing is
# INVALID) and raise the first problem; `sim.scenario.loading.validate_scenario` gives it the
# file's values when some fields are bad, so that every rule whose keys are valid still reports
# its problems in the same pass (`RULES`).
# ---------------------------------------------------------------------------------------------
INVALID: Any = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()
"""What a rule's getter returns for a value that failed validation: the rule skips that check."""

Get = Callable[..., Any]
Rule = Callable[[Get], Iterator[str]]


def model_getter(model: BaseModel) -> Get:
    """A rule's getter over a validated model (attributes, list indices, dict keys)."""

    def get(*path: str | int) -> Any:
        node: Any = model
        for part in path:
            node = node[part] if isinstance(node, list | dict) else getattr(node, part)
        return node

    return get


def _raise_first(problems: Iterator[str]) -> None:
    problem = next(problems, None)
    if problem is not None:
        raise ValueError(problem)


def _valid(*values: Any) -> bool:
    return not any(v is INVALID for v in values)


# ---------------------------------------------------------------------------------------------
class Simulation(Section):
    """How long, how many consumers, how many replications, which seed."""

    days: int = P(
        365, "days", "One year: the horizon of the HBR 2017 channel-mix study.", ge=1, le=3650
    )
    consumers: int = P(
        20_000,
        "consumers",
        "Enough for stable brand means (s.e. of a share < 0.5 pp) in seconds.",
        ge=10,
        le=20_000_000,
    )
    warmup_days: int = P(
        1825,
        "days",
        "Burn-in run before day 0 with the same rules, no stochastic breaches and nothing recorded, so that the market starts recording from its steady state rather than from the artificial initial one (no consents, no subscribers). Chosen with MSER-5 (White 1997) on the key outputs of the quiet baseline run cold for ten years: truncation points 770-1825 days (`omnitrust warmup baseline --consumers 5000 --replications 3`; docs/ODD.md, section 5.1), and with the tolerance check of every bundled scenario: at 1825 days each stands still until its event or policy change (`python benchmarks/steady_scenarios.py --noise`), at 1095 days three variants' subscriber lists still moved 5.5-7% a year. One value for every scenario keeps comparisons paired (common random numbers).",
        ge=0,
        le=3650,
    )
    replications: int = P(
        5,
        "runs",
        "Enough for a first interval; use `compare --target-width` for more.",
        ge=1,
        le=100_000,
    )
    seed: int = P(
        20161,
        "integer",
        "Any non-negative integer; 2016 is the source article's year.",
        ge=0,
        le=2**63 - 1,
    )
    active_window_days: int = P(
        180,
        "days",
        "A customer counts in `active_customers` if it bought from the brand within this many days (a common retail definition of an active customer is a purchase in the last 6-12 months; assumption).",
        ge=1,
        le=3650,
    )


class World(Section):
    """Uncertainties no brand controls."""

    attack_pressure: float = P(
        1.0,
        "multiplier",
        "Scales every brand's breach hazard; 1 = the calibrated base rate (see incidents.base_hazard_per_year).",
        ge=0.0,
        le=20.0,
    )
    contagion: float = P(
        0.25,
        "share",
        "Share of a breached brand's trust shock felt about a sector peer that holds the same kinds of data, when the brand tells the story itself (scaled by the peer's sensitivity overlap and by incidents.media_framing when the media break it; ODD 7.10, I6). Assumption, to vary: the evidence (brief, claim 11) gives the direction only.",
        ge=0.0,
        le=1.0,
    )
    media_amplification: float = P(
        0.3,
        "share",
        "Reach of a reference breach: share of non-exposed consumers who hear of a breach exposing incidents.reach_reference_share of the market with loudness 1 on the day it becomes public (a breach of loudness L reaches 1 - (1 - m)^L; ODD 7.10, I6); also the reach of a media story. Assumption, to vary.",
        ge=0.0,
        le=1.0,
    )
    privacy_concern_trend: float = P(
        0.0,
        "per year",
        "Drift of every consumer's privacy concern per year (positive = more concerned). 0 = stationary world.",
        ge=-0.5,
        le=0.5,
    )
    fine_share_of_revenue: float = P(
        0.01,
        "share of annual revenue",
        "Regulatory fine per breach. GDPR art. 83 caps fines at 4% of turnover; actual retail fines are far lower.",
        ge=0.0,
        le=0.04,
    )


class PopulationSpec(Section):
    """Who the consumers are."""

    fundamentalist: float = P(
        0.26, "share", "Harris/Westin privacy segments: 26% fundamentalists.", ge=0.0, le=1.0
    )
    pragmatist: float = P(
        0.64, "share", "Harris/Westin privacy segments: 64% pragmatists.", ge=0.0, le=1.0
    )
    unconcerned: float = P(
        0.10, "share", "Harris/Westin privacy segments: 10% unconcerned.", ge=0.0, le=1.0
    )
    digital_affinity: float = P(
        0.353,
        "level",
        "Mean propensity to use digital channels (Beta-distributed across consumers). Fitted by `omnitrust calibrate calibration/baseline.toml` (docs/CALIBRATION.md) to the HBR 2017 channel mix (73% multichannel, 20% store-only shoppers), with affinity_concentration and journey.research_days: estimate 0.353, 95% interval 0.233-0.506.",
        ge=0.0,
        le=1.0,
    )
    affinity_concentration: float = P(
        0.883,
        "Beta concentration",
        "Spread of digital affinity across consumers: Beta(m k, (1-m) k) with mean m; small k polarises shoppers into store-bound and digital-bound. Fitted by `omnitrust calibrate calibration/baseline.toml` (docs/CALIBRATION.md) to the HBR 2017 channel mix: estimate 0.883, 95% interval 0.532-2.06.",
        gt=0.0,
        le=100.0,
    )
    concern_concentration: float = P(
        10.0,
        "Beta concentration",
        "Spread of privacy concern within a Westin segment: Beta(m k, (1-m) k) around the segment's mean m (sd 0.12 / 0.15 / 0.11 for the three segments at 10). Assumption: the segments stay distinct.",
        gt=0.0,
        le=1000.0,
    )
    need_shape: float = P(
        1.0,
        "gamma shape",
        "Heterogeneity of the need rate across consumers (gamma shape; 1 = exponential: many occasional shoppers, a few frequent ones). Assumption.",
        gt=0.0,
        le=100.0,
    )
    literacy: float = P(
        0.26,
        "share",
        "Share who read privacy terms before consenting: 74% skip them (Obar & Oeldorf-Hirsch 2020).",
        ge=0.0,
        le=1.0,
    )
    need_rate: float = P(
        0.033,
        "journeys per consumer-day",
        "About one shopping journey a month in the sector (assumption, retail apparel/electronics); gamma-distributed across consumers.",
        ge=0.0,
        le=1.0,
    )
    turnover_per_year: float = P(
        0.10,
        "share per year",
        "Share of the market's consumers who leave it in a year (move away, change life stage) and are replaced by newcomers, so the population is open but its size is constant. About 8-9% of US residents move house each year (US Census Bureau, CPS 2019-2022: 8.4-9.8%) and some change life stage (a first home, children); 10% is an assumption in that range. 0 = a closed market.",
        ge=0.0,
        le=1.0,
    )
    social_degree: int = P(
        8,
        "ties",
        "Mean number of social ties in a Watts-Strogatz small world (Dunbar's inner circles are 5-15).",
        ge=0,
        le=100,
    )
    social_rewiring: float = P(
        0.1,
        "probability",
        "Watts-Strogatz rewiring probability: small-world regime (Watts & Strogatz 1998).",
        ge=0.0,
        le=1.0,
    )

    @model_validator(mode="after")
    def _segments_sum_to_one(self) -> PopulationSpec:
        _raise_first(segment_rule(model_getter(self)))
        return self


class Journey(Section):
    """How shopping journeys unfold across channels."""

    research_days: float = P(
        4.13,
        "days",
        "Mean number of research touchpoints before a purchase decision (geometric). Fitted by `omnitrust calibrate calibration/baseline.toml` (docs/CALIBRATION.md) to webrooming among digital shoppers (Accenture 2013: 78%) and the HBR 2017 channel mix: estimate 4.13, 95% interval 1.37-5.85.",
        ge=1.0,
        le=30.0,
    )
    purchase_probability: float = P(
        0.7,
        "probability",
        "Chance that a journey ends in a purchase in the sector, for a consumer who trusts the brands at the prior level.",
        ge=0.0,
        le=1.0,
    )
    channel_switching: float = P(
        0.45,
        "probability",
        "Chance that the purchase channel is drawn afresh rather than staying in the last research channel, for a siloed brand. Assumption, checked against webrooming/showrooming shares.",
        ge=0.0,
        le=1.0,
    )
    integration_switching: float = P(
        0.45,
        "probability",
        "Extra switching chance at full omnichannel integration (click & collect, endless aisle, one cart across channels).",
        ge=0.0,
        le=1.0,
    )
    trust_weight: float = P(
        4.0,
        "utility per unit trust",
        "Weight of trust in brand choice (multinomial logit). Assumption, to calibrate.",
        ge=0.0,
        le=50.0,
    )
    relevance_weight: float = P(
        1.5,
        "utility per unit relevance",
        "Weight of personalization relevance in brand choice.",
        ge=0.0,
        le=50.0,
    )
    digital_trust_exponent: float = P(
        1.0,
        "exponent",
        "Digital purchase channels are weighted by trust**exponent: paying online needs more trust.",
        ge=0.0,
        le=10.0,
    )
    basket_value: float = P(
        60.0,
        "EUR per purchase",
        "Mean basket of a mid-market retailer (assumption; only scales money).",
        gt=0.0,
        le=1e6,
    )
    relevance_uplift: float = P(
        0.2,
        "share",
        "Basket uplift at full relevance: personalization raises revenue 5-15% (McKinsey 2021) to 20%.",
        ge=0.0,
        le=2.0,
    )
    research_brand_floor: float = P(
        0.2,
        "trust",
        "The brand researched is drawn with weight presence x (floor + trust) (J2): the floor keeps a distrusted but present brand in view, so consumers can still come across it (assumption).",
        ge=0.0,
        le=10.0,
    )
    max_days: int = P(
        60,
        "days",
        "Cap on a journey's research days (J1), and on the days left of journeys in progress at the start. A safety cap (assumption): at the default mean of 2 days a geometric length exceeds it with probability 0.5**60. At most 127, the int8 storage of days left.",
        ge=1,
        le=127,
    )


class Trust(Section):
    """Trust as beta reputation with forgetting (Josang & Ismail 2002): t = (r + a W) / (r + s + W)."""

    prior: float = P(0.5, "trust", "Base rate a: trust with no evidence.", ge=0.0, le=1.0)
    initial: float = P(0.55, "trust", "Mean initial trust in an established brand.", ge=0.0, le=1.0)
    initial_evidence: float = P(
        4.0,
        "evidence units",
        "Weight of the evidence behind initial trust (how settled opinions are at day 0).",
        ge=0.0,
        le=1000.0,
    )
    initial_concentration: float = P(
        8.0,
        "Beta concentration",
        "Spread of initial trust across consumers: t0 ~ Beta(k initial, k (1 - initial)), sd about 0.17 at 8 (assumption: opinions of an established brand differ, but not wildly).",
        gt=0.0,
        le=1000.0,
    )
    prior_weight: float = P(
        2.0,
        "evidence units",
        "W: non-informative prior weight of beta reputation (Josang & Ismail 2002).",
        gt=0.0,
        le=100.0,
    )
    half_life_days: float = P(
        180.0,
        "days",
        "Evidence forgetting half-life; sets how slowly a breach is forgotten. Assumption, to calibrate.",
        gt=0.0,
        le=36500.0,
    )
    negative_weight: float = P(
        3.0,
        "ratio",
        "Asymmetry: a negative experience counts this many times a positive one (Slovic 1993 gives the direction, not the ratio).",
        ge=1.0,
        le=50.0,
    )
    purchase_evidence: float = P(
        0.25, "evidence units", "Positive evidence from a satisfactory purchase.", ge=0.0, le=10.0
    )
    personalization_evidence: float = P(
        0.15,
        "evidence units",
        "Positive evidence from a relevant personalised touch, times relevance.",
        ge=0.0,
        le=10.0,
    )
    spam_evidence: float = P(
        0.03,
        "evidence units",
        "Negative evidence from one irrelevant email (before the asymmetry weight).",
        ge=0.0,
        le=10.0,
    )
    creepy_evidence: float = P(
        0.4,
        "evidence units",
        "Negative evidence when a consumer notices sensitive data (sensitivity >= 0.7) used without explanation.",
        ge=0.0,
        le=10.0,
    )
    covert_evidence: float = P(
        0.436,
        "evidence units per unit sensitivity",
        "Negative evidence, times the highest sensitivity among the covert types concerned, when a consumer finds out that the brand holds data on them they never knew it collected (a use in personalization they notice, or a breach that exposes it). Data practices hidden from customers amplify the damage when they come to light, transparency mitigates it (Martin, Borah & Palmatier 2017, J. Marketing 81(1)). Fitted by `omnitrust calibrate calibration/baseline.toml` (docs/CALIBRATION.md) with incidents.disclosure_evidence to the abnormal churn of notified customers (Ponemon 2006-2013: 2-4%), which the covert-data reveal of a breach drives: estimate 0.436, 95% interval 0.0531-1.31.",
        ge=0.0,
        le=100.0,
    )
    informed_relief: float = P(
        0.8,
        "share",
        "Share of the negative evidence of an irrelevant email avoided when the consumer knowingly shared their data with the brand (was told what it collects and why): an expected newsletter that misses is mostly ignored, and permission-based messages are felt as far less intrusive than unexpected ones (Tsang, Ho & Liang 2004, Int. J. Electronic Commerce 8(3)). The size is an assumption, and the sign of transparency's effect on trust depends on it: with the baseline's mail, at about 0.55 a transparent brand's extra subscribers cost as much trust as its other gains bring (docs/ODD.md 7.3).",
        ge=0.0,
        le=1.0,
    )
    ask_evidence: float = P(
        0.1,
        "evidence units",
        "Negative evidence when a concerned consumer is asked for sensitive data without the value being explained.",
        ge=0.0,
        le=10.0,
    )
    word_of_mouth: float = P(
        0.1,
        "evidence units",
        "Evidence passed in one conversation, times the friend's (trust - prior).",
        ge=0.0,
        le=10.0,
    )
    talk_rate: float = P(
        0.1,
        "conversations per consumer-day",
        "Chance a consumer talks about a brand with a social tie on a given day.",
        ge=0.0,
        le=1.0,
    )
    churn_threshold: float = P(
        0.3, "trust", "Below this trust a customer may stop dealing with the brand.", ge=0.0, le=1.0
    )
    churn_rate: float = P(
        0.02,
        "per day",
        "Daily chance that a customer below the churn threshold leaves the brand.",
        ge=0.0,
        le=1.0,
    )
    return_threshold: float = P(
        0.45,
        "trust",
        "A churned consumer considers the brand again once trust recovers above this (at least churn_threshold).",
        ge=0.0,
        le=1.0,
    )

    @model_validator(mode="after")
    def _return_above_churn(self) -> Trust:
        _raise_first(threshold_rule(model_getter(self)))
        return self


class Consent(Section):
    """Consent requests: logit of granting a data type."""

    intercept: float = P(
        -2.2,
        "log-odds",
        "Opt-in when asked plainly with no value offered: ~4-12% (Apple ATT, Flurry 2021) -> logit(0.1) = -2.2.",
        ge=-20.0,
        le=20.0,
    )
    trust_effect: float = P(
        4.0,
        "log-odds per unit trust",
        "Trusting consumers grant more (brief, claim 8).",
        ge=0.0,
        le=50.0,
    )
    transparency_effect: float = P(
        2.5,
        "log-odds",
        "Explaining the value exchange: with full transparency and good trust ~79% would share (Salesforce 2018).",
        ge=0.0,
        le=50.0,
    )
    concern_effect: float = P(
        3.0,
        "log-odds per unit concern x sensitivity",
        "Privacy concern times data sensitivity lowers consent.",
        ge=0.0,
        le=50.0,
    )
    unread_bonus: float = P(
        1.5,
        "log-odds",
        "Consumers who do not read terms accept the data types bundled in them (contact, purchase history) more easily (74% skip; Obar & Oeldorf-Hirsch).",
        ge=0.0,
        le=20.0,
    )
    revoke_rate: float = P(
        0.02,
        "per day",
        "Daily chance that a consumer below the churn threshold revokes consents and unsubscribes.",
        ge=0.0,
        le=1.0,
    )
    covert_notice_rate: float = P(
        0.06,
        "per personalised touch per unit concern x sensitivity",
        "Chance per personalised touch that a consumer who does not know the brand collects covert data (on-site behaviour, cross-site tracking, in-store cameras) notices it being used, times concern and the highest sensitivity among the covert types held. Set equal to creepy_rate (Accenture 2018: 27% felt a firm too intrusive over a year); assumption.",
        ge=0.0,
        le=1.0,
    )
    creepy_rate: float = P(
        0.06,
        "per personalised touch",
        "Chance per touch that a concerned consumer notices sensitive data (cross-site tracking, location, in-store cameras) being used when not explained; Accenture 2018: 27% felt a firm too intrusive over a year.",
        ge=0.0,
        le=1.0,
    )


class Outreach(Section):
    """Newsletters: frequency x targeting."""

    subscribe_probability: float = P(
        0.25,
        "probability",
        "Chance a purchaser who consented to contact subscribes to the newsletter.",
        ge=0.0,
        le=1.0,
    )
    unsubscribe_per_email: float = P(
        0.0024,
        "probability per irrelevant email at 5 mailings a month",
        "Unsubscribe chance of an irrelevant email at 5 mailings a month; relevant emails unsubscribe less (relevant_unsubscribe_ratio) and more mail unsubscribes more (unsubscribe_fatigue_exponent). Set so that the baseline's mean is about 0.25% per email (Mailchimp benchmarks 2018-19: 0.23-0.27% per campaign; see `omnitrust evidence`).",
        ge=0.0,
        le=1.0,
    )
    complaint_per_email: float = P(
        0.0001,
        "probability per email",
        "Mailchimp: 0.01-0.02% spam complaints per campaign (at 5 mailings a month).",
        ge=0.0,
        le=1.0,
    )
    fatigue_exponent: float = P(
        2.1,
        "exponent",
        "Complaints grow as (mailings/month / 5)^k: 0.009% -> 0.057% from 5 to 12 a month (ClickZ via Mailchimp) gives k = ln(6.3)/ln(2.4) = 2.1.",
        ge=0.0,
        le=5.0,
    )
    relevant_unsubscribe_ratio: float = P(
        0.6,
        "ratio",
        "Unsubscribe chance of a relevant email relative to an irrelevant one. Derived from Mailchimp 2017 (11,000 campaigns): segmented campaigns have 9.4% fewer unsubscribes; a fully segmented campaign is relevant with probability skill x V(H), about 0.2 for the baseline's subscribers, so 1 - 0.094 / 0.2 = 0.53; 0.6 gives -9.6% in the model (the held data vary), measured by tests/test_email.py.",
        ge=0.0,
        le=1.0,
    )
    unsubscribe_fatigue_exponent: float = P(
        0.5,
        "exponent",
        "Unsubscribes per email grow as (mailings per month / 5)^k: frequency is the first reason people give for unsubscribing (MarketingSherpa 2015). Weaker than complaints' 2.1 (assumption).",
        ge=0.0,
        le=5.0,
    )
    click_rate: float = P(
        0.088,
        "probability per relevant email",
        "Chance that a relevant email is clicked: it starts a journey for an idle consumer and adds the email channel to the journey. With irrelevant_click_ratio it gives about 2.3% clicks per email at the baseline (Mailchimp benchmarks 2019: 2.6% all industries, 2.25% retail) and about twice the clicks for a segmented campaign (Mailchimp 2017: +101%).",
        ge=0.0,
        le=1.0,
    )
    irrelevant_click_ratio: float = P(
        0.17,
        "ratio",
        "Click chance of an irrelevant (generic) email relative to a relevant one; with click_rate, chosen so that segmented campaigns get about twice the clicks of unsegmented ones (Mailchimp 2017: +101%) when skill x V(H) of a segmented email is about 0.2, as measured on the baseline's subscribers: 1 + 1.01 / 0.2 = 6 = 1 / 0.17.",
        ge=0.0,
        le=1.0,
    )
    list_decay_per_year: float = P(
        0.125,
        "share per year",
        "Share of subscribers whose address goes stale in a year (a new job, a new provider, an abandoned inbox) and drop off the list, on top of the consumers who leave the market (population.turnover_per_year). Email lists lose about 22.5% a year (HubSpot 2017); with the 10% turnover this leaves 12.5%.",
        ge=0.0,
        le=1.0,
    )
    email_cost: float = P(
        0.002,
        "EUR per email",
        "Sending cost of one email (ESP pricing, order of magnitude).",
        ge=0.0,
        le=10.0,
    )
    max_emails_per_day: int = P(
        16,
        "emails per subscriber-day per brand",
        "Cap on the e-mails of one brand that reach a subscriber on one day (O1); above it a send is dropped. A safety cap (assumption) that no allowed emails_per_week reaches (50 a week is about 7 a day). At most 16, the random-number slots reserved per brand and day (sim/core/constants.py), so that changing the cap leaves every other draw as it was.",
        ge=1,
        le=16,
    )
    complaint_penalty: float = P(
        10.0,
        "multiples of trust.spam_evidence",
        "Extra negative evidence of a spam complaint (O2), on top of the spam evidence of the e-mail itself: a consumer who complains is annoyed enough to act (assumption).",
        ge=0.0,
        le=1000.0,
    )


class Incidents(Section):
    """Breaches, harm, disclosure and their costs (issue 3)."""

    base_hazard_per_year: float = P(
        0.15,
        "breaches per brand-year",
        "Yearly breach chance of a brand collecting all eight data types (social login's own factor set aside), holding records on half the market, sharing nothing, at security_investment 0.5 (Ponemon/IBM: ~28% of firms breached within 2 years, all sizes and sectors).",
        ge=0.0,
        le=50.0,
    )
    security_effect: float = P(
        3.0,
        "per unit investment",
        "Hazard falls as exp(-effect x (investment - 0.5)) and severity as exp(-effect/2 x (investment - 0.5)): full investment cuts the hazard 20x vs none (assumption).",
        ge=0.0,
        le=20.0,
    )
    sharing_effect: float = P(
        1.0,
        "per unit sharing",
        "Third-party sharing multiplies hazard by 1 + effect x share.",
        ge=0.0,
        le=20.0,
    )
    social_login_effect: float = P(
        0.5, "ratio", "Hazard multiplier increment when social login is collected.", ge=0.0, le=20.0
    )
    severity_tail: float = P(
        1.2,
        "Pareto shape",
        "Breach sizes are heavy-tailed (Edwards, Hofmeyr & Forrest 2016: log-normal/power law).",
        gt=0.0,
        le=20.0,
    )
    severity_scale: float = P(
        0.05, "share of records", "Minimum (scale) of the exposed share of records.", gt=0.0, le=1.0
    )
    harm_delay_days: float = P(
        21.0, "days", "Mean delay from exposure to harm (exponential).", ge=0.0, le=365.0
    )
    fraud_probability: float = P(
        0.211,
        "probability",
        "Chance that an exposed payment card is defrauded (credentials lead to takeover instead). Fitted by `omnitrust calibrate calibration/baseline.toml` (docs/CALIBRATION.md) to fraud among notified consumers whose card the breached brand held (Javelin 2006-2013: 16-25% vs ~4% others; docs/CALIBRATION.md, section How the breach figures are measured): estimate 0.211, 95% interval 0.066-0.429.",
        ge=0.0,
        le=1.0,
    )
    phishing_probability: float = P(
        0.3,
        "probability",
        "Chance an exposed contact record brings phishing or third-party contact (assumption).",
        ge=0.0,
        le=1.0,
    )
    takeover_probability: float = P(
        0.1,
        "probability",
        "Chance an exposed social-login credential leads to account takeover (assumption).",
        ge=0.0,
        le=1.0,
    )
    attribution_notified: float = P(
        0.8,
        "probability",
        "Chance a notified consumer blames the right brand for harm.",
        ge=0.0,
        le=1.0,
    )
    attribution_unnotified: float = P(
        0.2,
        "probability",
        "Chance an unnotified consumer blames the right brand; otherwise the whole sector.",
        ge=0.0,
        le=1.0,
    )
    disclosure_evidence: float = P(
        0.0698,
        "evidence units",
        "Negative evidence when an exposed consumer learns of the breach (before asymmetry weight and softening). Fitted by `omnitrust calibrate calibration/baseline.toml` (docs/CALIBRATION.md) with trust.covert_evidence to the abnormal churn of notified customers (Ponemon 2006-2013: 2-4%): estimate 0.0698, 95% interval 0.0236-0.258. The two trade off (a ridge of the posterior); RAND's 11% who stop dealing is kept out of the fit as validation.",
        ge=0.0,
        le=100.0,
    )
    news_evidence: float = P(
        0.15,
        "evidence units",
        "Negative evidence for a consumer who hears of the breach but was not exposed (media, or half of it through word of mouth). Set below the exposed consumer's disclosure shock (assumption).",
        ge=0.0,
        le=100.0,
    )
    word_of_mouth_news_share: float = P(
        0.5,
        "share of news_evidence",
        "Shock of a consumer who hears of a breach from a friend (W1), as a share of the news shock from the media: second-hand news weighs less (assumption).",
        ge=0.0,
        le=1.0,
    )
    harm_evidence: float = P(
        1.0,
        "evidence units",
        "Negative evidence from suffering fraud or account takeover (phishing counts 0.3 of it). Assumption (the unit of harm); not fitted: the breach figures are fitted through disclosure_evidence and trust.covert_evidence at this value (docs/CALIBRATION.md).",
        ge=0.0,
        le=100.0,
    )
    fraud_weight: float = P(
        1.0,
        "multiples of harm_evidence",
        "Weight of payment-card fraud in the harm evidence (I7). The reference harm: harm_evidence is tuned at this weight.",
        ge=0.0,
        le=100.0,
    )
    takeover_weight: float = P(
        1.0,
        "multiples of harm_evidence",
        "Weight of an account takeover in the harm evidence (I7): as bad as fraud (assumption).",
        ge=0.0,
        le=100.0,
    )
    phishing_weight: float = P(
        0.3,
        "multiples of harm_evidence",
        "Weight of phishing or unwanted third-party contact in the harm evidence (I7): a nuisance, not a loss (assumption).",
        ge=0.0,
        le=100.0,
    )
    unattributed_harm_share: float = P(
        0.5,
        "share of the harm evidence",
        "A victim who cannot tell which brand leaked the data blames every brand of the sector with this share of the harm evidence (I7; assumption).",
        ge=0.0,
        le=1.0,
    )
    media_leak_rate: float = P(
        0.02,
        "per day",
        "Daily chance that an undisclosed breach reaches the media before notification.",
        ge=0.0,
        le=1.0,
    )
    media_story_scale: float = P(
        2.0,
        "disclosure severity per unit story severity",
        "A `media_story` event of severity v shocks the consumers who hear of it like a breach of disclosure severity S = scale x v; at 2 a story of severity 0.5-0.7 is as bad as a breach of the catalogue's severities 1.0-1.4 (assumption).",
        ge=0.0,
        le=10.0,
    )
    late_notice_penalty: float = P(
        0.01,
        "per day of delay",
        "Extra disclosure shock per day between breach and notice (late notice reads as hiding): a trust effect, not a regulator's fine for late notice (the model's only fine, world.fine_share_of_revenue, is charged when a breach becomes public, whatever the delay). Direction from Muzatko & Bansal, 'It pays to be forthcoming: timing of data breach announcement, trust violation, and trust restoration' (Internet Research, 2023): in a survey experiment, an announcement two months after discovery lowered trust more than one made at once, and trust stayed lower after credit monitoring was offered. They publish no per-day rate; 0.01 is an assumption: two months' delay (60 days) makes the shock 1.6 times as large.",
        ge=0.0,
        le=1.0,
    )
    compensation_softening: float = P(
        0.35,
        "share",
        "Share of the disclosure shock avoided with credit monitoring (a voucher avoids voucher_share of it). Direction from the published studies, none of which gives this share: Muzatko & Bansal (Internet Research, 2023) found that offering identity theft protection and credit monitoring raised trust again after a breach announcement; Goode et al., 'User compensation as a data breach recovery action: an investigation of the Sony PlayStation Network breach' (MIS Quarterly, 2017), and its replication on the Home Depot breach (Emerald, 2021), found compensation that met customers' expectations raised repurchase intentions, while too little or too much lowered them. 0.35 (about a third of the shock avoided, so most of it remains) is an assumption.",
        ge=0.0,
        le=1.0,
    )
    voucher_share: float = P(
        0.5,
        "share of compensation_softening",
        "A goodwill voucher softens the disclosure shock by this share of what credit monitoring does: it costs the consumer's trouble less directly (assumption).",
        ge=0.0,
        le=1.0,
    )
    reach_reference_share: float = P(
        0.1,
        "share of the market's consumers",
        "Size of the reference breach whose loudness is its severity S: records exposed (records_share x records held) / consumers. A breach exposing a tenth of a sector's customers is national news (Target 2013: ~40 M cards, ~a third of US households; assumption).",
        gt=0.0,
        le=1.0,
    )
    reach_elasticity: float = P(
        0.5,
        "exponent",
        "Loudness grows as (size / reference)^k: media attention grows with breach size but less than in proportion (square root; the reported size of the largest breaches spans 5 orders of magnitude while coverage saturates; assumption, to vary).",
        ge=0.0,
        le=3.0,
    )
    media_framing: float = P(
        1.0,
        "ratio",
        "Extra contagion when the media break the story before the brand notifies: told as 'retailers cannot keep your data', the spillover to peers is (1 + framing) times that of a story the brand tells itself (assumption, to vary).",
        ge=0.0,
        le=10.0,
    )
    channel_aversion: float = P(
        0.6,
        "share",
        "Drop in a consumer's comfort with the breached brand's channel right after learning of a breach there (POS skimming -> store); comfort recovers with the trust half-life. A weight on that channel in channel and brand choice (assumption; surveys after the Target 2013 breach report a large share avoiding the breached retailer's stores for months).",
        ge=0.0,
        le=1.0,
    )
    background_fraud_per_year: float = P(
        0.04,
        "probability per consumer-year",
        "Identity/card fraud that has nothing to do with a modelled breach: Javelin 2006-2013, about 4% of consumers not notified of a breach are victims in a year. Unattributable: the victim suspects the whole sector (I7).",
        ge=0.0,
        le=1.0,
    )
    candour_softening: float = P(
        0.3,
        "share",
        "Share of the disclosure and news shock avoided by a fully candid notice with an apology (policy.breach_candour = 1) when the brand tells the story before the media (an apology repairs trust after a competence-based violation, such as a security failure, better than denial: Kim, Ferrin, Cooper & Dirks 2004; the size is an assumption).",
        ge=0.0,
        le=1.0,
    )
    candour_cost: float = P(
        3.0,
        "EUR per notified consumer at candour 1",
        "Plain-language letters, a staffed call centre and the legal exposure of admitting fault (assumption, order of magnitude of the notification cost).",
        ge=0.0,
        le=1e4,
    )
    account_deletion: float = P(
        0.3,
        "probability",
        "Chance that a churning exposed customer deletes the account (records fall).",
        ge=0.0,
        le=1.0,
    )
    detection_cost_per_record: float = P(
        30.0,
        "EUR per exposed record",
        "Detection, forensics and escalation. Ponemon/IBM averages are about USD 60 per record for breaches of ~25k records; halved for retail's lower per-record cost (assumption). Per record so that money scales with the simulated market.",
        ge=0.0,
        le=1e4,
    )
    notification_cost: float = P(
        5.0,
        "EUR per notified consumer",
        "Ponemon: notification costs a few EUR per record.",
        ge=0.0,
        le=1e4,
    )
    monitoring_cost: float = P(
        1.0,
        "EUR per notified consumer",
        "Offering one year of credit monitoring, per consumer notified (not per enrolee): the brand pays for those who enrol, a small share. Enrolment runs at 2-3% after private-company breaches and 11% after the OPM breach (OPM acting director B. Cobert, House hearing, 2016), under 10% in Experian's data (2015), under 3% at USD 6 per enrolee for the Texas Comptroller's 2011 breach (USD 600,480 for 100,000 enrolees); a year of services costs USD 0.25-2.00 per affected consumer depending on scale (Mondaq, 'Credit Monitoring Services: A How-To Guide', 2017). 1 EUR = about 10% enrolment at EUR 10 per enrolee-year, the upper half of that band. The trust effect (compensation_softening) comes from the offer, so it reaches every notified consumer.",
        ge=0.0,
        le=1e4,
    )
    voucher_cost: float = P(
        5.0,
        "EUR per notified consumer",
        "A goodwill voucher: its cost to the brand per consumer notified (the softening, voucher_share, reaches every notified consumer). Published cases span a wide range: TJX's 2007 settlement gave USD 30 store vouchers (two for proven costs over USD 60) only to customers who claimed, the vouchers capped at USD 7 M in total over 45.7 M exposed cards (at most about USD 0.15 per card; eWeek, 'TJX settles lawsuits, offers discount days', September 2007); Sony offered existing PlayStation Network users 30 days of its premium service and some free content after the 2011 breach (Fox Business, 'Sony freebies help soothe anger at data breach', 2011). EUR 5 lies inside the range USD 0.15-30 but is not taken from either case: an assumption for a small voucher offered to every notified consumer, paid as it is redeemed.",
        ge=0.0,
        le=1e4,
    )
    card_reissue_cost: float = P(
        5.0, "EUR per exposed card", "Card reissue charged back to the merchant.", ge=0.0, le=1e4
    )
    security_budget_per_consumer_year: float = P(
        10.0,
        "EUR per market consumer per year at investment 1",
        "Security spend at full investment, times the brand's presence share. At the baseline (about EUR 550 of sector revenue per consumer-year) investment 0.5 costs about 1% of a brand's revenue, the order of retail IT-security budgets (assumption).",
        ge=0.0,
        le=1e4,
    )


class Costs(Section):
    """What the other policy levers cost (issue 9): personalization skill, omnichannel integration
    and transparency each have a cost curve of the same form as security's spend (I4),

        cost_b per day = c * x_b ** g * N * presence_b / sum(presence) / 365,

    with x_b the brand's lever in [0, 1], c the cost per market consumer-year at lever 1 and g >= 1
    the curvature (increasing and convex: each step of the lever costs more than the last). Scaled
    to the market like security's budget, so money scales with the simulated consumers. The
    baseline market turns over about EUR 550 of sector revenue per consumer-year (`omnitrust run
    baseline`, revenue summed over brands), so EUR 8 at lever 1 is about 1.5% of a brand's revenue.
    """

    personalization_cost_per_consumer_year: float = P(
        8.0,
        "EUR per market consumer per year at personalization_skill 1",
        "Data, tools and people that turn data into relevance (customer data platform, recommendation engine, analytics). Gartner's CMO Spend Survey 2023: marketing budgets are 9.1% of company revenue and marketing technology about a quarter of them (about 2.3% of revenue); a full personalization stack is taken as about two thirds of it, 1.5% of a brand's revenue at skill 1 (assumption).",
        ge=0.0,
        le=1e4,
    )
    personalization_cost_exponent: float = P(
        2.0,
        "exponent (1 = linear)",
        "Curvature of the personalization cost: the last steps (real-time decisioning, in-house data science) cost most. 2 makes skill 0.5 cost a quarter of skill 1 (assumption).",
        ge=1.0,
        le=4.0,
    )
    integration_cost_per_consumer_year: float = P(
        8.0,
        "EUR per market consumer per year at omnichannel_integration 1",
        "Unified commerce: order management, inventory visibility across stores and web, point of sale tied to the customer record. Retail IT budgets are commonly put at about 2-3% of revenue in IT-spend benchmarks (order of magnitude, not a cited figure); full integration is taken as about half of that, 1.5% of a brand's revenue at level 1 (assumption).",
        ge=0.0,
        le=1e4,
    )
    integration_cost_exponent: float = P(
        2.0,
        "exponent (1 = linear)",
        "Curvature of the integration cost: connecting the first channels reuses existing systems, a single real-time view of every channel does not (assumption).",
        ge=1.0,
        le=4.0,
    )
    transparency_cost_per_consumer_year: float = P(
        1.0,
        "EUR per market consumer per year at transparency 1",
        "Clearer consent flows: a consent management platform, a preference centre, plain-language notices and their user research. Mostly fixed software and design costs, far below marketing technology: about 0.2% of a brand's revenue at transparency 1 (assumption).",
        ge=0.0,
        le=1e4,
    )
    transparency_cost_exponent: float = P(
        2.0,
        "exponent (1 = linear)",
        "Curvature of the transparency cost: explaining every use in every channel costs more per step than a basic notice (assumption).",
        ge=1.0,
        le=4.0,
    )


class Policy(Section):
    """What a brand chooses: its data-use and security policy (brief, 'What strategists pull')."""

    data_collection: list[DataType] = Field(
        default_factory=lambda: ["contact", "purchase_history", "onsite_behaviour"],
        json_schema_extra={
            "unit": "data types",
            "source": "A typical retailer: contact, purchase history and on-site behaviour.",
        },
        description="Data types the brand collects.",
    )
    transparency: float = P(
        0.5,
        "level",
        "Does the brand explain the value exchange when it asks (0 = never, 1 = always)?",
        ge=0.0,
        le=1.0,
    )
    personalization_skill: float = P(
        0.5, "level", "How well the brand turns data into relevance.", ge=0.0, le=1.0
    )
    emails_per_week: float = P(
        1.0,
        "emails per subscriber-week",
        "Retail median is 1-2 a week (Mailchimp).",
        ge=0.0,
        le=50.0,
    )
    email_targeting: float = P(
        0.5, "level", "Share of outreach segmented on the consumer's profile.", ge=0.0, le=1.0
    )
    third_party_sharing: float = P(
        0.0, "share", "Share of data passed to partners (widens exposure).", ge=0.0, le=1.0
    )
    omnichannel_integration: float = P(
        0.5,
        "level",
        "0 = silos, 1 = one view of the customer across channels (brief, claim 1).",
        ge=0.0,
        le=1.0,
    )
    security_investment: float = P(
        0.5, "level", "Lowers breach hazard and severity; costs money every day.", ge=0.0, le=1.0
    )
    consent_refresh_days: float = P(
        365.0,
        "days",
        "Mean time a consent round stays valid before the brand asks again (each consumer's consents lapse with probability 1/refresh per day; at the next touch the brand asks again and the new answer replaces the old, so a refusal or a revocation is not forever). CNIL (2020 cookie guidelines) recommends asking again every 6 months and caps cookie consent at 13 months; the ICO asks firms to refresh consent at appropriate intervals. 365 days is in that range (assumption).",
        ge=1.0,
        le=36500.0,
    )
    data_retention_days: float = P(
        730.0,
        "days",
        "Records untouched for longer are deleted (limits what a breach can leak).",
        ge=0.0,
        le=36500.0,
    )
    notify_within_days: float = P(
        30.0,
        "days",
        "Days from breach to notifying exposed consumers (GDPR: 72 h to the authority).",
        ge=0.0,
        le=3650.0,
    )
    compensation: Compensation = Field(
        "none",
        json_schema_extra={
            "unit": "choice",
            "source": "Offered to notified consumers after a breach.",
        },
        description="Compensation offered to notified consumers: none, voucher or credit_monitoring.",
    )
    breach_candour: float = P(
        0.0,
        "level",
        "Breach communication: 0 = a minimal legal notice, 1 = a candid account with an apology and what was done (softens the shock by incidents.candour_softening, costs incidents.candour_cost per notified consumer). 0 keeps the behaviour of a brand that has not chosen.",
        ge=0.0,
        le=1.0,
    )

    @field_validator("data_collection")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        dup = sorted({x for x in v if v.count(x) > 1})
        if dup:
            raise ValueError(f"data types listed more than once: {', '.join(dup)}")
        return v


class Brand(Section):
    """A brand in the market."""

    name: str = Field(..., min_length=1, max_length=64, description="Unique brand name.")
    presence: float = P(
        1.0,
        "relative weight",
        "Market presence: relative weight in consideration (store network, awareness).",
        gt=0.0,
        le=1000.0,
    )
    gross_margin: float = P(
        0.35,
        "share of revenue",
        "Gross margin of a mid-market retailer (assumption).",
        ge=0.0,
        le=1.0,
    )
    policy: Policy = Field(default_factory=Policy)


# ---------------------------------------------------------------------------------------------
# Scheduled events: a typed list, discriminated by `kind`.
# ---------------------------------------------------------------------------------------------
class EventBase(Section):
    day: int = Field(..., ge=0, description="Day of the run (0-based) on which the event happens.")


class BreachEvent(EventBase):
    """A scheduled breach at one brand."""

    kind: Literal["breach"]
    brand: str = Field(..., description="Name of the breached brand.")
    records_share: float = Field(
        ..., ge=0.0, le=1.0, description="Share of the brand's records exposed."
    )
    data_types: list[DataType] = Field(
        ..., min_length=1, description="Data types exposed (only those the brand holds leak)."
    )
    channel: BreachChannel | None = Field(
        None,
        description="Channel where the breach happened (store: point-of-sale card skimming; web; app); consumers who learn of it shy away from that channel of the brand. None: not tied to a channel.",
    )


class ThirdPartyLeakEvent(EventBase):
    """A partner or social-login provider leaks: consumers cannot tell which brand to blame."""

    kind: Literal["third_party_leak"]
    records_share: float = Field(
        ..., ge=0.0, le=1.0, description="Share of shared/social-login records exposed."
    )
    data_types: list[DataType] = Field(..., min_length=1, description="Data types exposed.")


class MediaStoryEvent(EventBase):
    """A sector-wide privacy scandal without a breach."""

    kind: Literal["media_story"]
    severity: float = Field(..., ge=0.0, le=1.0, description="How damaging the story is (0-1).")
    reveals_covert: bool = Field(
        False,
        description="The story reveals data that brands collect without asking (covert types: on-site behaviour, cross-site tracking, in-store cameras): a consumer it reaches whose relation with the brand holds covert data and who did not knowingly share (not AWARE) takes the covert-data shock of a creepy discovery (ODD 7.3, C7). False: a plain scandal (news shock only).",
    )
    brand: str | None = Field(
        None,
        description="With reveals_covert: the brand whose data practices the story exposes (None: every brand's). The news shock reaches every brand either way.",
    )


Event = Annotated[BreachEvent | ThirdPartyLeakEvent | MediaStoryEvent, Field(discriminator="kind")]


class Scenario(Section):
    """A whole scenario: a market, its brands and their policies, the world, and scheduled shocks."""

    name: str = Field(
        "scenario",
        min_length=1,
        max_length=128,
        description="Scenario name (defaults to the file name).",
    )
    description: str = Field("", description="What the scenario tells.")
    simulation: Simulation = Field(default_factory=Simulation)
    world: World = Field(default_factory=World)
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    journey: Journey = Field(default_factory=Journey)
    trust: Trust = Field(default_factory=Trust)
    consent: Consent = Field(default_factory=Consent)
    outreach: Outreach = Field(default_factory=Outreach)
    incidents: Incidents = Field(default_factory=Incidents)
    costs: Costs = Field(default_factory=Costs)
    brands: list[Brand] = Field(..., min_length=1, max_length=32)
    events: list[Event] = Field(default_factory=list)
    policy_from_day: int | None = Field(
        None,
        ge=0,
        le=3650,
        json_schema_extra={
            "basis": "user choice",
            "unit": "day (reported, 0-based)",
            "source": "The reported day from which the brands follow the policies of this scenario; before it (the whole warm-up, and reported days before it) they follow `policy_before`, by default the policies of the scenario this file `extends`. 0 = the change happens as recording starts: the warm-up runs under the old policy, so this scenario and its parent share their history up to day 0 and differ only by what the change does (docs/ODD.md, 'Policy changes at a known moment'). Must be before the horizon (< simulation.days). Not set (the default): the policies are in force from the first warm-up day, so the market grew up under them (the behaviour of a file without the key, whose numbers do not change).",
        },
        description="Day the brands' policies of this scenario take effect.",
    )
    policy_before: dict[str, Policy] = Field(
        default_factory=dict,
        json_schema_extra={
            "basis": "user choice",
            "unit": "policy tables by brand name",
            "source": "The policies brands follow before `policy_from_day`. Filled in when the scenario is loaded: a file that sets `policy_from_day` and `extends` another gets its parent's brand policies (as the parent runs them). May be written by hand (`[policy_before.Aurora]` tables; a key not given takes the schema default). A brand not listed keeps its own policy throughout.",
        },
        description="Policies in force before the change, by brand.",
    )

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        _raise_first(reference_rule(model_getter(self)))
        return self

    def before_change(self) -> Scenario:
        """The scenario as its brands ran it before ``policy_from_day``: each brand listed in
        ``policy_before`` with that policy, no change scheduled. Without a change, the scenario
        itself."""
        if self.policy_from_day is None:
            return self
        data = self.model_dump(mode="python")
        for brand in data["brands"]:
            if brand["name"] in self.policy_before:
                brand["policy"] = self.policy_before[brand["name"]].model_dump(mode="python")
        data["policy_from_day"] = None
        data["policy_before"] = {}
        return Scenario.model_validate(data)

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of the validated scenario (provenance)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def with_overrides(self, **simulation: Any) -> Scenario:
        """A copy with `simulation` fields replaced (None values are ignored), re-validated."""
        data = self.model_dump(mode="python")
        for key, value in simulation.items():
            if value is not None:
                data["simulation"][key] = value
        return Scenario.model_validate(data)


# ---------------------------------------------------------------------------------------------
# The rules (see `INVALID`): each checks what it can read and yields every problem it finds.
# ---------------------------------------------------------------------------------------------
def segment_rule(get: Get) -> Iterator[str]:
    """``[population]``: the privacy segments' shares sum to 1."""
    shares = [get(k) for k in ("fundamentalist", "pragmatist", "unconcerned")]
    if not _valid(*shares):
        return
    f, p, u = (float(x) for x in shares)
    total = f + p + u
    if abs(total - 1.0) > 1e-6:
        yield (
            f"privacy segment shares fundamentalist + pragmatist + unconcerned must sum to 1, "
            f"got {f} + {p} + {u} = {total:.6g}"
        )


def threshold_rule(get: Get) -> Iterator[str]:
    """``[trust]``: a churned consumer returns only above the level at which it left."""
    back, churn = get("return_threshold"), get("churn_threshold")
    if _valid(back, churn) and float(back) < float(churn):
        yield (
            f"return_threshold = {float(back)} must be at least churn_threshold = "
            f"{float(churn)} (a churned consumer returns only once trust is back above "
            "the level at which it left)"
        )


def reference_rule(get: Get) -> Iterator[str]:
    """The scenario as a whole: brand names, and what events and policy changes refer to (brands,
    days within the horizon)."""
    brands = get("brands")
    names: list[str] = []
    every_name = _valid(brands)  # every brand's name is known (else "not a brand" cannot be said)
    for i in range(len(brands) if every_name else 0):
        name = get("brands", i, "name")
        if _valid(name):
            names.append(name)
        else:
            every_name = False
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        yield f"brand names must be unique; repeated: {', '.join(dup)}"
    folded: dict[str, str] = {}
    for n in dict.fromkeys(names):  # a repeated name is said once, above
        other = folded.setdefault(n.casefold(), n)
        if other != n:
            yield (
                f"brand names {other!r} and {n!r} differ only in letter case; in a file that "
                "extends another, [[brands]] entries merge by exact name, so this adds a brand "
                "instead of changing one"
            )
    days = get("simulation", "days")
    events = get("events")
    for k in range(len(events) if _valid(events) else 0):
        day, kind = get("events", k, "day"), get("events", k, "kind")
        if _valid(day, days) and day >= days:
            yield (
                f"events[{k}].day = {day} is after the horizon: simulation.days = {days} "
                f"runs days 0-{days - 1}; the event would never happen (lengthen the run or "
                "drop the event)"
            )
        if kind not in ("breach", "media_story"):  # (INVALID, or an event that names no brand)
            continue
        brand = get("events", k, "brand")
        if not _valid(brand):
            continue
        covert = get("events", k, "reveals_covert") if kind == "media_story" else None
        if brand is not None and covert is False:
            yield (
                f"events[{k}].brand = {brand!r} is not allowed without reveals_covert = "
                "true: a plain story reaches every brand alike and names none (allowed: no "
                "brand, or reveals_covert = true to expose that brand's covert data)"
            )
        if every_name and brand not in (*names, *((None,) if kind == "media_story" else ())):
            yield (
                f"events[{k}].brand = {brand!r} is not a brand of this scenario "
                f"(brands: {', '.join(dict.fromkeys(names))})"
            )
    from_day, before = get("policy_from_day"), get("policy_before")
    if _valid(from_day) and from_day is not None:
        if _valid(days) and from_day >= days:
            yield (
                f"policy_from_day = {from_day} is after the horizon: "
                f"simulation.days = {days} runs days 0-{days - 1}; the change would never "
                f"happen (choose a day in 0-{days - 1}, or lengthen the run)"
            )
        if _valid(before) and not before:
            yield (
                f"policy_from_day = {from_day} is not allowed here: there is no "
                "earlier policy to switch from (set it in a file that `extends` another "
                "scenario, whose brands' policies then apply before the change, or give "
                "[policy_before.<brand>] tables)"
            )
    if _valid(before):
        for name in before if every_name else ():
            if name not in names:
                yield (
                    f"policy_before = {name!r} is not a brand of this scenario "
                    f"(brands: {', '.join(dict.fromkeys(names))})"
                )
        if before and _valid(from_day) and from_day is None:
            yield (
                "policy_before = (set) is not allowed without policy_from_day: say from which "
                "reported day the brands' own policies apply"
            )


RULES: tuple[tuple[tuple[str, ...], Rule], ...] = (
    (("population",), segment_rule),
    (("trust",), threshold_rule),
    ((), reference_rule),
)
"""Every rule across keys, with the location of its section (its model validator's errors are
reported there by pydantic)."""
