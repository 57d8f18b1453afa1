"""What the policy levers cost (K1), one brand at a time: the twin of `sim.mechanisms.costs`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import ReferenceModel


class BrandCosts:
    """A brand's side of K1: the daily cost of its personalization, integration and transparency."""

    def pay_levers(self) -> None:
        """cost = c * lever ** g * consumers * presence share / 365, for each of the three levers."""
        m: ReferenceModel = self.model
        costs = m.scenario.costs
        share = self.presence / sum(b.presence for b in m.brands)
        for counter, lever, c, g in (
            (
                "personalization_cost",
                self.policy.personalization_skill,
                costs.personalization_cost_per_consumer_year,
                costs.personalization_cost_exponent,
            ),
            (
                "integration_cost",
                self.policy.omnichannel_integration,
                costs.integration_cost_per_consumer_year,
                costs.integration_cost_exponent,
            ),
            (
                "transparency_cost",
                self.policy.transparency,
                costs.transparency_cost_per_consumer_year,
                costs.transparency_cost_exponent,
            ),
        ):
            self.counts[counter] += c * lever**g * m.n_consumers * share / 365.0
