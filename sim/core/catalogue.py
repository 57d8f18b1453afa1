"""The fixed vocabularies of the market: data types a brand can collect and the channel catalogue.

Both are small tables of properties, indexed by position so that the simulation kernels can use
bit masks (one bit per data type, one bit per channel). Their values and sources are documented in
docs/PARAMETERS.md ("Data types" and "Channels") and their role in docs/ODD.md (section 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constants import DATA_MASK_BITS

# ---------------------------------------------------------------------------------------------
# Data types (brief, claim 6). Order fixes the bit of each type in the consent and holding masks.
# ---------------------------------------------------------------------------------------------
DATA_TYPES: tuple[str, ...] = (
    "contact",
    "purchase_history",
    "onsite_behaviour",
    "cross_site_tracking",
    "location",
    "in_store_camera",
    "social_login",
    "payment_card",
)
DATA_BIT = {name: 1 << k for k, name in enumerate(DATA_TYPES)}
# A ninth type needs wider masks (uint16) for consent, asked and scope: see sim/core/constants.py.
assert len(DATA_TYPES) <= DATA_MASK_BITS, "the uint8 data-type masks hold 8 types"


@dataclass(frozen=True)
class DataTypeProps:
    """Properties of one data type.

    sensitivity: how invasive the consumer finds it, in [0, 1] (drives consent refusal and the
        "creepy" response when it is used without explanation).
    covert: collected without the consumer knowing (no consent request is made; brief, claim 6:
        data given "knowingly and unknowingly"). Its use in personalization can be noticed and
        feel "creepy" when it is also sensitive (sensitivity >= 0.7; consent.py, C4).
    value: its contribution to personalization relevance, in [0, 1] (shares sum to 1).
    bundled: consented in the terms of service at sign-up, so consumers who do not read the
        terms accept it unread (74% skip them; Obar & Oeldorf-Hirsch 2020).
    convenience: log-odds added to consent because granting it buys the consumer something at
        once (one-click sign-in, one-click checkout). Social login's 2.0 is hand-tuned so that
        about 60% of those offered it use it (Gigya 2014); the card's 1.0 is an assumption.
    """

    sensitivity: float
    covert: bool
    value: float
    bundled: bool = False
    convenience: float = 0.0


DATA_TYPE_PROPS: dict[str, DataTypeProps] = {
    "contact": DataTypeProps(sensitivity=0.2, covert=False, value=0.05, bundled=True),
    "purchase_history": DataTypeProps(sensitivity=0.3, covert=False, value=0.30, bundled=True),
    "onsite_behaviour": DataTypeProps(sensitivity=0.3, covert=True, value=0.20),
    "cross_site_tracking": DataTypeProps(sensitivity=0.7, covert=True, value=0.15),
    "location": DataTypeProps(sensitivity=0.8, covert=False, value=0.15),
    "in_store_camera": DataTypeProps(sensitivity=0.9, covert=True, value=0.10),
    "social_login": DataTypeProps(sensitivity=0.4, covert=False, value=0.05, convenience=2.0),
    "payment_card": DataTypeProps(sensitivity=0.6, covert=False, value=0.0, convenience=1.0),
}

SENSITIVITY = np.array([DATA_TYPE_PROPS[d].sensitivity for d in DATA_TYPES], dtype=np.float32)
VALUE = np.array([DATA_TYPE_PROPS[d].value for d in DATA_TYPES], dtype=np.float32)
CONVENIENCE = np.array([DATA_TYPE_PROPS[d].convenience for d in DATA_TYPES], dtype=np.float64)
COVERT_MASK = sum(DATA_BIT[d] for d in DATA_TYPES if DATA_TYPE_PROPS[d].covert)
BUNDLED_MASK = sum(DATA_BIT[d] for d in DATA_TYPES if DATA_TYPE_PROPS[d].bundled)
# Covert types are collected without asking, so their bits of a relation's ``asked`` mask are never
# a request: they record instead that the brand explained what it collects when it asked (TOLD,
# consent.py C5), which only a consent round's lapse (churn.py L5, asked = 0) forgets. TOLD is
# consent given knowingly; AWARE (a relation flag) is knowing by any route, discovery included.
TOLD_MASK = COVERT_MASK
ASKED_TYPES = 0xFF ^ COVERT_MASK  # the bits of ``asked`` that are requests
assert COVERT_MASK != 0, "TOLD lives in the covert bits of asked"

# ---------------------------------------------------------------------------------------------
# Channels (brief, claim 2). Order fixes the channel index used everywhere.
# ---------------------------------------------------------------------------------------------
CHANNELS: tuple[str, ...] = ("store", "web", "app", "social", "marketplace", "magazine", "email")
STORE, WEB, APP, SOCIAL, MARKETPLACE, MAGAZINE, EMAIL = range(len(CHANNELS))


@dataclass(frozen=True)
class ChannelProps:
    """Properties of one channel.

    digital: online (True) or physical (False).
    direct: the brand controls it (store, .com, app) or not (social, marketplace, magazine).
    research: relative weight of the channel as a research touchpoint (before digital affinity).
    purchase: relative weight of the channel as a place to buy (before affinity, trust and
        integration); 0 means nobody buys there.
    margin: share of the brand's gross margin it keeps on a sale in this channel (indirect
        channels take a commission).
    observes: the data types the brand can observe on a touch in this channel.
    """

    digital: bool
    direct: bool
    research: float
    purchase: float
    margin: float
    observes: tuple[str, ...]


CHANNEL_PROPS: dict[str, ChannelProps] = {
    "store": ChannelProps(
        digital=False,
        direct=True,
        research=0.30,
        purchase=0.55,
        margin=1.00,
        observes=("contact", "purchase_history", "location", "in_store_camera", "payment_card"),
    ),
    "web": ChannelProps(
        digital=True,
        direct=True,
        research=0.25,
        purchase=0.20,
        margin=1.00,
        observes=(
            "contact",
            "purchase_history",
            "onsite_behaviour",
            "cross_site_tracking",
            "social_login",
            "payment_card",
        ),
    ),
    "app": ChannelProps(
        digital=True,
        direct=True,
        research=0.10,
        purchase=0.07,
        margin=1.00,
        observes=(
            "contact",
            "purchase_history",
            "onsite_behaviour",
            "location",
            "social_login",
            "payment_card",
        ),
    ),
    "social": ChannelProps(
        digital=True,
        direct=False,
        research=0.15,
        purchase=0.02,
        margin=0.85,
        observes=("social_login", "cross_site_tracking"),
    ),
    "marketplace": ChannelProps(
        digital=True,
        direct=False,
        research=0.12,
        purchase=0.16,
        margin=0.80,
        observes=("purchase_history",),
    ),
    "magazine": ChannelProps(
        digital=True,
        direct=False,
        research=0.08,
        purchase=0.0,
        margin=0.90,
        observes=("cross_site_tracking",),
    ),
    "email": ChannelProps(
        digital=True,
        direct=True,
        research=0.0,
        purchase=0.0,
        margin=1.00,
        observes=("contact",),
    ),
}

DIGITAL = np.array([CHANNEL_PROPS[c].digital for c in CHANNELS], dtype=np.bool_)
DIRECT = np.array([CHANNEL_PROPS[c].direct for c in CHANNELS], dtype=np.bool_)
RESEARCH_WEIGHT = np.array([CHANNEL_PROPS[c].research for c in CHANNELS], dtype=np.float64)
PURCHASE_WEIGHT = np.array([CHANNEL_PROPS[c].purchase for c in CHANNELS], dtype=np.float64)
CHANNEL_MARGIN = np.array([CHANNEL_PROPS[c].margin for c in CHANNELS], dtype=np.float64)
OBSERVES = np.array(
    [sum(DATA_BIT[d] for d in CHANNEL_PROPS[c].observes) for c in CHANNELS], dtype=np.int64
)

# Channel bits for the journey history (uses one uint8 per consumer).
PHYSICAL_BITS = 1 << STORE
DIGITAL_BITS = sum(1 << k for k in range(len(CHANNELS)) if DIGITAL[k])

COMPENSATIONS: tuple[str, ...] = ("none", "voucher", "credit_monitoring")


def mask_of(types: list[str] | tuple[str, ...]) -> int:
    """Bit mask of a list of data-type names."""
    m = 0
    for t in types:
        m |= DATA_BIT[t]
    return m
