"""Incidents: breaches, delayed harm, disclosure, sector contagion and their costs (ODD 7.10).

Brand level (a handful of brands: plain Python each day)
* Hazard (I1): brand b suffers a breach on a day with probability
      h_b = H/365 * pressure * (n_types_b / 8) * (0.5 + records_b / N) * (1 + k_share share_b)
            * (1 + k_social [b collects social_login]) * exp(-k_sec (security_b - 0.5))
  H is the base rate per brand-year: a brand collecting all eight data types, with records on
  half the market, no sharing and investment 0.5 has h_b = H/365 times social login's own factor
  (1 + k_social).
* Severity (I2): the exposed share of records is heavy tailed (Pareto, shape alpha, scale m),
  shrunk by security:  share = min(1, m U^(-1/alpha) exp(-k_sec/2 (security_b - 0.5))).
* Scheduled shocks from [[events]]: breach, third_party_leak, media_story. A media story that
  ``reveals_covert`` data of a brand (or of every brand) surprises the consumers it reaches whose
  relation holds covert types and who did not knowingly share: the covert-data shock of consent.py
  (C7, ``consent.covert_surprise``).
* Disclosure (I3): the brand notifies the exposed ``notify_within_days`` after the breach. Before
  that the media may find it (probability ``media_leak_rate`` a day): it is then public at once
  (the shock of I6 without compensation softening) and the brand still notifies on its due day,
  which then only marks the exposed as notified and costs money.
* Costs (I4): detection per exposed record and card reissue per exposed card on the breach day;
  a fine (share of trailing annual revenue) when the breach becomes public; notification and
  compensation per notified consumer; security spend every day.

Consumer level (compiled kernels over the population)
* Exposure (I5): each record the brand holds (within retention) is exposed with probability
  ``records_share``; only the data types the brand holds on that consumer leak. Harm is drawn by
  type: payment card -> fraud, contact -> phishing, social login -> account takeover; it lands
  1 + floor(Exp(mean ``harm_delay_days``)) days later (never on the breach day).
* Disclosure shock (I6): a breach becomes public with a loudness and a reach that grow with its
  size x (records exposed, i.e. records_share x records held, over the market's consumers) and
  its severity S (0.5 + the highest sensitivity among the breach's data types, which for a
  stochastic breach is the brand's whole scope):
      L = S (x / x_ref)^eta,    reach = 1 - (1 - media_amplification)^L
  An exposed consumer takes negative evidence e_disc * S * (1 - soft_comp) * (1 - soft_cand)
  * (1 + late * delay_days); a non-exposed consumer hears of it with probability ``reach`` and
  takes e_news * L * (1 - soft_cand). Compensation and candour soften only a story the brand
  tells itself (notification); those who learn it from the media get no softening.
  Everyone who takes a shock about b takes spill_k times it about every other brand k:
      spill_k = contagion * overlap(types, scope_k) * (1 + media_framing [the media broke it])
  where overlap is the share of the breach's sensitivity (sum over its types) that k also
  collects: a rival holding the same kind of data looks as unsafe (contagion), one that does not
  does not (and gains the switchers: competition).
* Channel (I8): a breach event may name the channel where it happened (store, web, app); who
  takes a shock about b becomes wary of b's channel c: comfort_ibc = 1 - aversion decay^(age)
  weighs channel c of brand b in brand choice for research and in the purchase channel choice
  (`channel_comfort`, used by `sim.journey`). A consumer remembers the latest such breach only.
  An exposed consumer whose exposed data includes covert types they did not know the brand
  held takes the covert-data shock of consent.py (C6, ``consent.reveal``).
* Harm (I7): on the harm day the victim takes e_harm * (fraud_weight + takeover_weight + phishing_weight,
  those of its kinds; 1, 1, 0.3 by default) of
  negative evidence. It blames the right brand with probability ``attribution_notified`` (if
  notified) or ``attribution_unnotified``; harm from a third-party leak is never pinned on one
  brand. Unattributed harm lowers trust in every brand by unattributed_harm_share (0.5) of the
  evidence (sector-wide).
* Background fraud (I9): every consumer, exposed or not, is defrauded with probability
  ``background_fraud_per_year`` / 365 a day (warm-up included: it is part of the steady state);
  it is unattributable (unattributed_harm_share of the fraud evidence about every brand). ``fraud_day`` records the
  latest fraud of any cause, for the evidence's "fraud among the notified" figure; the day's
  consumers defrauded (``fraud_victims_any``) are counted as the frauds happen (`Incidents.step`),
  since a victim who leaves the market the same day (7.11) is re-born with no fraud.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.blocks import BLOCK, block_end, call, n_blocks, over_blocks, reduce_blocks
from ..core.catalogue import CHANNELS, COMPENSATIONS, DATA_BIT, SENSITIVITY, mask_of
from ..core.constants import HARM_UNATTRIBUTABLE
from ..core.jit import njit
from ..core.streams import consumer_state, draw_rows, draws, stream_key, uniform
from ..scenario import BreachEvent, MediaStoryEvent, Scenario, ThirdPartyLeakEvent
from ..state.day import Day
from ..state.parameters import POPCOUNT
from ..state.population import (
    ACCOUNT,
    HARM_FRAUD,
    HARM_PHISHING,
    HARM_TAKEOVER,
    HARMED,
    HEARD,
    NOTIFIED,
)
from .consent import covert_surprise, held_mask, reveal
from .costs import spend_per_day
from .metrics import Event
from .trust import add_negative

assert CHANNELS[:3] == ("store", "web", "app")  # the channels a breach event may name: 0, 1, 2
CARD_BIT = DATA_BIT["payment_card"]
CONTACT_BIT = DATA_BIT["contact"]
SOCIAL_BIT = DATA_BIT["social_login"]
_SENS = SENSITIVITY.astype(np.float64)


def compensation_share(code: int, inc) -> float:
    """Share of the disclosure shock the compensation of ``code`` (sim.state.parameters) takes
    away, before compensation_softening (I6): none 0, voucher incidents.voucher_share, credit
    monitoring 1."""
    shares = {"none": 0.0, "voucher": inc.voucher_share, "credit_monitoring": 1.0}
    return shares[COMPENSATIONS[code]]


def severity_factor(types: int) -> float:
    """S = 0.5 + the highest sensitivity among the breach's data types (0.5 if none)."""
    sens = [float(_SENS[k]) for k in range(_SENS.size) if types & (1 << k)]
    return 0.5 + (max(sens) if sens else 0.0)


