"""Daily metrics: counters filled by the phase kernels and tallies over the population.

Kernels add events to ``counts[b, k]`` (one row per brand, one column per event counter below) and
to the per-channel ``purchases[b, c]`` and ``revenue[b, c]``. At the end of the day ``tally`` reads
the population's stocks (trust, subscribers, records held, ...) and `Recorder` stores everything in
preallocated arrays; `Recorder.to_frame` turns them into the tidy table
``scenario, replication, day, brand, channel, metric, value`` in one vectorised step.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pandas as pd

from ..core.blocks import BLOCK, block_end, n_blocks, over_blocks, reduce_blocks
from ..core.catalogue import ASKED_TYPES, CHANNELS, DIGITAL_BITS, PHYSICAL_BITS
from ..core.constants import TRUST_BINS
from ..core.jit import njit
from ..state.parameters import POPCOUNT
from ..state.population import (
    ACCOUNT,
    CHURNED,
    CUSTOMER,
    H_BOUGHT,
    H_SHOWROOMED,
    H_USED_DIGITAL,
    H_USED_STORE,
    H_WEBROOMED,
    HARMED,
    HEARD,
    SUBSCRIBED,
)
from .trust import trust_of


class Event(IntEnum):
    """Event counters: the columns of the day's ``counts[b, :]`` (one row per brand), summed over
    the day. Each name is a metric of the tidy table; a kernel counts with
    ``counts[b, Event.emails_sent] += 1`` (Numba reads the members as constants)."""

    emails_sent = 0  # outreach (O1)
    unsubscribes = 1  # outreach (O2-O3)
    spam_complaints = 2  # outreach (O3)
    email_clicks = 3  # outreach (O1)
    consent_requests = 4  # consent (C1)
    consents_granted = 5  # consent (C1)
    consent_revocations = 6  # churn (L3)
    creepy_moments = 7  # consent (C4)
    churn_events = 8  # churn (L1)
    margin = 9  # journey (J4), EUR
    marketing_cost = 10  # outreach, EUR
    breaches = 11  # incidents (I1-I2)
    consumers_exposed = 12  # incidents (I5)
    consumers_notified = 13  # incidents (I3)
    fraud_victims = 14  # incidents (I7)
    phishing_victims = 15  # incidents (I7)
    takeover_victims = 16  # incidents (I7)
    breach_cost = 17  # incidents (I4), EUR
    security_cost = 18  # incidents (I4), EUR
    accounts_deleted = 19  # churn (L4), incidents (account deletion)
    consent_lapses = 20  # churn (L5)
    departed_customers = 21  # turnover (N1)
    covert_discoveries = 22  # consent (C5-C6)
    stale_addresses = 23  # outreach (O4)
    personalization_cost = 24  # costs (K1), EUR
    integration_cost = 25  # costs (K1), EUR
    transparency_cost = 26  # costs (K1), EUR
    personalization_margin = 27  # journey (J3-J4): the part of margin relevance made, EUR
    spam_losses = 28  # journey (J3): expected margin lost to the spam part of trust, EUR


EVENT_COUNTERS = tuple(e.name for e in Event)  # the counters' names in column order
EV = {e.name: e.value for e in Event}  # name -> column

# Stocks tallied over the population at the end of the day (per brand).
STOCKS = (
    "trust",
    "trust_p10",
    "consent_rate",
    "subscribers",
    "active_customers",
    "churned",
    "records_held",
    "breach_aware",
    "stated_intent_to_leave",
    "breach_aware_churned",
)
MARKET_SHARES = (
    "webrooming_share",
    "showrooming_share",
    "multichannel_share",
    "store_only_share",
    "online_only_share",
    "buyers",
    "fraud_victims_any",
)
_FRAUD_VICTIMS = MARKET_SHARES.index("fraud_victims_any")  # counted where frauds happen


def net_value(counts: np.ndarray) -> np.ndarray:
    """Net value (EUR) of event counters ``counts[..., k]``: margin - marketing - security -
    lever costs (personalization, integration, transparency) - breach costs."""
    return (
        counts[..., EV["margin"]]
        - counts[..., EV["marketing_cost"]]
        - counts[..., EV["security_cost"]]
        - lever_costs(counts)
        - counts[..., EV["breach_cost"]]
    )


LEVER_COSTS = ("personalization_cost", "integration_cost", "transparency_cost")


def lever_costs(counts: np.ndarray) -> np.ndarray:
    """The costs of the personalization, integration and transparency levers (K1), EUR."""
    return sum(counts[..., EV[k]] for k in LEVER_COSTS)


def tally(pop, par, day, stocks, trust_hist, market, defrauded):
    """End-of-day stocks per brand (ODD 7.9) and cumulative market-wide journey shares.

    stocks[b]: mean trust, 10th percentile of trust (from a histogram), consent rate (granted /
    asked data types), subscribers, active customers (bought within simulation.active_window_days), churned
    customers, records held (accounts the brand holds data on).
    market: among consumers who bought at least once: shares that webroomed, showroomed, used both
    physical and digital touchpoints, only the store, only digital; and the number of buyers;
    then ``defrauded``, the consumers defrauded today (breach harm or background fraud), which the
    incidents phase counts as the frauds happen (`sim.state.day.Day.defrauded`): a victim who left
    the market later that day no longer shows it in the population.

    Say and do (ODD 7.9, 7.10): among the brand's breach-aware customers (CUSTOMER with HEARD or
    HARMED at b: they heard of, were notified of or were hit by a breach of b),
    stated_intent_to_leave is the share who would say they will stop buying, i.e. whose trust in b
    is below their trust in the best rival (below the prior a when there is no rival): a survey
    answer compares brands and costs nothing. breach_aware_churned is the share who actually left
    (CHURNED), which takes trust below the churn threshold and time (L1).

    Consumers are tallied in blocks (`sim.core.blocks`), each into its own partial sums, added up
    in block order: the same numbers on any number of threads.
    """
    n, nb_ = pop.r.shape
    nk = n_blocks(n)
    part = np.zeros((nk, _N_SUMS, nb_))
    part_hist = np.zeros((nk, nb_, TRUST_BINS))
    part_market = np.zeros((nk, _N_MARKET))
    over_blocks(_tally_blocks, n, pop, par, day, part, part_hist, part_market)
    _tally_finish(n, part, part_hist, part_market, stocks, trust_hist, market)
    market[_FRAUD_VICTIMS] = defrauded


def records_held(pop, out: np.ndarray) -> None:
    """``out[b]`` = records brand b holds (consumers with an account at b): the stock
    ``records_held`` of `tally` alone, for days whose other stocks nobody reads."""
    _records_held(pop.flags, out)


@njit(cache=True, nogil=True)
def _records_held(flags, out):
    n, nb_ = flags.shape
    cnt = np.zeros(nb_, np.int64)
    for i in range(n):
        for b in range(nb_):
            cnt[b] += (flags[i, b] & ACCOUNT) != 0
    for b in range(nb_):
        out[b] = cnt[b]


@njit(cache=True)
def _tally_finish(n, part, part_hist, part_market, stocks, trust_hist, market):
    """Add up `tally`'s per-block partial sums in block order and turn them into stocks."""
    nb_ = stocks.shape[0]
    sums = np.zeros((_N_SUMS, nb_))
    trust_hist[:] = 0
    counts = np.zeros(_N_MARKET)
    reduce_blocks(sums, part)
    reduce_blocks(trust_hist, part_hist)
    reduce_blocks(counts, part_market)
    trust_sum, granted, asked, subs, active = sums[0], sums[1], sums[2], sums[3], sums[4]
    churned, records, aware, stated, aware_churned = sums[5], sums[6], sums[7], sums[8], sums[9]
    buyers, web, show = counts[0], counts[1], counts[2]
    multi, store_only, online_only = counts[3], counts[4], counts[5]
    for b in range(nb_):
        stocks[b, 0] = trust_sum[b] / n
        cum = 0.0
        p10 = 1.0
        for k in range(TRUST_BINS):
            cum += trust_hist[b, k]
            if cum >= 0.1 * n:
                p10 = (k + 1) / TRUST_BINS
                break
        stocks[b, 1] = p10
        stocks[b, 2] = granted[b] / asked[b] if asked[b] > 0 else 0.0
        stocks[b, 3] = subs[b]
        stocks[b, 4] = active[b]
        stocks[b, 5] = churned[b]
        stocks[b, 6] = records[b]
        stocks[b, 7] = aware[b]
        stocks[b, 8] = stated[b] / aware[b] if aware[b] > 0 else 0.0
        stocks[b, 9] = aware_churned[b] / aware[b] if aware[b] > 0 else 0.0
    denom = max(buyers, 1)
    market[0] = web / denom
    market[1] = show / denom
    market[2] = multi / denom
    market[3] = store_only / denom
    market[4] = online_only / denom
    market[5] = buyers


