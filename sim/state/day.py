"""`Day`: what every phase of one day reads and writes, handed to the phases as one object.

A phase is a function ``phase(day: Day) -> None`` (see `sim.model.market.TrustModel.phases`); each
mechanism module turns it into the positional call of its compiled kernel, next to the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.streams import stream_key
from .parameters import BrandTable, Parameters
from .population import Population


@dataclass
class Day:
    """One model's day in progress.

    Attributes:
        population: the consumers (structure of arrays), updated in place.
        levers: the brands' policy levers (`sim.state.parameters.BrandTable`).
        params: the scenario's scalar tables (`sim.state.parameters.Parameters`).
        seed: the replication's seed (keys the random streams).
        t: internal day, counted from the start of the warm-up.
        counts: ``(brands, events)`` event counters of the day, see `sim.mechanisms.metrics.Event`.
        purchases, revenue: ``(brands, channels)`` purchases and revenue of the day.
        records_held: records each brand held at the end of yesterday.
        annual_revenue: each brand's revenue of the last 365 days, scaled to a year.
        defrauded: consumers defrauded today (background fraud or harm landing, each once),
            counted by the incidents phase where the fraud happens.
        memo: what a phase keeps from one day to the next because it is costly to recompute
            and rarely changes (e.g. the levers' daily cost, `sim.mechanisms.costs`); a phase
            checks that the inputs are unchanged before it reuses a value.
    """

    population: Population
    levers: BrandTable
    params: Parameters
    seed: int
    t: int
    counts: np.ndarray
    purchases: np.ndarray
    revenue: np.ndarray
    records_held: np.ndarray
    annual_revenue: np.ndarray
    defrauded: int = 0
    memo: dict = field(default_factory=dict, repr=False)

    def key(self, stream: str) -> np.uint64:
        """The key of today's draws of the named random stream (`sim.core.streams`)."""
        return stream_key(self.seed, stream, self.t)
