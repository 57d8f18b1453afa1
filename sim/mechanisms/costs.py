"""What the policy levers cost (ODD 7.12, K1).

Personalization skill, omnichannel integration and transparency (clearer consent flows) each cost
the brand every day, on a curve of the same form as the security spend of the incidents (I4):

    cost_b,l per day = c_l * x_b,l ** g_l * N * presence_b / sum_k presence_k / 365          (K1)

x_b,l is the brand's lever in [0, 1] (``policy.personalization_skill``,
``policy.omnichannel_integration``, ``policy.transparency``), c_l the cost per market
consumer-year at lever 1 (``costs.<lever>_cost_per_consumer_year``), g_l >= 1 its curvature
(``costs.<lever>_cost_exponent``): increasing and convex. N is the number of simulated consumers,
so the money scales with the market; a brand's share of it is its presence share, as for security.
The costs are charged on every day, warm-up included (only reported days are recorded), into the
counters ``personalization_cost``, ``integration_cost`` and ``transparency_cost``, and net value
subtracts them (`sim.mechanisms.metrics.net_value`).
"""

from __future__ import annotations

import numpy as np

from ..state.day import Day
from .metrics import Event

# counter, policy lever, [costs] parameter prefix
LEVERS = (
    (Event.personalization_cost, "personalization_skill", "personalization"),
    (Event.integration_cost, "omnichannel_integration", "integration"),
    (Event.transparency_cost, "transparency", "transparency"),
)


def lever_costs_per_day(brands, par) -> np.ndarray:
    """``(brands, 3)`` daily cost (EUR) of each brand's personalization, integration and
    transparency (eq. K1), in the order of `LEVERS`."""
    share = brands.presence / brands.presence.sum()
    n = par.simulation.consumers
    out = np.empty((share.size, len(LEVERS)))
    for k, (_, lever, name) in enumerate(LEVERS):
        c = getattr(par.costs, f"{name}_cost_per_consumer_year")
        g = getattr(par.costs, f"{name}_cost_exponent")
        out[:, k] = c * getattr(brands, lever) ** g * n * share / 365.0
    return out


def charge_phase(day: Day) -> None:
    """The levers' daily cost (K1)."""
    per_day = lever_costs_per_day(day.levers, day.params)
    for k, (event, _, _) in enumerate(LEVERS):
        day.counts[:, event] += per_day[:, k]
