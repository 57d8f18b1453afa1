"""Trust (T1-T2), one consumer at a time: the twin of `sim.mechanisms.trust`."""

from __future__ import annotations


class TrustRules:
    """A consumer's trust in each brand, its negative evidence and its forgetting."""

    def trust(self, b: int) -> float:
        """t = (r + a W) / (r + s + W)   (T1)."""
        rel, tr = self.relations[b], self.model.scenario.trust
        return (rel.r + tr.prior * tr.prior_weight) / (rel.r + rel.s + tr.prior_weight)

    def negative(self, b: int, amount: float) -> None:
        self.relations[b].s += self.model.scenario.trust.negative_weight * amount

    def forget(self) -> None:
        decay = self.model.decay
        for rel in self.relations:
            rel.r *= decay
            rel.s *= decay
            rel.spam *= decay