_N_SUMS = 10  # per-brand sums of `tally`: trust, granted, asked, subscribers, ... (see below)
_N_MARKET = 6  # market counts of `tally`: buyers, web, show, multi, store, online


@njit(cache=True, nogil=True)
def _tally_blocks(k0, k1, pop, par, day, part, part_hist, part_market):
    """`tally` of the consumers of blocks k0..k1-1 into row k of the partial tables."""
    n = pop.r.shape[0]
    for k in range(k0, k1):
        _tally_block(
            pop, par, day, part[k], part_hist[k], part_market[k], k * BLOCK, block_end(k, n)
        )


_POPCOUNT = POPCOUNT.astype(np.int64)  # set bits of every 8-bit mask, as integers
_ASKED_TYPES = np.uint8(ASKED_TYPES)
_HIST_LANES = 4  # histogram copies: consecutive consumers count into different ones
_AWARE_GONE, _LIVE_CUSTOMER, _AWARE = 1, 2, 4  # bits of `_FLAG_MORE`


def _flag_tables() -> tuple[np.ndarray, np.ndarray]:
    """What `_tally_block` counts from a pair's flags, for each of the 256 flag bytes: in
    ``counts[f]`` subscribed, record held, churned and breach-aware customer (CUSTOMER with HEARD
    or HARMED) as 0/1 in bits 0, 16, 32 and 48, so that one addition counts all four in 16-bit
    fields; in ``more[f]`` the bits `_AWARE_GONE` (breach-aware and churned), `_LIVE_CUSTOMER`
    (CUSTOMER, not CHURNED) and `_AWARE`."""
    counts = np.zeros(256, np.int64)
    more = np.zeros(256, np.int64)
    for f in range(256):
        gone = (f & CHURNED) != 0
        aware = (f & CUSTOMER) != 0 and (f & (HEARD | HARMED)) != 0
        live = (f & CUSTOMER) != 0 and not gone
        counts[f] = (
            int((f & SUBSCRIBED) != 0)
            | int((f & ACCOUNT) != 0) << 16
            | int(gone) << 32
            | int(aware) << 48
        )
        more[f] = _AWARE_GONE * (aware and gone) | _LIVE_CUSTOMER * live | _AWARE * aware
    return counts, more


