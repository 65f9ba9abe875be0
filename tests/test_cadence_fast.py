"""The fast paths of the simulator against straightforward references kept here.

The simulator checks quiet and preferred hours by array lookups (a customer's
other time zones only where they have one, the minute of the week in one
step), builds the plan's columns by gathers, computes rates and draw keys per
chunk and runs chunks on several processes. Each test below computes the same
thing the plain way (every zone column, per-touch string lookups, zoneinfo per
touch, one process, one chunk) and asks for identical results.
"""

from __future__ import annotations

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from workbench.cadence import simulate
from workbench.cadence.calendar import NEVER, MaskSet, ZoneTable, allowed_all, minute_of_week, next_allowed_all
from workbench.cadence.engagement import outcome_priors, outcome_rates
from workbench.cadence.kernel import STATUSES
from workbench.cadence.traverse import customer_hash
from workbench.models.errors import JourneyError
from workbench.models.journey import Journey
from workbench.policy import ContactPolicy, TimeWindow, weekly_mask

sim_module = importlib.import_module("workbench.cadence.simulate")
kernel_module = importlib.import_module("workbench.cadence.kernel")

ZONES = [
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
]
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = 29_000_000  # minutes since the epoch, early 2025


# --- the plain references (the simulator's code before it was made fast)


def ref_minute_of_week(local: np.ndarray) -> np.ndarray:
    day = local // 1440
    return ((day + 3) % 7) * 1440 + (local - day * 1440)


