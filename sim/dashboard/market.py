"""Two markets side by side for the dashboard: one with the levers moved, one unchanged.

`LeverMarket` is a `mesa.Model` whose keyword arguments are flat (what Mesa's SolaraViz sliders
set): the scenario, the size of the run, one brand's policy levers and the world's uncertainties.
It runs a `TrustModel` with those values and a `TrustModel` of the unchanged scenario with the same
seed, a day each per step; with common random numbers the difference between the two is the
levers' effect (and any breach scheduled from the dashboard).
"""

from __future__ import annotations

import time
from pathlib import Path

import mesa

from ..core.catalogue import DATA_TYPES
from ..core.streams import mesa_seed
from ..model import TrustModel
from ..scenario import BreachEvent, Scenario
from ..scenario.loading import apply_overrides, load_scenario

DEFAULT_SCENARIO = "baseline"  # the bundled baseline, by name: found from any folder
DEFAULT_SIZE = {"consumers": 2000, "days": 120, "warmup_days": 60}  # answers in seconds

POLICY_LEVERS = (
    "transparency",
    "personalization_skill",
    "emails_per_week",
    "email_targeting",
    "data_collection",
    "third_party_sharing",
    "omnichannel_integration",
    "security_investment",
    "data_retention_days",
    "notify_within_days",
    "compensation",
)
WORLD_LEVERS = ("attack_pressure", "contagion", "media_amplification")

# "Data collected" choices (a selector sets one of these lists, in the schema's type names).
DATA_COLLECTION_CHOICES: dict[str, list[str] | None] = {
    "as in the scenario": None,
    "contact only": ["contact"],
    "contact, purchases": ["contact", "purchase_history"],
    "contact, purchases, on-site behaviour": ["contact", "purchase_history", "onsite_behaviour"],
    "+ payment card": ["contact", "purchase_history", "onsite_behaviour", "payment_card"],
    "+ tracking, location, in-store camera": [
        "contact",
        "purchase_history",
        "onsite_behaviour",
        "payment_card",
        "cross_site_tracking",
        "location",
        "in_store_camera",
    ],
    "everything (+ social login)": list(DATA_TYPES),
}


def base_scenario(scenario: Scenario | str | Path, consumers: int, days: int, warmup_days: int):
    """The scenario resized for the dashboard; scheduled events and a policy change past the
    shortened horizon are dropped (they would never happen)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if sc.policy_from_day is not None and sc.policy_from_day >= days:
        # A policy change past the shortened horizon never happens: the brands run, from the
        # first warm-up day on, the policies they run before the change, as the scenario's own
        # days 0..days-1 do (and the levers move those).
        sc = sc.before_change()
    data = sc.model_dump(mode="python")
    data["simulation"].update(consumers=consumers, days=days, warmup_days=warmup_days)
    data["events"] = [e for e in data["events"] if e["day"] < days]
    return Scenario.model_validate(data)


class LeverMarket(mesa.Model):
    """The market with one brand's levers (and the world) moved, next to the unchanged market.

    Args:
        scenario: scenario file or `Scenario` (default: the bundled baseline).
        brand: the brand whose levers are set (default: the scenario's first).
        consumers, days, warmup_days: size of both runs (small by default).
        seed: the seed of both runs (default: the scenario's).
        transparency ... compensation: ``brands.<brand>.policy.<lever>``; ``None`` keeps the
            scenario's value. ``data_collection`` is a list of data types or a key of
            `DATA_COLLECTION_CHOICES`.
        attack_pressure, contagion, media_amplification: ``world.<lever>``; ``None`` keeps it.

    Attributes:
        changed, unchanged: the two `TrustModel` runs.
        days_per_second: the step rate of the last step (both markets together).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path = DEFAULT_SCENARIO,
        brand: str | None = None,
        consumers: int = DEFAULT_SIZE["consumers"],
        days: int = DEFAULT_SIZE["days"],
        warmup_days: int = DEFAULT_SIZE["warmup_days"],
        seed: int | None = None,
        *,
        transparency: float | None = None,
        personalization_skill: float | None = None,
        emails_per_week: float | None = None,
        email_targeting: float | None = None,
        data_collection: list[str] | str | None = None,
        third_party_sharing: float | None = None,
        omnichannel_integration: float | None = None,
        security_investment: float | None = None,
        data_retention_days: float | None = None,
        notify_within_days: float | None = None,
        compensation: str | None = None,
        attack_pressure: float | None = None,
        contagion: float | None = None,
        media_amplification: float | None = None,
    ):
        given = locals()
        levers = {name: given[name] for name in (*POLICY_LEVERS, *WORLD_LEVERS)}
        base = base_scenario(scenario, int(consumers), int(days), int(warmup_days))
        seed = base.simulation.seed if seed is None else int(seed)
        super().__init__(**mesa_seed(seed))
        self.brand = brand or base.brands[0].name
        overrides = {}
        for name, value in levers.items():
            if name == "data_collection" and isinstance(value, str):
                if value not in DATA_COLLECTION_CHOICES:
                    raise ValueError(
                        f"data_collection = {value!r}: allowed: {', '.join(DATA_COLLECTION_CHOICES)}"
                    )
                value = DATA_COLLECTION_CHOICES[value]
            if value is None:
                continue
            where = "world" if name in WORLD_LEVERS else f"brands.{self.brand}.policy"
            overrides[f"{where}.{name}"] = value
        self.overrides = overrides
        self.unchanged = TrustModel(base, seed=seed)
        self.changed = TrustModel(apply_overrides(base, overrides, "dashboard levers"), seed=seed)
        self.brand_names = [b.name for b in base.brands]
        self.days_per_second = float("nan")
        self.breaches_scheduled: list[BreachEvent] = []

    @property
    def day(self) -> int:
        """Days simulated so far (both markets)."""
        return self.changed.day

    def step(self) -> None:
        """One day of both markets."""
        start = time.perf_counter()
        for market in (self.changed, self.unchanged):
            if market.running:
                market.step()
        self.days_per_second = 1.0 / max(time.perf_counter() - start, 1e-9)
        self.running = self.changed.running

    def breach_now(
        self, records_share: float, data_types: list[str], channel: str | None = None
    ) -> BreachEvent:
        """Schedule a breach of the lever brand today (the next simulated day), in the changed
        market only; data types the brand does not hold do not leak. ``channel`` ("store",
        "web", "app" or None) is where it happened (docs/ODD.md, I8)."""
        if not self.changed.running:
            raise ValueError("the run is over: reset it to schedule a breach")
        event = BreachEvent(
            kind="breach",
            day=self.changed.day,
            brand=self.brand,
            records_share=float(records_share),
            data_types=list(data_types),
            channel=channel,
        )
        self.changed.incidents.schedule(event)
        self.breaches_scheduled.append(event)
        return event
