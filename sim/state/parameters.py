"""Validated scenario -> the numeric tables the compiled phase kernels read.

`Parameters` holds the scalars shared by all brands, one NamedTuple per scenario section generated
from the schema (a kernel reads ``par.trust.negative_weight``, the scenario's
``trust.negative_weight``, in the schema's unit), plus ``par.derived``: the only place where units
are converted (per year -> per day, half-life -> daily decay). `BrandTable` holds one array per
policy lever, indexed by brand. All are NamedTuples so Numba passes them to kernels as typed
tuples.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.catalogue import DATA_BIT, DATA_TYPES, SENSITIVITY, VALUE, mask_of
from ..core.constants import DAYS_PER_MONTH
from ..scenario import Brand, Policy, Scenario
from ..scenario.paramdoc import SECTIONS

# Data whose use in personalization can feel "creepy" when not explained: sensitivity >= 0.7
# (cross-site tracking, location, in-store cameras; Accenture 2018: location-triggered notices
# "creepy" for 41%).
SENSITIVE_MASK = sum(DATA_BIT[d] for d, s in zip(DATA_TYPES, SENSITIVITY, strict=True) if s >= 0.7)
COMPENSATION_CODE = {"none": 0, "voucher": 1, "credit_monitoring": 2}


def _mask_table(weights: np.ndarray) -> np.ndarray:
    """Sum of ``weights`` over the set bits of every 8-bit mask (lookup table of 256 entries)."""
    masks = np.arange(256)[:, None]
    bits = (masks >> np.arange(len(weights))[None, :]) & 1
    return (bits * weights[None, :]).sum(axis=1).astype(np.float64)


VALUE_OF_MASK = _mask_table(VALUE.astype(np.float64))
POPCOUNT = _mask_table(np.ones(8))


# SECTIONS (one list, shared with the parameter docs): the scenario sections the kernels read, each mirrored field for field by a NamedTuple of the
# same name: `par.trust.negative_weight` is the scenario's `trust.negative_weight`, in its unit.


def _table_of(section: str) -> type:
    """A NamedTuple with the numeric fields of the scenario section ``section``, same names."""
    model = Scenario.model_fields[section].annotation
    fields = [(name, f.annotation) for name, f in model.model_fields.items()]
    assert all(t in (int, float) for _, t in fields), f"non-numeric field in [{section}]"
    table = NamedTuple(f"{model.__name__}Table", fields)
    table.__module__ = __name__
    table.__doc__ = f"The [{section}] section of a scenario as a Numba-readable tuple."
    return table


TABLES = {section: _table_of(section) for section in SECTIONS}
globals().update({t.__name__: t for t in TABLES.values()})  # picklable by name


class Derived(NamedTuple):
    """The only unit conversions and derived quantities the kernels read (per day where rates)."""

    n_brands: int
    decay: float  # evidence kept per day: 0.5 ** (1 / trust.half_life_days)
    concern_drift: float  # per day: world.privacy_concern_trend (per year) / 365
    background_fraud: float  # per consumer-day: incidents.background_fraud_per_year / 365
    outside_utility: float  # log weight of "buy nothing now", see `parameters`
    turnover: float  # per day: 1 - (1 - population.turnover_per_year) ** (1 / 365)
    list_decay: float  # per day: 1 - (1 - outreach.list_decay_per_year) ** (1 / 365)
    inbox_keep: float  # remembered mail kept per day: 1 - 1 / outreach.inbox_memory_days
    inbox_per_month: (
        float  # remembered mail -> its rate a month: DAYS_PER_MONTH / inbox_memory_days
    )


Parameters = NamedTuple("Parameters", [*((s, TABLES[s]) for s in SECTIONS), ("derived", Derived)])
Parameters.__module__ = __name__
Parameters.__doc__ = """A scenario's scalars for the kernels: one field per scenario section
(``par.trust.negative_weight`` is ``trust.negative_weight``), generated from the schema so that a
new schema parameter needs no copy here, and ``par.derived`` for the per-day conversions."""


def _numeric_fields(model) -> list[tuple[str, type]]:
    return [
        (n, f.annotation) for n, f in model.model_fields.items() if f.annotation in (int, float)
    ]


# Per brand: every numeric field of [[brands]] and of its [brands.policy], same names (a kernel
# reads ``brands.transparency[b]``, the scenario's ``brands.<name>.policy.transparency``), then
# the forms the kernels need of the others and the per-day conversions.
BRAND_FIELDS = [n for n, _ in _numeric_fields(Brand)]
POLICY_FIELDS = [n for n, _ in _numeric_fields(Policy)]
DERIVED_BRAND_FIELDS = (
    "log_presence",  # log(presence)
    "scope",  # int64 bit mask of policy.data_collection
    "emails_per_day",  # policy.emails_per_week / 7
    "consent_lapse",  # per day: 1 / policy.consent_refresh_days
    "compensation",  # int64 code of policy.compensation, see COMPENSATION_CODE
)
BrandTable = NamedTuple(
    "BrandTable",
    [(n, np.ndarray) for n in (*BRAND_FIELDS, *POLICY_FIELDS, *DERIVED_BRAND_FIELDS)],
)
BrandTable.__module__ = __name__
BrandTable.__doc__ = """One array per brand field and policy lever (scenario names), in scenario
order, then the derived forms listed in `DERIVED_BRAND_FIELDS`."""


def brand_table(scenario: Scenario) -> BrandTable:
    """Per-brand lever arrays of ``scenario``."""
    brands = scenario.brands
    pol = [b.policy for b in brands]
    columns = {n: np.array([getattr(b, n) for b in brands], dtype=np.float64) for n in BRAND_FIELDS}
    columns |= {n: np.array([getattr(p, n) for p in pol], dtype=np.float64) for n in POLICY_FIELDS}
    return BrandTable(
        **columns,
        log_presence=np.log(columns["presence"]),
        scope=np.array([mask_of(p.data_collection) for p in pol], dtype=np.int64),
        emails_per_day=columns["emails_per_week"] / 7.0,
        consent_lapse=1.0 / columns["consent_refresh_days"],
        compensation=np.array([COMPENSATION_CODE[p.compensation] for p in pol], dtype=np.int64),
    )


def parameters(scenario: Scenario) -> Parameters:
    """Scalar parameters of ``scenario``: its sections as tables, and the derived quantities."""
    j = scenario.journey
    presence = np.array([b.presence for b in scenario.brands], dtype=np.float64)
    # The outside option ("buy nothing in this sector now") is scaled so that a consumer whose
    # trust sits at the prior, with no relevance, buys with probability purchase_probability.
    p = min(max(j.purchase_probability, 1e-9), 1 - 1e-9)
    outside = float(np.log((1.0 - p) / p * presence.sum()))
    return Parameters(
        **{s: TABLES[s](**getattr(scenario, s).model_dump()) for s in SECTIONS},
        derived=Derived(
            n_brands=len(scenario.brands),
            decay=0.5 ** (1.0 / scenario.trust.half_life_days),
            concern_drift=scenario.world.privacy_concern_trend / 365.0,
            background_fraud=scenario.incidents.background_fraud_per_year / 365.0,
            outside_utility=outside,
            turnover=1.0 - (1.0 - scenario.population.turnover_per_year) ** (1.0 / 365.0),
            list_decay=1.0 - (1.0 - scenario.outreach.list_decay_per_year) ** (1.0 / 365.0),
            inbox_keep=1.0 - 1.0 / scenario.outreach.inbox_memory_days,
            inbox_per_month=DAYS_PER_MONTH / scenario.outreach.inbox_memory_days,
        ),
    )