def loudness(severity: float, size: float, par) -> float:
    """L = S (x / x_ref)^eta: how loud a breach of severity S exposing a share x of the market's
    consumers is (I6); L = S for the reference size."""
    return severity * (size / par.incidents.reach_reference_share) ** par.incidents.reach_elasticity


def reach(loud: float, par) -> float:
    """Share of non-exposed consumers who hear of a breach of loudness L: 1 - (1 - m)^L (I6)."""
    return 1.0 - (1.0 - par.world.media_amplification) ** loud


def overlap(types: int, scope: int) -> float:
    """Share of a breach's sensitivity (summed over its data types) that ``scope`` also collects:
    how much a peer looks exposed to the same failure (I6)."""
    total = sum(float(_SENS[k]) for k in range(_SENS.size) if types & (1 << k))
    shared = sum(float(_SENS[k]) for k in range(_SENS.size) if types & scope & (1 << k))
    return shared / total if total > 0.0 else 0.0


@dataclass
class Breach:
    """One breach (or third-party leak) and its life cycle."""

    brand: int  # -1 for a third-party leak
    day: int
    records_share: float
    types: int
    scheduled: bool
    exposed: int = 0
    size: float = 0.0  # records_share x records held / consumers: the size the story reports
    channel: int = -1  # index in CHANNELS, -1 = not tied to a channel
    disclosed_day: int = -1
    notified: bool = False