def ref_local(zt: ZoneTable, t: np.ndarray, zone: np.ndarray) -> np.ndarray:
    slot = np.clip((t - zt.t0) // 15, 0, zt.n - 1)
    return t + zt.offsets[zone, slot]


def ref_allowed_all(zt, ms, t, zones, mask_id):
    ok = np.ones(len(t), dtype=bool)
    for k in range(zones.shape[1]):
        ok &= ms.masks[mask_id, ref_minute_of_week(ref_local(zt, t, zones[:, k]))]
    return ok


def ref_until_change(zt, t, zone):
    """Minutes from ``t`` to the first later slot whose offset differs from t's, scanning the table."""
    slot = min(max((t - zt.t0) // 15, 0), zt.n - 1)
    changed = np.flatnonzero(zt.offsets[zone, slot + 1 :] != zt.offsets[zone, slot])
    if changed.size == 0:
        return NEVER
    return zt.t0 + (slot + 1 + int(changed[0])) * 15 - t


def ref_next_allowed_all(zt, ms, t, zones, mask_id, limit, *, rounds=24):
    t = t.copy()
    todo = np.arange(len(t))
    for _ in range(rounds):
        if todo.size == 0:
            break
        tt = t[todo]
        step = np.zeros(todo.size, dtype=np.int64)
        never = np.zeros(todo.size, dtype=bool)
        for k in range(zones.shape[1]):
            w = ms.waits[mask_id[todo], ref_minute_of_week(ref_local(zt, tt, zones[todo, k]))]
            w = np.array([min(int(x), ref_until_change(zt, int(u), int(z))) if x > 0 else int(x)
                          for x, u, z in zip(w, tt, zones[todo, k], strict=True)], dtype=np.int64)  # fmt: skip
            never |= w < 0
            step = np.maximum(step, w)
        done = step == 0
        t[todo[never]] = NEVER
        tt = tt + step
        over = tt > limit[todo]
        t[todo[over & ~never]] = NEVER
        move = ~done & ~never & ~over
        t[todo[move]] = tt[move]
        todo = todo[move]
    t[todo] = NEVER
    return t


def ref_context_allowed(self, zt, ms, cust, t, mask_id):
    return ref_allowed_all(zt, ms, t, self.zones[cust], mask_id)


def ref_assemble(parts, prep, node_rows, node_ch, node_tr, journey_ids, rules):
    """The plan's columns by per-touch lookups of text and by parsing times."""
    cols = [np.concatenate([p[i] for p in parts]).astype(np.int64) for i in range(11)]
    cust, planned, journey, node, entry, sched, status, reason, blocked, opened, clicked = cols
    went = status != 2

    def labels(position: int) -> pd.Categorical:
        values = np.array([r[position] for r in node_rows], dtype=object)
        cats = list(dict.fromkeys(values.tolist()))
        return pd.Categorical.from_codes(pd.Index(cats).get_indexer(values[node]), categories=cats)

    local = ref_local(prep.zt, sched, prep.zone1[cust])
    return pd.DataFrame(
        {
            "customer_id": pd.array(prep.ids[cust], dtype="string"),
            "journey_id": pd.Categorical.from_codes(journey, categories=journey_ids),
            "step_id": labels(1),
            "channel": pd.Categorical.from_codes(node_ch[node], categories=["email", "sms"]),
            "template": labels(3),
            "variant": labels(4),
            "transactional": node_tr[node],
            "entry": entry.astype(np.int32),
            "planned_at": pd.to_datetime(planned * 60, unit="s", utc=True).as_unit("us"),
            "scheduled_at": pd.to_datetime(sched * 60, unit="s", utc=True).as_unit("us"),
            "local_time": pd.to_datetime(local * 60, unit="s").as_unit("us"),
            "timezone": pd.Categorical.from_codes(prep.timezone_code[cust], categories=list(prep.timezone_names)),
            "status": pd.Categorical.from_codes(status, categories=list(STATUSES)),
            "reason": pd.Categorical.from_codes(reason, categories=rules.reasons.names),
            "blocked_by": pd.Categorical.from_codes(blocked, categories=journey_ids),
            "opened": (opened > 0) & went,
            "clicked": (clicked > 0) & went,
            "engagement_tier": pd.Categorical.from_codes(
                prep.tier_code[cust], categories=["engaged", "steady", "fading", "dormant"]
            ),
        }
    )


def reference_plan(monkeypatch_context, *args, **kwargs):
    """``simulate`` on one process and one chunk, with every fast path swapped for its reference."""
    mp = monkeypatch_context
    mp.setattr(kernel_module, "allowed_all", ref_allowed_all)
    mp.setattr(kernel_module, "next_allowed_all", ref_next_allowed_all)
    mp.setattr(kernel_module.CustomerContext, "allowed", ref_context_allowed)
    mp.setattr(sim_module, "_assemble", ref_assemble)
    return simulate(*args, **kwargs, workers=1, chunk_size=10**9)


# --- the calendar


@st.composite
def zone_checks(draw):
    names = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=len(ZONES), unique=True))
    zt = ZoneTable(names, T0, T0 + 60 * 1440)
    ms = MaskSet()
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, 23 * 60))
        end = draw(st.integers(start + 1, 24 * 60))
        window = TimeWindow(start=f"{start // 60:02d}:{start % 60:02d}", end=f"{end // 60:02d}:{end % 60:02d}")
        mask = weekly_mask([window])
        if draw(st.booleans()):
            mask = mask.copy()
            mask[draw(st.integers(0, 6)) * 1440 : draw(st.integers(0, 7)) * 1440] = False  # days without a window
        ms.add(mask)
    n = draw(st.integers(1, 30))
    width = draw(st.integers(1, 4))
    rows = []
    for _ in range(n):
        own = draw(st.lists(st.integers(0, len(names) - 1), min_size=1, max_size=width))
        rows.append(own + [own[0]] * (width - len(own)))  # padded by repeating the first zone, as the simulator does
    zones = np.array(rows, dtype=np.int64)
    # times inside the table and outside it on both sides (the first and last offsets then hold)
    t = np.array(draw(st.lists(st.integers(T0 - 3 * 1440, T0 + 63 * 1440), min_size=n, max_size=n)), dtype=np.int64)
    mask_id = np.array(draw(st.lists(st.integers(0, len(ms.masks) - 1), min_size=n, max_size=n)), dtype=np.int64)
    limit = t + np.array(draw(st.lists(st.integers(0, 10 * 1440), min_size=n, max_size=n)), dtype=np.int64)
    return zt, ms, zones, t, mask_id, limit


@SETTINGS
@given(st.integers(-(2**40), 2**40))
def test_minute_of_week_is_the_weekday_and_clock_time(minute):
    local = np.array([minute], dtype=np.int64)
    assert minute_of_week(local)[0] == ref_minute_of_week(local)[0]
    when = (
        dt.datetime(1970, 1, 1) + dt.timedelta(minutes=minute) if abs(minute) < 5 * 10**8 else None
    )  # datetime: years 1 to 9999
    if when is not None:
        assert minute_of_week(local)[0] == when.weekday() * 1440 + when.hour * 60 + when.minute


@SETTINGS
@given(zone_checks())
def test_zone_checks_match_the_plain_loop_over_every_zone(case):
    zt, ms, zones, t, mask_id, limit = case
    for i, z in enumerate(np.unique(zones)):
        assert np.array_equal(zt.local(t, np.full(len(t), z)), ref_local(zt, t, np.full(len(t), z))), i
    assert np.array_equal(allowed_all(zt, ms, t, zones, mask_id), ref_allowed_all(zt, ms, t, zones, mask_id))
    assert np.array_equal(
        next_allowed_all(zt, ms, t, zones, mask_id, limit), ref_next_allowed_all(zt, ms, t, zones, mask_id, limit)
    )


