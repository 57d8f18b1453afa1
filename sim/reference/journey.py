"""Journeys (J1-J4), one consumer at a time: the twin of `sim.mechanisms.journey`."""

from __future__ import annotations

import math

from ..core.catalogue import CHANNELS
from .catalogue import DIGITAL, MARGIN, PURCHASE, RESEARCH


class JourneyRules:
    """Needs arise, research touches a channel and a brand, a purchase closes the journey."""

    def arise_need(self) -> None:
        if self.journey_left != 0 or self.random.random() >= self.need_rate:
            return
        jr = self.model.scenario.journey
        p_stop = 1.0 / jr.research_days
        length = 1
        if p_stop < 1.0:  # geometric on 1, 2, ... with mean research_days
            length = 1 + int(math.log(1.0 - self.random.random()) / math.log(1.0 - p_stop))
        self.journey_left = min(length, jr.max_days)
        self.journey_channels = set()

    def research(self) -> None:
        if self.journey_left <= 0:
            return
        a = self.affinity
        jr = self.model.scenario.journey
        # need for touch (J2): store_touch for the consumers who have it (U_i < touch_share)
        nu = jr.store_touch if self.touch_u < jr.touch_share else 0.0
        weights = [
            RESEARCH[c] * (2.0 * a if DIGITAL[c] else 2.0 * (1.0 - a) * (1.0 - nu) + nu)
            for c in CHANNELS
        ]
        channel = self.random.choices(CHANNELS, weights)[0]
        brands = self.model.brands
        floor = self.model.scenario.journey.research_brand_floor
        bw = [
            0.0
            if self.relations[b].churned
            else brand.presence * (floor + self.trust(b)) * self.comfort(b, channel)
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
        # losses to spam (7.9): what each brand's choice probability would be with trust read
        # without the spam part of its negative evidence, times its basket and gross margin
        total = sum(weights)
        for k, brand in enumerate(brands):
            rel = self.relations[k]
            if weights[k + 1] <= 0.0 or rel.spam <= 0.0:
                continue
            tr = sc.trust
            clean = (rel.r + tr.prior * tr.prior_weight) / (
                rel.r + max(rel.s - rel.spam, 0.0) + tr.prior_weight
            )
            w1 = weights[k + 1] * math.exp(sc.journey.trust_weight * (clean - self.trust(k)))
            lost = w1 / (total - weights[k + 1] + w1) - weights[k + 1] / total
            value = sc.journey.basket_value * (1.0 + sc.journey.relevance_uplift * rho[k])
            brand.counts["spam_losses"] += lost * value * brand.gross_margin
        choice = self.random.choices(range(len(weights)), weights)[0]
        if choice == 0:
            return
        b = choice - 1
        brand, rel = brands[b], self.relations[b]
        # purchase channel (J4): stay in the research channel or draw afresh
        switching = min(
            1.0, sc.journey.channel_switching + sc.journey.integration_switching * brand.integration
        )
        if (
            last is not None
            and PURCHASE[last] > 0.0
            and self.random.random() >= switching
            and self.random.random() < self.comfort(b, last)
        ):
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
                cw.append(w * self.comfort(b, c))
            channel = self.random.choices(CHANNELS, cw)[0] if sum(cw) > 0.0 else "store"
        value = sc.journey.basket_value * (1.0 + sc.journey.relevance_uplift * rho[b])
        brand.counts["purchases"] += 1
        brand.counts["revenue"] += value
        margin = value * brand.gross_margin * MARGIN[channel]
        brand.counts["margin"] += margin
        # margin from personalization (7.9): 1 - P0 V0 / (P V), without b's relevance
        if rho[b] > 0.0:
            w = weights[b + 1]
            w0 = w * math.exp(-sc.journey.relevance_weight * rho[b])
            p_ratio = (w0 / (total - w + w0)) / (w / total)
            brand.counts["personalization_margin"] += margin * (
                1.0 - p_ratio / (1.0 + sc.journey.relevance_uplift * rho[b])
            )
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
            rel.inbox = 0.0  # a new subscriber remembers no mail of the brand (O0)
        self.bought = True
        if DIGITAL[channel]:
            self.used_digital = True
            if "store" in journey:
                self.showroomed = True
        else:
            self.used_store = True
            if any(DIGITAL[c] for c in journey):
                self.webroomed = True