class Incidents:
    """The incident submodel of one run: hazards, scheduled shocks, disclosure and costs.

    Reads its parameters from the kernel tables (``par.incidents``, ``par.world``: the scenario's
    names), and from the scenario only its events and brand names.
    """

    def __init__(self, scenario: Scenario, par, brands, seed: int, warmup: int = 0):
        self.seed = seed
        self.warmup = warmup  # internal day t = reported day + warmup; no breaches before day 0
        self.inc = par.incidents
        self.world = par.world
        self.n = par.simulation.consumers
        self.brands = brands
        self.events = sorted(scenario.events, key=lambda e: e.day)  # days as reported
        self.brand_index = {b.name: k for k, b in enumerate(scenario.brands)}
        self.breaches: list[Breach] = []
        self.last_harm_day = -1
        self._uses: dict[tuple[str, int], int] = {}  # draws of a stream already used per day
        self.refresh_levers()

    def refresh_levers(self) -> None:
        """Recompute what is derived from the brands' levers (after a policy change, which
        updates the lever table in place)."""
        brands = self.brands
        self.security_cost_per_day = spend_per_day(  # the curve of the lever costs (K1)
            self.inc.security_budget_per_consumer_year,
            brands.security_investment,
            1.0,
            brands.presence,
            self.n,
        )

    def schedule(self, event: BreachEvent | ThirdPartyLeakEvent | MediaStoryEvent) -> None:
        """Add a scheduled event during a run (e.g. "breach now" from the dashboard); it happens
        on ``event.day`` (a reported day not yet simulated), after events already set for it."""
        later = [k for k, ev in enumerate(self.events) if ev.day > event.day]
        self.events.insert(later[0] if later else len(self.events), event)

    # -- brand level -------------------------------------------------------------------------
    def _key(self, stream: str, day: int) -> np.uint64:
        """A fresh key for each use of ``stream`` on ``day``, so two breaches (or two stories) on
        one day draw independently; the first use is the plain day key."""
        part = self._uses.get((stream, day), 0)
        self._uses[(stream, day)] = part + 1
        return stream_key(self.seed, stream, day, part)

    def hazard(self, records_held: np.ndarray) -> np.ndarray:
        """Daily breach probability of every brand (eq. I1)."""
        b, inc = self.brands, self.inc
        n_types = POPCOUNT[b.scope.astype(np.int64)]
        social = (b.scope & SOCIAL_BIT) != 0
        h = (
            inc.base_hazard_per_year
            / 365.0
            * self.world.attack_pressure
            * (n_types / 8.0)
            * (0.5 + records_held / self.n)
            * (1.0 + inc.sharing_effect * b.third_party_sharing)
            * (1.0 + inc.social_login_effect * social)
            * np.exp(-inc.security_effect * (b.security_investment - 0.5))
        )
        return np.clip(h, 0.0, 1.0)

    def phase(self, day: Day) -> None:
        """Breaches strike, are disclosed, harm lands, incidents cost (I1-I7); the consumers
        defrauded today are counted into ``day.defrauded``."""
        day.defrauded += self.step(
            day.population,
            day.params,
            day.t,
            day.counts,
            day.records_held,
            day.annual_revenue,
        )

    def step(
        self,
        pop,
        par,
        day: int,
        counts: np.ndarray,
        records_held: np.ndarray,
        annual_revenue: np.ndarray,
    ) -> int:
        """One day (internal day ``day``) of incidents: new breaches, exposure, disclosure, harm,
        costs. During the warm-up nothing happens but security spending and background fraud.
        Returns the number of consumers defrauded today (each once, whatever the causes): the
        count is taken here, where the fraud happens, because a victim may leave the market
        later in the day (7.11), and its row then no longer shows the fraud."""
        counts[:, Event.security_cost] += self.security_cost_per_day
        frauds = 0
        if par.derived.background_fraud > 0.0:
            frauds += call(background_fraud, pop, par, stream_key(self.seed, "fraud", day), day)
        if day < self.warmup:
            return frauds
        key = stream_key(self.seed, "breach", day)
        hazard = self.hazard(records_held)
        inc = self.inc
        brand_draws = call(draw_rows, key, hazard.size, 2)  # row b: brand b's `draws(key, b, 2)`
        for b in range(hazard.size):
            u0, u = brand_draws[b]
            if u0 < hazard[b]:
                share = inc.severity_scale * (1.0 - u) ** (-1.0 / inc.severity_tail)
                share *= np.exp(
                    -0.5 * inc.security_effect * (self.brands.security_investment[b] - 0.5)
                )
                self._breach(
                    pop, par, b, day, min(share, 1.0), int(self.brands.scope[b]), False, counts,
                    records_held,
                )  # fmt: skip
        while self.events and self.events[0].day + self.warmup <= day:
            ev = self.events.pop(0)
            if ev.day + self.warmup < day:
                continue
            if isinstance(ev, BreachEvent):
                b = self.brand_index[ev.brand]
                self._breach(
                    pop,
                    par,
                    b,
                    day,
                    ev.records_share,
                    mask_of(ev.data_types) & int(self.brands.scope[b]),
                    True,
                    counts,
                    records_held,
                    CHANNELS.index(ev.channel) if ev.channel is not None else -1,
                )
            elif isinstance(ev, ThirdPartyLeakEvent):
                self._third_party_leak(
                    pop, par, day, ev.records_share, mask_of(ev.data_types), counts
                )
            elif isinstance(ev, MediaStoryEvent):
                media_story(
                    pop,
                    self.brands,
                    par,
                    self._key("disclosure", day),
                    par.incidents.media_story_scale * ev.severity,
                    par.world.media_amplification,
                    (self.brand_index[ev.brand] if ev.brand is not None else -1)
                    if ev.reveals_covert
                    else -2,
                    counts,
                )
        leak_key = stream_key(self.seed, "breach", day)  # brand b uses index b; breach k, 2**40 + k
        for k, br in enumerate(self.breaches):
            if br.notified or br.brand < 0:
                continue
            due = day - br.day >= self.brands.notify_within_days[br.brand]
            if due:
                self._disclose(
                    pop, par, br, day, notified=True, counts=counts, annual_revenue=annual_revenue
                )
            elif (
                br.disclosed_day < 0 and draws(leak_key, (1 << 40) + k, 1)[0] < inc.media_leak_rate
            ):
                self._disclose(
                    pop, par, br, day, notified=False, counts=counts, annual_revenue=annual_revenue
                )
        if day <= self.last_harm_day:
            frauds += land_harm(pop, par, stream_key(self.seed, "harm", day), day, counts)
        return frauds

    def _expose(self, pop, par, brand, day, share, types, third_party):
        """Run the exposure kernel (I5) with today's fresh key; return (exposed, cards)."""
        inc = self.inc
        exposed, cards, last_harm = expose(
            pop, self.brands, par, self._key("exposure", day), brand, day, share, types,
            inc.fraud_probability, inc.phishing_probability, inc.takeover_probability,
            inc.harm_delay_days, third_party,
        )  # fmt: skip
        self.last_harm_day = max(self.last_harm_day, last_harm)
        return exposed, cards

    def _breach(self, pop, par, b, day, share, types, scheduled, counts, records_held, channel=-1):
        inc = self.inc
        exposed, cards = self._expose(pop, par, b, day, share, types, False)
        counts[b, Event.breaches] += 1
        counts[b, Event.consumers_exposed] += exposed
        counts[b, Event.breach_cost] += (
            inc.detection_cost_per_record * exposed + inc.card_reissue_cost * cards
        )
        size = share * float(records_held[b]) / self.n
        self.breaches.append(Breach(b, day, share, types, scheduled, exposed, size, channel))

    def _third_party_leak(self, pop, par, day, share, types, counts):
        exposed, _ = self._expose(pop, par, -1, day, share, types, True)
        self.breaches.append(Breach(-1, day, share, types, True, exposed, disclosed_day=day))
        # the leak is sector news at once: nobody knows which brand to blame
        media_story(
            pop,
            self.brands,
            par,
            self._key("disclosure", day),
            severity_factor(types),
            par.world.media_amplification,
            -2,
            counts,
        )

    def _disclose(self, pop, par, br: Breach, day, notified, counts, annual_revenue):
        """Make a breach public (media) or notify the exposed (I3, I4, I6).

        A breach the media found first is public from that day (exposed consumers take the shock
        without any softening); the brand still notifies on its due day, which then only marks
        the exposed as notified and costs money.
        """
        inc = self.inc
        b = br.brand
        comp = int(self.brands.compensation[b])
        candour = float(self.brands.breach_candour[b])
        if br.disclosed_day < 0:
            sev = severity_factor(br.types)
            loud = loudness(sev, br.size, par)
            comp_soft = compensation_share(comp, inc) * inc.compensation_softening
            told = 1.0 - par.incidents.candour_softening * candour if notified else 1.0
            late = 1.0 + par.incidents.late_notice_penalty * (day - br.day)
            frame = 1.0 if notified else 1.0 + par.incidents.media_framing
            spill = np.array(
                [
                    0.0 if k == b else par.world.contagion * overlap(br.types, int(scope)) * frame
                    for k, scope in enumerate(self.brands.scope)
                ]
            )
            disclose(
                pop,
                par,
                self._key("disclosure", day),
                b,
                br.day,
                par.incidents.disclosure_evidence
                * sev
                * (1.0 - (comp_soft if notified else 0.0))
                * told
                * late,
                par.incidents.news_evidence * loud * told,
                reach(loud, par),
                spill,
                br.channel,
                day,
            )
            reveal(pop, self.brands, par, b, br.day, br.types, counts)  # covert data (C6)
            br.disclosed_day = day
            counts[b, Event.breach_cost] += self.world.fine_share_of_revenue * annual_revenue[b]
        if not notified:
            return
        n_notified = mark_notified(pop, b, br.day)
        br.notified = True
        counts[b, Event.consumers_notified] += n_notified
        per_person = (
            inc.notification_cost
            + (inc.monitoring_cost if comp == 2 else 0.0)
            + (inc.voucher_cost if comp == 1 else 0.0)
            + inc.candour_cost * candour
        )
        counts[b, Event.breach_cost] += per_person * n_notified


