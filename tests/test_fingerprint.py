"""Fingerprints of the model's numbers: same scenario + seed -> the same tidy table, byte for byte.

Each case runs a bundled scenario at a small size with a fixed seed and hashes its tidy daily
table (``scenario, replication, day, brand, channel, metric, value``; values written with 10
significant digits, so the last bits of a sum that differ between CPUs do not count). The hex
digests below were first computed on the code as it stood BEFORE the architecture refactor of
issue 8 (commit eeb550c), then updated once for the deliberate model changes of issue 9 (turnover,
consent lapse, transparency, e-mail, list decay, the 1,825-day warm-up; breach loudness, reach,
contagion by overlap, channel wariness, background fraud, candour), and once for the lever
costs and the margin attributions (new columns personalization/integration/transparency_cost,
personalization_margin, spam_losses; net_value lower by the lever costs; every other number
identical, checked against the previous code), and once for the fitted defaults of issue 10
(`omnitrust calibrate calibration/baseline.toml`, docs/CALIBRATION.md), and once for the spam
ledger kept as a uint8 share of s (issue 14, docs/ODD.md 7.9: spam_losses only, every other value
identical, checked against the previous code), and once for the second fit of issue 10 with
the 1,825-day warm-up of issue 9 (docs/ODD.md 5.1), and for the third and fourth fits (the fourth: abnormal
churn against the corrected baseline, the fraud denominator's card holders taken as the breach
strikes; docs/CALIBRATION.md), and for the sixth fit (abnormal churn as the breach's causal effect,
docs/ODD.md 7.9; 192 trials), and for the seventh fit (eleven parameters, docs/CALIBRATION.md,
"The seventh fit"; the sixth fit's defaults, pinned in calibration/sixth-defaults/baseline.toml,
still give the sixth fit's baseline digest, checked below), and for the lever costs doubled with
the seventh fit's revenue (security_cost, the three lever costs and net_value only, every other
value identical, checked against the previous code), and for e-mail fatigue as each subscriber's
memory of the brand's irrelevant mail (round 24, docs/ODD.md 7.4, O0; three e-mail defaults
re-set by hand, docs/PARAMETERS.md), and for the spam relief kept for consumers told when asked
(TOLD, not those who only found out) with the two breach shocks fitted again (round 25, docs/ODD.md
7.3 C5, docs/CALIBRATION.md "The eighth fit"): they are the independent reference that a refactor must
reproduce exactly.

Update them ONLY when the model is deliberately changed (a new rule, a new default, a new random
stream), in the same commit as that change, and say so in its message:

    PYTHONPATH=. python tests/test_fingerprint.py      # prints the new table of digests

A refactor, a rename or a performance change must leave every digest as it is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sim.loading import load_scenario
from sim.runner import simulate

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

# scenario file, consumers, days, seed -> SHA-256 of the tidy table
CASES = {
    ("baseline.toml", 1500, 120, 11): (
        "3745a31244056b9d7f9669f5777b6e3aff17d3e8c36089991278b5e76c09b010"
    ),
    # a scheduled breach on day 120 (brief, claim 11)
    ("breach_data_maximalist.toml", 1500, 180, 12): (
        "04f8b83bd459a16630321b4474b1f9d0a8d605ea01833a9668eb6fbda21c6bd3"
    ),
    # a third-party (social-login) leak on day 100, harm not attributable to one brand
    ("social_login_leak.toml", 1500, 150, 13): (
        "2b390987dff2127799419a1e3d9526e6ebb7eda5a8519c268fdf4347ce28fee0"
    ),
    # a breach tied to the store channel on day 120: consumers who learn of it shy away from
    # the brand's stores (channel wariness, I8; the `wary` arrays a newcomer must not inherit)
    ("store_card_skimming.toml", 1500, 180, 14): (
        "10fc020fb5964bf2b1ad031514aa0629fa1ed657e52d7676134d9e05842d8c50"
    ),
}


def fingerprint(scenario: str, consumers: int, days: int, seed: int) -> str:
    """SHA-256 of one replication's tidy table, values at 10 significant digits."""
    sc = load_scenario(SCENARIOS / scenario, consumers=consumers, days=days, seed=seed)
    table = simulate(sc, replication=0)
    text = table.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("case", list(CASES), ids=[c[0].removesuffix(".toml") for c in CASES])
def test_numbers_are_unchanged(case):
    assert fingerprint(*case) == CASES[case], (
        f"the numbers of {case[0]} changed; if the model was changed on purpose, update the digest "
        "(see this module's docstring), otherwise this is a bug"
    )


def test_the_pinned_sixth_defaults_give_the_sixth_fits_numbers():
    """calibration/sixth-defaults/baseline.toml pins the defaults before the seventh fit, so that
        the fits and checks that ran on them rerun on their parameters. Its table, with the scenario
        column named as the bundled baseline's, hashed to the baseline digest of the sixth fit's
        defaults recorded by this module before the seventh fit was adopted (main 7f72d59,
        d49be72d...) until the e-mail rule of round 24 changed the model; the digest below is the
        same file on today's rules (docs/CALIBRATION.md, "The e-mail rule after the seventh fit"; and
    since round 25's TOLD fix, "The eighth fit")."""
    path = SCENARIOS.parent / "calibration" / "sixth-defaults" / "baseline.toml"
    sc = load_scenario(path, consumers=1500, days=120, seed=11)
    table = simulate(sc, replication=0).assign(scenario="baseline")
    text = table.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "58df1d12435c9ac05d1ac9ca2d5885c03a8673dde5443fe077315f940c8976fe"
    )


if __name__ == "__main__":
    for case in CASES:
        print(f"    {case!r}: (\n        {fingerprint(*case)!r}\n    ),")
