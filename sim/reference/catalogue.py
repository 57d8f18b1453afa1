"""The catalogue as sets and dicts of names, read from `sim.core.catalogue`'s properties
(independent of the engine's bit masks and lookup tables)."""

from __future__ import annotations

from ..core.catalogue import CHANNEL_PROPS, CHANNELS, DATA_TYPE_PROPS, DATA_TYPES

COVERT = frozenset(d for d in DATA_TYPES if DATA_TYPE_PROPS[d].covert)
SENSITIVITY = {d: float(DATA_TYPE_PROPS[d].sensitivity) for d in DATA_TYPES}
VALUE = {d: float(DATA_TYPE_PROPS[d].value) for d in DATA_TYPES}
# Creepy moments come from sensitive data only (sensitivity >= 0.7; see sim.state.parameters).
SENSITIVE = frozenset(d for d in DATA_TYPES if SENSITIVITY[d] >= 0.7)
# Data types accepted in the terms of service (non-readers accept them more easily), and the
# convenience (log-odds) of granting a type that buys something at once.
BUNDLED = frozenset(d for d in DATA_TYPES if DATA_TYPE_PROPS[d].bundled)
CONVENIENCE = {d: float(DATA_TYPE_PROPS[d].convenience) for d in DATA_TYPES}
OBSERVES = {c: frozenset(CHANNEL_PROPS[c].observes) for c in CHANNELS}
DIGITAL = {c: CHANNEL_PROPS[c].digital for c in CHANNELS}
DIRECT = {c: CHANNEL_PROPS[c].direct for c in CHANNELS}
RESEARCH = {c: CHANNEL_PROPS[c].research for c in CHANNELS}
PURCHASE = {c: CHANNEL_PROPS[c].purchase for c in CHANNELS}
MARGIN = {c: CHANNEL_PROPS[c].margin for c in CHANNELS}
