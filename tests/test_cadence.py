"""The simulation: cascades, goal exits, adaptive delays, reproducibility, summaries and the command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from workbench import cadence
from workbench.journeys import cart_abandonment
from workbench.models.errors import JourneyError, WorkbenchError
from workbench.models.journey import Journey
from workbench.policy import ContactPolicy

from .conftest import AS_OF, SAMPLE, STRATEGY

OPEN = ContactPolicy().with_overrides({"caps": [], "spacing": {"any_touch": "0m", "same_moment": "0m"}})


def people(n=200, **extra):
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(n)],
            "timezone": "America/New_York",
            "timezones": "America/New_York",
            "country": "US",
            "region": "NY",
            "has_valid_email": True,
            "has_valid_phone": True,
            "email_consent": "subscribed",
            "sms_consent": "subscribed",
            "engagement_score": 3.0,
            "segment_all": True,
            "email_sends": 10,
            "email_opens": 8,
            "email_clicks": 4,
            "sms_sends": 10,
            "sms_clicks": 3,
            "cart_adds_7d": 1,
            "orders_365d": 0,
            **extra,
        }
    )


def chain(nodes, entry="email", trigger=None, **kw):
    return Journey.model_validate(
        {
            "id": kw.pop("id", "j"),
            "name": "J",
            "entry": entry,
            "nodes": nodes,
            "trigger": trigger or {"type": "segment", "segment": "all"},
            **kw,
        }
    )


EMAIL_THEN_SMS = [
    {"id": "email", "type": "send_email", "template": "cart_abandonment", "next": "wait"},
    {"id": "wait", "type": "delay", "duration": "24h", "next": "clicked"},
    {
        "id": "clicked",
        "type": "condition_split",
        "condition": {"kind": "engagement", "node": "email"},
        "on_true": "end",
        "on_false": "sms",
    },
    {"id": "sms", "type": "send_sms", "template": "cart_abandonment", "next": "end"},
    {"id": "end", "type": "end"},
]


def test_sms_24h_after_the_email_only_if_the_email_was_not_clicked():
    plan = cadence.simulate(
        people(), [chain(EMAIL_THEN_SMS)], ContactPolicy(), start="2026-11-02", days=7, seed=3, progress=False
    )
    email = plan[plan["step_id"] == "email"].set_index("customer_id")
    sms = plan[plan["step_id"] == "sms"].set_index("customer_id")
    assert len(email) == 200 and (email["status"] == "kept").all()
    clicked = email.index[email["clicked"]]
    assert 0.2 < len(clicked) / 200 < 0.7
    assert set(sms.index) == set(email.index) - set(clicked)
    gap = sms["planned_at"] - email.loc[sms.index, "scheduled_at"]
    assert (gap == pd.Timedelta("24h")).all()


def test_sms_first_customers_get_the_sms_first_and_the_email_as_fallback():
    aud = people(60, preferred_channel=["sms"] * 30 + ["email"] * 30)
    aud.loc[20:29, "sms_consent"] = "unsubscribed"
    journey = cart_abandonment(channel_order="preference", holdout_percent=0, sms_delay="3h", first_delay="1h")
    plan = cadence.simulate(aud, [journey], OPEN, start="2026-11-02T14:00Z", days=3, seed=1, progress=False)
    first = plan[plan["step_id"].str.startswith("step1")].sort_values("planned_at").groupby("customer_id").first()
    channel = first["channel"].astype(str)
    assert (channel.loc[[f"c{i:03d}" for i in range(20)]] == "sms").all()
    assert (channel.loc[[f"c{i:03d}" for i in range(20, 60)]] == "email").all()
    step1 = plan[plan["step_id"].str.startswith("step1")]
    for cid, rows in step1[step1["customer_id"].isin([f"c{i:03d}" for i in range(20)])].groupby("customer_id"):
        sms = rows[rows["channel"] == "sms"].iloc[0]
        assert (rows["channel"] == "email").any() != bool(sms["clicked"]), cid


def test_a_purchase_exits_the_journey():
    nodes = [
        {"id": "email", "type": "send_email", "template": "win_back", "next": "wait"},
        {"id": "wait", "type": "delay", "duration": "10d", "next": "email2"},
        {"id": "email2", "type": "send_email", "template": "win_back", "next": "end"},
        {"id": "end", "type": "end"},
    ]
    buyers = people(100, orders_365d=180)
    plan = cadence.simulate(buyers, [chain(nodes)], OPEN, start="2026-11-02", days=30, seed=5, progress=False)
    stats = plan.attrs["journey_stats"][0]
    second = (plan["step_id"] == "email2").sum()
    assert stats["goal_exits"] > 50 and second == 100 - stats["goal_exits"]
    idle = cadence.simulate(people(100), [chain(nodes)], OPEN, start="2026-11-02", days=30, seed=5, progress=False)
    idle_exits = idle.attrs["journey_stats"][0]["goal_exits"]  # only purchases after a click
    assert idle_exits < 15 and (idle["step_id"] == "email2").sum() == 100 - idle_exits


@pytest.mark.parametrize(("score", "tier", "hours"), [(10.0, "engaged", 18), (3.0, "steady", 24), (1.0, "fading", 36)])
def test_adaptive_cadence_scales_delays(score, tier, hours):
    nodes = [
        {"id": "email", "type": "send_email", "template": "win_back", "next": "wait"},
        {"id": "wait", "type": "delay", "duration": "24h", "next": "email2"},
        {"id": "email2", "type": "send_email", "template": "win_back", "next": "end"},
        {"id": "end", "type": "end"},
    ]
    plan = cadence.simulate(
        people(1, engagement_score=score),
        [chain(nodes)],
        OPEN.with_overrides({"preferred_hours": {}}),
        start="2026-11-02T15:00Z",
        days=5,
        seed=1,
        progress=False,
    )
    assert plan["engagement_tier"].astype(str).tolist() == [tier, tier]
    assert plan["planned_at"].iloc[1] - plan["scheduled_at"].iloc[0] == pd.Timedelta(hours=hours)


def test_dormant_customers_lose_sms_and_fall_back_to_email():
    journey = cart_abandonment(channel_order="sms_first", holdout_percent=0)
    plan = cadence.simulate(
        people(5, engagement_score=0.0), [journey], OPEN, start="2026-11-02T14:00Z", days=3, seed=1, progress=False
    )
    assert (plan["channel"] == "email").all() and len(plan) >= 5


def test_a_cycle_is_a_journey_error():
    nodes = [
        {"id": "email", "type": "send_email", "template": "x", "next": "wait"},
        {"id": "wait", "type": "delay", "duration": "1d", "next": "email"},
    ]
    with pytest.raises(JourneyError, match="cycle"):
        cadence.simulate(people(2), [chain(nodes)], OPEN, start="2026-11-02", days=3, seed=1, progress=False)


def test_bad_inputs_say_how_to_fix():
    with pytest.raises(WorkbenchError, match="customer_id"):
        cadence.simulate(pd.DataFrame({"x": [1]}), [], None, start="2026-11-02", days=3, seed=1)
    with pytest.raises(WorkbenchError, match="Fix"):
        cadence.simulate(people(2), [], None, start="2026-11-02", days=0, seed=1)
    with pytest.raises(WorkbenchError, match="segment 'nobody'"):
        cadence.simulate(
            people(2),
            [chain(EMAIL_THEN_SMS, trigger={"type": "segment", "segment": "nobody"})],
            None,
            start="2026-11-02",
            days=3,
            seed=1,
            progress=False,
        )


def test_engagement_score_decays_by_half_life():
    from workbench.contracts import from_frames

    orders = pd.DataFrame(
        {
            "order_id": ["1", "2"],
            "customer_id": ["a", "b"],
            "amount": [10.0, 10.0],
            "ordered_at": pd.to_datetime(["2026-10-01T00:00Z", "2026-10-31T00:00Z"], utc=True),
        }
    )
    ds = from_frames(orders)
    scores = cadence.engagement_score(ds, as_of="2026-10-31T00:00Z", half_life_days=30).set_index("customer_id")
    assert scores.loc["a", "engagement_score"] == pytest.approx(2.5)
    assert scores.loc["b", "engagement_score"] == pytest.approx(5.0)


@pytest.fixture(scope="module")
def sample_plan():
    from workbench.application import Workspace
    from workbench.io import load_dataset, load_strategy

    ds = load_dataset(SAMPLE)
    strategy = load_strategy(STRATEGY)
    made = Workspace.create(ds, strategy, as_of=AS_OF).plan(start="2026-11-01", days=30, seed=7)
    return made.plan, made.audience, ds, strategy


def ds_consents(sample_plan):
    ledger = sample_plan[2].consents
    return ledger[ledger["status"] == "subscribed"]


def test_sample_plan_is_complete_and_explained(sample_plan):
    plan, audience, _, strategy = sample_plan
    assert list(plan.columns) == cadence.PLAN_COLUMNS
    assert set(plan["status"].astype(str)) == {"kept", "deferred", "suppressed"}
    assert (plan.loc[plan["status"] != "kept", "reason"].astype(str) != "").all()
    assert (plan.loc[plan["status"] == "kept", "reason"].astype(str) == "").all()
    assert str(plan["scheduled_at"].dt.tz) == "UTC"
    enabled = {s.id for s in strategy.journeys if s.enabled}
    assert set(plan["journey_id"].astype(str)) <= enabled and len(set(plan["journey_id"].astype(str))) >= 5
    went = plan[plan["status"] != "suppressed"]
    assert (went["scheduled_at"] >= went["planned_at"]).all()
    never_subscribed = ~audience["customer_id"].isin(ds_consents(sample_plan)["customer_id"])
    assert not went["customer_id"].isin(audience.loc[never_subscribed, "customer_id"]).any()


def test_sample_plan_is_reproducible_and_seed_dependent(sample_plan):
    from workbench.application import Workspace

    _, _, ds, strategy = sample_plan
    fresh = Workspace.create(ds, strategy, as_of=AS_OF)  # nothing reused from the fixture's workspace
    again = fresh.plan(start="2026-11-01", days=30, seed=7).plan
    assert_frame_equal(sample_plan[0], again)
    assert fresh.plan(start="2026-11-01", days=30, seed=7).plan is again  # asked again: the same plan, kept
    other = fresh.plan(start="2026-11-01", days=30, seed=8).plan
    assert not sample_plan[0]["clicked"].equals(other["clicked"]) or len(other) != len(again)


def test_summaries(sample_plan):
    plan, audience, _, _ = sample_plan
    tables = cadence.summarize(plan, audience, days=30)
    per_week = tables["touches_per_week"].set_index("segment")
    assert per_week.loc["all", "customers"] == len(audience)
    assert per_week.loc["unreachable", "mean"] < per_week.loc["all", "mean"] / 10
    sent = plan["status"].isin(["kept", "deferred"])
    assert per_week.loc["all", "mean"] == pytest.approx(sent.sum() / len(audience) / (30 / 7))
    reasons = tables["suppressions_by_reason"]
    assert reasons["touches"].sum() == (plan["status"] != "kept").sum()
    daily = tables["daily_volume"]
    assert daily["sent"].sum() == sent.sum() and set(daily["channel"]) <= {"email", "sms"}
    hours = tables["send_hours"]
    assert hours["touches"].sum() == sent.sum() and hours["hour"].between(0, 23).all()
    coll = tables["collisions"]
    assert list(coll.columns) == ["journey", "other", "overlaps", "deferred", "suppressed"]
    assert (coll["journey"] != coll["other"]).all()


def test_simulate_command_writes_the_plan_and_summaries(tmp_path, capsys):
    from workbench.cli import main

    out = tmp_path / "plan"
    args = ["simulate", "--strategy", str(STRATEGY), "--data", str(SAMPLE), "--start", "2026-11-01", "--days", "14"]
    assert main([*args, "--seed", "3", "--as-of", AS_OF, "--policy", "{max_defer: 24h}", "--out", str(out)]) == 0
    assert f"send_plan: {out / 'send_plan.parquet'}" in capsys.readouterr().out
    plan = pd.read_parquet(out / "send_plan.parquet")
    assert list(plan.columns) == cadence.PLAN_COLUMNS and len(plan) > 100
    for name in ("touches_per_week", "collisions", "suppressions_by_reason", "daily_volume", "send_hours"):
        assert (out / "cadence" / f"{name}.csv").exists()


def test_apply_policy_matches_the_kernel_inside_simulate(sample_plan):
    plan, audience, ds, strategy = sample_plan
    some = plan[plan["customer_id"].isin(plan["customer_id"].drop_duplicates().iloc[:300])]
    touches = some[["customer_id", "journey_id", "channel", "planned_at", "transactional"]].astype(
        {"journey_id": "string", "channel": "string"}
    )
    again = cadence.apply_policy(touches, audience, strategy.policy, consents=ds.consents)
    assert np.array_equal(again["status"].astype(str).to_numpy(), some["status"].astype(str).to_numpy())
    assert (again["scheduled_at"].to_numpy() == some["scheduled_at"].to_numpy()).all()


def test_charts_build_from_the_summaries(sample_plan):
    from workbench import charts

    plan, audience, _, _ = sample_plan
    tables = cadence.summarize(plan, audience, days=30)
    specs = [
        charts.touches_per_week_chart(cadence.touches_per_customer_week(plan, audience, days=30)).to_dict(),
        charts.send_hour_heatmap(tables["send_hours"]).to_dict(),
        charts.suppressions_chart(tables["suppressions_by_reason"]).to_dict(),
        charts.daily_volume_chart(tables["daily_volume"]).to_dict(),
    ]
    assert [s["mark"]["type"] if isinstance(s["mark"], dict) else s["mark"] for s in specs] == [
        "bar",
        "rect",
        "bar",
        "bar",
    ]
    heat = specs[1]
    rows = next(iter(heat["datasets"].values()))
    assert len(rows) <= 7 * 24 and sum(r["touches"] for r in rows) == plan["status"].isin(["kept", "deferred"]).sum()
    assert charts.suppressions_chart(tables["suppressions_by_reason"].iloc[0:0]).to_dict()["mark"]["type"] == "text"


def test_summaries_of_a_plan_where_no_journey_holds_another_back(sample_plan):
    """One journey alone: no collisions, and every summary still builds (it used to fail in collisions)."""
    from workbench.application import Workspace

    _, _, ds, strategy = sample_plan
    ws = Workspace.create(ds, strategy, as_of=AS_OF)
    made = ws.plan(start="2026-11-01", days=30, seed=7, journeys=[ws.journey("cart_recovery")])
    alone, audience = made.plan, made.audience
    assert len(alone) and set(alone["journey_id"].astype(str)) == {"cart_recovery"}
    tables = cadence.summarize(alone, audience, days=30)
    assert tables["collisions"].empty
    assert list(tables["collisions"].columns) == ["journey", "other", "overlaps", "deferred", "suppressed"]
    assert tables["daily_volume"]["sent"].sum() == alone["status"].isin(["kept", "deferred"]).sum()
