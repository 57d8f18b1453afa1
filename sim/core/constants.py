"""True constants: array layouts and storage widths that no scenario can change.

Everything a researcher might want to vary is a scenario parameter with a unit, a range and a
source (sim/scenario/schema.py, docs/PARAMETERS.md). What stays here fixes how the arrays and the
random streams are laid out, not how consumers behave.
"""

from __future__ import annotations

# Random-number slots reserved per brand and day in the outreach stream: one for the number of
# e-mails, then four per e-mail. `outreach.max_emails_per_day` may be at most this, so a smaller
# cap leaves every other draw where it was (common random numbers across scenarios).
EMAIL_SLOTS_PER_BRAND_DAY = 16
SLOTS_PER_EMAIL = 4
