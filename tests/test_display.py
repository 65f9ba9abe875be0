"""Tables for people and the headlines each report opens with, checked against figures computed here."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import display


def _cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, flags=re.S) for r in rows]


def test_table_formats_numbers_dates_and_links_for_people(tmp_path):
    frame = pd.DataFrame(
        {
            "sent": [143710.0, 18238.0],
            "open_rate": [0.352399, np.nan],
            "revenue": [48669.4812, 4316.0004],
            "sent_at": pd.to_datetime(["2026-10-31 09:15:42.123456", "2026-11-01 17:00:00.000000"], utc=True),
            "day": pd.to_datetime(["2026-10-31", "2026-11-01"], utc=True),
            "ok": [True, False],
            "file": [str(tmp_path / "audiences" / "vip.csv"), "plain/relative.csv"],
        },
        index=[7, 9],
    )
    html = display.table(frame, base=tmp_path)._repr_html_()
    head, first, second = _cells(html)
    assert head == ["sent", "open_rate", "revenue", "sent_at (UTC)", "day (UTC)", "ok", "file"]  # no index
    assert first[:6] == ["143,710", "35.2%", "48,669", "2026-10-31 09:15", "2026-10-31", "yes"]
    assert second[:6] == ["18,238", "–", "4,316", "2026-11-01 17:00", "2026-11-01", "no"]
    assert first[6] == '<a href="audiences/vip.csv" target="_blank">audiences/vip.csv</a>'
    assert "plain/relative.csv" in second[6]
    assert "+00:00" not in html and ".123456" not in html and "143710.0" not in html


def test_long_tables_fold_and_empty_tables_say_why():
    long = pd.DataFrame({"segment": [f"s{i}" for i in range(30)], "customers": range(30)})
    html = display.table(long, max_rows=10)._repr_html_()
    assert html.count("<details>") == 1 and "Show the other 20 of 30 rows" in html
    assert len(_cells(html.split("<details>")[0])) == 11  # header + 10 rows before the fold
    empty = display.table(long.iloc[:0], caption="Collisions", empty="No collision within 24 hours.")._repr_html_()
    assert "No collision within 24 hours." in empty and "<table" not in empty


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=1, max_size=20))
def test_whole_numbers_read_as_integers_whatever_their_dtype(values):
    frame = pd.DataFrame({"n": pd.Series(values, dtype="float64")})
    text = display.format_frame(frame)["n"].tolist()
    assert text == [f"{v:,}" for v in values]


def test_audience_headline_counts_reach_from_the_profiles(sample_workspace):
    section = display.audience_headline(sample_workspace)
    html = section.parts[0].data
    reach = sample_workspace.assigned["channel_reach"].value_counts()
    email = int(reach.get("email_and_sms", 0) + reach.get("email_only", 0))
    sms = int(reach.get("email_and_sms", 0) + reach.get("sms_only", 0))
    total = len(sample_workspace.assigned)
    assert f"{email:,}" in html and f"{email / total:.1%} of customers" in html
    assert f"{sms:,}" in html and f"{sms / total:.1%} of customers" in html
    assert "no overrides" in section.parts[1].data


def test_audience_headline_shows_what_an_override_changed(sample_workspace):
    moved = sample_workspace.with_lifecycle(active_days=150)
    changes = display.audience_headline(moved).parts[1]
    frame = changes.frame.set_index(["kind", "segment"])
    before = sample_workspace.segment_sizes.set_index(["kind", "segment"])["customers"]
    after = moved.segment_sizes.set_index(["kind", "segment"])["customers"]
    assert (
        frame.loc[("lifecycle", "active"), "change"] == after[("lifecycle", "active")] - before[("lifecycle", "active")]
    )
    assert (frame["change"] != 0).all() and len(frame) == int((after != before).sum())


def test_value_summary_shows_parameters_notes_and_the_check(sample_workspace):
    parts = display.value_summary(sample_workspace).parts
    params = parts[0].frame
    assert set(params["param"]) >= {"r", "alpha", "a", "b", "p", "q", "v"}
    assert any(type(p).__name__ in ("Chart", "LayerChart") or "No calibration" in str(p) for p in parts)


def test_cadence_headline_peak_day_and_rules(sample_workspace):
    plan = sample_workspace.plan(days=21, seed=3)
    html = display.cadence_headline(plan).parts[0].data
    sent = plan.plan[plan.plan["status"].isin(["kept", "deferred"])]
    per_day = sent.groupby(sent["scheduled_at"].dt.floor("D")).size()
    assert f"{per_day.idxmax():%a %d %b}" in html and f"{int(per_day.max()):,} touches" in html
    weekly = len(sent) / len(plan.audience) / (21 / 7)
    assert f"{weekly:.2f}" in html
    top_rule = plan.plan.loc[plan.plan["status"] != "kept", "reason"].astype(str).value_counts().index[0]
    assert top_rule in html


def test_messages_headline_gives_the_verdict_and_sms_cost():
    lint = pd.DataFrame(
        {
            "rule": ["sms_segments", "subject_length"],
            "severity": ["error", "warning"],
            "channel": ["sms", "email"],
            "moment": ["win_back", "welcome"],
        }
    )
    lint.attrs["sms_cost"] = pd.DataFrame(
        {
            "moment": ["win_back", "welcome"],
            "variant": ["A", "A"],
            "offer": ["", ""],
            "customers": [24, 24],
            "one_segment_share": [0.5, 1.0],
            "segments_per_1000": [1500.0, 1000.0],
        }
    )
    section = display.messages_headline(lint)
    html = section.parts[0].data
    assert "export blocked" in html and "sms_segments" in html and "1,250" in html and "1,500" in html
    clean = lint.iloc[:0].copy()
    clean.attrs["sms_cost"] = lint.attrs["sms_cost"]
    assert "ready to export" in display.messages_headline(clean).parts[0].data


def test_winning_arms_are_significant_positive_lifts_only():
    results = pd.DataFrame(
        {
            "arm": ["A", "B", "C", "D"],
            "metric": ["click"] * 4,
            "test": ["control", "score", "score", "score"],
            "n": [100, 100, 100, 100],
            "lift_vs_control": [np.nan, 0.02, -0.03, 0.01],
            "ci_low": [np.nan, 0.01, -0.05, -0.01],
            "ci_high": [np.nan, 0.03, -0.01, 0.03],
            "relative_lift": [np.nan, 0.2, -0.3, 0.1],
            "p_adjusted": [np.nan, 0.01, 0.01, 0.3],
            "significant": [None, True, True, False],
        }
    )
    won = display.winning_arms(results)
    assert won["arm"].tolist() == ["B"]


def test_channel_return_and_roi():
    summary = pd.DataFrame(
        {
            "channel": ["email", "email", "email", "sms", "sms", "sms"],
            "metric": ["sent", "delivered", "revenue_per_recipient"] * 2,
            "value": [1000, 900, 0.5, 200, 180, 2.0],
            "numerator": [1000, 900, 450.0, 200, 180, 360.0],
        }
    )
    ret = display.channel_return(summary, cost_per_1000={"sms": 10.0}).set_index("channel")
    assert ret.loc["email", "revenue per 1,000 delivered"] == pytest.approx(450 / 900 * 1000)
    assert ret.loc["sms", "ROI"] == pytest.approx((360 - 2.0) / 2.0)
    assert np.isnan(ret.loc["email", "ROI"])


def test_export_verdicts_name_what_each_target_cannot_carry(sample_workspace):
    exports = sample_workspace.exports(["klaviyo", "dittofeed", "mermaid"])
    verdicts = display.export_verdicts(exports).set_index("target")
    for target, result in exports.items():
        summary = result.report_dict()["summary"]
        assert verdicts.loc[target, "files"] == len(result.files)
        if summary.get("not_carried"):
            assert f"except {summary['not_carried']} item" in verdicts.loc[target, "verdict"]
    assert verdicts.loc["mermaid", "verdict"].startswith("carries everything natively")


def test_metrics_by_channel_names_each_denominator():
    summary = pd.DataFrame(
        {
            "channel": ["email", "sms", "email", "sms"],
            "metric": ["sent", "sent", "click_rate", "click_rate"],
            "value": [1000.0, 200.0, 0.0736, 0.16],
            "denominator_name": ["", "", "delivered", "delivered"],
        }
    )
    frame = display.metrics_by_channel(summary).frame.set_index("metric")
    assert frame.loc["sent", "email"] == "1,000" and frame.loc["click_rate (÷ delivered)", "sms"] == "16.0%"
    assert "No message history" in display.metrics_by_channel(summary.iloc[:0])._repr_html_()
