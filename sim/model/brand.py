"""Brands: Mesa agents carrying their policy and their data holdings."""

from __future__ import annotations

import mesa

from ..scenario import Brand as BrandSpec


class BrandAgent(mesa.Agent):
    """A brand in the market (ODD 2, "Entities").

    Attributes:
        name: the brand's name from the scenario.
        index: its column in the population's per-brand arrays.
        spec: the validated scenario entry (presence, margin and ``policy`` levers).
        records_held, subscribers, trust: today's holdings and mean trust, refreshed by the
            model after each day's tally (what a Mesa reporter or a dashboard reads).
        breaches: breaches suffered so far.
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
        self.breaches = 0

    def __repr__(self) -> str:
        return f"BrandAgent({self.name!r}, trust={self.trust:.3f}, records={self.records_held})"
