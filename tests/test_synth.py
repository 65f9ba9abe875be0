"""The synthetic dataset is reproducible and exercises every feature the workbench needs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.io import load_dataset
from workbench.synth import synthesize


def test_same_seed_same_data_and_different_seed_differs():
    a, b, c = synthesize(300, seed=3), synthesize(300, seed=3), synthesize(300, seed=4)
    for name in ("customers", "orders", "events", "consents", "messages"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.orders.equals(c.orders)


def test_committed_sample_is_the_seeded_dataset(tmp_path, root):
    """data/sample is exactly `workbench synth --customers 5000 --seed 7`: the same CSV text, byte for byte
    (the committed files were compressed by zlib at level 9, the writer now uses ISA-L: the gzip streams
    differ, the text in them does not)."""
    import gzip

    from workbench.io import write_dataset

    written = write_dataset(synthesize(5000, seed=7), tmp_path, fmt="csv.gz")
    assert sorted(p.name for p in written) == sorted(p.name for p in (root / "data" / "sample").glob("*.csv.gz"))
    for fresh in sorted(written):
        committed = gzip.decompress((root / "data" / "sample" / fresh.name).read_bytes())
        assert gzip.decompress(fresh.read_bytes()) == committed, fresh.name


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


# The generator's vectorised pieces against the one-row-at-a-time code they replaced.


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 4), max_size=300), st.integers(0, 2**32 - 1))
def test_pick_each_draws_as_choice_row_by_row(sizes, seed):
    from workbench.synth import _pick_each

    options = ("a", "b", "c", "d")
    one, many = np.random.default_rng(seed), np.random.default_rng(seed)
    want = [one.choice(options[:k]) for k in sizes]
    got = _pick_each(many, np.array(sizes, dtype=np.int64))
    assert [options[i] for i in got] == want
    assert one.random() == many.random()  # the generator is left in the same state


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(2**31, 2**32 - 1), min_size=1, max_size=200), st.integers(0, 2**32 - 1))
def test_pick_each_redraws_as_choice_does(sizes, seed):
    """Ranges near 2**32 make Lemire's method reject often: the redraws follow the same stream."""
    from workbench.synth import _pick_each

    one, many = np.random.default_rng(seed), np.random.default_rng(seed)
    want = [int(one.integers(0, k)) for k in sizes]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("workbench.synth._RUN", 7)  # runs of a few rows: redraws across the runs' edges
        assert _pick_each(many, np.array(sizes, dtype=np.int64)).tolist() == want
    assert one.random() == many.random()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 2**16), max_size=300), st.integers(0, 2**32 - 1))
def test_pick_each_with_sizes_looked_up_draws_as_integers(sizes, seed):
    """Sizes up to 2**16 have their rejection thresholds worked out once per size and looked up."""
    from workbench.synth import _pick_each

    one, many = np.random.default_rng(seed), np.random.default_rng(seed)
    want = [int(one.integers(0, k)) if k > 1 else 0 for k in sizes]
    assert _pick_each(many, np.array(sizes, dtype=np.int64)).tolist() == want
    assert one.random() == many.random()


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=20).filter(lambda w: sum(w) > 0),
    st.integers(0, 5000),
    st.integers(0, 2**32 - 1),
)
def test_choice_p_draws_as_choice_with_shares(weights, size, seed):
    """The same positions as ``Generator.choice`` with shares ``p``, the generator left in the same state:
    counted against the cumulative shares (a handful) or searched (more than sixteen)."""
    from workbench.synth import _choice_p

    p = np.array(weights) / sum(weights)
    one, many = np.random.default_rng(seed), np.random.default_rng(seed)
    want = one.choice(len(p), size=size, p=p)
    got = _choice_p(many, p, size)
    assert got.tolist() == want.tolist()
    assert one.random() == many.random()


