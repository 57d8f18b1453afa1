"""Consumers leave the market and newcomers take their place (N1-N2), one consumer at a time:
the twin of `sim.mechanisms.turnover`."""

from __future__ import annotations

from ..state.population import SEGMENT_CONCERN


class TurnoverRules:
    """A consumer may move away; a newcomer with fresh traits and no relations takes the place.
    Frauds are counted as they happen (`IncidentRules.defrauded`), so resetting ``fraud_day``
    loses none (the engine counts ``fraud_victims_any`` the same way)."""

    def move(self) -> None:
        """N1: leave the market with the daily probability of a yearly turnover T; N2: the place
        is taken by a newcomer with fresh traits, reputation-only trust, no relations, no journey
        or history, no channel aversion and no fraud (the start state of `ConsumerAgent`)."""
        m = self.model
        spec, tr = m.scenario.population, m.scenario.trust
        if self.random.random() >= 1.0 - (1.0 - spec.turnover_per_year) ** (1.0 / 365.0):
            return
        for brand, rel in zip(m.brands, self.relations, strict=True):
            if rel.customer and not rel.churned:
                brand.counts["departed_customers"] += 1
        rnd = self.random
        self.segment = rnd.choices(
            range(3), [spec.fundamentalist, spec.pragmatist, spec.unconcerned]
        )[0]
        mean = SEGMENT_CONCERN[self.segment]
        kc = spec.concern_concentration
        self.concern = rnd.betavariate(mean * kc, (1 - mean) * kc)
        k = spec.affinity_concentration
        self.affinity = rnd.betavariate(
            max(spec.digital_affinity, 1e-3) * k, max(1.0 - spec.digital_affinity, 1e-3) * k
        )
        self.reads_terms = rnd.random() < spec.literacy
        self.need_rate = min(
            1.0, rnd.gammavariate(spec.need_shape, spec.need_rate / spec.need_shape)
        )
        # need for touch (J2): the newcomer's own U_i, drawn afresh (`ReferenceModel.touch_random`)
        self.touch_u = m.touch_random.random()
        self.journey_left, self.journey_channels, self.last_research = 0, set(), None
        self.bought = self.webroomed = self.showroomed = False
        self.used_store = self.used_digital = False
        self.wary, self.wary_day = None, -1  # no channel aversion from a breach (I8)
        self.fraud_day = -1  # no fraud suffered (I7, I9)
        relation = type(self.relations[0])
        fresh = []
        for _ in self.relations:
            if 0.0 < tr.initial < 1.0:
                k0 = tr.initial_concentration
                t0 = rnd.betavariate(tr.initial * k0, (1.0 - tr.initial) * k0)
            else:
                t0 = tr.initial
            e, w = tr.initial_evidence, tr.prior_weight
            r = min(max(t0 * (e + w) - tr.prior * w, 0.0), e)
            fresh.append(relation(r, e - r))
        self.relations = fresh
