"""TrustModel: the omnichannel market as a Mesa model whose consumers are NumPy arrays."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.blocks import Bound, bound, resolve_threads, set_threads
from ..core.catalogue import CHANNELS
from ..core.mesa_core import mesa
from ..core.streams import mesa_seed, stream_key
from ..mechanisms import churn, costs, incidents, journey, outreach, social, trust, turnover
from ..mechanisms.metrics import (
    EV,
    MARKET_SHARES,
    STOCKS,
    TRUST_BINS,
    Recorder,
    net_value,
    records_held,
    tally,
)
from ..scenario import Scenario
from ..scenario.loading import apply_overrides, load_scenario
from ..state.day import Day
from ..state.parameters import brand_table, parameters
from ..state.population import Population, check_population, create_population
from .brand import BrandAgent
from .warmup import INCIDENTS_CONFIG, MODEL_ARRAYS, WarmState, restore, warmup_key

# What the DataCollector reports per brand: BrandAgent attribute -> readable column suffix
# (model reporters are named "<brand> <label>", e.g. "Aurora consent rate").
HEADLINE_REPORTERS = {
    "trust": "trust",
    "consent_rate": "consent rate",
    "subscribers": "subscribers",
    "revenue": "revenue/day",
    "net_value": "net value/day",
    "breaches": "breaches",
}
_RECORDS = STOCKS.index("records_held")
_SUBSCRIBERS = STOCKS.index("subscribers")
_CONSENT_RATE = STOCKS.index("consent_rate")
_BREACHES = EV["breaches"]


def tally_shapes(scenario: Scenario) -> dict[str, tuple[int, ...]]:
    """The shapes of a `TrustModel`'s float64 tallies (`sim.model.warmup.MODEL_ARRAYS` and
    ``_daily_revenue``, one row per warm-up and recorded day) for ``scenario``."""
    b = len(scenario.brands)
    return {
        "_counts": (b, len(EV)),
        "_purchases": (b, len(CHANNELS)),  # as `Recorder.purchases` and `.revenue`
        "_revenue": (b, len(CHANNELS)),
        "_stocks": (b, len(STOCKS)),
        "_trust_hist": (b, TRUST_BINS),
        "_market": (len(MARKET_SHARES),),
        "_daily_revenue": (scenario.simulation.warmup_days + scenario.simulation.days, b),
    }


def _same_kind(name: str, got: Any, want: Any) -> None:
    """Raise `ValueError` unless ``got`` has the type (and, for arrays, dtype and shape) of
    ``want``, the value a freshly built model holds."""
    if type(got) is not type(want):
        raise ValueError(f"{name} is a {type(got).__name__}, not a {type(want).__name__}")
    if isinstance(want, np.ndarray) and (got.dtype != want.dtype or got.shape != want.shape):
        raise ValueError(f"{name} is {got.dtype} {got.shape}, not {want.dtype} {want.shape}")


def check_warm_state(state: WarmState, scenario: Scenario, seed: int) -> None:
    """Raise `ValueError` unless ``state`` has the layout of the warm-up state of ``scenario``:
    every array with the dtype and shape (and index arrays with the values in range) a freshly
    built model holds, the incidents' state with the keys and types of a fresh `Incidents`, one
    entry per brand. The compiled kernels do not check bounds, so a state read from a file
    (`sim.model.warmup.load_state`) is checked here before any of it is copied into a model."""
    n_brands = len(scenario.brands)
    check_population(state.population, scenario.simulation.consumers, n_brands, len(CHANNELS))
    shapes = tally_shapes(scenario)
    warmup = scenario.simulation.warmup_days
    tallies = {**state.arrays, "_daily_revenue": state.daily_revenue}
    if list(state.arrays) != list(MODEL_ARRAYS):
        raise ValueError("not the arrays of a model's state")
    for name, array in tallies.items():
        shape = (warmup, n_brands) if name == "_daily_revenue" else shapes[name]
        _same_kind(name, array, np.zeros(shape))
    if not isinstance(state.brands, list) or len(state.brands) != n_brands:
        raise ValueError(f"the state holds {len(state.brands)} brands, not {n_brands}")
    fresh = incidents.Incidents(
        scenario, parameters(scenario), brand_table(scenario.before_change()), seed, warmup
    )
    want = {k: v for k, v in vars(fresh).items() if k not in INCIDENTS_CONFIG}
    if not isinstance(state.incidents, dict) or set(state.incidents) != set(want):
        raise ValueError("not the incidents' state")
    for name, value in state.incidents.items():
        _same_kind(f"incidents.{name}", value, want[name])
    for breach in state.incidents["breaches"]:
        if not isinstance(breach, incidents.Breach) or not (
            -1 <= breach.brand < n_brands and -1 <= breach.channel < len(CHANNELS)
        ):
            raise ValueError(f"incidents.breaches holds {breach!r:.80}")


@dataclass(frozen=True)
class Phase:
    """One phase of the day: a name and a function of the day's tables (`sim.state.day.Day`)."""

    name: str
    run: Callable[[Day], None]

    def __repr__(self) -> str:
        where = f"{self.run.__module__.removeprefix('sim.')}.{self.run.__qualname__}"
        doc = (self.run.__doc__ or "").strip().split("\n")[0]
        return f"{self.name:<14} {where:<40} {doc}"


