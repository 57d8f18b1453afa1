"""True constants: array layouts, bit vocabularies and storage widths that no scenario changes.

Everything a researcher might want to vary is a scenario parameter with a unit, a range and a
source (sim/scenario/schema.py, docs/PARAMETERS.md). What stays here fixes how the state arrays,
the random streams and the outputs are laid out, and calendar facts; none of it is a behavioural
assumption. The data-type and channel vocabularies with their (assumed) properties are in
`sim.core.catalogue`.
"""

from __future__ import annotations

import numpy as np

# Relation flags: bits of Population.flags[i, b] (uint8, all eight bits used).
SUBSCRIBED = np.uint8(1)
CUSTOMER = np.uint8(2)
CHURNED = np.uint8(4)
ACCOUNT = np.uint8(8)
NOTIFIED = np.uint8(16)
HEARD = np.uint8(32)
HARMED = np.uint8(64)
AWARE = np.uint8(128)  # knows what the brand collects, covert types included (consent.py)

# Journey history: bits of Population.history[i] (uint8), cumulative over the run.
H_BOUGHT = np.uint8(1)
H_WEBROOMED = np.uint8(2)
H_SHOWROOMED = np.uint8(4)
H_USED_STORE = np.uint8(8)
H_USED_DIGITAL = np.uint8(16)

# Harm kinds: bits of Population.harm_kind[i, b] (uint8); the last marks a third-party leak whose
# harm no consumer can pin on one brand.
HARM_PHISHING = np.uint8(1)
HARM_FRAUD = np.uint8(2)
HARM_TAKEOVER = np.uint8(4)
HARM_UNATTRIBUTABLE = np.uint8(8)

# "Never" in the int16 day-valued arrays (last_seen, last_purchase, exposed_day, harm_day).
NEVER = np.int16(-1)

# Data-type masks (consent, asked, scope) are uint8: one bit per catalogue data type, so the
# catalogue holds at most this many types (it holds 8: the mask is full).
DATA_MASK_BITS = 8

# Random-number slots reserved per brand and day in the outreach stream: one for the number of
# e-mails, then SLOTS_PER_EMAIL per e-mail. `outreach.max_emails_per_day` may be at most
# EMAIL_SLOTS_PER_BRAND_DAY, so a smaller cap leaves every other draw where it was.
EMAIL_SLOTS_PER_BRAND_DAY = 16
SLOTS_PER_EMAIL = 4

# Resolution of the per-brand trust histogram behind `trust_p10` (bins of width 1/50).
TRUST_BINS = 50

# Calendar: mean days per month (365.25 / 12, rounded): the remembered mail counted per month
# (O2-O3), as the published e-mail figures count mailings.
DAYS_PER_MONTH = 30.4
