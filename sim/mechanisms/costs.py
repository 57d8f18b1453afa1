"""What the policy levers cost (ODD 7.12, K1).

Personalization skill, omnichannel integration and transparency (clearer consent flows) each cost
the brand every day, on the curve of the security spend of the incidents (I4; one definition,
`spend_per_day`, used by both):

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


def spend_per_day(
    cost_per_consumer_year: float, level: np.ndarray, exponent: float, presence, consumers: int
) -> np.ndarray:
    """Each brand's daily spend (EUR) on a lever at ``level`` in [0, 1] (eq. K1): ``c x**g N
    presence_b / sum_k presence_k / 365``. The one definition of the curve, used by K1's levers
    and by the security spend of the incidents (I4: ``incidents.security_budget_per_consumer_year``
    at exponent 1)."""
    share = presence / presence.sum()
    return cost_per_consumer_year * level**exponent * consumers * share / 365.0


def lever_costs_per_day(brands, par) -> np.ndarray:
    """``(brands, 3)`` daily cost (EUR) of each brand's personalization, integration and
    transparency (eq. K1), in the order of `LEVERS`."""
    n = par.simulation.consumers
    out = np.empty((brands.presence.size, len(LEVERS)))
    for k, (_, lever, name) in enumerate(LEVERS):
        c = getattr(par.costs, f"{name}_cost_per_consumer_year")
        g = getattr(par.costs, f"{name}_cost_exponent")
        out[:, k] = spend_per_day(c, getattr(brands, lever), g, brands.presence, n)
    return out


# The counters of LEVERS are adjacent columns: one slice of the day's counts takes all three.
_FIRST = LEVERS[0][0]
assert [e for e, _, _ in LEVERS] == list(range(_FIRST, _FIRST + len(LEVERS)))
_COLUMNS = slice(_FIRST, _FIRST + len(LEVERS))


def charge_phase(day: Day) -> None:
    """The levers' daily cost (K1)."""
    day.counts[:, _COLUMNS] += _per_day(day)


def _per_day(day: Day) -> np.ndarray:
    """`lever_costs_per_day` of the day's levers and parameters, computed again only when they
    change (a policy change writes new levers into the same arrays, so their values are part of
    the check; the parameters are an immutable tuple)."""
    lv, par = day.levers, day.params
    values = tuple(getattr(lv, name).tobytes() for name in _INPUTS)
    memo = day.memo.get("lever_costs")
    if memo is None or memo[0] is not lv or memo[1] is not par or memo[2] != values:
        memo = (lv, par, values, lever_costs_per_day(lv, par))
        day.memo["lever_costs"] = memo
    return memo[3]


_INPUTS = ("presence", *(lever for _, lever, _ in LEVERS))  # the lever-table columns K1 reads
