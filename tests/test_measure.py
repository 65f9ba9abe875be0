"""Metrics, attribution and experiment statistics against hand-built data and statsmodels/scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats import proportion as smp
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import tt_ind_solve_power
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from workbench import measure
from workbench.io import load_strategy, sample_strategy
from workbench.measure import (
    AttributionWindows,
    HealthThresholds,
    MeasurementSettings,
    attribute,
    attribution_credits,
    channel_metrics,
    compare_arms,
    health_alerts,
    markov_attribution,
)
from workbench.models.errors import DataContractError, WorkbenchError

#: The sample strategy's measurement settings: revenue in USD, the sample's other currencies at its stated rates.
SAMPLE = measure.settings_from(load_strategy(sample_strategy()))

T0 = pd.Timestamp("2026-10-01T12:00:00Z")


def ts(hours: float | None) -> pd.Timestamp | None:
    return None if hours is None else T0 + pd.Timedelta(hours=hours)


def messages_frame(rows: list[dict]) -> pd.DataFrame:
    """Messages with every timestamp column, from rows giving hours after T0."""
    out = []
    for i, r in enumerate(rows):
        sent = r.get("sent", 0.0)
        bounced = r.get("bounced", False)
        out.append(
            {
                "message_id": r.get("id", f"M{i}"),
                "customer_id": r.get("customer", "C1"),
                "channel": r["channel"],
                "journey_id": r.get("journey", "j"),
                "step_id": r.get("step", "s1"),
                "variant": r.get("variant", "A"),
                "sent_at": ts(sent),
                "delivered_at": None if bounced else ts(sent + 0.001),
                "opened_at": ts(r.get("open")),
                "clicked_at": ts(r.get("click")),
                "converted_at": ts(r.get("conv")),
                "revenue": r.get("revenue"),
                "unsubscribed_at": ts(r.get("unsub")),
                "bounced": bounced,
            }
        )
    df = pd.DataFrame(out)
    for c in ("sent_at", "delivered_at", "opened_at", "clicked_at", "converted_at", "unsubscribed_at"):
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


def orders_frame(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """(order_id, customer_id, hours after T0, amount)."""
    return pd.DataFrame(
        {
            "order_id": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "ordered_at": pd.to_datetime([ts(r[2]) for r in rows], utc=True),
            "amount": [r[3] for r in rows],
        }
    )


# ---------------------------------------------------------------- metrics


@pytest.fixture
def ten_emails():
    """Ten emails: 1 bounce, 9 delivered, 6 opened, 3 clicked, 1 unsubscribed; one SMS delivered and clicked."""
    rows = [
        {
            "channel": "email",
            "customer": f"C{i}",
            "bounced": i == 0,
            "open": 1.0 if 1 <= i <= 6 else None,
            "click": 2.0 if 1 <= i <= 3 else None,
            "unsub": 3.0 if i == 9 else None,
        }
        for i in range(10)
    ]
    rows.append({"channel": "sms", "customer": "C1", "click": 0.5, "step": "s2"})
    orders = orders_frame([("O1", "C1", 4.0, 50.0), ("O2", "C2", 200.0, 70.0), ("O3", "C5", 10.0, 20.0)])
    return messages_frame(rows), orders


def value(metrics: pd.DataFrame, metric: str, **keys: str) -> pd.Series:
    sel = metrics["metric"] == metric
    for k, v in keys.items():
        sel &= metrics[k] == v
    (row,) = metrics[sel].to_dict("records")
    return row


def test_metric_formulas_follow_domain_definitions(ten_emails):
    messages, orders = ten_emails
    m = channel_metrics(messages, orders, by=["channel"])
    assert value(m, "sent", channel="email")["value"] == 10
    assert value(m, "delivered", channel="email")["value"] == 9
    r = value(m, "open_rate", channel="email")
    assert (r["numerator"], r["denominator"], r["denominator_name"]) == (6, 9, "delivered emails")
    assert value(m, "click_rate", channel="email")["value"] == pytest.approx(3 / 9)
    assert value(m, "click_to_open_rate", channel="email")["value"] == pytest.approx(3 / 6)
    assert value(m, "unsubscribe_rate", channel="email")["value"] == pytest.approx(1 / 9)
    assert value(m, "bounce_rate", channel="email")["value"] == pytest.approx(1 / 10)
    # O1 (C1, 4 h): C1's email was opened at 1 h and clicked at 2 h (email), SMS clicked at 0.5 h: last touch email.
    # O2 at 200 h is outside every 120 h window; O3 (C5, 10 h) follows C5's open at 1 h.
    conv = value(m, "conversion_rate", channel="email")
    assert (conv["numerator"], conv["denominator"]) == (2, 9)
    assert value(m, "revenue_per_recipient", channel="email")["value"] == pytest.approx(70 / 9)
    assert value(m, "conversion_rate", channel="sms")["numerator"] == 0
    assert value(m, "clicks_per_engaged_recipient", channel="email")["value"] == pytest.approx(3 / 6)
    assert np.isnan(value(m, "open_rate", channel="sms")["value"])
    assert np.isnan(value(m, "spam_complaint_rate", channel="email")["value"])  # not tracked
    # every rate names its denominator
    rates = m[m["metric"].str.endswith(("_rate", "_per_recipient", "_share"))]
    assert (rates["denominator_name"] != "").all()


def test_metrics_by_journey_step_variant_and_segment(ten_emails):
    messages, orders = ten_emails
    segs = pd.DataFrame({"customer_id": [f"C{i}" for i in range(10)], "segment": ["vip"] * 5 + ["rest"] * 5})
    m = channel_metrics(messages, orders, by=["journey_id", "step_id", "channel", "variant", "segment"], segments=segs)
    assert value(m, "sent", step_id="s1", segment="vip")["value"] == 5
    assert value(m, "sent", step_id="s2", segment="vip")["value"] == 1
    wide = measure.metrics_table(m)
    assert "open_rate (÷ delivered emails)" in wide.columns


def test_machine_opens_flagged_and_excluded_on_request(ten_emails):
    messages, _ = ten_emails
    messages = messages.assign(machine_open=[False, True, True, False, False, False, False, False, False, False, False])
    m_all = channel_metrics(messages, by=["channel"])
    m_human = channel_metrics(messages, by=["channel"], exclude_machine_opens=True)
    assert value(m_all, "open_rate", channel="email")["numerator"] == 6
    assert value(m_all, "machine_open_share", channel="email")["value"] == pytest.approx(2 / 6)
    assert value(m_human, "open_rate", channel="email")["numerator"] == 4
    assert value(m_human, "click_to_open_rate", channel="email")["denominator"] == 4
    # the heuristic: an open within machine_open_seconds of delivery
    quick = messages.drop(columns="machine_open")
    quick.loc[1, "opened_at"] = quick.loc[1, "delivered_at"] + pd.Timedelta(seconds=1)
    m = channel_metrics(quick, by=["channel"], exclude_machine_opens=True)
    assert value(m, "open_rate", channel="email")["numerator"] == 5


def test_metrics_without_orders_use_recorded_conversions(ten_emails):
    messages, _ = ten_emails
    messages = messages.copy()
    messages.loc[3, ["converted_at", "revenue"]] = [ts(5.0), 42.0]
    m = channel_metrics(messages, by=["channel"])
    assert value(m, "conversion_rate", channel="email")["numerator"] == 1
    assert value(m, "revenue_per_recipient", channel="email")["numerator"] == 42.0


def test_site_visits_after_a_touch(ten_emails):
    messages, orders = ten_emails
    events = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "C3"],
            "event": ["site_visit"] * 3 + ["product_view"],
            "occurred_at": pd.to_datetime([ts(1), ts(30), ts(2), ts(2)], utc=True),
        }
    )
    m = channel_metrics(messages, orders, events, by=["channel"])
    # C1's email (delivered at ~0 h): visit at 1 h counts, 30 h is outside the 24 h window; C2's visit counts.
    assert value(m, "site_visits_per_recipient", channel="email")["numerator"] == 2
    assert value(m, "visit_rate", channel="email")["numerator"] == 2
    assert value(m, "site_visits_per_recipient", channel="sms")["numerator"] == 1


def test_health_alerts_flag_steps_with_next_action():
    rows = []
    for i in range(400):
        rows.append(
            {
                "channel": "email",
                "customer": f"C{i}",
                "step": "bad",
                "bounced": i < 24,
                "unsub": 1.0 if 30 <= i < 33 else None,
            }
        )
        rows.append({"channel": "email", "customer": f"C{i}", "step": "good"})
        rows.append({"channel": "sms", "customer": f"C{i}", "step": "sms", "unsub": 1.0 if i < 9 else None})
    messages = messages_frame(rows)
    messages["complained_at"] = pd.Series(pd.NaT, index=messages.index, dtype="datetime64[us, UTC]")
    messages.loc[messages.index[[1, 4]], "complained_at"] = ts(1.0)  # two complaints on step good (0.5%)
    m = channel_metrics(messages, by=["journey_id", "step_id", "channel"])
    alerts = health_alerts(m)
    got = {(r["step_id"], r["check"]): r["level"] for r in alerts.to_dict("records")}
    assert got[("bad", "bounce")] == "critical"  # 24/400 = 6% > 5%
    assert got[("bad", "unsubscribe / opt-out")] == "warning"  # 3/376 = 0.8%: warning 0.5%, critical 1%
    assert got[("good", "spam complaints")] == "critical"  # 0.5% > 0.3%
    assert got[("sms", "unsubscribe / opt-out")] == "warning"  # 9/400 = 2.25%
    assert ("good", "bounce") not in got
    assert alerts["next_action"].str.len().min() > 10
    assert alerts["level"].iloc[0] == "critical"
    strict = health_alerts(m, thresholds=HealthThresholds(min_delivered=1000))
    assert strict.empty


def test_thresholds_must_be_ordered():
    with pytest.raises(ValueError, match="warning must come first"):
        HealthThresholds(email_bounce_warning=0.1, email_bounce_critical=0.05)


def test_bad_input_raises_contract_errors(ten_emails):
    messages, orders = ten_emails
    with pytest.raises(DataContractError, match="channel"):
        channel_metrics(messages.assign(channel="fax"), orders)
    with pytest.raises(DataContractError, match="segment"):
        channel_metrics(messages, orders, by=["segment"])
    with pytest.raises(DataContractError, match="amount"):
        channel_metrics(messages, orders.drop(columns="amount"))


# ---------------------------------------------------------------- attribution


@pytest.fixture
def three_touch_path():
    """One customer, three touches before one order of 100 at hour 48: email open, SMS delivery, email click."""
    messages = messages_frame(
        [
            {"id": "E1", "channel": "email", "journey": "welcome", "sent": 0.0, "open": 1.0},  # touch at 1 h
            {"id": "S1", "channel": "sms", "journey": "cart", "sent": 40.0},  # delivered 40 h, window 12 h
            {"id": "E2", "channel": "email", "journey": "cart", "sent": 44.0, "open": 45.0, "click": 47.0},  # 47 h
        ]
    )
    return messages, orders_frame([("O1", "C1", 48.0, 100.0)])


def test_rule_models_split_a_known_path(three_touch_path):
    messages, orders = three_touch_path
    credits = attribution_credits(messages, orders).set_index("message_id").loc[["E1", "S1", "E2"]]
    assert credits["credit_last_touch"].tolist() == [0, 0, 1]
    assert credits["credit_first_touch"].tolist() == [1, 0, 0]
    assert credits["credit_linear"].tolist() == pytest.approx([1 / 3] * 3)
    assert credits["credit_position_based"].tolist() == pytest.approx([0.4, 0.2, 0.4])
    ages = np.array([47.0, 48.0 - 40.001, 1.0])  # hours from each touch to the order
    w = 2 ** (-ages / 168)
    assert credits["credit_time_decay"].tolist() == pytest.approx((w / w.sum()).tolist())
    assert credits["touch_at"].iloc[2] == ts(47.0)  # the latest touch of E2 (its click)


def test_windows_decide_which_touches_count(three_touch_path):
    messages, orders = three_touch_path
    narrow = AttributionWindows(email_open_hours=24, sms_delivery_hours=6)
    credits = attribution_credits(messages, orders, windows=narrow)
    # E1's open (47 h before) is outside 24 h, S1's delivery (8 h before) outside 6 h: only E2 remains
    assert credits["message_id"].tolist() == ["E2"]
    later = orders_frame([("O1", "C1", 48.0 + 130, 100.0)])
    assert attribution_credits(messages, later).empty


def test_attribute_compares_models_side_by_side(three_touch_path):
    messages, orders = three_touch_path
    orders = pd.concat([orders, orders_frame([("O2", "C9", 10.0, 30.0)])], ignore_index=True)  # no touch
    a = attribute(messages, orders, by=["journey_id", "channel"], models=["last_touch", "linear", "position_based"])
    linear = a[a["model"] == "linear"].set_index(["journey_id", "channel"])
    assert linear.loc[("welcome", "email"), "revenue"] == pytest.approx(100 / 3)
    assert linear.loc[("cart", "email"), "revenue"] == pytest.approx(100 / 3)
    assert linear.loc[("none", "none"), "revenue"] == pytest.approx(30)
    assert linear["conversions"].sum() == pytest.approx(2)
    pos = a[a["model"] == "position_based"].set_index(["journey_id", "channel"])
    assert pos.loc[("cart", "sms"), "revenue"] == pytest.approx(20)
    assert a.groupby("model")["revenue_share"].sum().tolist() == pytest.approx([1, 1, 1])
    # customer value: each customer's observed revenue split by credit (C1: 100, C9: 30)
    assert a.groupby("model")["clv"].sum().tolist() == pytest.approx([130, 130, 130])
    cancelled = orders.assign(status=["placed", "cancelled"])
    b = attribute(messages, cancelled, by=["channel"], models=["last_touch"])
    assert b["conversions"].sum() == pytest.approx(1)


def test_markov_removal_effects_on_hand_built_paths():
    # start→email 2/3, start→sms 1/3; email→sms 1/2, email→null 1/2; sms→conversion 1.
    # P(conv) = 2/3·1/2 + 1/3 = 2/3. Without email: 1/3 (effect 1/2); without sms: 0 (effect 1).
    paths = pd.DataFrame(
        {
            "path_id": ["p1", "p1", "p2", "p3"],
            "position": [1, 2, 1, 1],
            "state": ["email", "sms", "email", "sms"],
            "converted": [True, True, False, True],
            "value": [90.0, 90.0, 0.0, 30.0],
        }
    )
    mk = markov_attribution(paths).set_index("state")
    assert mk.attrs["conversion_probability"] == pytest.approx(2 / 3)
    assert mk.loc["email", "removal_effect"] == pytest.approx(0.5)
    assert mk.loc["sms", "removal_effect"] == pytest.approx(1.0)
    assert mk.loc["email", "share"] == pytest.approx(1 / 3)
    assert mk.loc["sms", "conversions"] == pytest.approx(2 * 2 / 3)
    assert mk.loc["sms", "value"] == pytest.approx(120 * 2 / 3)


def test_markov_with_a_loop_and_symmetric_channels():
    # Two channels in symmetric roles share equally; a self-loop does not change absorption.
    paths = pd.DataFrame(
        {
            "path_id": ["a", "a", "a", "b", "b", "c", "d"],
            "position": [1, 2, 3, 1, 2, 1, 1],
            "state": ["email", "email", "sms", "sms", "email", "email", "sms"],
            "converted": [True, True, True, True, True, False, False],
        }
    )
    mk = markov_attribution(paths).set_index("state")
    assert mk["share"].sum() == pytest.approx(1)
    counts = {
        ("start", "email"): 2,
        ("start", "sms"): 2,
        ("email", "email"): 1,
        ("email", "sms"): 1,
        ("sms", "email"): 1,
        ("email", "conv"): 1,
        ("email", "null"): 1,
        ("sms", "conv"): 1,
        ("sms", "null"): 1,
    }
    # solve by hand with the same transition counts
    states = ["start", "email", "sms"]
    q = np.zeros((3, 3))
    r = np.zeros(3)
    for i, s in enumerate(states):
        total = sum(v for (f, _), v in counts.items() if f == s)
        for j, t in enumerate(states):
            q[i, j] = counts.get((s, t), 0) / total
        r[i] = counts.get((s, "conv"), 0) / total
    x = np.linalg.solve(np.eye(3) - q, r)
    assert mk.attrs["conversion_probability"] == pytest.approx(x[0])


def test_markov_paths_from_messages(three_touch_path):
    messages, orders = three_touch_path
    extra = messages_frame([{"id": "E9", "channel": "email", "customer": "C2", "open": 1.0}])
    paths = measure.attribution_paths(pd.concat([messages, extra], ignore_index=True), orders, by=["channel"])
    conv = paths[paths["converted"]].sort_values("position")
    assert conv["state"].tolist() == ["email", "sms", "email"]
    assert paths.loc[~paths["converted"], "customer_id"].tolist() == ["C2"]
    a = attribute(pd.concat([messages, extra], ignore_index=True), orders, by=["channel"], models=["markov"])
    assert a["conversions"].sum() == pytest.approx(1)


def nonconverting_paths(messages, orders, rule="window") -> list[list[str]]:
    paths = measure.attribution_paths(messages, orders, by=["channel"], non_converting=rule)
    rest = paths[~paths["converted"]].sort_values(["path_id", "position"])
    return [g["state"].astype(str).tolist() for _, g in rest.groupby("path_id", sort=True)]


def test_long_non_converting_history_is_split_at_the_window():
    # C2 never orders. Email opens keep a 120 h window, SMS deliveries 12 h (the default windows).
    history = [
        {"id": "E1", "channel": "email", "customer": "C2", "sent": 0.0, "open": 1.0},  # covered until 121 h
        {"id": "E2", "channel": "email", "customer": "C2", "sent": 50.0, "open": 51.0},  # within E1's window
        {"id": "E3", "channel": "email", "customer": "C2", "sent": 300.0, "open": 301.0},  # both windows closed
        {"id": "S1", "channel": "sms", "customer": "C2", "sent": 310.0},  # delivered 310 h, covered until 322 h
        {"id": "E4", "channel": "email", "customer": "C2", "sent": 330.0, "open": 331.0},  # S1's window closed
        {"id": "S2", "channel": "sms", "customer": "C2", "sent": 900.0},
        {"id": "S3", "channel": "sms", "customer": "C2", "sent": 905.0},  # within S2's 12 h
        {"id": "S4", "channel": "sms", "customer": "C2", "sent": 920.0},  # S2 and S3 closed at 912 h and 917 h
    ]
    messages = messages_frame(history)
    orders = orders_frame([("O1", "C9", 10.0, 30.0)])  # another customer's order, no touch
    assert nonconverting_paths(messages, orders) == [
        ["email", "email"],
        ["email", "sms"],
        ["email"],
        ["sms", "sms"],
        ["sms"],
    ]
    # the old rule: the whole history is one path of eight touches
    assert nonconverting_paths(messages, orders, "customer") == [["email"] * 3 + ["sms", "email"] + ["sms"] * 3]
    # a converting path follows the same rule: only the touches whose windows cover the order
    with_order = orders_frame([("O2", "C2", 330.5, 50.0)])  # E3 (opened 301 h, window to 421 h) and S1 (to 322 h)
    paths = measure.attribution_paths(messages, with_order, by=["channel"])
    conv = paths[paths["converted"]].sort_values("position")
    assert conv["state"].astype(str).tolist() == ["email"]  # E3 only: S1's 12 h closed at 322 h
    assert nonconverting_paths(messages, with_order) == [
        ["email", "email"],
        ["sms"],
        ["email"],
        ["sms", "sms"],
        ["sms"],
    ]


def test_markov_credit_follows_the_non_converting_rule(three_touch_path):
    messages, orders = three_touch_path
    noise = messages_frame(
        [{"id": f"S{i}", "channel": "sms", "customer": "C3", "sent": 100.0 + 24 * i} for i in range(30)]
        + [{"id": "X1", "channel": "email", "customer": "C3", "sent": 5.0, "open": 6.0}]
    )
    all_messages = pd.concat([messages, noise], ignore_index=True)
    window = attribute(all_messages, orders, by=["channel"], models=["markov"])
    whole = attribute(all_messages, orders, by=["channel"], models=["markov"], non_converting="customer")
    # each rule gives the removal effects of the chain over its own paths
    for rule, got in (("window", window), ("customer", whole)):
        paths = measure.attribution_paths(all_messages, orders, by=["channel"], non_converting=rule)
        mk = markov_attribution(paths).set_index("state")
        assert got.set_index("channel")["conversion_share"].to_dict() == pytest.approx(mk["share"].to_dict())
    assert window["conversions"].sum() == pytest.approx(1) == whole["conversions"].sum()
    with pytest.raises(WorkbenchError) as err:
        attribute(messages, orders, non_converting="session")
    assert str(err.value) == (
        "unknown non_converting rule 'session'. Fix: use 'window' (paths split where an attribution window closes, "
        "like converting paths) or 'customer' (one path per customer)"
    )


def test_markov_on_sample_data_splits_non_converting_histories(sample_dataset):
    ds = sample_dataset
    shares = {}
    for rule in ("customer", "window"):
        paths = measure.attribution_paths(ds.messages, ds.orders, by=["channel"], non_converting=rule, settings=SAMPLE)
        size = paths.groupby("path_id").agg(n=("position", "size"), converted=("converted", "first"))
        mean = size.groupby("converted")["n"].mean()
        a = attribute(ds.messages, ds.orders, by=["channel"], models=["markov"], non_converting=rule, settings=SAMPLE)
        shares[rule] = a.set_index("channel")["conversion_share"]
        if rule == "customer":
            assert mean[False] > 10 * mean[True]  # one path per customer history: about 16 touches against 1
        else:
            assert mean[False] < 2
    # whole histories inflate the channel sent most often without orders following (SMS)
    assert shares["customer"]["sms"] > 3 * shares["window"]["sms"]


def test_predicted_clv_as_the_customer_value_of_attribution(three_touch_path):
    from workbench.value import CustomerValue

    messages, orders = three_touch_path
    orders = pd.concat([orders, orders_frame([("O2", "C9", 10.0, 30.0)])], ignore_index=True)
    frame = pd.DataFrame(
        {"customer_id": ["C1", "C9", "C5"], "p_alive": [0.9, 0.5, 1.0], "clv_365d": [400.0, None, 7.0]}
    )
    predicted = CustomerValue(frame=frame, bg=None, gg=None, horizon_days=365, discount_rate=0.01)
    a = attribute(
        messages, orders, by=["channel"], models=["last_touch", "linear", "markov"], customer_value=predicted.frame
    )
    # C1's 400 is split by credit, C9 has no prediction (0); every model distributes the same 400
    assert a.groupby("model")["clv"].sum().tolist() == pytest.approx([400, 400, 400])
    last = a[a["model"] == "last_touch"].set_index("channel")
    assert last.loc["email", "clv"] == pytest.approx(400) and last.loc["none", "clv"] == 0
    series = attribute(messages, orders, by=["channel"], models=["linear"], customer_value=pd.Series({"C1": 400.0}))
    assert series["clv"].sum() == pytest.approx(400)
    with pytest.raises(WorkbenchError, match=r"^customer_value: a frame needs customer_id and one clv_\* column"):
        attribute(messages, orders, customer_value=frame.drop(columns="clv_365d"))


def test_readout_reports_incremental_clv_per_arm(small_dataset):
    r = measure.experiment_readout(small_dataset, settings=SAMPLE)
    inc = r.incremental_clv
    assert not inc.empty and set(inc["metric"]) == {"clv"}
    treated = inc[inc["test"] != "control"]
    assert treated["incremental_clv"].to_numpy() == pytest.approx(
        (treated["lift_vs_control"] * treated["n"]).to_numpy()
    )
    assert (treated["incremental_ci_low"] <= treated["incremental_clv"]).all()
    assert "incremental_clv.csv" in r.tables()
    assert any(n.startswith("Incremental CLV: 365-day CLV predicted by BG/NBD") for n in r.notes)
    assert any("the state 'none'" in n for n in r.notes)
    # the same comparison by hand from the predicted values
    from workbench.profiles import order_summary
    from workbench.value import customer_value

    # the orders' amounts in USD at the strategy's rates (each order's amount times its currency's rate)
    rate = {r.currency: r.rate for r in SAMPLE.exchange_rates} | {"USD": 1.0}
    in_usd = small_dataset.orders.assign(
        amount=small_dataset.orders["amount"] * small_dataset.orders["currency"].map(rate)
    )
    as_of = small_dataset.orders["ordered_at"].max().normalize().date()
    values = customer_value(order_summary(in_usd, as_of=as_of)).frame.set_index("customer_id")["clv_365d"]
    units = measure.message_outcomes(
        small_dataset.messages, small_dataset.orders, small_dataset.events, settings=SAMPLE
    )
    units = units[units["delivered"] == 1]
    one = treated.iloc[0]
    step = units[(units["journey_id"] == one["journey_id"]) & (units["step_id"] == one["step_id"])]
    v = values.reindex(step["customer_id"].astype("string")).fillna(0.0).to_numpy()
    arm = step["variant"].astype(str).to_numpy()
    assert one["mean"] == pytest.approx(v[arm == one["arm"]].mean())
    assert one["control_value"] == pytest.approx(v[arm == "A"].mean())
    # given values replace the prediction
    everyone = small_dataset.customers["customer_id"]
    given = measure.experiment_readout(small_dataset, settings=SAMPLE, customer_value=pd.Series(1.0, index=everyone))
    assert given.incremental_clv.loc[given.incremental_clv["test"] != "control", "lift_vs_control"].abs().max() < 1e-12


def test_unknown_model_is_refused(three_touch_path):
    with pytest.raises(WorkbenchError, match="unknown attribution model"):
        attribute(*three_touch_path, models=["u_shaped"])


# ---------------------------------------------------------------- experiment planning


def test_sample_size_reference_value_from_domain():
    assert measure.sample_size_proportions(0.03, 0.036) == 13914
    expected = smp.samplesize_proportions_2indep_onetail(diff=0.006, prop2=0.03, power=0.8, alpha=0.05)
    assert measure.sample_size_proportions(0.03, 0.036) == int(np.ceil(expected))


@pytest.mark.parametrize(("p1", "p2", "ratio", "alpha"), [(0.1, 0.12, 1.0, 0.05), (0.2, 0.17, 2.0, 0.01)])
def test_sample_size_and_power_equal_statsmodels(p1, p2, ratio, alpha):
    n = measure.sample_size_proportions(p1, p2, ratio=ratio, alpha=alpha, power=0.9)
    assert n == int(
        np.ceil(smp.samplesize_proportions_2indep_onetail(diff=p2 - p1, prop2=p1, power=0.9, ratio=ratio, alpha=alpha))
    )
    pw = measure.power_proportions(p1, p2, n, ratio=ratio, alpha=alpha)
    assert pw == pytest.approx(smp.power_proportions_2indep(p2 - p1, p1, n, ratio=ratio, alpha=alpha).power)
    assert pw >= 0.9 - 1e-6
    nm = measure.sample_size_means(2.0, 10.0, ratio=ratio, alpha=alpha)
    assert nm == int(np.ceil(tt_ind_solve_power(effect_size=0.2, alpha=alpha, power=0.8, ratio=ratio)))
    assert measure.power_means(2.0, 10.0, nm, ratio=ratio, alpha=alpha) == pytest.approx(
        tt_ind_solve_power(effect_size=0.2, nobs1=nm, alpha=alpha, ratio=ratio)
    )


def test_minimum_detectable_effect_inverts_power():
    mde = measure.minimum_detectable_effect(0.03, 13914)
    assert mde == pytest.approx(0.006, abs=2e-6)
    mde_mean = measure.minimum_detectable_effect(5.0, 400, sd=20.0)
    assert mde_mean / 20 == pytest.approx(tt_ind_solve_power(nobs1=400, alpha=0.05, power=0.8))


def test_plan_test_days_for_an_audience():
    plan = measure.plan_test(0.03, [0.2, 0.1], daily_audience=2000, arms=3)
    first = plan.iloc[0]
    assert first["n_per_arm"] == 13914 and first["total"] == 3 * 13914
    assert first["days"] == int(np.ceil(3 * 13914 / 2000))
    assert plan.iloc[1]["days"] > first["days"]  # a smaller effect takes longer
    holdout = measure.plan_test(0.03, [0.2], daily_audience=1000, ratio=1 / 9)
    assert holdout.iloc[0]["n_control"] == int(np.ceil(holdout.iloc[0]["n_per_arm"] / 9))
    with pytest.raises(WorkbenchError):
        measure.plan_test(0.03, [0.2], daily_audience=0)


# ---------------------------------------------------------------- tests of arms


def test_proportion_test_equals_statsmodels():
    got = measure.proportion_test(420, 10000, 360, 10000, alpha=0.05)
    ref = smp.test_proportions_2indep(420, 10000, 360, 10000, method="score", compare="diff")
    low, high = smp.confint_proportions_2indep(420, 10000, 360, 10000, method="score", compare="diff", alpha=0.05)
    rlow, rhigh = smp.confint_proportions_2indep(420, 10000, 360, 10000, method="score", compare="ratio")
    assert got["p_value"] == pytest.approx(ref.pvalue)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((low, high))
    assert (got["relative_ci_low"], got["relative_ci_high"]) == pytest.approx((rlow - 1, rhigh - 1))
    assert got["diff"] == pytest.approx(0.006)
    wald = measure.proportion_test(420, 10000, 360, 10000, method="wald")
    assert wald["p_value"] == pytest.approx(smp.test_proportions_2indep(420, 10000, 360, 10000, method="wald").pvalue)


def test_welch_and_bootstrap_equal_scipy():
    rng = np.random.default_rng(5)
    x = rng.exponential(12.0, 800) * (rng.random(800) < 0.2)
    y = rng.exponential(10.0, 900) * (rng.random(900) < 0.2)
    got = measure.welch_test(x, y, alpha=0.1)
    assert got["p_value"] == pytest.approx(stats.ttest_ind(x, y, equal_var=False).pvalue)
    ci = CompareMeans(DescrStatsW(x), DescrStatsW(y)).tconfint_diff(alpha=0.1, usevar="unequal")
    assert (got["ci_low"], got["ci_high"]) == pytest.approx(ci)
    sci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.9)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((sci.low, sci.high))
    boot = measure.bootstrap_test(x, y, n_resamples=2000, seed=3)
    ref = stats.bootstrap(
        (x, y),
        lambda a, b, axis=-1: a.mean(axis=axis) - b.mean(axis=axis),
        vectorized=True,
        n_resamples=2000,
        batch=250,
        method="percentile",
        rng=np.random.default_rng(3),
    )
    assert (boot["ci_low"], boot["ci_high"]) == pytest.approx(
        (ref.confidence_interval.low, ref.confidence_interval.high)
    )
    dist = ref.bootstrap_distribution
    assert boot["p_value"] == pytest.approx(min(1, 2 * min((dist <= 0).mean(), (dist >= 0).mean())))


def test_corrections_equal_multipletests():
    p = [0.01, 0.04, 0.03, np.nan, 0.2]
    ok = np.array([0.01, 0.04, 0.03, 0.2])
    holm = measure.adjust_pvalues(p, method="holm")
    bh = measure.adjust_pvalues(p, method="bh")
    assert np.isnan(holm[3])
    assert holm[[0, 1, 2, 4]] == pytest.approx(multipletests(ok, method="holm")[1])
    assert bh[[0, 1, 2, 4]] == pytest.approx(multipletests(ok, method="fdr_bh")[1])
    with pytest.raises(WorkbenchError, match="unknown correction"):
        measure.adjust_pvalues(p, method="sidak-ish")


@pytest.mark.parametrize("seed", range(12))
def test_holm_equals_multipletests_with_ties(seed, monkeypatch):
    import gc

    # multipletests runs a full garbage collection on every call (0.05 s each here), which decides nothing
    # about its result: skipped, the reference is the same and the test takes milliseconds, not seconds
    monkeypatch.setattr(gc, "collect", lambda *args, **kwargs: 0)
    rng = np.random.default_rng(seed)
    for m in (1, 2, 3, 5, 8, 20):
        pools = (
            rng.uniform(size=m),
            np.round(rng.uniform(0, 0.2, size=m), 2),
            rng.choice(rng.uniform(0, 0.1, size=3), size=m),
        )
        for p in pools:
            holm = measure.adjust_pvalues(p, method="holm")
            for alpha in (0.05, 0.1):
                reject, ref = multipletests(p, alpha=alpha, method="holm")[:2]
                np.testing.assert_allclose(holm, ref, rtol=0, atol=1e-12)
                np.testing.assert_array_equal(holm <= alpha, reject)


@pytest.fixture
def three_arms():
    rng = np.random.default_rng(1)
    n = 3000
    arm = np.repeat(["control", "b", "c"], n)
    p = np.repeat([0.10, 0.12, 0.105], n)
    converted = (rng.random(3 * n) < p).astype(int)
    spend = converted * rng.gamma(2.0, 30.0, 3 * n)
    segment = rng.choice(["new", "loyal"], 3 * n)
    return pd.DataFrame({"arm": arm, "converted": converted, "spend": spend, "segment": segment})


def test_several_arms_against_one_control(three_arms):
    res = compare_arms(three_arms, control="control", metrics=["converted", "spend"], correction="holm")
    assert set(res["arm"]) == {"control", "b", "c"}
    conv = res[(res["metric"] == "converted") & (res["arm"] != "control")].set_index("arm")
    ctrl = three_arms[three_arms["arm"] == "control"]["converted"]
    p_raw = []
    for a in ("b", "c"):
        x = three_arms[three_arms["arm"] == a]["converted"]
        ref = smp.test_proportions_2indep(x.sum(), len(x), ctrl.sum(), len(ctrl), method="score")
        low, high = smp.confint_proportions_2indep(x.sum(), len(x), ctrl.sum(), len(ctrl), method="score")
        assert conv.loc[a, "p_value"] == pytest.approx(ref.pvalue)
        assert (conv.loc[a, "ci_low"], conv.loc[a, "ci_high"]) == pytest.approx((low, high))
        assert conv.loc[a, "lift_vs_control"] == pytest.approx(x.mean() - ctrl.mean())
        assert conv.loc[a, "rate"] == pytest.approx(x.mean())
        p_raw.append(ref.pvalue)
    assert conv.loc[["b", "c"], "p_adjusted"].tolist() == pytest.approx(multipletests(p_raw, method="holm")[1])
    spend = res[(res["metric"] == "spend") & (res["arm"] == "b")].iloc[0]
    xb = three_arms.loc[three_arms["arm"] == "b", "spend"]
    xc = three_arms.loc[three_arms["arm"] == "control", "spend"]
    assert spend["kind"] == "mean" and spend["mean"] == pytest.approx(xb.mean())
    assert spend["p_value"] == pytest.approx(stats.ttest_ind(xb, xc, equal_var=False).pvalue)
    bh = compare_arms(three_arms, control="control", metrics=["converted"], correction="bh")
    assert bh.loc[bh["arm"] != "control", "p_adjusted"].tolist() == pytest.approx(
        multipletests(p_raw, method="fdr_bh")[1]
    )
    with pytest.raises(WorkbenchError, match="control arm 'nobody'"):
        compare_arms(three_arms, control="nobody", metrics=["converted"])


def test_lift_by_segment_and_incrementality(three_arms):
    seg = measure.lift_by_segment(three_arms, segment="segment", control="control", metrics=["converted"])
    assert set(seg["segment"]) == {"new", "loyal"}
    row = seg[(seg["segment"] == "new") & (seg["arm"] == "b")].iloc[0]
    sub = three_arms[three_arms["segment"] == "new"]
    x, y = sub.loc[sub["arm"] == "b", "converted"], sub.loc[sub["arm"] == "control", "converted"]
    assert row["p_value"] == pytest.approx(
        smp.test_proportions_2indep(x.sum(), len(x), y.sum(), len(y), method="score").pvalue
    )
    treated = seg[seg["arm"] != "control"]
    assert treated["p_adjusted"].tolist() == pytest.approx(multipletests(treated["p_value"], method="holm")[1])
    units = three_arms[three_arms["arm"].isin(["control", "b"])].assign(
        group=lambda d: d["arm"].map({"control": "holdout", "b": "treated"})
    )
    inc = measure.incrementality(units, group="group", holdout="holdout", metrics=["converted", "spend"])
    c = inc.set_index("metric").loc["converted"]
    assert c["incremental"] == pytest.approx(c["lift_vs_control"] * c["n"])
    assert c["relative_lift"] == pytest.approx(c["rate"] / c["control_value"] - 1)
    assert c["relative_ci_low"] < c["relative_lift"] < c["relative_ci_high"]
    assert c["holdout_n"] == 3000


def test_readout_on_synthetic_messages(small_dataset):
    r = measure.experiment_readout(small_dataset, settings=SAMPLE)
    assert r.kind == "messages" and not r.results.empty
    assert {
        "journey_id",
        "step_id",
        "arm",
        "metric",
        "n",
        "rate",
        "mean",
        "lift_vs_control",
        "ci_low",
        "ci_high",
        "p_value",
        "p_adjusted",
    } <= set(r.results.columns)
    assert set(r.results["metric"]) == {"click", "conversion", "revenue"}
    assert set(r.attribution["model"]) == set(measure.ATTRIBUTION_MODELS)
    assert "experiment_results.csv" in r.tables()
    assert not r.health_checks.empty


def test_charts_are_values(small_dataset):
    from workbench import charts

    r = measure.experiment_readout(small_dataset, settings=SAMPLE)
    for chart in (
        charts.lift_chart(r.results),
        charts.segment_lift_chart(r.by_segment),
        charts.channel_metrics_chart(r.metrics),
        charts.attribution_chart(r.attribution),
        charts.health_chart(r.health_checks),
        charts.lift_chart(pd.DataFrame()),
    ):
        spec = chart.to_dict()
        assert "$schema" in spec


@pytest.mark.slow
def test_readout_page_is_self_contained(small_dataset):
    from workbench import charts

    r = measure.experiment_readout(small_dataset, settings=SAMPLE)
    page = charts.readout_html(r)
    assert page.count("<svg") >= 4 and "<script" not in page


def test_settings_from_strategy_defaults(strategy):
    s = measure.settings_from(strategy)
    assert isinstance(s, MeasurementSettings)
    assert s.attribution_windows.sms_delivery_hours == 12
    assert s.health.spam_complaint_critical == 0.003