class DayPlan(list):
    """The phases of a day in the order they run; ``print(model.phases)`` lists them."""

    def __str__(self) -> str:
        return "\n".join(f"{k}. {phase!r}" for k, phase in enumerate(self, 1))


class TrustModel(mesa.Model):
    """One run of one scenario.

    The model is a real ``mesa.Model``: it is seeded through Mesa (``self.rng`` is the Mesa
    generator), brands are ``mesa.Agent``s (``self.agents``), ``step()`` advances one day and
    a ``mesa.DataCollector`` records market-level reporters. Consumers are a structure of arrays
    (`sim.state.population.Population`) updated by compiled, vectorised phase kernels; every random
    draw comes from a named stream keyed by (seed, stream, day), see `sim.core.streams`.

    One day (``step``) is the list of phases ``model.phases`` (docs/ODD.md, section 3 "Process
    overview and scheduling"); ``print(model.phases)`` shows it:

    1. needs            journey.needs_phase       needs arise, journeys start
    2. research         journey.research_phase    consumers touch channels; brands observe what
                                                  scope and consent allow, ask, personalise
    3. outreach         outreach.send_phase       e-mail lands as relevant or as spam
    4. purchase         journey.purchase_phase    brand, then channel; the brand observes again
    5. incidents        incidents.Incidents.phase breaches strike, are disclosed, harm lands
    6. word_of_mouth    social.talk_phase         consumers tell a friend
    7. forgetting       trust.forget_phase        evidence fades
    8. churn            churn.leave_phase         leaving, revoking, records expiring,
                                                  consent rounds lapsing
    9. turnover         turnover.renew_phase      consumers leave the market, newcomers come
    10. costs           costs.charge_phase        the levers' daily cost (K1)

    then the day is recorded (`sim.mechanisms.metrics.tally` -> `Recorder`). Every phase is a
    function of one `sim.state.day.Day` (population, levers, parameters, internal day, stream
    keys, the day's counters). A subclass reorders, removes or adds phases by overriding
    `build_phases`; with ``timings=True`` the seconds spent in each phase (and in ``record``)
    add up in ``model.phase_times``.

    Warm-up: building the model runs ``simulation.warmup_days`` days (days -W..-1) with the same
    rules but no stochastic breaches and nothing recorded, so that journeys, consents, records and
    subscriptions are under way at day 0; cumulative journey shares count from day 0. Random
    streams are keyed by the internal day t = day + W. Warm-up days are not Mesa steps: step 1
    is day 0, and ``model.steps`` counts recorded days. ``warm_start`` (a `sim.model.warmup.WarmState`
    of a model whose warm-up this scenario shares) replaces the warm-up by a copy of its end state,
    with the same numbers (`sim.model.warmup`); a state whose key is not this scenario's and
    seed's (`sim.model.warmup.warmup_key`) is a ValueError.

    Policy change: with ``policy_from_day = d`` the brands follow ``policy_before`` (by default
    the policies of the scenario the file extends) through the warm-up and days 0..d-1, and this
    scenario's own policies from day d on (`change_policy`; docs/ODD.md, "Policy changes at a
    known moment").

    Mesa: ``datacollector`` collects at step 0 (the end of the warm-up, reporter ``day`` = -1)
    and after every step, so ``get_model_vars_dataframe()`` row s is the market after day s-1
    and ``mesa.batch_run`` reads consistent rows. Per brand it reports ``"<brand> trust"``,
    ``consent rate``, ``subscribers``, ``revenue/day``, ``net value/day`` and ``breaches``
    (since day 0); agent rows carry the same per brand. The `Recorder` (``timeseries()``) holds
    the full tidy table.

    Args:
        scenario: a validated `Scenario`, or the path of a scenario file.
        seed: the replication's seed (see `sim.core.streams.replication_seed`); defaults to the
            scenario's ``simulation.seed``. ``rng=`` (an integer) is the same, for Mesa >= 3.4
            habits; Mesa itself is seeded with the keyword the installed version expects.
        replication: the replication number, recorded in the outputs.
        timings: add up the wall time of each phase in ``phase_times`` (seconds).
        threads: threads a day's passes over the consumers use: 0 = every core; by default the
            environment variable ``OMNITRUST_THREADS`` (what ``--threads`` of the CLI sets), else 1. Consumers are split into fixed blocks whose tallies add up in block order
            (`sim.core.blocks`), so the numbers are the same for any thread count. Word of mouth
            stays on one thread (a consumer reads a friend's row that the friend's own talk may
            have changed earlier the same day).
        overrides: values set at dotted scenario paths before the run, e.g.
            ``{"brands.Aurora.policy.transparency": 0.9, "simulation.consumers": 2000}`` (the
            paths of experiment files; see `sim.scenario.loading.apply_overrides`).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path,
        seed: int | None = None,
        replication: int = 0,
        timings: bool = False,
        *,
        overrides: Mapping[str, Any] | None = None,
        rng: int | None = None,
        threads: int | None = None,
        warm_start: WarmState | None = None,
    ):
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        if overrides:
            scenario = apply_overrides(scenario, dict(overrides))
        if seed is not None and rng is not None:
            raise ValueError("give the seed as `seed` or as `rng`, not both")
        seed = rng if seed is None else seed
        seed = scenario.simulation.seed if seed is None else int(seed)
        if warm_start is not None and warm_start.key != warmup_key(scenario, seed):
            raise ValueError(
                f"warm_start is the warm-up state {warm_start.key[:12]}..., not the warm-up of "
                f"scenario {scenario.name!r} with seed {seed} "
                f"({warmup_key(scenario, seed)[:12]}...): it would continue another market"
            )
        self.threads = resolve_threads(threads)
        super().__init__(**mesa_seed(seed))
        self.scenario = scenario
        self.seed_value = seed
        self.replication = replication
        self.warmup = scenario.simulation.warmup_days
        self.day = -self.warmup
        self.params = parameters(scenario)
        self.policy_from_day = scenario.policy_from_day
        before = scenario.before_change()
        self.brand_levers = brand_table(before)  # changed in place on policy_from_day
        if warm_start is not None:  # before any of it is copied: the kernels check no bounds
            try:
                check_warm_state(warm_start, scenario, seed)
            except ValueError as err:
                raise ValueError(
                    f"warm_start does not fit scenario {scenario.name!r}: {err}"
                ) from None
        self.population = (
            create_population(scenario, seed)
            if warm_start is None
            else Population(**{k: v.copy() for k, v in warm_start.population.items()})
        )
        self.brands = [BrandAgent(self, spec, k) for k, spec in enumerate(scenario.brands)]
        for brand, spec in zip(self.brands, before.brands, strict=True):
            brand.policy = spec.policy
        self.incidents = incidents.Incidents(
            scenario, self.params, self.brand_levers, seed, self.warmup
        )
        n_brands = len(self.brands)
        self.recorder = Recorder(scenario.simulation.days, [b.name for b in self.brands])
        for name, shape in tally_shapes(scenario).items():  # float64 tallies, all zero
            setattr(self, name, np.zeros(shape))
        self.today = Day(
            population=self.population,
            levers=self.brand_levers,
            params=self.params,
            seed=seed,
            t=self.t,
            counts=self._counts,
            purchases=self._purchases,
            revenue=self._revenue,
            records_held=self._stocks[:, STOCKS.index("records_held")],  # yesterday's, a view
            annual_revenue=np.zeros(n_brands),
        )
        self._bound = Bound(self.population, self.brand_levers, self.params)
        self.phases = DayPlan(self.build_phases())
        self.timings = timings
        self.phase_times = dict.fromkeys([p.name for p in self.phases] + ["record"], 0.0)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "day": lambda m: m.steps - 1,
                **{
                    f"{b.name} {label}": (lambda m, b=b, attr=attr: getattr(b, attr))
                    for b in self.brands
                    for attr, label in HEADLINE_REPORTERS.items()
                },
            },
            agent_reporters={"brand": "name", **{attr: attr for attr in HEADLINE_REPORTERS}},
        )
        if warm_start is None:
            step = type(self).step  # the day itself, not Mesa's wrapper: warm-up days are not steps
            while self.day < 0:
                step(self)
        else:
            restore(self, warm_start)
        self.datacollector.collect(self)  # step 0: the market as recording starts

    @property
    def t(self) -> int:
        """Internal day, counted from the start of the warm-up (keys the random streams)."""
        return self.day + self.warmup

    def _key(self, stream: str) -> np.uint64:
        return stream_key(self.seed_value, stream, self.t)

    def build_phases(self) -> list[Phase]:
        """The phases of a day, in order (docs/ODD.md, section 3). Override in a subclass to
        reorder, remove or add phases; a phase is any function of the `Day`."""
        return [
            Phase("needs", journey.needs_phase),
            Phase("research", journey.research_phase),
            Phase("outreach", outreach.send_phase),
            Phase("purchase", journey.purchase_phase),
            Phase("incidents", self.incidents.phase),
            Phase("word_of_mouth", social.talk_phase),
            Phase("forgetting", trust.forget_phase),
            Phase("churn", churn.leave_phase),
            Phase("turnover", turnover.renew_phase),
            Phase("costs", costs.charge_phase),
        ]

    def step(self) -> None:
        """Advance the market by one day: every phase of ``self.phases``, then the record."""
        set_threads(self.threads)
        with bound(self._bound):  # kernels called with this model's tuples skip Numba's typing
            self._day()

    def _day(self) -> None:
        today = self.today
        if self.day == 0:
            today.population.history[:] = 0  # journey shares are measured over the horizon
        if self.day == self.policy_from_day:
            self.change_policy()
        today.t = self.t
        today.counts[:] = 0.0
        today.defrauded = 0
        today.purchases[:] = 0.0
        today.revenue[:] = 0.0
        today.annual_revenue[:] = self._annual_revenue()
        if self.timings:
            clock, times = time.perf_counter, self.phase_times
            for phase in self.phases:
                start = clock()
                phase.run(today)
                times[phase.name] += clock() - start
            start = clock()
            self._end_day()
            times["record"] += clock() - start
        else:
            for phase in self.phases:
                phase.run(today)
            self._end_day()
        self.day += 1
        if self.day >= self.scenario.simulation.days:
            self.running = False

    def change_policy(self) -> None:
        """The brands switch to this scenario's own policies (on ``policy_from_day``, before the
        day's phases): the lever table is updated in place, so every phase sees the change."""
        after = brand_table(self.scenario)
        for name, values in after._asdict().items():
            np.copyto(getattr(self.brand_levers, name), values)
        self.incidents.refresh_levers()
        for brand, spec in zip(self.brands, self.scenario.brands, strict=True):
            brand.policy = spec.policy

    def _end_day(self) -> None:
        self._daily_revenue[self.t] = self._revenue.sum(axis=1)
        self._record()

    def _annual_revenue(self) -> np.ndarray:
        """Revenue of the last 365 days (warm-up included), scaled to a year."""
        t = self.t
        if t == 0:
            return np.zeros(len(self.brands))
        return self._daily_revenue[max(0, t - 365) : t].sum(axis=0) * 365.0 / min(t, 365)

    def _record(self) -> None:
        if self.day < -1:
            # A warm-up day before the last: its stocks are neither recorded nor read (the day's
            # state at day 0 is that of the last warm-up day), except yesterday's records held,
            # which `Day.records_held` promises every phase; the tally's pass is skipped.
            records_held(self.population, self._stocks[:, _RECORDS])
            return
        tally(
            self.population,
            self.params,
            self.t,
            self._stocks,
            self._trust_hist,
            self._market,
            self.today.defrauded,
        )
        # as Python numbers (tolist converts each float64 exactly, as float() would)
        stocks = self._stocks.tolist()
        revenue = self._daily_revenue[self.t].tolist()  # the day's revenue over channels
        net = net_value(self._counts).tolist()
        for brand, row, rev, value in zip(self.brands, stocks, revenue, net, strict=True):
            brand.trust = row[0]
            brand.records_held = int(row[_RECORDS])
            brand.subscribers = int(row[_SUBSCRIBERS])
            brand.consent_rate = row[_CONSENT_RATE]
            brand.revenue = rev
            brand.net_value = value
        if self.day < 0:
            return
        rec, d = self.recorder, self.day
        rec.counts[d] = self._counts
        rec.stocks[d] = self._stocks
        rec.purchases[d] = self._purchases
        rec.revenue[d] = self._revenue
        rec.market[d] = self._market
        rec.days_recorded = d + 1
        for brand, n in zip(self.brands, self._counts[:, _BREACHES].tolist(), strict=True):
            brand.breaches += int(n)
        self.datacollector.collect(self)

    def run(self) -> None:
        """Step until the scenario's horizon."""
        while self.running and self.day < self.scenario.simulation.days:
            self.step()

    def timeseries(self):
        """The tidy daily table of this run (see `sim.mechanisms.metrics.Recorder.to_frame`)."""
        return self.recorder.to_frame(self.scenario.name, self.replication)
