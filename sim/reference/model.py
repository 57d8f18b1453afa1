"""The reference market: `ReferenceModel` (a ``mesa.Model``), its brands and its consumers as
``mesa.Agent``s. A consumer's rules come from one class per mechanism (`sim.reference.journey`,
`.consent`, `.outreach`, `.incidents`, `.social`, `.trust`, `.churn`); see `sim.reference`."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import mesa

from ..core.catalogue import CHANNELS
from ..core.mesa_core import Agent
from ..core.streams import mesa_seed
from ..scenario import Scenario
from ..state.population import create_population
from .churn import ChurnRules
from .consent import ConsentRules, value_of
from .costs import BrandCosts
from .incidents import BrandIncidents, Breach, IncidentRules, scheduled_events
from .journey import JourneyRules
from .metrics import COUNTERS, SUMMARY_COUNTERS, _summary, tally
from .outreach import OutreachRules
from .social import SocialRules
from .trust import TrustRules
from .turnover import TurnoverRules


@dataclass(slots=True)
class Relation:
    """What one consumer knows of, and has given to, one brand."""

    r: float
    s: float
    consent: set = field(default_factory=set)
    asked: set = field(default_factory=set)
    subscribed: bool = False
    inbox: float = 0.0  # irrelevant e-mails of the brand remembered (O0)
    customer: bool = False
    churned: bool = False
    account: bool = False
    notified: bool = False
    heard: bool = False
    harmed: bool = False
    last_seen: int = -1
    last_purchase: int = -1
    exposed_day: int = -1
    harm_day: int = -1
    harm_kind: frozenset = frozenset()
    harm_unattributable: bool = False
    aware: bool = False  # knows what the brand collects, covert types included (C5)
    told: bool = False  # was told so when asked: consent given knowingly (C5; O1's relief)
    spam: float = 0.0  # the part of s from the brand's irrelevant mail (7.9, spam losses)


class ReferenceBrand(BrandIncidents, BrandCosts, Agent):
    """A brand: its policy as plain attributes, its counters, its breaches (`BrandIncidents`)."""

    def __init__(self, model: ReferenceModel, spec, index: int, policy=None):
        super().__init__(model)
        self.index = index
        self.name = spec.name
        self.presence = spec.presence
        self.gross_margin = spec.gross_margin
        self.use_policy(spec.policy if policy is None else policy)
        self.breaches: list[Breach] = []
        self.counts = dict.fromkeys(COUNTERS, 0.0)
        self.records_held = 0
        self.trust = float("nan")

    def use_policy(self, policy) -> None:
        """Follow ``policy`` from now on (at creation, and on the scenario's policy_from_day)."""
        p = self.policy = policy  # a new lever is read as brand.policy.<lever>
        self.scope = frozenset(p.data_collection)
        self.transparency = p.transparency
        self.skill = p.personalization_skill
        self.emails_per_day = p.emails_per_week / 7.0
        self.targeting = p.email_targeting
        self.sharing = p.third_party_sharing
        self.integration = p.omnichannel_integration
        self.security = p.security_investment
        self.retention = p.data_retention_days
        self.consent_refresh_days = p.consent_refresh_days
        self.notify_days = p.notify_within_days
        self.compensation = p.compensation

    def relevance_of(self, held) -> float:
        """rho = skill * V(H) * (0.5 + 0.5 integration)   (C3)."""
        return self.skill * value_of(held) * (0.5 + 0.5 * self.integration) if held else 0.0


class ConsumerAgent(
    JourneyRules,
    ConsentRules,
    OutreachRules,
    IncidentRules,
    SocialRules,
    TrustRules,
    ChurnRules,
    TurnoverRules,
    Agent,
):
    """A consumer; its whole day happens in `step`."""

    def __init__(
        self,
        model: ReferenceModel,
        segment,
        concern,
        affinity,
        reads_terms,
        need_rate,
        journey_left,
        r,
        s,
    ):
        super().__init__(model)
        self.segment = int(segment)
        self.concern = float(concern)
        self.affinity = float(affinity)
        self.reads_terms = bool(reads_terms)
        self.need_rate = float(need_rate)
        self.journey_left = int(journey_left)
        self.journey_channels: set[str] = set()
        self.last_research: str | None = None
        self.bought = self.webroomed = self.showroomed = False
        self.used_store = self.used_digital = False
        self.relations = [Relation(float(a), float(b)) for a, b in zip(r, s, strict=True)]
        self.fraud_day = -1
        self.wary: tuple[int, str] | None = None  # (brand, channel) of the latest channel breach
        self.wary_day = -1
        self.ties: list[ConsumerAgent] = []

    def step(self) -> None:
        self.arise_need()
        self.research()
        self.read_email()
        self.purchase()
        self.live_incidents()
        self.talk()
        self.forget()
        self.leave()
        self.move()


class ReferenceModel(mesa.Model):
    """The market with one ``mesa.Agent`` per consumer and per brand (see the module docstring).

    Args:
        scenario: a validated `Scenario`.
        seed: seeds Mesa's ``random`` (every draw of the run) and the initial population (the
            same consumers as ``TrustModel(scenario, seed)``); ``rng=`` (an integer) is the same.
            Mesa is seeded with the keyword the installed version expects
            (`sim.core.streams.mesa_seed`).
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, *, rng: int | None = None):
        if seed is not None and rng is not None:
            raise ValueError("give the seed as `seed` or as `rng`, not both")
        seed = rng if seed is None else seed
        seed = scenario.simulation.seed if seed is None else int(seed)
        super().__init__(**mesa_seed(seed))
        self.scenario = scenario
        # Warm-up: W days before day 0 with the same rules, no breaches, nothing recorded. `day`
        # counts from the start of the warm-up (the engine's internal day t); reported day = day - W.
        self.warmup = getattr(scenario.simulation, "warmup_days", 0)
        self.day = 0
        self.n_consumers = scenario.simulation.consumers
        self.decay = 0.5 ** (1.0 / scenario.trust.half_life_days)
        self.concern_drift = scenario.world.privacy_concern_trend / 365.0
        self.policy_from_day = scenario.policy_from_day  # before it: scenario.policy_before
        before = scenario.before_change().brands
        self.brands = [
            ReferenceBrand(self, spec, k, before[k].policy)
            for k, spec in enumerate(scenario.brands)
        ]
        # outside option: a consumer at the prior with no relevance buys with probability p
        p = min(max(scenario.journey.purchase_probability, 1e-9), 1 - 1e-9)
        self.outside_weight = (1.0 - p) / p * sum(b.presence for b in self.brands)
        pop = create_population(scenario, seed)
        consumers = [
            ConsumerAgent(
                self,
                pop.segment[i],
                pop.concern[i],
                pop.affinity[i],
                pop.reads_terms[i],
                pop.need_rate[i],
                pop.journey_left[i],
                pop.r[i],
                pop.s[i],
            )
            for i in range(self.n_consumers)
        ]
        for i, agent in enumerate(consumers):
            agent.ties = [consumers[j] for j in pop.ties[pop.tie_start[i] : pop.tie_start[i + 1]]]
        # need for touch (J2): U_i of the trait, a uniform of the reference's own (the engine's
        # is a hash of its touch key, the row and the consumer's traits, `sim.core.streams`; the
        # reference shares none of the engine's draws but the initial population, so a bias in
        # that hash would show as a disagreement). Its own generator, so that the trait leaves
        # the model's other draws as they were; a newcomer draws afresh (`TurnoverRules`).
        self.touch_random = random.Random(f"omnitrust-reference-touch-{int(seed)}")
        for agent in consumers:
            agent.touch_u = self.touch_random.random()
        self.consumers = consumers
        self.events = sorted(scenario.events, key=lambda e: e.day)
        self.exposures: list = []
        self.stories: list[tuple] = []  # (severity, brands whose covert data it reveals)
        self.disclosures: list = []
        self.purchases_by_channel = [dict.fromkeys(CHANNELS, 0) for _ in self.brands]
        self.market: dict[str, float] = {}
        self.fraud_victims_any = 0  # consumers defrauded, each once a day, since recording began
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "day": "day",
                **{f"trust_{b.name}": (lambda m, b=b: b.trust) for b in self.brands},
                **{f"records_{b.name}": (lambda m, b=b: b.records_held) for b in self.brands},
            },
        )

    def step(self) -> None:
        """One day: brands' hazards, scheduled events, disclosures, then every consumer's day."""
        self.exposures, self.stories, self.disclosures = [], [], []
        if self.policy_from_day is not None and self.day == self.warmup + self.policy_from_day:
            for brand, spec in zip(self.brands, self.scenario.brands, strict=True):
                brand.use_policy(spec.policy)
        if self.day == self.warmup:  # recording starts: counters and journey shares from zero
            for brand in self.brands:
                brand.counts = dict.fromkeys(COUNTERS, 0.0)
            self.purchases_by_channel = [dict.fromkeys(CHANNELS, 0) for _ in self.brands]
            self.fraud_victims_any = 0
            for c in self.consumers:
                c.bought = c.webroomed = c.showroomed = c.used_store = c.used_digital = False
        if self.day >= self.warmup:
            self.agents_by_type[ReferenceBrand].shuffle_do("step")
        scheduled_events(self)
        self.agents_by_type[ReferenceBrand].shuffle_do("review")
        self.agents_by_type[ConsumerAgent].shuffle_do("step")
        self.agents_by_type[ReferenceBrand].do("pay_levers")  # K1
        tally(self)
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.warmup + self.scenario.simulation.days:
            self.running = False

    def run(self) -> None:
        while self.running:
            self.step()

    def summary(self) -> dict[str, float]:
        """Totals over the run and end-of-run stocks, keyed ``metric`` or ``metric/brand``."""
        return _summary(
            {b.name: {k: b.counts[k] for k in SUMMARY_COUNTERS} for b in self.brands},
            {
                b.name: {
                    "trust": b.trust,
                    "consent_rate": b.consent_rate,
                    "subscribers": b.subscribers,
                    "records_held": b.records_held,
                    "churned": b.churned,
                    "active_customers": b.active_customers,
                    "store_purchases": self.purchases_by_channel[b.index]["store"],
                    "breach_aware": b.breach_aware,
                    "stated_intent_to_leave": b.stated_intent_to_leave,
                    "breach_aware_churned": b.breach_aware_churned,
                }
                for b in self.brands
            },
            {**self.market, "fraud_victims_any": self.fraud_victims_any},
        )
