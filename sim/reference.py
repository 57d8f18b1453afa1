"""Per-agent reference implementation: the same market, written the idiomatic Mesa 3 way.

`ReferenceModel` is a ``mesa.Model`` in which every consumer is a ``mesa.Agent``
(`ConsumerAgent`) holding its view of each brand in a small Python object (`Relation`), and every
brand is a ``mesa.Agent`` too (`ReferenceBrand`). A day is
``brands.shuffle_do("step")`` (breach hazard), the scheduled events,
``brands.shuffle_do("review")`` (disclosure), then ``consumers.shuffle_do("step")``: each
consumer lives its whole day in its own ``step()`` (needs, research, e-mail, purchase, incidents,
word of mouth, forgetting, leaving), in a random order of consumers.

It exists for two reasons (issue 5):

* an **oracle** for the compiled engine (`sim.model.TrustModel`): the rules are re-implemented
  from the equations in the module docstrings of `sim.journey`, `sim.consent`, `sim.outreach`,
  `sim.incidents`, `sim.social`, `sim.trust` and `sim.churn`, in plain Python, with Mesa's own
  ``self.random`` draws (not the counter-based streams of `sim.streams`, not the Numba kernels, not
  the bit-mask lookup tables of `sim.parameters`: data types here are sets of names). Only the
  initial population is shared (`sim.population.create_population`), so that engine and
  reference start from the same consumers for the same seed and can be compared pairwise.
  `tests/test_reference_agreement.py` checks that the two agree statistically;
* the **peer** of the speed benchmark (`benchmarks/run.py`): what the model costs written as one
  Python object per consumer.

Coverage: every consumer-level rule (J1-J4, C1-C4, O1-O3, W1, T1-T2, L1-L4) and the incident
rules I1 (hazard), I2 (severity), I3 (notification and media discovery), I5 (exposure), I6
(disclosure shock, news, contagion), I7 (harm and attribution), scheduled breaches, third-party
leaks and media stories, and the warm-up (``simulation.warmup_days`` days before day 0 with the same
rules, no breaches, nothing recorded; journey shares count from day 0). Not covered: the money of incidents (I4: detection, notification,
compensation and card costs, fines, security spend) and the marketing cost of e-mail; the
10th-percentile trust and the trust histogram of `sim.metrics.tally`.

Differences that are deliberate (they do not change expectations): the phases of one consumer
are interleaved with other consumers' days (the engine runs each phase over everyone before the
next), so a friend's trust heard in word of mouth may be one day's evidence older or newer;
evidence is float64 here and float32 in the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mesa
import numpy as np

from .catalogue import CHANNEL_PROPS, CHANNELS, DATA_TYPE_PROPS, DATA_TYPES
from .population import create_population
from .scenario import BreachEvent, MediaStoryEvent, Scenario, ThirdPartyLeakEvent

# -- the catalogue as sets of names (independent of the engine's bit masks) ---------------------
COVERT = frozenset(d for d in DATA_TYPES if DATA_TYPE_PROPS[d].covert)
SENSITIVITY = {d: float(DATA_TYPE_PROPS[d].sensitivity) for d in DATA_TYPES}
VALUE = {d: float(DATA_TYPE_PROPS[d].value) for d in DATA_TYPES}
# Creepy moments come from sensitive data only (sensitivity >= 0.7; see sim.parameters).
SENSITIVE = frozenset(d for d in DATA_TYPES if SENSITIVITY[d] >= 0.7)
# Data types accepted in the terms of service (non-readers accept them more easily), and the
# convenience (log-odds) of granting a type that buys something at once.
BUNDLED = frozenset(d for d in DATA_TYPES if DATA_TYPE_PROPS[d].bundled)
CONVENIENCE = {d: float(DATA_TYPE_PROPS[d].convenience) for d in DATA_TYPES}
OBSERVES = {c: frozenset(CHANNEL_PROPS[c].observes) for c in CHANNELS}
DIGITAL = {c: CHANNEL_PROPS[c].digital for c in CHANNELS}
DIRECT = {c: CHANNEL_PROPS[c].direct for c in CHANNELS}
RESEARCH = {c: CHANNEL_PROPS[c].research for c in CHANNELS}
PURCHASE = {c: CHANNEL_PROPS[c].purchase for c in CHANNELS}
MARGIN = {c: CHANNEL_PROPS[c].margin for c in CHANNELS}
MAX_JOURNEY_DAYS = 60
MAX_EMAILS_PER_DAY = 16
ACTIVE_WINDOW_DAYS = 180
COMPENSATION_SHARE = {"none": 0.0, "voucher": 0.5, "credit_monitoring": 1.0}
HARM_WEIGHT = {"fraud": 1.0, "takeover": 1.0, "phishing": 0.3}

# Counters kept per brand, named as in sim.metrics.EVENT_COUNTERS where both exist.
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
    "purchases",
    "revenue",
)


def value_of(types) -> float:
    """Personalization value V(H) of a set of data types."""
    return sum(VALUE[d] for d in types)


def severity_of(types) -> float:
    """S = 0.5 + the highest sensitivity among the exposed data types."""
    return 0.5 + max((SENSITIVITY[d] for d in types), default=0.0)


@dataclass(slots=True)
class Relation:
    """What one consumer knows of, and has given to, one brand."""

    r: float
    s: float
    consent: set = field(default_factory=set)
    asked: set = field(default_factory=set)
    subscribed: bool = False
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


@dataclass
class Breach:
    """A breach at one brand, waiting to be disclosed."""

    brand: ReferenceBrand
    day: int
    types: frozenset
    disclosed: bool = False
    notified: bool = False


class ReferenceBrand(mesa.Agent):
    """A brand: its policy as plain attributes, its counters, its breaches."""

    def __init__(self, model: ReferenceModel, spec, index: int):
        super().__init__(model)
        p = spec.policy
        o = model.scenario.outreach
        self.index = index
        self.name = spec.name
        self.presence = spec.presence
        self.gross_margin = spec.gross_margin
        self.scope = frozenset(p.data_collection)
        self.transparency = p.transparency
        self.skill = p.personalization_skill
        self.emails_per_day = p.emails_per_week / 7.0
        self.targeting = p.email_targeting
        mailings_per_month = p.emails_per_week * 30.4 / 7.0
        self.complaint_multiplier = (mailings_per_month / 5.0) ** o.fatigue_exponent
        self.sharing = p.third_party_sharing
        self.integration = p.omnichannel_integration
        self.security = p.security_investment
        self.retention = p.data_retention_days
        self.notify_days = p.notify_within_days
        self.compensation = p.compensation
        self.breaches: list[Breach] = []
        self.counts = dict.fromkeys(COUNTERS, 0.0)
        self.records_held = 0
        self.trust = float("nan")

    def relevance_of(self, held) -> float:
        """rho = skill * V(H) * (0.5 + 0.5 integration)   (C3)."""
        return self.skill * value_of(held) * (0.5 + 0.5 * self.integration) if held else 0.0

    def step(self) -> None:
        """Breach hazard (I1) and severity (I2), from yesterday's records."""
        m = self.model
        inc, world = m.scenario.incidents, m.scenario.world
        hazard = (
            inc.base_hazard_per_year
            / 365.0
            * world.attack_pressure
            * (len(self.scope) / 8.0)
            * (0.5 + self.records_held / m.n_consumers)
            * (1.0 + inc.sharing_effect * self.sharing)
            * (1.0 + inc.social_login_effect * ("social_login" in self.scope))
            * math.exp(-inc.security_effect * (self.security - 0.5))
        )
        if self.random.random() < hazard:
            u = self.random.random()
            share = inc.severity_scale * (1.0 - u) ** (-1.0 / inc.severity_tail)
            share *= math.exp(-0.5 * inc.security_effect * (self.security - 0.5))
            self.breach(min(share, 1.0), self.scope)

    def breach(self, share: float, types) -> None:
        self.counts["breaches"] += 1
        self.breaches.append(Breach(self, self.model.day, frozenset(types)))
        self.model.exposures.append((self, share, frozenset(types)))

    def review(self) -> None:
        """Disclosure (I3): notify when due, or become public earlier if the media find out."""
        m, day = self.model, self.model.day
        inc = m.scenario.incidents
        for br in self.breaches:
            if br.notified:
                continue
            if day - br.day >= self.notify_days:
                public = not br.disclosed
                br.disclosed = br.notified = True
                m.disclosures.append((br, public, True))
            elif not br.disclosed and self.random.random() < inc.media_leak_rate:
                br.disclosed = True
                m.disclosures.append((br, True, False))