# -- consumer level (compiled) -----------------------------------------------------------------
@njit(cache=True)
def expose(
    pop,
    brands,
    par,
    key,
    brand,
    day,
    share,
    types,
    p_fraud,
    p_phish,
    p_takeover,
    delay_mean,
    third_party,
):
    """Expose records of ``brand`` (or, for a third-party leak, shared and social-login records of
    every brand) with probability ``share`` (eq. I5). Returns (exposed, cards exposed, last harm
    day)."""
    n, nb_ = pop.flags.shape
    exposed = 0
    cards = 0
    last_harm = -1
    for i in range(n):
        st = np.uint64(0)
        drawn = False
        for b in range(nb_):
            if (not third_party) and b != brand:
                continue
            if not (pop.flags[i, b] & ACCOUNT):
                continue
            held = held_mask(pop, brands, i, b) & types
            p = share
            if third_party:
                via_login = (held & SOCIAL_BIT) != 0
                p = share if via_login else share * brands.third_party_sharing[b]
            if held == 0 or p <= 0.0:
                continue
            if not drawn:
                st = consumer_state(key, i)
                drawn = True
            if uniform(st, 8 * b) >= p:
                continue
            exposed += 1
            pop.exposed_day[i, b] = day
            kind = np.uint8(0)
            if (held & CARD_BIT) and uniform(st, 8 * b + 1) < p_fraud:
                kind |= HARM_FRAUD
            if held & CARD_BIT:
                cards += 1
            if (held & CONTACT_BIT) and uniform(st, 8 * b + 2) < p_phish:
                kind |= HARM_PHISHING
            if (held & SOCIAL_BIT) and uniform(st, 8 * b + 3) < p_takeover:
                kind |= HARM_TAKEOVER
            if kind != 0:
                if third_party:
                    kind |= HARM_UNATTRIBUTABLE
                when = day + 1 + int(-delay_mean * np.log(1.0 - uniform(st, 8 * b + 4)))
                when = min(when, 32000)
                pop.harm_day[i, b] = when
                pop.harm_kind[i, b] = kind
                last_harm = max(last_harm, when)
    return exposed, cards, last_harm


