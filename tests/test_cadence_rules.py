"""One hand-built customer per policy rule: the exact status, time and reason of each touch."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.cadence import apply_policy
from workbench.policy import ContactPolicy

NO_PREF = {"preferred_hours": {}}
NO_CAPS = {"caps": [], "spacing": {"any_touch": "0m", "same_moment": "0m"}}


def customer(cid="c1", zone="America/New_York", zones=None, country="US", region="NY", email=True, sms=True, **extra):
    return {
        "customer_id": cid,
        "timezone": zone,
        "timezones": zones or zone,
        "country": country,
        "region": region,
        "has_valid_email": True,
        "has_valid_phone": True,
        "email_consent": "subscribed" if email else "unsubscribed",
        "sms_consent": "subscribed" if sms else "unsubscribed",
        "engagement_score": 3.0,
        **extra,
    }


def run(touches, customers, consents=None, **policy):
    pol = ContactPolicy().with_overrides(policy)
    frame = pd.DataFrame([{"customer_id": "c1", "journey_id": "j1", **t} for t in touches])
    frame["planned_at"] = pd.to_datetime(frame["planned_at"], utc=True)
    return apply_policy(frame, pd.DataFrame(customers), pol, consents=consents)


def verdicts(out):
    return list(
        zip(out["status"].astype(str), out["reason"], out["scheduled_at"].dt.strftime("%Y-%m-%dT%H:%MZ"), strict=True)
    )


def test_kept_on_time_has_no_reason():
    out = run([{"channel": "email", "planned_at": "2026-11-03T15:00Z"}], [customer()])
    assert verdicts(out) == [("kept", "", "2026-11-03T15:00Z")]
    assert (
        out["local_time"].iloc[0] == pd.Timestamp("2026-11-03 10:00") and out["timezone"].iloc[0] == "America/New_York"
    )


def test_no_consent_suppresses():
    out = run([{"channel": "sms", "planned_at": "2026-11-03T15:00Z"}], [customer(sms=False)])
    assert verdicts(out) == [("suppressed", "no_consent", "2026-11-03T15:00Z")]


def test_no_valid_address_suppresses():
    out = run([{"channel": "email", "planned_at": "2026-11-03T15:00Z"}], [customer(has_valid_email=False)])
    assert verdicts(out) == [("suppressed", "no_address", "2026-11-03T15:00Z")]


def test_consent_ledger_changes_during_the_horizon():
    ledger = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1"],
            "channel": ["sms", "sms", "sms"],
            "status": ["subscribed", "unsubscribed", "subscribed"],
            "recorded_at": pd.to_datetime(["2026-01-01T00:00Z", "2026-11-04T12:00Z", "2026-11-06T12:00Z"], utc=True),
        }
    )
    touches = [{"channel": "sms", "planned_at": f"2026-11-0{d}T16:00Z", "journey_id": f"j{d}"} for d in (3, 5, 7)]
    out = run(touches, [customer(sms=False)], consents=ledger, **NO_CAPS)
    assert verdicts(out) == [
        ("kept", "", "2026-11-03T16:00Z"),
        ("suppressed", "no_consent", "2026-11-05T16:00Z"),
        ("kept", "", "2026-11-07T16:00Z"),
    ]


def test_deferral_that_lands_after_an_opt_out_is_suppressed():
    ledger = pd.DataFrame(
        {
            "customer_id": ["c1", "c1"],
            "channel": ["sms", "sms"],
            "status": ["subscribed", "unsubscribed"],
            "recorded_at": pd.to_datetime(["2026-01-01T00:00Z", "2026-11-04T06:00Z"], utc=True),
        }
    )
    # 03:00 UTC = 22:00 in New York: deferred to 08:00 local, after the opt-out
    out = run([{"channel": "sms", "planned_at": "2026-11-04T03:00Z"}], [customer()], consents=ledger, **NO_PREF)
    assert verdicts(out) == [("suppressed", "no_consent", "2026-11-04T03:00Z")]


@pytest.mark.parametrize(
    ("region", "zone", "planned", "expected"),
    [
        ("NY", "America/New_York", "2026-11-04T02:30Z", "2026-11-04T13:00Z"),  # 21:30 -> 08:00 (federal)
        ("FL", "America/New_York", "2026-11-04T01:30Z", "2026-11-04T13:00Z"),  # 20:30 -> 08:00 (Florida)
        ("OK", "America/Chicago", "2026-11-04T02:15Z", "2026-11-04T14:00Z"),  # 20:15 -> 08:00 (Oklahoma)
        ("MD", "America/New_York", "2026-11-04T01:00Z", "2026-11-04T13:00Z"),  # 20:00 -> 08:00 (Maryland)
        ("WA", "America/Los_Angeles", "2026-11-04T04:30Z", "2026-11-04T16:00Z"),  # 20:30 -> 08:00 (Washington)
        ("TX", "America/Chicago", "2026-11-08T16:00Z", "2026-11-08T18:00Z"),  # Sunday 10:00 -> 12:00 (Texas)
        ("TX", "America/Chicago", "2026-11-07T14:30Z", "2026-11-07T15:00Z"),  # Saturday 08:30 -> 09:00
        ("CT", "America/New_York", "2026-11-04T13:30Z", "2026-11-04T14:00Z"),  # 08:30 -> 09:00 (Connecticut)
    ],
)
def test_us_quiet_hours_defer_sms_to_the_next_allowed_minute(region, zone, planned, expected):
    out = run([{"channel": "sms", "planned_at": planned}], [customer(zone=zone, region=region)], **NO_PREF)
    assert verdicts(out) == [("deferred", "quiet_hours", expected)]


@pytest.mark.parametrize(
    ("planned", "expected"),
    [
        ("2026-11-07T00:00Z", ("kept", "", "2026-11-07T00:00Z")),  # Fri 19:00 is a weekday
        ("2026-11-07T13:00Z", ("deferred", "quiet_hours", "2026-11-07T15:00Z")),  # Sat 08:00 -> 10:00
        ("2026-11-06T02:00Z", ("kept", "", "2026-11-06T02:00Z")),  # Thu 21:00 is inside 9:00-21:30
        ("2026-11-08T00:00Z", ("deferred", "quiet_hours", "2026-11-08T15:00Z")),  # Sat 19:00 -> Sun 10:00
    ],
)
def test_canadian_weekday_and_weekend_hours(planned, expected):
    cust = customer(zone="America/Toronto", country="CA", region="ON")
    out = run([{"channel": "sms", "planned_at": planned}], [cust], **NO_PREF)
    assert verdicts(out) == [expected]


def test_multi_zone_number_needs_every_zone():
    cust = customer(zones="America/New_York|America/Chicago", region=None)
    # 13:30 UTC: 08:30 in New York but 07:30 in Chicago -> 14:00 UTC (08:00 Chicago)
    out = run([{"channel": "sms", "planned_at": "2026-11-04T13:30Z"}], [cust], **NO_PREF)
    assert verdicts(out) == [("deferred", "quiet_hours", "2026-11-04T14:00Z")]


def test_quiet_hours_after_the_dst_change():
    # 12:30 UTC is 08:30 EDT on 31 October, 07:30 EST on 1 November
    touches = [
        {"channel": "sms", "planned_at": "2026-10-31T12:30Z", "journey_id": "a"},
        {"channel": "sms", "planned_at": "2026-11-01T12:30Z", "journey_id": "b"},
    ]
    out = run(touches, [customer()], **NO_PREF, **NO_CAPS)
    assert verdicts(out) == [("kept", "", "2026-10-31T12:30Z"), ("deferred", "quiet_hours", "2026-11-01T13:00Z")]


def test_quiet_hours_suppress_when_the_policy_says_so():
    out = run(
        [{"channel": "sms", "planned_at": "2026-11-04T02:30Z"}],
        [customer()],
        on_break={"quiet_hours": "suppress"},
        **NO_PREF,
    )
    assert verdicts(out) == [("suppressed", "quiet_hours", "2026-11-04T02:30Z")]


def test_deferral_beyond_the_limit_is_suppressed():
    out = run([{"channel": "sms", "planned_at": "2026-11-04T02:30Z"}], [customer()], max_defer="6h", **NO_PREF)
    assert verdicts(out) == [("suppressed", "quiet_hours", "2026-11-04T02:30Z")]


def test_preferred_hours_defer_an_email():
    # 11:00 UTC = 06:00 in New York; email preferred from 09:00
    out = run([{"channel": "email", "planned_at": "2026-11-04T11:00Z"}], [customer()])
    assert verdicts(out) == [("deferred", "preferred_hours", "2026-11-04T14:00Z")]


def test_transactional_touches_ignore_preferred_hours_but_not_quiet_hours():
    touches = [
        {"channel": "email", "planned_at": "2026-11-04T11:00Z", "transactional": True, "journey_id": "a"},
        {"channel": "sms", "planned_at": "2026-11-05T11:00Z", "transactional": True, "journey_id": "b"},
    ]
    out = run(touches, [customer()])
    assert verdicts(out) == [("kept", "", "2026-11-04T11:00Z"), ("deferred", "quiet_hours", "2026-11-05T13:00Z")]


def test_channel_cap_suppresses_the_fourth_email_of_a_week():
    touches = [{"channel": "email", "planned_at": f"2026-11-0{d}T15:00Z", "journey_id": f"j{d}"} for d in (2, 3, 4, 5)]
    out = run(
        touches,
        [customer()],
        on_break={"caps": "suppress"},
        caps=[{"channel": "email", "max": 3, "per": "7d"}],
        spacing={"any_touch": "0m", "same_moment": "0m"},
    )
    assert verdicts(out)[-1] == ("suppressed", "cap:email:3/7d", "2026-11-05T15:00Z")
    assert out["blocked_by"].iloc[-1] == "j2"
    assert list(out["status"].astype(str)[:3]) == ["kept"] * 3


def test_channel_cap_defers_until_the_window_frees_up():
    touches = [
        {"channel": "sms", "planned_at": "2026-11-02T15:00Z", "journey_id": "a"},
        {"channel": "sms", "planned_at": "2026-11-03T15:00Z", "journey_id": "b"},
        {"channel": "sms", "planned_at": "2026-11-08T15:00Z", "journey_id": "c"},
    ]
    out = run(
        touches,
        [customer()],
        caps=[{"channel": "sms", "max": 2, "per": "7d"}],
        max_defer="3d",
        **NO_PREF,
        spacing={"any_touch": "0m", "same_moment": "0m"},
    )
    assert verdicts(out)[-1] == ("deferred", "cap:sms:2/7d", "2026-11-09T15:00Z")
    assert out["blocked_by"].iloc[-1] == "a"


def test_global_daily_cap_across_channels():
    touches = [
        {"channel": "email", "planned_at": "2026-11-04T15:00Z", "journey_id": "cart"},
        {"channel": "sms", "planned_at": "2026-11-04T19:00Z", "journey_id": "browse"},
    ]
    out = run(
        touches,
        [customer()],
        caps=[{"channel": "any", "max": 1, "per": "1d"}],
        **NO_PREF,
        spacing={"any_touch": "0m", "same_moment": "0m"},
    )
    assert verdicts(out) == [("kept", "", "2026-11-04T15:00Z"), ("deferred", "cap:any:1/1d", "2026-11-05T15:00Z")]
    assert pd.isna(out["blocked_by"].iloc[0]) and out["blocked_by"].iloc[1] == "cart"


def test_weekly_global_cap_suppresses_when_deferral_is_too_long():
    touches = [{"channel": "email", "planned_at": f"2026-11-0{d}T15:00Z", "journey_id": f"j{d}"} for d in (2, 3, 4)]
    out = run(
        touches,
        [customer()],
        caps=[{"channel": "any", "max": 2, "per": "7d"}],
        max_defer="2d",
        spacing={"any_touch": "0m", "same_moment": "0m"},
    )
    assert verdicts(out)[-1] == ("suppressed", "cap:any:2/7d", "2026-11-04T15:00Z")


def test_spacing_between_any_two_touches():
    touches = [
        {"channel": "email", "planned_at": "2026-11-04T15:00Z", "journey_id": "a"},
        {"channel": "email", "planned_at": "2026-11-04T16:00Z", "journey_id": "b"},
    ]
    out = run(touches, [customer()], caps=[], spacing={"any_touch": "4h", "same_moment": "0m"})
    assert verdicts(out) == [("kept", "", "2026-11-04T15:00Z"), ("deferred", "spacing:any_touch", "2026-11-04T19:00Z")]


def test_spacing_suppresses_when_the_policy_says_so():
    touches = [
        {"channel": "email", "planned_at": "2026-11-04T15:00Z", "journey_id": "a"},
        {"channel": "email", "planned_at": "2026-11-04T16:00Z", "journey_id": "b"},
    ]
    out = run(
        touches,
        [customer()],
        caps=[],
        spacing={"any_touch": "4h", "same_moment": "0m"},
        on_break={"spacing": "suppress"},
    )
    assert verdicts(out)[-1] == ("suppressed", "spacing:any_touch", "2026-11-04T16:00Z")


def test_spacing_between_the_email_and_sms_of_one_moment():
    touches = [
        {"channel": "email", "planned_at": "2026-11-04T15:00Z", "journey_id": "cart"},
        {"channel": "sms", "planned_at": "2026-11-04T18:00Z", "journey_id": "cart"},
        {"channel": "sms", "planned_at": "2026-11-04T18:00Z", "journey_id": "other"},
    ]
    out = run(touches, [customer()], caps=[], spacing={"any_touch": "0m", "same_moment": "20h"}, **NO_PREF)
    assert verdicts(out) == [
        ("kept", "", "2026-11-04T15:00Z"),
        ("deferred", "spacing:same_moment", "2026-11-05T13:00Z"),
        ("kept", "", "2026-11-04T18:00Z"),
    ]


def test_frequency_preference_weekly():
    touches = [
        {"channel": "email", "planned_at": "2026-11-02T15:00Z", "journey_id": "a"},
        {"channel": "email", "planned_at": "2026-11-04T15:00Z", "journey_id": "b"},
    ]
    out = run(touches, [customer(frequency_preference="weekly")], **NO_CAPS)
    assert verdicts(out) == [
        ("kept", "", "2026-11-02T15:00Z"),
        ("suppressed", "frequency_preference", "2026-11-04T15:00Z"),
    ]
    free = run(touches, [customer()], **NO_CAPS)
    assert free["status"].astype(str).tolist() == ["kept", "kept"]


def test_adaptive_pause_of_sms_for_a_dormant_customer():
    touches = [
        {"channel": "sms", "planned_at": "2026-11-04T16:00Z", "journey_id": "a"},
        {"channel": "email", "planned_at": "2026-11-05T16:00Z", "journey_id": "b"},
    ]
    out = run(touches, [customer(engagement_score=0.0)])
    assert verdicts(out) == [("suppressed", "adaptive_pause", "2026-11-04T16:00Z"), ("kept", "", "2026-11-05T16:00Z")]
    steady = run(touches, [customer(engagement_score=3.0)])
    assert steady["status"].astype(str).tolist() == ["kept", "kept"]


def test_transactional_touches_are_not_capped():
    touches = [
        {"channel": "email", "planned_at": "2026-11-04T15:00Z", "journey_id": "a"},
        {"channel": "email", "planned_at": "2026-11-04T15:30Z", "journey_id": "order", "transactional": True},
    ]
    out = run(touches, [customer()])
    assert verdicts(out) == [("kept", "", "2026-11-04T15:00Z"), ("kept", "", "2026-11-04T15:30Z")]