class ConsumerAgent(mesa.Agent):
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
        self.ties: list[ConsumerAgent] = []

    # -- helpers ------------------------------------------------------------------------------
    def trust(self, b: int) -> float:
        """t = (r + a W) / (r + s + W)   (T1)."""
        rel, tr = self.relations[b], self.model.scenario.trust
        return (rel.r + tr.prior * tr.prior_weight) / (rel.r + rel.s + tr.prior_weight)

    def held(self, b: int):
        """Data types brand b holds on this consumer: none without a record."""
        rel = self.relations[b]
        if not rel.account:
            return frozenset()
        return self.model.brands[b].scope & (rel.consent | COVERT)

    def negative(self, b: int, amount: float) -> None:
        self.relations[b].s += self.model.scenario.trust.negative_weight * amount

    def step(self) -> None:
        self.arise_need()
        self.research()
        self.read_email()
        self.purchase()
        self.live_incidents()
        self.talk()
        self.forget()
        self.leave()

    # -- journeys (J1-J4) ---------------------------------------------------------------------
    def arise_need(self) -> None:
        if self.journey_left != 0 or self.random.random() >= self.need_rate:
            return
        p_stop = 1.0 / self.model.scenario.journey.research_days
        length = 1
        if p_stop < 1.0:  # geometric on 1, 2, ... with mean research_days
            length = 1 + int(math.log(1.0 - self.random.random()) / math.log(1.0 - p_stop))
        self.journey_left = min(length, MAX_JOURNEY_DAYS)
        self.journey_channels = set()

    def research(self) -> None:
        if self.journey_left <= 0:
            return
        a = self.affinity
        weights = [RESEARCH[c] * (2.0 * a if DIGITAL[c] else 2.0 * (1.0 - a)) for c in CHANNELS]
        channel = self.random.choices(CHANNELS, weights)[0]
        brands = self.model.brands
        bw = [
            0.0 if self.relations[b].churned else brand.presence * (0.2 + self.trust(b))
            for b, brand in enumerate(brands)
        ]
        self.journey_left -= 1
        self.journey_channels.add(channel)
        self.last_research = channel
        if DIGITAL[channel]:
            self.used_digital = True
        else:
            self.used_store = True
        if sum(bw) <= 0.0:
            return
        b = self.random.choices(range(len(brands)), bw)[0]
        self.touch(b, channel)

    def purchase(self) -> None:
        if self.journey_left != 0 or not self.journey_channels:
            return
        journey, last = self.journey_channels, self.last_research
        self.journey_channels, self.last_research = set(), None
        sc = self.model.scenario
        brands = self.model.brands
        prior = sc.trust.prior
        rho = [0.0] * len(brands)
        # multinomial logit with an outside option (J3); option 0 is "buy nothing now"
        weights = [self.model.outside_weight]
        for b, brand in enumerate(brands):
            if self.relations[b].churned:
                weights.append(0.0)
                continue
            rho[b] = brand.relevance_of(self.held(b))
            weights.append(
                brand.presence
                * math.exp(
                    sc.journey.trust_weight * (self.trust(b) - prior)
                    + sc.journey.relevance_weight * rho[b]
                )
            )
        choice = self.random.choices(range(len(weights)), weights)[0]
        if choice == 0:
            return
        b = choice - 1
        brand, rel = brands[b], self.relations[b]
        # purchase channel (J4): stay in the research channel or draw afresh
        switching = min(
            1.0, sc.journey.channel_switching + sc.journey.integration_switching * brand.integration
        )
        if last is not None and PURCHASE[last] > 0.0 and self.random.random() >= switching:
            channel = last
        else:
            a = self.affinity
            tw = self.trust(b) ** sc.journey.digital_trust_exponent
            cw = []
            for c in CHANNELS:
                if DIGITAL[c]:
                    w = PURCHASE[c] * 2.0 * a * tw * (brand.integration if c == "social" else 1.0)
                else:
                    w = PURCHASE[c] * 2.0 * (1.0 - a)
                cw.append(w)
            channel = self.random.choices(CHANNELS, cw)[0] if sum(cw) > 0.0 else "store"
        value = sc.journey.basket_value * (1.0 + sc.journey.relevance_uplift * rho[b])
        brand.counts["purchases"] += 1
        brand.counts["revenue"] += value
        brand.counts["margin"] += value * brand.gross_margin * MARGIN[channel]
        self.model.purchases_by_channel[b][channel] += 1
        rel.r += sc.trust.purchase_evidence
        rel.customer = True
        rel.last_purchase = self.model.day
        self.touch(b, channel)
        if (
            not rel.subscribed
            and "contact" in rel.consent
            and self.random.random() < sc.outreach.subscribe_probability
        ):
            rel.subscribed = True
        self.bought = True
        if DIGITAL[channel]:
            self.used_digital = True
            if "store" in journey:
                self.showroomed = True
        else:
            self.used_store = True
            if any(DIGITAL[c] for c in journey):
                self.webroomed = True

    # -- consent and personalization (C1-C4) ---------------------------------------------------
    def touch(self, b: int, channel: str) -> None:
        brand, rel = self.model.brands[b], self.relations[b]
        sc = self.model.scenario
        observable = brand.scope & OBSERVES[channel]
        if not observable:
            return
        askable = observable - COVERT - rel.asked
        if DIRECT[channel] and askable:
            t = self.trust(b)
            x, q = brand.transparency, self.concern
            c = sc.consent
            for d in sorted(askable, key=DATA_TYPES.index):
                rel.asked.add(d)
                brand.counts["consent_requests"] += 1
                logit = (
                    c.intercept
                    + c.trust_effect * (t - sc.trust.prior)
                    + c.transparency_effect * x
                    - c.concern_effect * q * SENSITIVITY[d]
                    + CONVENIENCE[d]
                )
                if not self.reads_terms and d in BUNDLED:
                    logit += c.unread_bonus
                if self.random.random() < 1.0 / (1.0 + math.exp(-logit)):
                    rel.consent.add(d)
                    brand.counts["consents_granted"] += 1
                self.negative(b, sc.trust.ask_evidence * q * SENSITIVITY[d] * (1.0 - x))  # C2
        if observable & (rel.consent | COVERT):
            rel.account = True
            rel.last_seen = self.model.day
        held = self.held(b)
        if not held:
            return
        rel.r += sc.trust.personalization_evidence * brand.relevance_of(held)
        if held & SENSITIVE:
            p = sc.consent.creepy_rate * self.concern * (1.0 - brand.transparency)
            if self.random.random() < p:
                brand.counts["creepy_moments"] += 1
                self.negative(b, sc.trust.creepy_evidence)

    # -- outreach (O1-O3) ----------------------------------------------------------------------
    def read_email(self) -> None:
        sc = self.model.scenario
        o, tr = sc.outreach, sc.trust
        for b, brand in enumerate(self.model.brands):
            rel = self.relations[b]
            if not rel.subscribed:
                continue
            rate = brand.emails_per_day
            k = int(rate) + (self.random.random() < rate - int(rate))
            k = min(k, MAX_EMAILS_PER_DAY)
            if k == 0:
                continue
            p_relevant = brand.targeting * brand.skill * value_of(self.held(b))
            p_unsub = o.unsubscribe_per_email * (
                1.0 - o.targeting_unsubscribe_cut * brand.targeting
            )
            p_complaint = o.complaint_per_email * brand.complaint_multiplier
            brand.counts["emails_sent"] += k
            for _ in range(k):
                if self.random.random() < p_relevant:
                    rel.r += tr.personalization_evidence * p_relevant
                    if self.random.random() < o.click_rate:
                        brand.counts["email_clicks"] += 1
                        if self.journey_left == 0 and not self.journey_channels:
                            self.journey_left = 1  # an idle consumer starts a one-day journey
                        self.journey_channels.add("email")  # a research touch, nothing asked
                else:
                    self.negative(b, tr.spam_evidence)
                    if self.random.random() < p_complaint:
                        brand.counts["spam_complaints"] += 1
                        brand.counts["unsubscribes"] += 1
                        self.negative(b, 10.0 * tr.spam_evidence)
                        rel.subscribed = False
                        break
                if self.random.random() < p_unsub:
                    brand.counts["unsubscribes"] += 1
                    rel.subscribed = False
                    break

    # -- incidents (I5-I7) ---------------------------------------------------------------------
    def live_incidents(self) -> None:
        m = self.model
        for brand, share, types in m.exposures:
            self.expose(brand, share, types)
        for severity in m.stories:
            if self.random.random() < m.scenario.world.media_amplification:
                for b in range(len(m.brands)):
                    self.negative(b, m.scenario.incidents.news_evidence * severity)
        for breach, public, notify in m.disclosures:
            self.learn(breach, public, notify)
        for b, rel in enumerate(self.relations):
            if rel.harm_day == m.day:
                self.suffer_harm(b)

    def expose(self, brand: ReferenceBrand | None, share: float, types) -> None:
        """I5: the brand's (or, for a third-party leak, shared and social-login) records leak."""
        m, inc = self.model, self.model.scenario.incidents
        for b, rel in enumerate(self.relations):
            if (brand is not None and b != brand.index) or not rel.account:
                continue
            held = self.held(b) & types
            p = share
            if brand is None and "social_login" not in held:
                p = share * m.brands[b].sharing
            if not held or p <= 0.0 or self.random.random() >= p:
                continue
            rel.exposed_day = m.day
            kind = set()
            if brand is not None:
                brand.counts["consumers_exposed"] += 1
            if "payment_card" in held and self.random.random() < inc.fraud_probability:
                kind.add("fraud")
            if "contact" in held and self.random.random() < inc.phishing_probability:
                kind.add("phishing")
            if "social_login" in held and self.random.random() < inc.takeover_probability:
                kind.add("takeover")
            if kind:
                delay = (
                    self.random.expovariate(1.0 / inc.harm_delay_days)
                    if inc.harm_delay_days > 0
                    else 0.0
                )
                rel.harm_day = min(m.day + 1 + int(delay), 32000)
                rel.harm_kind = frozenset(kind)
                rel.harm_unattributable = brand is None

    def learn(self, breach: Breach, public: bool, notify: bool) -> None:
        """I6: the exposed take the disclosure shock, others may hear the news; contagion."""
        m = self.model
        inc, world = m.scenario.incidents, m.scenario.world
        b = breach.brand.index
        rel = self.relations[b]
        exposed = rel.exposed_day == breach.day
        if public:
            shock = 0.0
            if exposed:
                soft = (
                    COMPENSATION_SHARE[breach.brand.compensation] * inc.compensation_softening
                    if notify
                    else 0.0
                )
                shock = (
                    inc.disclosure_evidence
                    * severity_of(breach.types)
                    * (1.0 - soft)
                    * (1.0 + inc.late_notice_penalty * (m.day - breach.day))
                )
            elif self.random.random() < world.media_amplification:
                shock = inc.news_evidence * severity_of(breach.types)
            if shock > 0.0:
                rel.heard = True
                for k in range(len(m.brands)):
                    self.negative(k, shock if k == b else world.contagion * shock)
        if notify and exposed:
            rel.notified = True
            breach.brand.counts["consumers_notified"] += 1

    def suffer_harm(self, b: int) -> None:
        """I7: harm lands; blamed on the brand or, unattributed, on the whole sector."""
        inc = self.model.scenario.incidents
        rel, brand = self.relations[b], self.model.brands[b]
        kind = rel.harm_kind
        rel.harm_day, rel.harm_kind, rel.harmed = -1, frozenset(), True
        for k in kind:
            brand.counts[f"{k}_victims"] += 1
        evidence = inc.harm_evidence * sum(HARM_WEIGHT[k] for k in kind)
        if rel.harm_unattributable:
            p = 0.0
        else:
            p = inc.attribution_notified if rel.notified else inc.attribution_unnotified
        if self.random.random() < p:
            self.negative(b, evidence)
        else:
            for k in range(len(self.relations)):
                self.negative(k, 0.5 * evidence)

    # -- word of mouth (W1), forgetting (T2), leaving (L1-L4) -----------------------------------
    def talk(self) -> None:
        tr = self.model.scenario.trust
        if self.random.random() >= tr.talk_rate or not self.ties:
            return
        friend = self.random.choice(self.ties)
        b = self.random.randrange(len(self.relations))
        d = friend.trust(b) - tr.prior
        if d > 0.0:
            self.relations[b].r += tr.word_of_mouth * d
        else:
            self.negative(b, -tr.word_of_mouth * d)
        rel = self.relations[b]
        if friend.relations[b].heard and not rel.heard:
            rel.heard = True
            self.negative(b, 0.5 * self.model.scenario.incidents.news_evidence)

    def forget(self) -> None:
        decay = self.model.decay
        for rel in self.relations:
            rel.r *= decay
            rel.s *= decay

    def leave(self) -> None:
        m = self.model
        sc, day = m.scenario, m.day
        tr = sc.trust
        if m.concern_drift != 0.0:
            self.concern = min(1.0, max(0.0, self.concern + m.concern_drift))
        for b, rel in enumerate(self.relations):
            brand = m.brands[b]
            if rel.account and day - rel.last_seen > brand.retention:  # L4
                rel.account = False
                brand.counts["accounts_deleted"] += 1
            t = self.trust(b)
            if t < tr.churn_threshold:
                if rel.customer and not rel.churned and self.random.random() < tr.churn_rate:
                    rel.churned = True  # L1
                    brand.counts["churn_events"] += 1
                    if (
                        rel.exposed_day >= 0
                        and rel.account
                        and self.random.random() < sc.incidents.account_deletion
                    ):
                        rel.account = False
                        rel.consent = set()
                        brand.counts["accounts_deleted"] += 1
                if (
                    rel.consent or rel.subscribed
                ) and self.random.random() < sc.consent.revoke_rate:  # L3
                    rel.consent = set()
                    brand.counts["consent_revocations"] += 1  # not an e-mail unsubscribe
                    rel.subscribed = False
            elif rel.churned and t > tr.return_threshold:  # L2
                rel.churned = False


