"""The contact policy model and its quiet-hour rule table (DOMAIN.md section 2)."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.models.errors import StrategyError, WorkbenchError
from workbench.models.strategy import parse_strategy
from workbench.policy import (
    DEFAULT_QUIET_HOURS,
    ContactPolicy,
    TimeWindow,
    allowed_at,
    duration_minutes,
    next_allowed,
    quiet_hours_for,
    weekly_mask,
    weekly_wait,
)

from .conftest import STRATEGY


def test_sample_strategy_shows_the_defaults(strategy):
    assert strategy.policy == ContactPolicy()
    assert [c.label for c in strategy.policy.caps] == ["3/7d", "2/7d", "1/1d", "4/7d"]
    assert strategy.policy.max_sms_segments == 2


@pytest.mark.parametrize(
    ("country", "region", "rule", "windows"),
    [
        ("US", "NY", "us_federal", [("mon-sun", "08:00", "21:00")]),
        ("US", "FL", "us_fl_ok_md", [("mon-sun", "08:00", "20:00")]),
        ("US", "OK", "us_fl_ok_md", [("mon-sun", "08:00", "20:00")]),
        ("US", "MD", "us_fl_ok_md", [("mon-sun", "08:00", "20:00")]),
        ("US", "WA", "us_wa", [("mon-sun", "08:00", "20:00")]),
        ("US", "TX", "us_tx", [("mon-sat", "09:00", "21:00"), ("sun", "12:00", "21:00")]),
        ("US", "CT", "us_ct", [("mon-sun", "09:00", "20:00")]),
        ("CA", "ON", "ca_crtc", [("mon-fri", "09:00", "21:30"), ("sat-sun", "10:00", "18:00")]),
        ("GB", None, "default", [("mon-sun", "08:00", "21:00")]),
    ],
)
def test_quiet_hour_defaults_match_domain(country, region, rule, windows):
    found = quiet_hours_for({"country": country, "region": region})
    assert found.name == rule
    assert [(w.days, w.start, w.end) for w in found.allowed] == windows


def test_email_has_no_quiet_hours_by_default():
    assert quiet_hours_for({"country": "US", "region": "FL"}, channel="email") is None


def test_a_strategy_overrides_a_rule_by_name_and_keeps_the_others():
    policy = ContactPolicy(
        quiet_hours=[
            {"name": "us_tx", "country": "US", "regions": ["TX"], "allowed": [{"start": "10:00", "end": "19:00"}]},
            {"name": "us_ct", "country": "US", "regions": ["CT"], "enabled": False, "allowed": [{}]},
            {
                "name": "gb_email",
                "country": "GB",
                "channels": ["email"],
                "allowed": [{"start": "07:00", "end": "22:00"}],
            },
        ]
    )
    assert [r.name for r in policy.quiet_hours][: len(DEFAULT_QUIET_HOURS)] == [r.name for r in DEFAULT_QUIET_HOURS]
    assert policy.rule_for("US", "TX").allowed[0].start == "10:00"
    assert policy.rule_for("US", "CT").name == "us_federal"
    assert policy.rule_for("GB", None, "email").name == "gb_email"
    assert ContactPolicy.model_validate(policy.model_dump(mode="json")) == policy


def test_replacing_the_table_drops_the_defaults():
    policy = ContactPolicy(
        include_default_quiet_hours=False,
        quiet_hours=[{"name": "only", "allowed": [{"start": "11:00", "end": "12:00"}]}],
    )
    assert [r.name for r in policy.quiet_hours] == ["only"]
    assert policy.rule_for("US", "FL").name == "only"


def test_overrides_merge_nested_fields():
    policy = ContactPolicy().with_overrides({"spacing": {"any_touch": "2h"}, "max_defer": "12h"})
    assert policy.spacing.any_touch == "2h" and policy.spacing.same_moment == "20h"
    assert policy.max_defer_minutes == 720


def test_bad_policy_in_the_strategy_file_names_the_line(tmp_path):
    text = STRATEGY.read_text(encoding="utf-8")
    broken = text.replace("max_defer: 48h", "max_defer: two days")
    with pytest.raises(StrategyError) as err:
        parse_strategy(broken, source="strategy.yaml")
    line = next(i for i, s in enumerate(broken.splitlines(), 1) if "max_defer: two days" in s)
    assert f"line {line}" in str(err.value) and "policy.max_defer" in str(err.value)
    assert "duration" in str(err.value)


@pytest.mark.parametrize(
    "window",
    [
        {"start": "21:00", "end": "08:00"},
        {"start": "8:00", "end": "21:00"},
        {"days": "mon-funday"},
    ],
)
def test_invalid_windows_are_rejected(window):
    with pytest.raises(ValueError, match=r"window|time|days"):
        TimeWindow(**window)


def test_durations():
    assert duration_minutes("90m") == 90
    assert duration_minutes("1.5h") == 90
    assert duration_minutes("2w") == 20160
    with pytest.raises(WorkbenchError, match="Fix"):
        duration_minutes("soon")


def test_weekly_mask_and_wait():
    texas = quiet_hours_for({"country": "US", "region": "TX"})
    mask = weekly_mask(texas)
    sunday = 6 * 1440
    assert not mask[sunday + 11 * 60] and mask[sunday + 12 * 60] and not mask[sunday + 21 * 60]
    wait = weekly_wait(mask)
    assert wait[sunday + 11 * 60 + 30] == 30
    assert wait[5 * 1440 + 21 * 60] == 15 * 60  # Saturday 21:00 -> Sunday 12:00
    assert weekly_wait(weekly_mask([]))[0] == -1


def test_allowed_in_every_zone_of_a_multi_zone_number():
    rule = quiet_hours_for({"country": "US", "region": "TN"})
    # 13:30 UTC on a winter Monday: 08:30 in New York, 07:30 in Chicago
    assert allowed_at("2026-11-02T13:30Z", "America/New_York", rule)
    assert not allowed_at("2026-11-02T13:30Z", "America/New_York|America/Chicago", rule)
    assert next_allowed("2026-11-02T13:30Z", "America/New_York|America/Chicago", rule) == pd.Timestamp(
        "2026-11-02T14:00Z"
    )


def test_next_allowed_across_the_dst_change():
    rule = quiet_hours_for({"country": "US", "region": "NY"})
    # 12:30 UTC is 08:30 EDT on Saturday 31 October but 07:30 EST on Sunday 1 November
    assert allowed_at("2026-10-31T12:30Z", "America/New_York", rule)
    assert not allowed_at("2026-11-01T12:30Z", "America/New_York", rule)
    assert next_allowed("2026-11-01T12:30Z", "America/New_York", rule) == pd.Timestamp("2026-11-01T13:00Z")


def test_zones_that_never_overlap_have_no_allowed_time():
    rule = quiet_hours_for({"country": "US", "region": "CT"})  # 09:00-20:00: 11 hours
    # Manila is 13 hours ahead of New York in winter: the two windows only touch at their ends
    assert next_allowed("2026-11-02T13:30Z", "America/New_York|Asia/Manila", rule, limit="7d") is None


def test_naive_times_are_refused():
    with pytest.raises(WorkbenchError, match="time zone"):
        allowed_at("2026-11-02 13:30", "America/New_York", None)
