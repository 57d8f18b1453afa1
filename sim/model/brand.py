"""Brands: Mesa agents carrying their policy and their data holdings."""

from __future__ import annotations

from ..core.mesa_core import Agent, mesa
from ..scenario import Brand as BrandSpec


class BrandAgent(Agent):
    """A brand in the market (ODD 2, "Entities"): a ``mesa.Agent`` (`sim.core.mesa_core.Agent`,
    whose ``unique_id`` counter lets a dropped model be collected).

    Attributes:
        name: the brand's name from the scenario.
        index: its column in the population's per-brand arrays.
        spec: the validated scenario entry (presence, margin and ``policy`` levers).
        records_held, subscribers, trust, consent_rate: today's holdings, mean trust and consent
            rate (granted / asked data types), refreshed by the model after each day's tally
            (what a Mesa reporter or a dashboard reads).
        revenue, net_value: today's revenue and net value (margin - marketing, security and
            breach costs), EUR.
        breaches: breaches suffered since day 0.
    """

    def __init__(self, model: mesa.Model, spec: BrandSpec, index: int):
        super().__init__(model)
        self.name = spec.name
        self.index = index
        self.spec = spec
        self.policy = spec.policy
        self.records_held = 0
        self.subscribers = 0
        self.trust = float("nan")
        self.consent_rate = float("nan")
        self.revenue = 0.0
        self.net_value = 0.0
        self.breaches = 0

    def __repr__(self) -> str:
        return f"BrandAgent({self.name!r}, trust={self.trust:.3f}, records={self.records_held})"
