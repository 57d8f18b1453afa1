"""TrustModel: the omnichannel market as a Mesa model whose consumers are NumPy arrays."""

from __future__ import annotations

import mesa
import numpy as np

from ..core.streams import stream_key
from ..mechanisms import churn, incidents, journey, outreach, social, trust
from ..mechanisms.metrics import EV, STOCKS, TRUST_BINS, Recorder, tally
from ..scenario import Scenario
from ..state.parameters import brand_table, parameters
from ..state.population import create_population
from .brand import BrandAgent


class TrustModel(mesa.Model):
    """One run of one scenario.

    The model is a real ``mesa.Model``: it is seeded through Mesa's ``seed`` (``self.rng`` is the
    Mesa generator), brands are ``mesa.Agent``s (``self.agents``), ``step()`` advances one day and
    a ``mesa.DataCollector`` records market-level reporters. Consumers are a structure of arrays
    (`sim.state.population.Population`) updated by compiled, vectorised phase kernels; every random
    draw comes from a named stream keyed by (seed, stream, day), see `sim.core.streams`.

    One day (``step``), in order (docs/ODD.md, section 3 "Process overview and scheduling"):

    1. needs arise                      journey.arise_needs
    2. consumers touch channels;        journey.research  -> consent.touch
       brands observe what scope and consent allow, ask for consent, personalise
    3. outreach lands (relevant / spam) outreach.send
    4. purchases (brand, then channel)  journey.purchase  -> consent.touch
    5. incidents strike, are disclosed, harm lands      incidents.Incidents.step
    6. word of mouth                    social.talk
    7. trust update (forgetting)        trust.forget
    8. churn, revocation, retention     churn.leave
    9. metrics                          metrics.tally -> Recorder

    Warm-up: the model first runs ``simulation.warmup_days`` days (days -W..-1) with the same
    rules but no stochastic breaches and nothing recorded, so that journeys, consents, records and
    subscriptions are under way at day 0; cumulative journey shares count from day 0. Random
    streams are keyed by the internal day t = day + W.

    Args:
        scenario: a validated `Scenario`.
        seed: the replication's seed (see `sim.core.streams.replication_seed`); defaults to the
            scenario's ``simulation.seed``.
        replication: the replication number, recorded in the outputs.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, replication: int = 0):
        seed = scenario.simulation.seed if seed is None else int(seed)
        super().__init__(seed=seed)
        self.scenario = scenario
        self.seed_value = seed
        self.replication = replication
        self.warmup = scenario.simulation.warmup_days
        self.day = -self.warmup
        self.params = parameters(scenario)
        self.brand_levers = brand_table(scenario)
        self.population = create_population(scenario, seed)
        self.brands = [BrandAgent(self, spec, k) for k, spec in enumerate(scenario.brands)]
        self.incidents = incidents.Incidents(scenario, self.brand_levers, seed, self.warmup)
        n_brands = len(self.brands)
        self.recorder = Recorder(scenario.simulation.days, [b.name for b in self.brands])
        self._counts = np.zeros((n_brands, len(EV)))
        self._purchases = np.zeros((n_brands, self.recorder.purchases.shape[2]))
        self._revenue = np.zeros_like(self._purchases)
        self._stocks = np.zeros((n_brands, len(STOCKS)))
        self._trust_hist = np.zeros((n_brands, TRUST_BINS))
        self._market = np.zeros(self.recorder.market.shape[1])
        self._daily_revenue = np.zeros((self.warmup + scenario.simulation.days, n_brands))
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "day": "day",
                "mean_trust": lambda m: float(np.mean([b.trust for b in m.brands])),
                "records_held": lambda m: int(sum(b.records_held for b in m.brands)),
            },
            agent_reporters={"trust": "trust", "records_held": "records_held"},
        )

    @property
    def t(self) -> int:
        """Internal day, counted from the start of the warm-up (keys the random streams)."""
        return self.day + self.warmup

    def _key(self, stream: str) -> np.uint64:
        return stream_key(self.seed_value, stream, self.t)

    def step(self) -> None:
        """Advance the market by one day (phases 1-9 above)."""
        pop, par, lev, day = self.population, self.params, self.brand_levers, self.t
        if self.day == 0:
            pop.history[:] = 0  # journey shares are measured over the reported horizon
        counts, purchases, revenue = self._counts, self._purchases, self._revenue
        counts[:] = 0.0
        purchases[:] = 0.0
        revenue[:] = 0.0
        consent_key, personal_key = self._key("consent"), self._key("personalization")

        journey.arise_needs(pop, par, self._key("need"))
        journey.research(
            pop, lev, par, self._key("research"), consent_key, personal_key, day, counts
        )
        outreach.send(pop, lev, par, self._key("outreach"), counts)
        journey.purchase(
            pop,
            lev,
            par,
            self._key("purchase"),
            consent_key,
            personal_key,
            day,
            counts,
            purchases,
            revenue,
        )
        self.incidents.step(
            pop,
            par,
            day,
            counts,
            self._stocks[:, STOCKS.index("records_held")],
            self._annual_revenue(),
        )
        social.talk(pop, par, self._key("social"))
        trust.forget(pop, par)
        churn.leave(pop, lev, par, self._key("churn"), day, counts)
        self._daily_revenue[day] = revenue.sum(axis=1)
        self._record()
        self.day += 1
        if self.day >= self.scenario.simulation.days:
            self.running = False

    def _annual_revenue(self) -> np.ndarray:
        """Revenue of the last 365 days (warm-up included), scaled to a year."""
        t = self.t
        if t == 0:
            return np.zeros(len(self.brands))
        return self._daily_revenue[max(0, t - 365) : t].sum(axis=0) * 365.0 / min(t, 365)

    def _record(self) -> None:
        tally(self.population, self.params, self.t, self._stocks, self._trust_hist, self._market)
        for k, brand in enumerate(self.brands):
            brand.trust = float(self._stocks[k, 0])
            brand.records_held = int(self._stocks[k, STOCKS.index("records_held")])
            brand.subscribers = int(self._stocks[k, STOCKS.index("subscribers")])
        if self.day < 0:
            return
        rec, d = self.recorder, self.day
        rec.counts[d] = self._counts
        rec.stocks[d] = self._stocks
        rec.purchases[d] = self._purchases
        rec.revenue[d] = self._revenue
        rec.market[d] = self._market
        rec.days_recorded = d + 1
        for k, brand in enumerate(self.brands):
            brand.breaches += int(self._counts[k, EV["breaches"]])
        self.datacollector.collect(self)

    def run(self) -> None:
        """Step until the scenario's horizon."""
        while self.running and self.day < self.scenario.simulation.days:
            self.step()

    def timeseries(self):
        """The tidy daily table of this run (see `sim.mechanisms.metrics.Recorder.to_frame`)."""
        return self.recorder.to_frame(self.scenario.name, self.replication)