_FLAG_COUNTS, _FLAG_MORE = _flag_tables()


def _history_tables() -> tuple[np.ndarray, np.ndarray]:
    """The market counts of `_tally_block` for each of the 256 history bytes, as 0/1 in 16-bit
    fields: in ``counts[h]`` bought, webroomed, showroomed and used both kinds of channel (bits
    0, 16, 32, 48), in ``only[h]`` used only the store, only digital channels (bits 0, 16); each
    among buyers."""
    counts = np.zeros(256, np.int64)
    only = np.zeros(256, np.int64)
    for h in range(256):
        bought = (h & H_BOUGHT) != 0
        store = (h & H_USED_STORE) != 0
        digital = (h & H_USED_DIGITAL) != 0
        counts[h] = (
            int(bought)
            | int(bought and (h & H_WEBROOMED) != 0) << 16
            | int(bought and (h & H_SHOWROOMED) != 0) << 32
            | int(bought and store and digital) << 48
        )
        only[h] = int(bought and store and not digital) | int(bought and not store) << 16
    return counts, only


_HISTORY_COUNTS, _HISTORY_ONLY = _history_tables()
# a block's counts fit their 16-bit fields: at most BLOCK pairs of a brand, 8 data types each
assert BLOCK * 8 < 1 << 16