@njit(cache=True)
def disclose(
    pop, par, key, brand, breach_day, exposed_shock, news_shock, reach, spill, channel, day
):
    """A breach at ``brand`` becomes public (eq. I6): shocks for the exposed, news for those the
    story reaches, spillover ``spill[k]`` to every peer k; who learns of it becomes wary of the
    breached channel (I8)."""
    n, nb_ = pop.flags.shape
    for i in range(n):
        if pop.exposed_day[i, brand] == breach_day:
            shock = exposed_shock
        elif uniform(consumer_state(key, i), brand) < reach:
            shock = news_shock
        else:
            continue
        pop.flags[i, brand] |= HEARD
        if channel >= 0:
            pop.wary[i] = 3 * brand + channel
            pop.wary_day[i] = day
        add_negative(pop, par, i, brand, shock)
        for b in range(nb_):
            if b != brand:
                add_negative(pop, par, i, b, spill[b] * shock)


@njit(inline="always", cache=True)
def channel_comfort(pop, par, i, b, c, day):
    """Comfort of consumer i with channel c of brand b (I8): 1 - aversion * decay^(day - d0) if
    the latest channel-tied breach the consumer learnt of (on day d0) was in channel c of b,
    else 1."""
    if c >= 3 or pop.wary[i] != 3 * b + c:
        return 1.0
    return 1.0 - par.incidents.channel_aversion * par.derived.decay ** (day - pop.wary_day[i])


@njit(cache=True)
def background_fraud(pop, par, key, day):
    """Fraud unrelated to any modelled breach (I9): each consumer with probability p a day.

    The victims are drawn by geometric skips (gap ~ Geometric(p)), which is the same as one
    Bernoulli(p) per consumer but costs a draw per victim, not per consumer. Unattributable: the
    victim takes half the fraud evidence about every brand. Returns the number of victims not
    already defrauded today."""
    n, nb_ = pop.flags.shape
    p = par.derived.background_fraud
    if p <= 0.0:
        return 0
    st = consumer_state(key, 0)
    log_q = np.log(1.0 - p) if p < 1.0 else -np.inf
    inc = par.incidents
    evidence = inc.unattributed_harm_share * (inc.fraud_weight * inc.harm_evidence)
    i = -1
    k = 0
    victims = 0
    while True:
        gap = 0 if log_q == -np.inf else int(np.log(1.0 - uniform(st, k)) / log_q)
        k += 1
        i += gap + 1
        if i >= n:
            break
        victims += pop.fraud_day[i] != day
        pop.fraud_day[i] = day
        for b in range(nb_):
            add_negative(pop, par, i, b, evidence)
    return victims


