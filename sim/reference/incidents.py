"""Incidents (I1-I3, I5-I9), one brand and one consumer at a time: the twin of
`sim.mechanisms.incidents`. Not covered: the money of incidents (I4)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..scenario import BreachEvent, MediaStoryEvent, ThirdPartyLeakEvent
from .catalogue import COVERT, SENSITIVITY

if TYPE_CHECKING:
    from .model import ReferenceBrand, ReferenceModel


def severity_of(types) -> float:
    """S = 0.5 + the highest sensitivity among the exposed data types."""
    return 0.5 + max((SENSITIVITY[d] for d in types), default=0.0)


def sensitivity_overlap(types, scope) -> float:
    """Share of the breach's summed sensitivity that a peer collecting ``scope`` also holds."""
    total = sum(SENSITIVITY[d] for d in types)
    return sum(SENSITIVITY[d] for d in types if d in scope) / total if total > 0 else 0.0


@dataclass
class Breach:
    """A breach at one brand, waiting to be disclosed."""

    brand: ReferenceBrand
    day: int
    types: frozenset
    size: float = 0.0  # records_share x records held / consumers
    channel: str | None = None
    disclosed: bool = False
    notified: bool = False


class BrandIncidents:
    """A brand's side: the breach hazard, its breaches, their disclosure."""

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

    def breach(self, share: float, types, channel: str | None = None) -> None:
        self.counts["breaches"] += 1
        size = share * self.records_held / self.model.n_consumers
        self.breaches.append(Breach(self, self.model.day, frozenset(types), size, channel))
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


def scheduled_events(model: ReferenceModel) -> None:
    """Today's scheduled breaches, third-party leaks and media stories."""
    while model.events and model.events[0].day + model.warmup <= model.day:
        ev = model.events.pop(0)
        if ev.day + model.warmup < model.day:
            continue
        if isinstance(ev, BreachEvent):
            brand = next(b for b in model.brands if b.name == ev.brand)
            brand.breach(ev.records_share, brand.scope & frozenset(ev.data_types), ev.channel)
        elif isinstance(ev, ThirdPartyLeakEvent):
            model.exposures.append((None, ev.records_share, frozenset(ev.data_types)))
            model.stories.append((severity_of(ev.data_types), ()))
        elif isinstance(ev, MediaStoryEvent):
            # C7: a story about data practices names the brands whose covert data it reveals
            revealed = (
                tuple(b for b in model.brands if ev.brand in (None, b.name))
                if ev.reveals_covert
                else ()
            )
            model.stories.append(
                (model.scenario.incidents.media_story_scale * ev.severity, revealed)
            )


class IncidentRules:
    """A consumer's side: exposure, disclosure and news, harm, channel wariness, background
    fraud."""

    def comfort(self, b: int, channel: str) -> float:
        """I8: 1 - aversion * decay^(days since learning) for the channel of a breach at b."""
        if self.wary != (b, channel):
            return 1.0
        aversion = self.model.scenario.incidents.channel_aversion
        return 1.0 - aversion * self.model.decay ** (self.model.day - self.wary_day)

    def live_incidents(self) -> None:
        m = self.model
        for brand, share, types in m.exposures:
            self.expose(brand, share, types)
        for severity, revealed in m.stories:
            if self.random.random() < m.scenario.world.media_amplification:
                for b in range(len(m.brands)):
                    self.negative(b, m.scenario.incidents.news_evidence * severity)
                for (
                    brand
                ) in revealed:  # C7: the story reveals covert data the consumer did not know of
                    rel = self.relations[brand.index]
                    covert = self.held(brand.index) & COVERT
                    if covert and not rel.aware:
                        rel.aware = True
                        brand.counts["covert_discoveries"] += 1
                        sigma = max(SENSITIVITY[d] for d in covert)
                        self.negative(brand.index, m.scenario.trust.covert_evidence * sigma)
        for breach, public, notify in m.disclosures:
            self.learn(breach, public, notify)
        for b, rel in enumerate(self.relations):
            if rel.harm_day == m.day:
                self.suffer_harm(b)
        inc = m.scenario.incidents
        if self.random.random() < inc.background_fraud_per_year / 365.0:  # I9
            self.defrauded()
            for b in range(len(self.relations)):
                self.negative(
                    b, inc.unattributed_harm_share * (inc.fraud_weight * inc.harm_evidence)
                )

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
            severity = severity_of(breach.types)
            loud = severity * (breach.size / inc.reach_reference_share) ** inc.reach_elasticity
            # candour and compensation soften only a story the brand tells (notification)
            told = (
                1.0 - inc.candour_softening * breach.brand.policy.breach_candour if notify else 1.0
            )
            shock = 0.0
            if exposed:
                soft = (
                    {"none": 0.0, "voucher": inc.voucher_share, "credit_monitoring": 1.0}[
                        breach.brand.compensation
                    ]
                    * inc.compensation_softening
                    if notify
                    else 0.0
                )
                shock = (
                    inc.disclosure_evidence
                    * severity
                    * (1.0 - soft)
                    * told
                    * (1.0 + inc.late_notice_penalty * (m.day - breach.day))
                )
            elif self.random.random() < 1.0 - (1.0 - world.media_amplification) ** loud:
                shock = inc.news_evidence * loud * told
            if shock > 0.0:
                rel.heard = True
                if breach.channel is not None:
                    self.wary, self.wary_day = (b, breach.channel), m.day
                frame = 1.0 if notify else 1.0 + inc.media_framing
                for k, peer in enumerate(m.brands):
                    if k == b:
                        self.negative(k, shock)
                    else:
                        spill = world.contagion * sensitivity_overlap(breach.types, peer.scope)
                        self.negative(k, spill * frame * shock)
            covert = self.held(b) & breach.types & COVERT
            if exposed and covert and not rel.aware:  # C6: the breach reveals covert data
                rel.aware = True
                breach.brand.counts["covert_discoveries"] += 1
                sigma = max(SENSITIVITY[d] for d in covert)
                self.negative(b, m.scenario.trust.covert_evidence * sigma)
        if notify and exposed:
            rel.notified = True
            breach.brand.counts["consumers_notified"] += 1

    def defrauded(self) -> None:
        """Fraud hits the consumer today (I7 or I9): the day's ``fraud_victims_any`` counts each
        consumer once, whatever the causes (the engine's `sim.state.day.Day.defrauded`)."""
        m = self.model
        if self.fraud_day != m.day:
            m.fraud_victims_any += 1
        self.fraud_day = m.day

    def suffer_harm(self, b: int) -> None:
        """I7: harm lands; blamed on the brand or, unattributed, on the whole sector."""
        inc = self.model.scenario.incidents
        rel, brand = self.relations[b], self.model.brands[b]
        kind = rel.harm_kind
        rel.harm_day, rel.harm_kind, rel.harmed = -1, frozenset(), True
        for k in kind:
            brand.counts[f"{k}_victims"] += 1
        if "fraud" in kind:
            self.defrauded()
        weights = {"fraud": inc.fraud_weight, "takeover": inc.takeover_weight}
        weights["phishing"] = inc.phishing_weight
        evidence = inc.harm_evidence * sum(weights[k] for k in weights if k in kind)
        if rel.harm_unattributable:
            p = 0.0
        else:
            p = inc.attribution_notified if rel.notified else inc.attribution_unnotified
        if self.random.random() < p:
            self.negative(b, evidence)
        else:
            for k in range(len(self.relations)):
                self.negative(k, inc.unattributed_harm_share * evidence)
