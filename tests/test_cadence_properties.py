"""Property-based tests of the send plan over random policies, audiences and journeys.

Audiences mix zones on both sides of DST changes, phone numbers spanning
several zones and consent ledgers that change during the horizon. Whatever the
inputs, a plan never keeps a touch without consent at its send time, never
keeps an SMS outside the quiet-hour window in any of the recipient's zones,
never exceeds a cap in any rolling window, and is the same for the same seed.
The checks use independent code (zoneinfo per touch, plain pandas).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from workbench.cadence import simulate
from workbench.models.journey import Journey
from workbench.policy import ContactPolicy, allowed_at

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Phoenix",
    "Europe/London",
    "Australia/Sydney",
    "America/St_Johns",
    "Asia/Kolkata",
    "America/Toronto",
]
PLACES = [
    ("US", "FL"),
    ("US", "TX"),
    ("US", "NY"),
    ("US", "CT"),
    ("US", "WA"),
    ("CA", "ON"),
    ("GB", None),
    ("AU", "NSW"),
]
STARTS = ["2026-03-07", "2026-03-27", "2026-04-04", "2026-10-24", "2026-10-31", "2026-11-01"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def policies(draw):
    caps = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "channel": st.sampled_from(["email", "sms", "any"]),
                    "max": st.integers(1, 3),
                    "per": st.sampled_from(["6h", "1d", "3d", "7d"]),
                }
            ),
            max_size=3,
        )
    )
    overrides = {
        "caps": caps,
        "spacing": {
            "any_touch": draw(st.sampled_from(["0m", "2h", "4h"])),
            "same_moment": draw(st.sampled_from(["0m", "12h", "20h"])),
        },
        "on_break": {
            k: draw(st.sampled_from(["defer", "suppress"]))
            for k in ("quiet_hours", "preferred_hours", "caps", "spacing", "frequency")
        },
        "max_defer": draw(st.sampled_from(["6h", "24h", "72h"])),
        "adaptive": {"enabled": draw(st.booleans())},
    }
    if draw(st.booleans()):
        overrides["preferred_hours"] = {}
    if draw(st.booleans()):
        a, b = draw(st.integers(5, 11)), draw(st.integers(16, 23))
        overrides["quiet_hours"] = [{"name": "default", "allowed": [{"start": f"{a:02d}:00", "end": f"{b:02d}:30"}]}]
    return ContactPolicy().with_overrides(overrides)


@st.composite
def audiences(draw, start):
    n = draw(st.integers(1, 5))
    t0 = pd.Timestamp(start, tz="UTC")
    rows, ledger = [], []
    for i in range(n):
        zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True))
        country, region = draw(st.sampled_from(PLACES))
        cid = f"c{i}"
        rows.append(
            {
                "customer_id": cid,
                "timezone": zones[0],
                "timezones": "|".join(zones),
                "country": country,
                "region": region,
                "has_valid_email": draw(st.booleans()) or True,
                "has_valid_phone": draw(st.booleans()),
                "engagement_score": draw(st.floats(0, 10)),
                "segment_all": True,
                "email_sends": 10,
                "email_opens": draw(st.integers(0, 10)),
                "email_clicks": draw(st.integers(0, 3)),
                "sms_sends": 5,
                "sms_clicks": draw(st.integers(0, 5)),
                "cart_adds_7d": draw(st.integers(0, 2)),
                "cart_adds_30d": draw(st.integers(0, 30)),
                "orders_365d": draw(st.integers(0, 12)),
                "frequency_preference": draw(st.sampled_from([None, "weekly", "daily"])),
            }
        )
        for channel in ("email", "sms"):
            minutes = draw(st.lists(st.integers(-30 * 1440, 12 * 1440), max_size=4, unique=True))
            for m in sorted(minutes):
                ledger.append(
                    {
                        "customer_id": cid,
                        "channel": channel,
                        "status": draw(st.sampled_from(["subscribed", "subscribed", "unsubscribed"])),
                        "recorded_at": t0 + pd.Timedelta(minutes=m),
                    }
                )
    consents = pd.DataFrame(ledger, columns=["customer_id", "channel", "status", "recorded_at"])
    consents["recorded_at"] = pd.to_datetime(consents["recorded_at"], utc=True)
    return pd.DataFrame(rows), consents


@st.composite
def journeys(draw):
    out = []
    for j in range(draw(st.integers(1, 3))):
        nodes = []
        steps = draw(st.integers(1, 4))
        for s in range(steps):
            channel = draw(st.sampled_from(["email", "sms"]))
            send = {
                "id": f"s{s}",
                "type": f"send_{channel}",
                "template": "cart_abandonment",
                "transactional": draw(st.booleans()) and draw(st.booleans()),
            }
            nxt = f"d{s}" if s < steps - 1 else "end"
            send["next"] = nxt
            nodes.append(send)
            if s < steps - 1:
                if draw(st.booleans()):
                    nodes.append(
                        {"id": f"d{s}", "type": "delay", "duration": f"{draw(st.integers(1, 60))}h", "next": f"c{s}"}
                    )
                else:
                    nodes.append(
                        {
                            "id": f"d{s}",
                            "type": "delay",
                            "until": {"time": f"{draw(st.integers(0, 23)):02d}:{draw(st.sampled_from([0, 30])):02d}"},
                            "next": f"c{s}",
                        }
                    )
                nodes.append(
                    {
                        "id": f"c{s}",
                        "type": "condition_split",
                        "condition": {"kind": "engagement", "node": f"s{s}", "action": "clicked"},
                        "on_true": "end" if draw(st.booleans()) else f"s{s + 1}",
                        "on_false": f"s{s + 1}",
                    }
                )
        nodes.append({"id": "end", "type": "end"})
        trigger = draw(
            st.sampled_from([{"type": "segment", "segment": "all"}, {"type": "event", "event": "add_to_cart"}])
        )
        out.append(
            Journey.model_validate(
                {
                    "id": f"j{j}",
                    "name": f"J{j}",
                    "trigger": trigger,
                    "entry": "s0",
                    "nodes": nodes,
                    "reentry": {"mode": draw(st.sampled_from(["never", "always"]))},
                }
            )
        )
    return out


@st.composite
def scenarios(draw):
    start = draw(st.sampled_from(STARTS))
    audience, consents = draw(audiences(start))
    return {
        "audience": audience,
        "consents": consents,
        "journeys": draw(journeys()),
        "policy": draw(policies()),
        "start": start,
        "days": draw(st.integers(2, 10)),
        "seed": draw(st.integers(0, 2**31)),
    }


def plan_of(sc, **kw):
    return simulate(
        sc["audience"],
        sc["journeys"],
        sc["policy"],
        start=sc["start"],
        days=sc["days"],
        seed=sc["seed"],
        consents=sc["consents"],
        progress=False,
        **kw,
    )


def sent(plan):
    return plan[plan["status"].isin(["kept", "deferred"])]


@SETTINGS
@given(scenarios())
def test_no_kept_touch_without_consent_at_its_send_time(sc):
    plan = sent(plan_of(sc))
    aud = sc["audience"].set_index("customer_id")
    led = sc["consents"]
    for row in plan.itertuples():
        rows = led[
            (led["customer_id"] == row.customer_id)
            & (led["channel"] == row.channel)
            & (led["recorded_at"] <= row.scheduled_at)
        ]
        assert len(rows) and rows.sort_values("recorded_at")["status"].iloc[-1] == "subscribed", row
        valid = "has_valid_email" if row.channel == "email" else "has_valid_phone"
        assert aud.loc[row.customer_id, valid]


@SETTINGS
@given(scenarios())
def test_no_kept_sms_outside_quiet_hours_in_any_zone(sc):
    plan = sent(plan_of(sc))
    aud = sc["audience"].set_index("customer_id")
    policy = sc["policy"]
    for row in plan[plan["channel"] == "sms"].itertuples():
        c = aud.loc[row.customer_id]
        rule = policy.rule_for(c["country"], c["region"], "sms")
        for zone in c["timezones"].split("|"):
            assert allowed_at(row.scheduled_at, zone, rule), (row, zone, rule.name)


@SETTINGS
@given(scenarios())
def test_no_cap_exceeded_in_any_rolling_window(sc):
    plan = sent(plan_of(sc))
    plan = plan[~plan["transactional"]]
    for cap in sc["policy"].caps:
        sub = plan if cap.channel == "any" else plan[plan["channel"] == cap.channel]
        window = pd.Timedelta(minutes=cap.window_minutes)
        for _, group in sub.groupby("customer_id"):
            t = np.sort(group["scheduled_at"].to_numpy())
            if len(t) > cap.max:
                spans = t[cap.max :] - t[: -cap.max]
                assert (spans >= window.to_timedelta64()).all(), (cap, t)


@SETTINGS
@given(scenarios())
def test_same_seed_gives_the_same_plan(sc):
    first = plan_of(sc)
    assert_frame_equal(first, plan_of(sc))
    # and the chunking does not change it
    assert_frame_equal(first.reset_index(drop=True), plan_of(sc, chunk_size=1).reset_index(drop=True))