@njit(cache=True)
def mark_notified(pop, brand, breach_day):
    """Mark the consumers exposed in the breach of ``brand`` on ``breach_day`` as notified;
    return how many."""
    count = 0
    for i in range(pop.flags.shape[0]):
        if pop.exposed_day[i, brand] == breach_day:
            pop.flags[i, brand] |= NOTIFIED
            count += 1
    return count


@njit(cache=True)
def media_story(pop, brands, par, key, severity, reach, reveals, counts):
    """A sector-wide story: each consumer hears it with probability ``reach`` and takes
    e_news * severity of negative evidence about every brand. A story that reveals covert data
    (C7: ``reveals`` = a brand index, or -1 for every brand; -2 for none) also surprises each
    reached consumer who did not knowingly share (not AWARE) and whose relation holds covert types:
    s += w_neg * e_covert * sigma_max, AWARE, ``covert_discoveries`` += 1."""
    n, nb_ = pop.flags.shape
    for i in range(n):
        if uniform(consumer_state(key, i), 63) < reach:
            for b in range(nb_):
                add_negative(pop, par, i, b, par.incidents.news_evidence * severity)
                if reveals == b or reveals == -1:
                    covert_surprise(pop, brands, par, i, b, counts)


def land_harm(pop, par, key, day, counts) -> int:
    """Harm that lands today (eq. I7): fraud, phishing, account takeover, attributed or not.
    Returns the number of consumers defrauded today who had not been yet (by the background
    fraud of the day or by another brand's harm)."""
    n = pop.flags.shape[0]
    part = np.zeros((n_blocks(n),) + counts.shape)
    frauds = np.zeros(n_blocks(n), np.int64)
    over_blocks(_land_harm_blocks, n, pop, par, key, day, part, frauds)
    reduce_blocks(counts, part)
    return int(frauds.sum())


@njit(cache=True, nogil=True)
def _land_harm_blocks(k0, k1, pop, par, key, day, part, frauds):
    """`land_harm` for the consumers of blocks k0..k1-1, block k counting into ``part[k]`` and
    ``frauds[k]``."""
    n = pop.flags.shape[0]
    for k in range(k0, k1):
        frauds[k] = _land_harm_block(pop, par, key, day, part[k], k * BLOCK, block_end(k, n))


@njit(cache=True, nogil=True)
def _land_harm_block(pop, par, key, day, counts, lo, hi):
    """`land_harm` for consumers lo..hi-1, counting into ``counts``; returns the consumers newly
    defrauded today."""
    nb_ = pop.flags.shape[1]
    frauds = 0
    for i in range(lo, hi):
        for b in range(nb_):
            if pop.harm_day[i, b] != day:
                continue
            kind = pop.harm_kind[i, b]
            pop.harm_day[i, b] = -1
            pop.harm_kind[i, b] = 0
            pop.flags[i, b] |= HARMED
            weight = 0.0
            if kind & HARM_FRAUD:
                counts[b, Event.fraud_victims] += 1
                frauds += pop.fraud_day[i] != day
                pop.fraud_day[i] = day
                weight += par.incidents.fraud_weight
            if kind & HARM_TAKEOVER:
                counts[b, Event.takeover_victims] += 1
                weight += par.incidents.takeover_weight
            if kind & HARM_PHISHING:
                counts[b, Event.phishing_victims] += 1
                weight += par.incidents.phishing_weight
            evidence = par.incidents.harm_evidence * weight
            if kind & HARM_UNATTRIBUTABLE:
                p = 0.0
            elif pop.flags[i, b] & NOTIFIED:
                p = par.incidents.attribution_notified
            else:
                p = par.incidents.attribution_unnotified
            if uniform(consumer_state(key, i), b) < p:
                add_negative(pop, par, i, b, evidence)
            else:
                for k in range(nb_):
                    add_negative(pop, par, i, k, par.incidents.unattributed_harm_share * evidence)
    return frauds