@pytest.mark.parametrize(("prefix", "n", "width"), [("M", 0, 3), ("C", 1, 7), ("O", 1234, 3), ("M", 10_500, 4)])
def test_ids_are_zero_padded_numbers(prefix, n, width):
    from workbench.synth import _ids

    assert _ids(prefix, n, width).to_pylist() == [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40), st.booleans()), max_size=30),
    st.lists(st.tuples(st.integers(0, 6), st.integers(-5, 45)), max_size=60),
)
def test_subscribed_at_is_an_as_of_join(ledger, probes):
    """The latest ledger row at or before each time decides, as pandas.merge_asof finds it."""
    from workbench.synth import _subscribed_at

    led = pd.DataFrame(ledger, columns=["pos", "t", "subscribed"]).astype({"pos": np.int64, "t": np.int64})
    led = led.drop_duplicates(["pos", "t"]).astype({"subscribed": bool})
    probe = pd.DataFrame(probes, columns=["pos", "t"]).astype(np.int64)
    got = _subscribed_at(
        led["pos"].to_numpy(np.int64),
        led["t"].to_numpy(np.int64),
        led["subscribed"].to_numpy(bool),
        probe["pos"].to_numpy(np.int64),
        probe["t"].to_numpy(np.int64),
    )
    if led.empty:
        assert not got.any()
        return
    merged = pd.merge_asof(
        probe.assign(order=np.arange(len(probe))).sort_values("t"),
        led.sort_values("t"),
        on="t",
        by="pos",
        direction="backward",
    ).sort_values("order")
    assert got.tolist() == merged["subscribed"].fillna(False).astype(bool).tolist()


# The tables as the generator builds them: Arrow, already in the contract's form, the same for a seed.


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 400), st.integers(0, 2**32 - 1))
def test_tables_hold_the_contract_and_keys_for_any_size_and_seed(n, seed):
    """Every table is Arrow that the contract's Arrow check accepts as it is (nothing to normalise), and the
    customer keys handed to from_frames are those a look-up of each row's customer id finds."""
    import pyarrow as pa

    from workbench.contracts import validate_arrow
    from workbench.models.dataset import customer_positions

    ds = synthesize(n, seed=seed)
    assert ds.rows("customers") == n and ds.rows("orders") >= 1
    for name in ("customers", "orders", "events", "consents", "messages"):
        held = ds.held(name)
        assert isinstance(held, pa.Table), name
        checked = validate_arrow(name, held)
        assert checked is not None, name
        assert checked.to_pandas().equals(held.to_pandas()), name
        if name != "customers":
            looked_up = customer_positions(ds.column(name, "customer_id"), ds.column("customers", "customer_id"))
            assert np.array_equal(ds.customer_keys(name), looked_up), name
            assert (looked_up >= 0).all(), name
    assert (ds.quality.loc[ds.quality["check"] == "customer not in customers table", "rows"] == 0).all()


def test_same_seed_same_arrow_tables_and_same_files(tmp_path):
    from workbench.io import write_dataset

    a, b = synthesize(500, seed=21), synthesize(500, seed=21)
    for name in ("customers", "orders", "events", "consents", "messages"):
        assert a.held(name).equals(b.held(name)), name
    first = write_dataset(a, tmp_path / "a", fmt="csv.gz")
    second = write_dataset(b, tmp_path / "b", fmt="csv.gz")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_sizes_scale_with_the_customers():
    """Per customer, the history is about what the issue's figures say (2.2 orders, 3.2 events, 1.4 consent
    rows, 32.5 messages per customer at a million), and no table is empty."""
    ds = synthesize(20_000, seed=5)
    per_customer = {name: ds.rows(name) / 20_000 for name in ("orders", "events", "consents", "messages")}
    assert 2.0 < per_customer["orders"] < 2.5
    assert 2.9 < per_customer["events"] < 3.5
    assert 1.3 < per_customer["consents"] < 1.6
    assert 30 < per_customer["messages"] < 35
    assert ds.messages["message_id"].is_unique and ds.orders["order_id"].is_unique
    assert ds.messages["sent_at"].is_monotonic_increasing and ds.orders["ordered_at"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("prefix", "n", "width"), [("M", 9_999, 10), ("M", 10_001, 10), ("O", 123_457, 9), ("", 20_000, 6)]
)
def test_ids_in_blocks_of_consecutive_numbers(prefix, n, width):
    from workbench.synth import _ids

    assert _ids(prefix, n, width).to_pylist() == [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.text(alphabet="abcé", max_size=3), min_size=1, max_size=8),
    st.lists(st.integers(-1, 7), max_size=50),
)
def test_gather_is_take(labels, codes):
    """Ids of one width are gathered as fixed-size records: the same text as Arrow's take."""
    import pyarrow as pa

    from workbench.synth import _gather

    codes = np.array([c if c < len(labels) else len(labels) - 1 for c in codes], dtype=np.int64)
    want = [None if c < 0 else labels[c] for c in codes]
    assert _gather(pa.array(labels), codes).to_pylist() == want
    fixed = [f"x{i:03d}" for i in range(len(labels))]
    assert _gather(pa.array(fixed), np.maximum(codes, 0)).to_pylist() == [fixed[c] for c in np.maximum(codes, 0)]