@SETTINGS
@given(zone_checks())
def test_zone_checks_agree_with_zoneinfo(case):
    """Allowed means allowed by the mask at the wall-clock time of every zone of the row (zoneinfo per touch)."""
    zt, ms, zones, t, mask_id, limit = case
    inside = (t >= zt.t0) & (t < zt.t0 + (zt.n - 1) * 15)
    got = allowed_all(zt, ms, t, zones, mask_id)
    for i in np.flatnonzero(inside):
        utc = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=int(t[i]))
        expected = True
        for z in set(zones[i].tolist()):
            local = utc.astimezone(ZoneInfo(zt.zones[z]))
            expected &= bool(ms.masks[mask_id[i], local.weekday() * 1440 + local.hour * 60 + local.minute])
        assert got[i] == expected, (i, utc, [zt.zones[z] for z in zones[i]])
    # the next allowed minute is allowed, and no minute between is
    moved = next_allowed_all(zt, ms, t, zones, mask_id, limit)
    for i in np.flatnonzero(inside & (moved != NEVER) & (moved < zt.t0 + (zt.n - 1) * 15)):
        span = np.arange(t[i], moved[i] + 1)
        ok = allowed_all(zt, ms, span, np.repeat(zones[i : i + 1], span.size, axis=0), np.full(span.size, mask_id[i]))
        assert ok[-1] and not ok[:-1].any(), i


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        ("2025-03-09 06:30", "2025-03-09 07:00"),  # 01:30 EST; the clock springs to 03:00 EDT at 07:00 UTC
        ("2025-11-02 05:30", "2025-11-02 08:00"),  # 01:30 EDT; after falling back, 03:00 EST is 08:00 UTC
    ],
)
def test_a_wait_across_a_change_of_clock_lands_on_the_first_allowed_minute(utc, expected):
    """Sends allowed 03:00-04:00 in New York: the first allowed minute, not a wait counted on the old clock."""
    minutes = int(pd.Timestamp(utc, tz="UTC").value // 60_000_000_000)
    zt = ZoneTable(["America/New_York"], minutes - 3 * 1440, minutes + 3 * 1440)
    ms = MaskSet()
    mask = ms.add(weekly_mask([TimeWindow(start="03:00", end="04:00")]))
    one = np.array([[0]], dtype=np.int64)
    moved = next_allowed_all(zt, ms, np.array([minutes]), one, np.array([mask]), np.array([minutes + 2 * 1440]))
    assert pd.Timestamp(int(moved[0]) * 60, unit="s", tz="UTC") == pd.Timestamp(expected, tz="UTC")
    local = pd.Timestamp(expected, tz="UTC").tz_convert("America/New_York")
    assert local.hour == 3 and local.minute == 0


# --- whole plans


@st.composite
def scenarios(draw):
    start = draw(st.sampled_from(["2026-03-07", "2026-03-28", "2026-10-24", "2026-11-01"]))
    t0 = pd.Timestamp(start, tz="UTC")
    rows, ledger = [], []
    for i in range(draw(st.integers(1, 9))):
        zones = draw(st.lists(st.sampled_from(ZONES[1:]), min_size=1, max_size=3, unique=True))
        cid = f"c{i}"
        rows.append(
            {
                "customer_id": cid,
                "timezone": zones[0],
                "timezones": "|".join(zones),
                "country": draw(st.sampled_from(["US", "CA", "GB", "AU"])),
                "region": draw(st.sampled_from(["FL", "ON", None])),
                "has_valid_email": True,
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
            }
        )
        for channel in ("email", "sms"):
            for m in sorted(draw(st.lists(st.integers(-30 * 1440, 12 * 1440), max_size=3, unique=True))):
                status = draw(st.sampled_from(["subscribed", "subscribed", "unsubscribed"]))
                ledger.append((cid, channel, status, t0 + pd.Timedelta(minutes=m)))
    consents = pd.DataFrame(ledger, columns=["customer_id", "channel", "status", "recorded_at"])
    consents["recorded_at"] = pd.to_datetime(consents["recorded_at"], utc=True)
    journeys = []
    for j in range(draw(st.integers(1, 3))):
        steps = draw(st.integers(1, 4))
        nodes = []
        for s in range(steps):
            last = s == steps - 1
            channel = draw(st.sampled_from(["email", "sms"]))
            nodes.append(
                {
                    "id": f"s{s}",
                    "type": f"send_{channel}",
                    "template": "cart_abandonment",
                    "transactional": draw(st.booleans()) and draw(st.booleans()),
                    "next": "end" if last else f"d{s}",
                }
            )
            if not last:
                nodes.append(
                    {"id": f"d{s}", "type": "delay", "duration": f"{draw(st.integers(1, 40))}h", "next": f"s{s + 1}"}
                )
        nodes.append({"id": "end", "type": "end"})
        trigger = draw(
            st.sampled_from([{"type": "segment", "segment": "all"}, {"type": "event", "event": "add_to_cart"}])
        )
        journeys.append(
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
    caps = [{"channel": "any", "max": draw(st.integers(1, 3)), "per": draw(st.sampled_from(["6h", "1d", "7d"]))}]
    policy = ContactPolicy().with_overrides(
        {
            "caps": caps,
            "max_defer": draw(st.sampled_from(["6h", "24h", "72h"])),
            "on_break": {"quiet_hours": draw(st.sampled_from(["defer", "suppress"]))},
        }
    )
    return {
        "audience": pd.DataFrame(rows),
        "journeys": journeys,
        "policy": policy,
        "start": start,
        "days": draw(st.integers(2, 12)),
        "seed": draw(st.integers(0, 2**31)),
        "consents": consents if draw(st.booleans()) else None,
    }


def _run(sc, **kw):
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


@SETTINGS
@given(scenarios(), st.integers(1, 4))
def test_plan_is_the_plain_reference_plan_on_any_number_of_workers(sc, chunk):
    with pytest.MonkeyPatch.context() as mp:
        expected = reference_plan(
            mp,
            sc["audience"],
            sc["journeys"],
            sc["policy"],
            start=sc["start"],
            days=sc["days"],
            seed=sc["seed"],
            consents=sc["consents"],
            progress=False,
        )
    assert_frame_equal(_run(sc, workers=1), expected)
    assert_frame_equal(_run(sc, workers=2, chunk_size=chunk), expected)


def test_sample_plan_is_the_reference_plan(sample_workspace):
    """The sample strategy's journeys over the sample data: the default run, two processes and the reference."""
    people = sample_workspace._plan_audience(sample_workspace.strategy.policy)
    args = (people, sample_workspace.journeys, sample_workspace.strategy.policy)
    consents = sample_workspace.dataset.consents
    kw = {"start": "2026-11-01", "days": 45, "seed": 3, "consents": consents, "progress": False}
    with pytest.MonkeyPatch.context() as mp:
        expected = reference_plan(mp, *args, **kw)
    assert len(expected) > 1000 and expected["status"].nunique() == 3
    fast = simulate(*args, **kw)
    assert_frame_equal(fast, expected)
    assert fast.attrs == expected.attrs
    parallel = simulate(*args, **kw, workers=2, chunk_size=97)
    assert_frame_equal(parallel, expected)
    assert parallel.attrs["journey_stats"] == expected.attrs["journey_stats"]


def test_rates_and_draw_keys_per_chunk_are_those_of_the_whole(assigned):
    """A chunk's rates (from the whole audience's priors) and draw keys are the whole audience's rows."""
    whole_rates = outcome_rates(assigned)
    whole_keys = customer_hash(assigned["customer_id"].astype("string").to_numpy())
    priors = outcome_priors(assigned)
    for lo, hi in [(0, 1), (0, 37), (37, 200), (len(assigned) - 5, len(assigned))]:
        part = assigned.iloc[lo:hi].reset_index(drop=True)
        assert_frame_equal(outcome_rates(part, priors=priors), whole_rates.iloc[lo:hi].reset_index(drop=True))
        assert np.array_equal(customer_hash(part["customer_id"].astype("string").to_numpy()), whole_keys[lo:hi])


def test_an_error_in_a_worker_is_raised_as_without_workers():
    """A chunk that fails in a worker process fails again here with the simulator's own error."""
    audience = pd.DataFrame({"customer_id": [f"c{i}" for i in range(6)], "segment_all": True, "timezone": "UTC"})
    journey = Journey.model_validate(
        {
            "id": "j",
            "name": "J",
            "trigger": {"type": "segment", "segment": "all"},
            "entry": "c",
            "nodes": [
                {
                    "id": "c",
                    "type": "condition_split",
                    "condition": {"kind": "profile", "field": "no_such_field", "op": "eq", "value": 1},
                    "on_true": "end",
                    "on_false": "end",
                },
                {"id": "end", "type": "end"},
            ],
        }
    )
    kw = {"start": "2026-11-01", "days": 5, "seed": 1, "progress": False}
    with pytest.raises(JourneyError, match="no_such_field") as alone:
        simulate(audience, [journey], None, **kw, workers=1)
    with pytest.raises(JourneyError, match="no_such_field") as parallel:
        simulate(audience, [journey], None, **kw, workers=2, chunk_size=2)
    assert str(parallel.value) == str(alone.value)
