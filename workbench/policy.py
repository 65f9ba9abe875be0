"""Quiet-hour arithmetic: which minutes of the week a policy allows, in every zone of the recipient.

The policy itself (caps, spacing, quiet-hour rules, preferred hours, adaptive
cadence) is a model, :class:`workbench.models.policy.ContactPolicy`, read from
the ``policy:`` section of the strategy file. This module turns its windows
into answers: the scalar helpers (:func:`quiet_hours_for`, :func:`allowed_at`,
:func:`next_allowed`) explain a single decision; the simulation uses the
compiled weekly masks of :func:`weekly_mask` over whole arrays. A time is
allowed only when it falls inside the window in **every** zone of the customer
(a phone number can span zones).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from .models.errors import WorkbenchError
from .models.policy import (
    DAYS,
    DEFAULT_CAPS,
    DEFAULT_QUIET_HOURS,
    MINUTES_PER_WEEK,
    AdaptiveCadence,
    BreakActions,
    Cap,
    ContactPolicy,
    EngagementWeights,
    QuietHoursRule,
    Spacing,
    TimeWindow,
    duration_minutes,
    rule_for,
)

__all__ = [
    "DAYS",
    "DEFAULT_CAPS",
    "DEFAULT_QUIET_HOURS",
    "MINUTES_PER_WEEK",
    "AdaptiveCadence",
    "BreakActions",
    "Cap",
    "ContactPolicy",
    "EngagementWeights",
    "QuietHoursRule",
    "Spacing",
    "TimeWindow",
    "allowed_at",
    "duration_minutes",
    "next_allowed",
    "quiet_hours_for",
    "rule_for",
    "weekly_mask",
    "weekly_wait",
]


def quiet_hours_for(
    customer: Mapping[str, Any] | pd.Series, *, policy: ContactPolicy | None = None, channel: str = "sms"
) -> QuietHoursRule | None:
    """The quiet-hour rule that applies to a customer (a profile row with ``country`` and ``region``).

    Examples
    --------
    >>> quiet_hours_for({"country": "US", "region": "FL"}).name
    'us_fl_ok_md'
    >>> quiet_hours_for({"country": "CA", "region": "ON"}).allowed[1].start
    '10:00'
    """
    policy = policy or ContactPolicy()
    return policy.rule_for(customer.get("country"), customer.get("region"), channel)


def _windows(window: QuietHoursRule | Sequence[TimeWindow] | TimeWindow | None) -> tuple[TimeWindow, ...] | None:
    if window is None:
        return None
    if isinstance(window, QuietHoursRule):
        return tuple(window.allowed)
    if isinstance(window, TimeWindow):
        return (window,)
    return tuple(window)


@lru_cache(maxsize=512)
def _mask_cached(windows: tuple[TimeWindow, ...]) -> np.ndarray:
    mask = np.zeros(MINUTES_PER_WEEK, dtype=bool)
    for win in windows:
        a, b = win.minutes
        for day in win.weekdays:
            mask[day * 1440 + a : day * 1440 + b] = True
    mask.setflags(write=False)
    return mask


def weekly_mask(window: QuietHoursRule | Sequence[TimeWindow] | TimeWindow | None) -> np.ndarray:
    """A read-only boolean array over the 10,080 minutes of a week (Monday 00:00 first): True where allowed.

    ``None`` (no rule) allows every minute.
    """
    wins = _windows(window)
    if wins is None:
        return np.ones(MINUTES_PER_WEEK, dtype=bool)
    return _mask_cached(wins)


def weekly_wait(mask: np.ndarray) -> np.ndarray:
    """Minutes from each minute of the week to the next allowed minute (0 when allowed; -1 when never allowed)."""
    allowed = np.flatnonzero(mask)
    if allowed.size == 0:
        return np.full(MINUTES_PER_WEEK, -1, dtype=np.int32)
    doubled = np.concatenate([allowed, allowed + MINUTES_PER_WEEK])
    minute = np.arange(MINUTES_PER_WEEK)
    nxt = doubled[np.searchsorted(doubled, minute, side="left")]
    return (nxt - minute).astype(np.int32)


def _zones(zones: str | Sequence[str]) -> list[str]:
    out = [z for z in (zones.split("|") if isinstance(zones, str) else zones) if z]
    if not out:
        msg = "no time zone given. Fix: pass an IANA zone such as America/New_York"
        raise WorkbenchError(msg)
    return out


def _utc(ts: object) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    if t.tzinfo is None:
        msg = f"time {ts!r} has no time zone. Fix: pass a UTC timestamp (e.g. '2026-11-02T15:00Z')"
        raise WorkbenchError(msg)
    return t.tz_convert("UTC")


def _minute_of_week(ts: pd.Timestamp, zone: str) -> int:
    local = ts.tz_convert(zone)
    return int(local.weekday() * 1440 + local.hour * 60 + local.minute)


def allowed_at(
    ts: object, zones: str | Sequence[str], window: QuietHoursRule | Sequence[TimeWindow] | TimeWindow | None
) -> bool:
    """True when ``ts`` (tz-aware) falls inside the window in **every** zone (``"A|B"`` or a list).

    Examples
    --------
    >>> rule = quiet_hours_for({"country": "US", "region": "NY"})
    >>> allowed_at("2026-11-02T13:30Z", "America/New_York", rule)   # 08:30 in New York
    True
    >>> allowed_at("2026-11-02T13:30Z", "America/New_York|America/Chicago", rule)   # 07:30 in Chicago
    False
    """
    mask = weekly_mask(window)
    t = _utc(ts)
    return all(bool(mask[_minute_of_week(t, z)]) for z in _zones(zones))


def next_allowed(
    ts: object,
    zones: str | Sequence[str],
    window: QuietHoursRule | Sequence[TimeWindow] | TimeWindow | None,
    *,
    limit: str | None = "14d",
) -> pd.Timestamp | None:
    """The first minute at or after ``ts`` allowed in every zone; None when there is none within ``limit``.

    Examples
    --------
    >>> rule = quiet_hours_for({"country": "US", "region": "NY"})
    >>> next_allowed("2026-11-03T03:00Z", "America/New_York", rule)   # 22:00 local, Monday
    Timestamp('2026-11-03 13:00:00+0000', tz='UTC')
    """
    mask = weekly_mask(window)
    wait = weekly_wait(mask)
    t = _utc(ts).ceil("min")
    end = t + pd.Timedelta(minutes=duration_minutes(limit or "520w"))
    zs = _zones(zones)
    while t <= end:
        waits = [int(wait[_minute_of_week(t, z)]) for z in zs]
        if min(waits) < 0:
            return None
        step = max(waits)
        if step == 0:
            return t
        t = t + pd.Timedelta(minutes=step)
    return None