@njit(cache=True, nogil=True)
def _tally_block(pop, par, day, sums, trust_hist, market, lo, hi):
    """`tally` of consumers lo..hi-1 into partial sums: ``sums[0..9, b]`` = trust, data types
    granted, asked, subscribers, active, churned, records, breach-aware, stated intent,
    aware-churned; ``trust_hist[b]``; ``market`` = buyers, webroomed, showroomed,
    multichannel, store only, online only. Counts add up as integers (exact, and faster than
    floats), trust as floats in consumer order.

    Brand by brand: each brand's counters and trust sum are then local numbers the compiler keeps
    in registers (a pass over consumers with every brand inside updated them in memory), and
    brand b's trust adds up in consumer order as before. Each brand takes three short loops
    instead of one long one: trust (kept in ``tb``, with its histogram bin), its sum and the
    consumers' top trust; the histogram; the counts (a third less time at 20,000 consumers x 3
    brands, issue 14: each loop keeps its own few values in registers). Counts add booleans
    (0/1) instead of branching: the flags of consecutive consumers are unpredictable, and a
    mispredicted branch costs more than the addition. Four counts of the flags come from one
    table look-up and one addition (`_flag_tables`: 16-bit fields of one integer), and so do
    the data types asked and granted, and the market counts from the history byte
    (`_history_tables`). The histogram counts into ``_HIST_LANES`` copies by consumer, so that
    consecutive consumers in one bin do not wait on each other's increment."""
    nb_ = pop.r.shape[1]
    # the block's rows as views indexed from 0 (a known non-negative index spares the
    # compiler the wrap-around of negative indices on every read)
    r, s, flags = pop.r[lo:hi], pop.s[lo:hi], pop.flags[lo:hi]
    asked_, consent, last_purchase = pop.asked[lo:hi], pop.consent[lo:hi], pop.last_purchase[lo:hi]
    history = pop.history[lo:hi]
    prior, weight = par.trust.prior, par.trust.prior_weight
    since = day - par.simulation.active_window_days
    m = hi - lo
    # say and do: a breach-aware customer states the intent to leave b when b's trust is below
    # the best rival's (the prior a when there is no rival). With several brands, "below the
    # most trusted other brand" is "below the most trusted brand of all": if t_b < max_k t_k the
    # max is another brand's; if t_b is the max, no other brand is above it. So one max per
    # consumer (`top`) replaces a max over the others per brand; comparisons only, same answers.
    top = np.full(m, prior if nb_ == 1 else -1.0)
    aware_t = np.empty((nb_, m))  # trust of the breach-aware customers, 2.0 (above any) else
    tb = np.empty(m)  # trust in brand b of the block's consumers
    bins = np.empty(m, np.int64)  # its bin of the histogram
    hist = np.zeros((_HIST_LANES, TRUST_BINS), np.int64)
    for b in range(nb_):
        trust_sum = sums[0, b]
        for i in range(m):
            t = trust_of(r[i, b], s[i, b], prior, weight)
            tb[i] = t
            bins[i] = min(int(t * TRUST_BINS), TRUST_BINS - 1)
            trust_sum += t
            if nb_ > 1:
                top[i] = max(top[i], t)
        sums[0, b] = trust_sum
        hist[:] = 0
        for i in range(m):
            hist[i & (_HIST_LANES - 1), bins[i]] += 1
        for k in range(TRUST_BINS):
            total = 0
            for lane in range(_HIST_LANES):
                total += hist[lane, k]
            trust_hist[b, k] = total
        packed = 0  # subscribers, records, churned, breach-aware: 16 bits each (`_FLAG_COUNTS`)
        types = 0  # data types asked, granted: 16 bits each
        active = 0
        aware_churned = 0
        row = aware_t[b]
        for i in range(m):
            f = flags[i, b]
            a = asked_[i, b] & _ASKED_TYPES  # (its covert bits record TOLD, not requests)
            packed += _FLAG_COUNTS[f]
            types += _POPCOUNT[a] + (_POPCOUNT[consent[i, b] & a] << 16)
            g = _FLAG_MORE[f]
            aware_churned += g & _AWARE_GONE
            active += ((g & _LIVE_CUSTOMER) != 0) & (last_purchase[i, b] >= since)
            row[i] = tb[i] if g & _AWARE else 2.0
        sums[1, b] = types >> 16
        sums[2, b] = types & 0xFFFF
        sums[3, b] = packed & 0xFFFF
        sums[4, b] = active
        sums[5, b] = (packed >> 32) & 0xFFFF
        sums[6, b] = (packed >> 16) & 0xFFFF
        sums[7, b] = (packed >> 48) & 0xFFFF
        sums[9, b] = aware_churned
    for b in range(nb_):
        row = aware_t[b]
        stated = 0
        for j in range(m):
            stated += row[j] < top[j]
        sums[8, b] = stated
    journeys = 0  # buyers, webroomed, showroomed, multichannel: 16 bits each
    only = 0  # store only, online only: 16 bits each
    for i in range(m):
        h = history[i]
        journeys += _HISTORY_COUNTS[h]
        only += _HISTORY_ONLY[h]
    for k in range(4):
        market[k] = (journeys >> (16 * k)) & 0xFFFF
    for k in range(2):
        market[4 + k] = (only >> (16 * k)) & 0xFFFF


