"""Market rules as data: each country's hours, consent and required elements, checked in the recipient's market."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.cadence import apply_policy
from workbench.messages import render_pair
from workbench.messages.lint import lint_pair
from workbench.models.policy import DEFAULT_MARKETS, ContactPolicy
from workbench.policy import quiet_hours_for

NO_LIMITS = {"preferred_hours": {}, "caps": [], "spacing": {"any_touch": "0m", "same_moment": "0m"}}


def customer(country, region=None, zone="Europe/Berlin", cid="c1"):
    return {
        "customer_id": cid,
        "timezone": zone,
        "timezones": zone,
        "country": country,
        "region": region,
        "has_valid_email": True,
        "has_valid_phone": True,
        "email_consent": "subscribed",
        "sms_consent": "subscribed",
        "engagement_score": 3.0,
    }


def ledger(source, recorded="2026-01-05T10:00Z", channel="email"):
    return pd.DataFrame(
        {
            "customer_id": ["c1"],
            "channel": [channel],
            "status": ["subscribed"],
            "recorded_at": pd.to_datetime([recorded], utc=True),
            "source": [source],
        }
    )


def decide(person, touches, consents, **policy):
    frame = pd.DataFrame([{"customer_id": "c1", "journey_id": "j1", **t} for t in touches])
    frame["planned_at"] = pd.to_datetime(frame["planned_at"], utc=True)
    pol = ContactPolicy().with_overrides({**NO_LIMITS, **policy})
    out = apply_policy(frame, pd.DataFrame([person]), pol, consents=consents)
    return list(zip(out["status"].astype(str), out["reason"], strict=True))


def test_every_market_rule_names_its_source_and_certainty():
    for market in DEFAULT_MARKETS:
        for item in [*market.consent, *market.requirements]:
            assert item.source and item.certainty in ("law", "practice", "uncertain"), (market.name, item)
    qc = ContactPolicy().market_for("CA", "QC")
    assert qc.name == "ca_qc" and qc.locale == "fr-CA" and "uncertain" in qc.languages_source
    fr_calls = next(r for r in ContactPolicy().quiet_hours if r.name == "fr_d223_9_calls")
    assert not fr_calls.enabled and "D223-9" in fr_calls.source and "not settled" in fr_calls.source


def test_german_email_needs_a_double_opt_in_in_the_ledger():
    touch = [{"channel": "email", "planned_at": "2026-11-03T10:00Z"}]
    assert decide(customer("DE"), touch, ledger("signup_form")) == [("suppressed", "market_consent:de")]
    assert decide(customer("DE"), touch, ledger("double_opt_in")) == [("kept", "")]
    # the same single opt-in is valid consent in France
    assert decide(customer("FR", zone="Europe/Paris"), touch, ledger("signup_form")) == [("kept", "")]


def test_soft_opt_in_counts_in_britain_but_not_in_the_us():
    touch = [{"channel": "email", "planned_at": "2026-11-03T15:00Z"}]
    gb = customer("GB", zone="Europe/London")
    us = customer("US", "NY", zone="America/New_York")
    assert decide(gb, touch, ledger("soft_opt_in")) == [("kept", "")]
    assert decide(us, touch, ledger("soft_opt_in")) == [("suppressed", "market_consent:us")]


def test_canadian_implied_consent_ends_after_two_years():
    ca = customer("CA", "ON", zone="America/Toronto")
    consents = ledger("implied", recorded="2024-06-01T12:00Z")
    before = [{"channel": "email", "planned_at": "2026-05-29T15:00Z"}]  # 727 days after the purchase
    after = [{"channel": "email", "planned_at": "2026-06-03T15:00Z"}]  # 732 days after
    assert decide(ca, before, consents) == [("kept", "")]
    assert decide(ca, after, consents) == [("suppressed", "market_consent:ca")]


@pytest.mark.parametrize(
    ("planned", "expected"),
    [
        ("2026-11-07T06:30Z", ("deferred", "quiet_hours", "2026-11-07T07:00Z")),  # Sat 07:30 Paris -> 08:00
        ("2026-11-07T19:30Z", ("deferred", "quiet_hours", "2026-11-09T07:00Z")),  # Sat 20:30 -> Mon 08:00
        ("2026-11-08T12:00Z", ("deferred", "quiet_hours", "2026-11-09T07:00Z")),  # Sunday -> Monday 08:00
    ],
)
def test_french_sms_hours_in_paris(planned, expected):
    frame = pd.DataFrame([{"customer_id": "c1", "journey_id": "j1", "channel": "sms", "planned_at": planned}])
    frame["planned_at"] = pd.to_datetime(frame["planned_at"], utc=True)
    pol = ContactPolicy().with_overrides({**NO_LIMITS, "max_defer": "72h"})
    out = apply_policy(frame, pd.DataFrame([customer("FR", zone="Europe/Paris")]), pol)
    got = (str(out["status"].iloc[0]), out["reason"].iloc[0], out["scheduled_at"].iloc[0].strftime("%Y-%m-%dT%H:%MZ"))
    assert got == expected
    assert quiet_hours_for({"country": "FR"}).name == "fr_sms_practice"


def test_casl_contact_details_are_checked_in_the_canadian_market(strategy, sample_profiles):
    base = sample_profiles[sample_profiles["country"] == "US"].iloc[0].to_dict()
    canadian = base | {"country": "CA", "region": "ON", "locale": "en-CA"}
    # the Canadian English welcome text links to the website (CASL s. 6(2)); without it the lint objects
    pair = render_pair("welcome", canadian, strategy=strategy)
    assert "https://" in pair.sms and pair.market == "ca"
    assert not [f for f in lint_pair(pair, brand=strategy.brand) if f.rule == "market-required"]
    us_text = render_pair("welcome", canadian | {"locale": "en-US"}, strategy=strategy)  # the US text, in Canada
    found = [f for f in lint_pair(us_text, brand=strategy.brand) if f.rule == "market-required"]
    assert len(found) == 1 and found[0].market == "ca" and "CASL" in found[0].message and found[0].severity == "error"
    # in the US the same text is fine (no contact-details rule there)
    us = render_pair("welcome", base, strategy=strategy)
    assert not [f for f in lint_pair(us, brand=strategy.brand) if f.rule.startswith("market")]


def test_quebec_customer_who_chose_english_gets_a_language_warning(strategy, sample_profiles):
    base = sample_profiles[sample_profiles["country"] == "US"].iloc[0].to_dict()
    pair = render_pair("win_back", base | {"country": "CA", "region": "QC", "locale": "en-CA"}, strategy=strategy)
    found = [f for f in lint_pair(pair, brand=strategy.brand) if f.rule == "market-language"]
    assert len(found) == 1 and found[0].severity == "warning" and "Charter of the French language" in found[0].message


def test_sample_plan_names_market_rules(sample_workspace):
    plan = sample_workspace.plan(days=14).plan
    reasons = set(plan["reason"].astype(str))
    assert "quiet_hours" in reasons
    fr = plan[(plan["channel"] == "sms") & (plan["status"] != "suppressed")]
    local = fr.merge(sample_workspace.assigned[["customer_id", "country"]], on="customer_id")
    french = local[local["country"] == "FR"]
    assert len(french) and (french["local_time"].dt.day_of_week != 6).all()  # no French text on a Sunday
    assert ((french["local_time"].dt.hour >= 8) & (french["local_time"].dt.hour < 20)).all()
