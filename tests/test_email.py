"""E-mail responds to targeting and frequency (issue 9, part 3; docs/ODD.md 7.4, O1-O3).

Published figures: segmented campaigns get 101% more clicks and 9.4% fewer unsubscribes than
unsegmented ones (Mailchimp 2017, 11,000 campaigns); click rates are about 2.25% per email in
retail (2.6% all industries; Mailchimp benchmarks 2019); complaints grow steeply with frequency
(ClickZ via Mailchimp: 0.009% -> 0.057% per mailing from 5 to 12 mailings a month).
"""

from __future__ import annotations

from sim.mechanisms.metrics import EV
from sim.model import TrustModel

from .conftest import baseline_data, variant


def _rates(complaint_per_email: float | None = None, **policy) -> dict[str, float]:
    """Aurora's clicks, unsubscribes and complaints per email over a year, and the market's."""
    data = baseline_data(consumers=6000, days=365)
    data["world"]["attack_pressure"] = 0.0
    if complaint_per_email is not None:
        data.setdefault("outreach", {})["complaint_per_email"] = complaint_per_email
    model = TrustModel(variant(data, "v", **policy), seed=2)
    model.run()
    c = model.recorder.counts.sum(axis=0)
    emails = c[0, EV["emails_sent"]]
    return {
        "clicks": c[0, EV["email_clicks"]] / emails,
        "unsubscribes": c[0, EV["unsubscribes"]] / emails,
        "complaints": c[0, EV["spam_complaints"]] / emails,
        "market_clicks": c[:, EV["email_clicks"]].sum() / c[:, EV["emails_sent"]].sum(),
    }


def test_segmented_mail_gets_more_clicks_and_loses_fewer_subscribers():
    seg, unseg = _rates(email_targeting=1.0), _rates(email_targeting=0.0)
    # Mailchimp 2017: clicks x2.01, unsubscribes x0.906; the model's ratios follow from O1-O3
    # with the subscribers' held data, so a band around them
    assert 1.6 < seg["clicks"] / unseg["clicks"] < 2.5
    assert 0.8 < seg["unsubscribes"] / unseg["unsubscribes"] < 0.97
    assert seg["complaints"] < unseg["complaints"]  # only irrelevant mail draws complaints


def test_more_mail_unsubscribes_and_complains_more_per_email():
    often, rare = _rates(emails_per_week=3.0), _rates(emails_per_week=1.0)
    # O3: unsubscribes per email x (13.0 / 4.3) ** 0.5 = 1.73
    assert often["unsubscribes"] / rare["unsubscribes"] > 1.4
    # O2: complaints per irrelevant email x (13.0 / 4.3) ** 2.1 = 10. At the default rate the
    # weekly mailing draws ~5 complaints a year at this size (3 to 10 over seeds), too few for a
    # ratio; ten times the base rate on both sides leaves the expected ratio at 10 and gives ~50
    often, rare = (_rates(complaint_per_email=1e-3, emails_per_week=w) for w in (3.0, 1.0))
    assert 6.0 < often["complaints"] / rare["complaints"] < 16.0


def test_click_rate_is_in_the_range_of_published_benchmarks():
    base = _rates()
    assert 0.015 < base["market_clicks"] < 0.03  # 2.25% retail, 2.6% all (Mailchimp 2019)
