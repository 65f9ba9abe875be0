"""Segments: RFM grid coverage, quintiles, lifecycle thresholds, intent, reach, rules from the strategy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.models.errors import StrategyError
from workbench.models.strategy import LifecycleThresholds, SegmentDefinition
from workbench.segments import (
    RFM_SEGMENT_RULES,
    assign,
    audience,
    channel_reach,
    evaluate_rules,
    intent,
    lifecycle_stage,
    overlap_matrix,
    rfm_scores,
    rfm_segments,
    segment_sizes,
)


def test_rfm_rules_cover_every_cell_exactly_once():
    for r in range(1, 6):
        for fm in range(1, 6):
            first = [name for name, (rl, rh), (fl, fh) in RFM_SEGMENT_RULES if rl <= r <= rh and fl <= fm <= fh]
            assert first, f"cell r={r} fm={fm} has no segment"


def test_rfm_segments_on_a_hand_built_grid():
    df = pd.DataFrame(
        {"r_score": [5, 3, 5, 4, 1, 2, 2, 1, None], "fm_score": [5, 4, 1, 2, 5, 3, 1, 2, None]}, dtype="Int64"
    )
    got = rfm_segments(df)["rfm_segment"].tolist()
    assert got == [
        "champions",
        "loyal",
        "new",
        "potential_loyalists",
        "cannot_lose",
        "at_risk",
        "hibernating",
        "lost",
        "prospects",
    ]


def test_rfm_scores_are_quintiles_and_skip_non_buyers():
    n = 50
    df = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n + 1)],
            "orders_total": [*range(1, n + 1), 0],
            "days_since_last_order": [*range(n, 0, -1), np.nan],
            "revenue_total": [*(10.0 * i for i in range(1, n + 1)), 0.0],
        }
    )
    out = rfm_scores(df)
    assert out["r_score"].iloc[:n].value_counts().to_dict() == {1: 10, 2: 10, 3: 10, 4: 10, 5: 10}
    assert out.loc[n - 1, ["r_score", "f_score", "m_score"]].tolist() == [5, 5, 5]  # most recent, most orders
    assert out.loc[0, ["r_score", "f_score", "m_score"]].tolist() == [1, 1, 1]
    assert out.loc[n, ["r_score", "f_score", "m_score"]].isna().all()
    assert "r_score" not in df.columns  # input untouched


def test_lifecycle_thresholds_are_parameters():
    df = pd.DataFrame(
        {
            "orders_total": [0, 1, 3, 3, 3, 3],
            "T": [0, 10, 400, 400, 400, 400],
            "days_since_last_order": [np.nan, 10, 50, 120, 300, 500],
        }
    )
    assert lifecycle_stage(df)["lifecycle_stage"].tolist() == [
        "prospect",
        "new",
        "active",
        "at_risk",
        "lapsed",
        "churned",
    ]
    wide = LifecycleThresholds(new_days=5, active_days=150, at_risk_days=200, lapsed_days=600)
    assert lifecycle_stage(df, thresholds=wide)["lifecycle_stage"].tolist() == [
        "prospect",
        "active",
        "active",
        "active",
        "lapsed",
        "lapsed",
    ]


def test_lifecycle_thresholds_must_grow():
    with pytest.raises(ValueError, match="must grow"):
        LifecycleThresholds(active_days=200, at_risk_days=100)


def test_intent_labels():
    t = pd.Timestamp("2024-03-30", tz="UTC")
    df = pd.DataFrame(
        {
            "cart_adds_7d": [1, 1, 0, 0, 0],
            "product_views_7d": [1, 1, 4, 2, 0],
            "site_visits_7d": [1, 1, 3, 1, 0],
            "last_cart_at": [t, t, pd.NaT, pd.NaT, pd.NaT],
            "last_order_at": [t - pd.Timedelta(days=3), t + pd.Timedelta(hours=1), pd.NaT, pd.NaT, pd.NaT],
            "days_since_last_order": [3, 0, np.nan, np.nan, np.nan],
        }
    )
    # row 1 carted and then ordered: neither a cart nor a browse abandoner
    assert intent(df)["intent"].tolist() == ["cart_abandoner", "none", "high_intent", "browse_abandoner", "none"]


def test_channel_reach():
    df = pd.DataFrame({"can_email": [True, True, False, False], "can_sms": [True, False, True, False]})
    assert channel_reach(df)["channel_reach"].tolist() == ["email_and_sms", "email_only", "sms_only", "neither"]


def test_rule_segments_and_overlap(assigned, strategy):
    names = [s.name for s in strategy.segments]
    overlap = overlap_matrix(assigned)
    assert list(overlap.index) == names
    assert (overlap.to_numpy() == overlap.to_numpy().T).all()
    for name in names:
        assert overlap.loc[name, name] == assigned[f"segment_{name}"].sum()
    sms = assigned["segment_cart_abandoners_sms"]
    assert (assigned.loc[sms, "intent"] == "cart_abandoner").all() and assigned.loc[sms, "can_sms"].all()
    assert overlap.loc["unreachable", "sms_first"] == 0


def test_segment_sizes_and_audience(assigned):
    sizes = segment_sizes(assigned).set_index(["kind", "segment"])
    assert sizes.loc[("reach", "neither"), "customers"] == (~assigned["can_email"] & ~assigned["can_sms"]).sum()
    assert sizes.xs("lifecycle")["customers"].sum() == len(assigned)
    aud = audience(assigned, "vip")
    assert len(aud) == sizes.loc[("rule", "vip"), "customers"]
    assert {"customer_id", "email_consent", "sms_consent"} <= set(aud.columns)


def test_bad_rule_names_segment_and_suggests_column(sample_profiles):
    bad = [SegmentDefinition(name="typo", rule="cart_ads_7d > 0")]
    with pytest.raises(StrategyError, match=r"segment 'typo'.*cart_ads_7d.*did you mean cart_adds_7d"):
        evaluate_rules(sample_profiles, bad)


def test_assign_adds_all_columns(sample_profiles, strategy):
    out = assign(sample_profiles, strategy)
    for col in ("r_score", "rfm_segment", "lifecycle_stage", "intent", "channel_reach", "segment_vip"):
        assert col in out.columns
    assert len(out) == len(sample_profiles)


def test_assign_leaves_the_profiles_as_they_were(sample_profiles, strategy):
    before = sample_profiles.copy(deep=True)
    out = assign(sample_profiles, strategy)
    pd.testing.assert_frame_equal(sample_profiles, before)
    # editing the result, shared columns included, does not reach the input
    out.loc[0, "frequency"] = -1.0
    out.loc[0, "customer_id"] = "edited"
    pd.testing.assert_frame_equal(sample_profiles, before)