assert PHYSICAL_BITS and DIGITAL_BITS  # the catalogue has both kinds of channel


class Recorder:
    """Preallocated daily arrays for one run, turned into a tidy DataFrame at the end."""

    def __init__(self, days: int, brands: list[str]):
        b, c = len(brands), len(CHANNELS)
        self.brands = list(brands)
        self.days_recorded = 0
        self.counts = np.zeros((days, b, len(EVENT_COUNTERS)))
        self.stocks = np.zeros((days, b, len(STOCKS)))
        self.purchases = np.zeros((days, b, c))
        self.revenue = np.zeros((days, b, c))
        self.market = np.zeros((days, len(MARKET_SHARES)))

    def to_frame(self, scenario: str, replication: int) -> pd.DataFrame:
        """The tidy table of the recorded days (see module docstring)."""
        d = self.days_recorded
        days = np.arange(d)
        parts = []

        def block(values: np.ndarray, metrics: list[str], channel: list[str] | str, brand):
            # values: (d, brands_or_1, k) -> long rows
            nb_, k = values.shape[1], values.shape[2]
            parts.append(
                pd.DataFrame(
                    {
                        "day": np.repeat(days, nb_ * k),
                        "brand": np.tile(np.repeat(np.asarray(brand, dtype=object), k), d),
                        "channel": np.tile(np.asarray(channel, dtype=object), d * nb_)
                        if not isinstance(channel, str)
                        else channel,
                        "metric": np.tile(np.asarray(metrics, dtype=object), d * nb_),
                        "value": values[:d].reshape(-1),
                    }
                )
            )

        counts = self.counts.copy()
        purchases_total = self.purchases.sum(axis=2)
        revenue_total = self.revenue.sum(axis=2)
        net = net_value(counts)
        per_brand = np.concatenate(
            [
                counts,
                self.stocks,
                purchases_total[..., None],
                revenue_total[..., None],
                net[..., None],
            ],
            axis=2,
        )
        names = [*EVENT_COUNTERS, *STOCKS, "purchases", "revenue", "net_value"]
        block(per_brand, names, "all", self.brands)
        for metric, arr in (("purchases", self.purchases), ("revenue", self.revenue)):
            nb_, c = arr.shape[1], arr.shape[2]
            parts.append(
                pd.DataFrame(
                    {
                        "day": np.repeat(days, nb_ * c),
                        "brand": np.tile(np.repeat(np.asarray(self.brands, dtype=object), c), d),
                        "channel": np.tile(np.asarray(CHANNELS, dtype=object), d * nb_),
                        "metric": metric,
                        "value": arr[:d].reshape(-1),
                    }
                )
            )
        # market-wide rows: brand "all"
        market_totals = np.concatenate(
            [
                self.market[:, None, :],
                purchases_total.sum(axis=1)[:, None, None],
                revenue_total.sum(axis=1)[:, None, None],
                self.stocks[:, :, 0].mean(axis=1)[:, None, None],
            ],
            axis=2,
        )
        block(market_totals, [*MARKET_SHARES, "purchases", "revenue", "trust"], "all", ["all"])
        df = pd.concat(parts, ignore_index=True)
        df.insert(0, "replication", np.int32(replication))
        df.insert(0, "scenario", scenario)
        for col in ("scenario", "brand", "channel", "metric"):
            df[col] = df[col].astype("category")
        df["day"] = df["day"].astype(np.int32)
        return df
