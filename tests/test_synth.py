"""The synthetic dataset is reproducible and exercises every feature the workbench needs."""

from __future__ import annotations

import pandas as pd

from workbench.io import load_dataset
from workbench.synth import synthesize


def test_same_seed_same_data_and_different_seed_differs():
    a, b, c = synthesize(300, seed=3), synthesize(300, seed=3), synthesize(300, seed=4)
    for name in ("customers", "orders", "events", "consents", "messages"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.orders.equals(c.orders)


def test_committed_sample_is_the_seeded_dataset(tmp_path, root):
    """data/sample is exactly `workbench synth --customers 5000 --seed 7`, byte for byte."""
    from workbench.io import file_sha256, write_dataset

    write_dataset(synthesize(5000, seed=7), tmp_path, fmt="csv.gz")
    for fresh in sorted(tmp_path.iterdir()):
        assert file_sha256(fresh) == file_sha256(root / "data" / "sample" / fresh.name), fresh.name


def test_sample_exercises_every_feature(sample_dataset, sample_profiles):
    c, o, e, k, m = (
        sample_dataset.customers,
        sample_dataset.orders,
        sample_dataset.events,
        sample_dataset.consents,
        sample_dataset.messages,
    )
    assert len(c) == 5000
    assert c["country"].nunique() >= 4
    assert c.loc[c["country"] == "US", "region"].nunique() >= 6
    assert c["timezone"].notna().any() and c["timezone"].isna().any()
    assert c["phone"].str.startswith("+").fillna(False).mean() > 0.5
    assert sample_profiles["timezones"].str.contains("|", regex=False).sum() > 0  # multi-zone numbers
    # consent ledgers: opt-ins, opt-outs and re-subscriptions on both channels
    for channel in ("email", "sms"):
        led = k[k["channel"] == channel].sort_values("recorded_at")
        seq = led.groupby("customer_id")["status"].agg(list)
        assert seq.map(lambda s: list(s)[:3] == ["subscribed", "unsubscribed", "subscribed"]).any(), channel
        assert seq.map(lambda s: list(s)[-1] == "unsubscribed").any(), channel
    # orders: repeat buyers and cancellations/returns
    assert (o.groupby("customer_id").size() > 1).sum() > 1000
    assert set(o["status"]) >= {"placed", "cancelled", "returned"} and (o["amount"] < 0).any()
    assert set(e["event"]) == {"site_visit", "product_view", "add_to_cart", "checkout_started", "support_ticket"}
    # message engagement differs between customers
    assert m["opened_at"].notna().any() and m["clicked_at"].notna().any() and m["converted_at"].notna().any()
    rate = m[m["channel"] == "email"].assign(o=m["opened_at"].notna()).groupby("customer_id")["o"].mean()
    assert rate.quantile(0.9) - rate.quantile(0.1) > 0.3


def test_messages_only_while_subscribed(small_dataset):
    """The history is that of a compliant sender: every send falls while the ledger says subscribed."""
    m = small_dataset.messages
    assert len(m) > 1000
    led = small_dataset.consents.sort_values("recorded_at")
    probe = m[["customer_id", "channel", "sent_at"]].sort_values("sent_at")
    merged = pd.merge_asof(probe, led, left_on="sent_at", right_on="recorded_at", by=["customer_id", "channel"])
    assert (merged["status"] == "subscribed").all()


def test_written_sample_round_trips(tmp_path, small_dataset):
    from workbench.io import write_dataset

    write_dataset(small_dataset, tmp_path, fmt="parquet")
    back = load_dataset(tmp_path)
    pd.testing.assert_frame_equal(back.orders, small_dataset.orders, check_dtype=False)