class ReferenceModel(mesa.Model):
    """The market with one ``mesa.Agent`` per consumer and per brand (see the module docstring).

    Args:
        scenario: a validated `Scenario`.
        seed: seeds Mesa's ``random`` (every draw of the run) and the initial population (the
            same consumers as ``TrustModel(scenario, seed)``).
    """

    def __init__(self, scenario: Scenario, seed: int | None = None):
        seed = scenario.simulation.seed if seed is None else int(seed)
        super().__init__(seed=seed)
        self.scenario = scenario
        # Warm-up: W days before day 0 with the same rules, no breaches, nothing recorded. `day`
        # counts from the start of the warm-up (the engine's internal day t); reported day = day - W.
        self.warmup = getattr(scenario.simulation, "warmup_days", 0)
        self.day = 0
        self.n_consumers = scenario.simulation.consumers
        self.decay = 0.5 ** (1.0 / scenario.trust.half_life_days)
        self.concern_drift = scenario.world.privacy_concern_trend / 365.0
        self.brands = [ReferenceBrand(self, spec, k) for k, spec in enumerate(scenario.brands)]
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
        self.consumers = consumers
        self.events = sorted(scenario.events, key=lambda e: e.day)
        self.exposures: list = []
        self.stories: list[float] = []
        self.disclosures: list = []
        self.purchases_by_channel = [dict.fromkeys(CHANNELS, 0) for _ in self.brands]
        self.market: dict[str, float] = {}
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
        if self.day == self.warmup:  # recording starts: counters and journey shares from zero
            for brand in self.brands:
                brand.counts = dict.fromkeys(COUNTERS, 0.0)
            self.purchases_by_channel = [dict.fromkeys(CHANNELS, 0) for _ in self.brands]
            for c in self.consumers:
                c.bought = c.webroomed = c.showroomed = c.used_store = c.used_digital = False
        if self.day >= self.warmup:
            self.agents_by_type[ReferenceBrand].shuffle_do("step")
        while self.events and self.events[0].day + self.warmup <= self.day:
            ev = self.events.pop(0)
            if ev.day + self.warmup < self.day:
                continue
            if isinstance(ev, BreachEvent):
                brand = next(b for b in self.brands if b.name == ev.brand)
                brand.breach(ev.records_share, brand.scope & frozenset(ev.data_types))
            elif isinstance(ev, ThirdPartyLeakEvent):
                self.exposures.append((None, ev.records_share, frozenset(ev.data_types)))
                self.stories.append(severity_of(ev.data_types))
            elif isinstance(ev, MediaStoryEvent):
                self.stories.append(2.0 * ev.severity)
        self.agents_by_type[ReferenceBrand].shuffle_do("review")
        self.agents_by_type[ConsumerAgent].shuffle_do("step")
        self.tally()
        self.datacollector.collect(self)
        self.day += 1
        if self.day >= self.warmup + self.scenario.simulation.days:
            self.running = False

    def tally(self) -> None:
        """End-of-day stocks per brand and the market's journey shares."""
        n = self.n_consumers
        for b, brand in enumerate(self.brands):
            rels = [c.relations[b] for c in self.consumers]
            brand.trust = sum(c.trust(b) for c in self.consumers) / n
            asked = sum(len(r.asked) for r in rels)
            brand.consent_rate = (
                sum(len(r.consent & r.asked) for r in rels) / asked if asked else 0.0
            )
            brand.subscribers = sum(r.subscribed for r in rels)
            brand.records_held = sum(r.account for r in rels)
            brand.churned = sum(r.churned for r in rels)
            brand.active_customers = sum(
                r.customer and not r.churned and r.last_purchase >= self.day - ACTIVE_WINDOW_DAYS
                for r in rels
            )
        buyers = [c for c in self.consumers if c.bought]
        denom = max(len(buyers), 1)
        self.market = {
            "webrooming_share": sum(c.webroomed for c in buyers) / denom,
            "showrooming_share": sum(c.showroomed for c in buyers) / denom,
            "multichannel_share": sum(c.used_store and c.used_digital for c in buyers) / denom,
            "buyers": float(len(buyers)),
        }

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
                }
                for b in self.brands
            },
            self.market,
        )


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
)
SUMMARY_STOCKS = (
    "trust",
    "consent_rate",
    "subscribers",
    "records_held",
    "churned",
    "active_customers",
    "store_purchases",
)
SUMMARY_MARKET = ("webrooming_share", "showrooming_share", "multichannel_share", "buyers")


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
    from .catalogue import STORE
    from .metrics import EV, MARKET_SHARES, STOCKS

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
    market = {k: rec.market[d - 1, MARKET_SHARES.index(k)] for k in SUMMARY_MARKET}
    return _summary(counters, stocks, market)


def summary_array(summaries: list[dict[str, float]]) -> tuple[list[str], np.ndarray]:
    """Keys and a (runs, keys) array of a list of summaries with the same keys."""
    keys = list(summaries[0])
    return keys, np.array([[s[k] for k in keys] for s in summaries])
