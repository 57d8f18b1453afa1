"""Two markets side by side for the dashboard: one with the levers moved, one unchanged.

`LeverMarket` is a `mesa.Model` whose keyword arguments are flat (what the dashboard's sliders
set): the scenario, the size of the run, one brand's policy levers and the world's uncertainties.
It runs a `TrustModel` with those values and a `TrustModel` of the unchanged scenario with the same
seed, a day each per step; with common random numbers the difference between the two is the
levers' effect (and any breach scheduled from the dashboard).

Both are replication 0 of the scenario's seed, as ``omnitrust run`` seeds it
(``replication_seed(seed, 0)``), and the warm-up is the scenario's own by default: the unchanged
market at a size equals ``omnitrust run SCENARIO --consumers N --days D --replications 1`` (the
dashboard shows the command). The end of a warm-up is kept in memory (`sim.model.warmup`), so a
Reset or a new browser session that needs the same warm-up continues it instead of running it again
(the same numbers).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import mesa
import numpy as np

from ..core.catalogue import DATA_TYPES
from ..core.streams import mesa_seed, replication_seed
from ..model import TrustModel
from ..model.warmup import WarmState, capture, warmup_key
from ..scenario import BreachEvent, Scenario
from ..scenario.loading import apply_overrides, load_scenario

DEFAULT_SCENARIO = "baseline"  # the bundled baseline, by name: found from any folder
DEFAULT_SIZE = {"consumers": 2000, "days": 120}  # a whole run in about a second
AFTERMATH_DAYS = 60  # the default horizon runs this long past a scenario's last event or change
REPLICATION = 0  # the replication both markets are (`omnitrust run`'s first)

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


def default_days(scenario: Scenario) -> int:
    """The dashboard's default horizon for ``scenario``: DEFAULT_SIZE's, or longer so that the
    scenario's scheduled events and policy change happen, with AFTERMATH_DAYS after the last
    (rounded up to ten days, at most the scenario's own horizon)."""
    days = DEFAULT_SIZE["days"]
    moments = [e.day for e in scenario.events]
    if scenario.policy_from_day is not None:
        moments.append(scenario.policy_from_day)
    if moments:
        wanted = -(-(max(moments) + AFTERMATH_DAYS) // 10) * 10
        days = max(days, max(moments) + 1, min(wanted, scenario.simulation.days))
    return days


def default_size(scenario: Scenario) -> dict[str, int]:
    """The dashboard's default size for ``scenario``: DEFAULT_SIZE's consumers, `default_days`,
    the scenario's own warm-up."""
    return {
        "consumers": DEFAULT_SIZE["consumers"],
        "days": default_days(scenario),
        "warmup_days": scenario.simulation.warmup_days,
    }


def describe_event(event) -> str:
    """A scheduled event in a few words, e.g. "breach of Aurora on day 120"."""
    what = {
        "breach": "breach",
        "third_party_leak": "third-party leak",
        "media_story": "media story",
    }
    brand = getattr(event, "brand", None)
    return f"{what.get(event.kind, event.kind)}{f' of {brand}' if brand else ''} on day {event.day}"


def dropped_at(scenario: Scenario, days: int) -> list[str]:
    """What of ``scenario`` a horizon of ``days`` days leaves out (its events and policy change
    on day ``days`` or later), each in a few words."""
    out = [describe_event(e) for e in scenario.events if e.day >= days]
    if scenario.policy_from_day is not None and scenario.policy_from_day >= days:
        out.append(f"the policy change on day {scenario.policy_from_day}")
    return out


def base_scenario(scenario: Scenario | str | Path, consumers: int, days: int, warmup_days: int):
    """The scenario resized for the dashboard; scheduled events and a policy change past the
    shortened horizon are dropped (they would never happen; `dropped_at` names them)."""
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


# The ends of recent warm-ups (`sim.model.warmup`): a Reset or a new session that needs one
# continues it (same numbers) instead of running the warm-up again.
_WARM: OrderedDict[str, WarmState] = OrderedDict()
_WARM_KEEP = 4
_WARM_LOCK = threading.Lock()


def warm_model(scenario: Scenario, seed: int, replication: int = REPLICATION) -> TrustModel:
    """``TrustModel(scenario, seed=seed, replication=replication)``, its warm-up continued from
    memory when a model with the same warm-up was built before in this process."""
    key = warmup_key(scenario, seed)
    with _WARM_LOCK:
        state = _WARM.get(key)
        if state is not None:
            _WARM.move_to_end(key)
    model = TrustModel(scenario, seed=seed, replication=replication, warm_start=state)
    if state is None:
        state = capture(model, key)
        with _WARM_LOCK:
            _WARM[key] = state
            while len(_WARM) > _WARM_KEEP:
                _WARM.popitem(last=False)
    return model


_SERIAL = itertools.count()


@dataclass(frozen=True)
class Recorded:
    """Copies of a `TrustModel` recorder's arrays over the days recorded so far: ``stocks``
    (days, brands, stocks), ``counts`` (days, brands, event counters), ``revenue`` (days,
    brands, channels)."""

    stocks: np.ndarray
    counts: np.ndarray
    revenue: np.ndarray

    @classmethod
    def of(cls, model: TrustModel) -> Recorded:
        rec = model.recorder
        d = rec.days_recorded
        return cls(rec.stocks[:d].copy(), rec.counts[:d].copy(), rec.revenue[:d].copy())


@dataclass(frozen=True)
class Snapshot:
    """What the page shows of a `LeverMarket`, taken between two days (`LeverMarket.snapshot`):
    both markets' recorded days (as many in each), the day, the horizon, the step rate, whether
    it runs, and the breaches scheduled so far."""

    day: int
    days: int
    running: bool
    days_per_second: float
    brand: str
    brand_names: list[str]
    breaches_scheduled: list[BreachEvent]
    changed: Recorded
    unchanged: Recorded


class LeverMarket(mesa.Model):
    """The market with one brand's levers (and the world) moved, next to the unchanged market.

    Args:
        scenario: scenario file or `Scenario` (default: the bundled baseline).
        brand: the brand whose levers are set (default: the scenario's first).
        consumers, days, warmup_days: size of both runs (default: `default_size`: 2,000
            consumers, 120 days or up to AFTERMATH_DAYS past the scenario's last event, the
            scenario's own warm-up).
        seed: the base seed (default: the scenario's); both runs are its replication 0, seeded
            ``replication_seed(seed, 0)`` as ``omnitrust run`` seeds it.
        transparency ... compensation: ``brands.<brand>.policy.<lever>``; ``None`` keeps the
            scenario's value. ``data_collection`` is a list of data types or a key of
            `DATA_COLLECTION_CHOICES`.
        attack_pressure, contagion, media_amplification: ``world.<lever>``; ``None`` keeps it.

    Attributes:
        changed, unchanged: the two `TrustModel` runs.
        base_seed: the base seed (``replication_seed(base_seed, 0)`` seeds both runs).
        source: the scenario file or name given (None for a `Scenario`).
        own_warmup_days: the scenario's own warm-up (``omnitrust run``'s).
        dropped: what of the scenario the horizon leaves out (`dropped_at`), e.g.
            ``["breach of Aurora on day 120"]``; ``full_days`` (`default_days`) keeps it all.
        days_per_second: the step rate of the last step that simulated a day (both markets
            together); NaN before the first.
        serial: a number no other `LeverMarket` of this process has (a new one after Reset).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path = DEFAULT_SCENARIO,
        brand: str | None = None,
        consumers: int | None = None,
        days: int | None = None,
        warmup_days: int | None = None,
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
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        size = default_size(sc)
        consumers = size["consumers"] if consumers is None else int(consumers)
        days = size["days"] if days is None else int(days)
        warmup_days = size["warmup_days"] if warmup_days is None else int(warmup_days)
        self.source = None if isinstance(scenario, Scenario) else str(scenario)
        self.own_warmup_days = sc.simulation.warmup_days
        self.dropped = dropped_at(sc, days)
        self.full_days = default_days(sc)  # a horizon that keeps everything dropped
        base = base_scenario(sc, consumers, days, warmup_days)
        self.base_seed = sc.simulation.seed if seed is None else int(seed)
        run_seed = replication_seed(self.base_seed, REPLICATION)
        super().__init__(**mesa_seed(run_seed))
        self.serial = next(_SERIAL)
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
        self.unchanged = warm_model(base, run_seed)
        self.changed = warm_model(apply_overrides(base, overrides, "dashboard levers"), run_seed)
        self.brand_names = [b.name for b in base.brands]
        self.days_per_second = float("nan")
        self.breaches_scheduled: list[BreachEvent] = []
        # held while a day is simulated: `breach_now` from another thread (the page's buttons
        # while the play thread steps) waits for the day to end, so it never schedules a breach
        # for a day whose incidents have already been handled
        self._stepping = threading.Lock()

    @property
    def collected(self) -> list[str]:
        """The data types the lever brand collects in the changed market (its levers moved):
        the only ones a breach now can expose."""
        brand = next(b for b in self.changed.scenario.brands if b.name == self.brand)
        return list(brand.policy.data_collection)

    @property
    def day(self) -> int:
        """Days simulated so far (both markets)."""
        return self.changed.day

    def snapshot(self) -> Snapshot:
        """A consistent copy of what the page shows, taken under the lock that a day holds: a
        chart drawn while the play thread steps sees both markets at the same day (read without
        it, the changed market could have one day more than the unchanged one)."""
        with self._stepping:
            return Snapshot(
                day=self.changed.day,
                days=self.changed.scenario.simulation.days,
                running=self.changed.running,
                days_per_second=self.days_per_second,
                brand=self.brand,
                brand_names=list(self.brand_names),
                breaches_scheduled=list(self.breaches_scheduled),
                changed=Recorded.of(self.changed),
                unchanged=Recorded.of(self.unchanged),
            )

    def step(self) -> None:
        """One day of both markets; nothing (the step rate kept) once the run is over."""
        with self._stepping:
            if not self.changed.running:
                self.running = False
                return
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
        market only. ``data_types``: some of the brand's `collected` types (a type it does not
        hold would leak nothing, yet the breach would cost money and trust: refused).
        ``channel`` ("store", "web", "app" or None) is where it happened (docs/ODD.md, I8).
        Called while another thread simulates a day, it waits for that day to end and schedules
        the breach for the next one (the day the event says)."""
        held = self.collected
        stray = [t for t in data_types if t not in held]
        if stray:
            raise ValueError(
                f"data_types = {stray}: {self.brand} does not collect "
                f"{'it' if len(stray) == 1 else 'them'}; allowed: {', '.join(held)}"
            )
        with self._stepping:
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
