"""Unified profiles: lifetimes' definitions exactly, windows, consent at as_of, time zones, preferred channel."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifetimes.utils import summary_data_from_transaction_data

from workbench.contracts import from_frames
from workbench.profiles import PROFILE_COLUMNS, _currency_codes, build_profiles, order_summary, resolve_as_of

UTC = "UTC"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


def orders_frame(rows: list[tuple[str, str, str, float]], status: list[str] | None = None) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount"])
    df["ordered_at"] = pd.to_datetime(df["ordered_at"], utc=True)
    if status is not None:
        df["status"] = status
    return df


def test_as_of_date_means_end_of_day():
    assert resolve_as_of("2024-03-31") == ts("2024-03-31 23:59:59.999999")
    assert resolve_as_of(pd.Timestamp("2024-03-31 12:00")) == ts("2024-03-31 12:00")
    assert resolve_as_of("2024-03-31T12:00:00+02:00") == ts("2024-03-31 10:00")


def test_order_summary_hand_built():
    orders = orders_frame(
        [
            ("1", "a", "2024-01-01 09:00", 10.0),
            ("2", "a", "2024-01-01 18:00", 5.0),  # same day as 1: merged into one purchase day
            ("3", "a", "2024-01-11 10:00", 20.0),
            ("4", "a", "2024-01-21 10:00", 40.0),
            ("5", "a", "2024-01-25 10:00", 99.0),  # cancelled: not a purchase
            ("6", "b", "2024-01-31 23:00", 8.0),  # on the as_of day: counts
            ("7", "c", "2024-02-01 00:30", 8.0),  # after as_of: ignored
            ("8", "d", "2024-01-15 10:00", -12.0),  # a return only
        ],
        status=["placed", "placed", "placed", "placed", "cancelled", "placed", "placed", "returned"],
    )
    got = order_summary(orders, as_of="2024-01-31").set_index("customer_id")
    expected = pd.DataFrame(
        {
            "frequency": [2.0, 0.0, 0.0],
            "recency": [20.0, 0.0, 0.0],
            "T": [30.0, 0.0, 0.0],
            "monetary_value": [30.0, 0.0, 0.0],
            "orders_total": [4, 1, 0],
            "revenue_total": [75.0, 8.0, 0.0],
            "cancellations": [1, 0, 1],
            "days_since_last_order": [10.0, 0.0, np.nan],
            "orders_30d": [2, 1, 0],
            "revenue_30d": [60.0, 8.0, 0.0],  # days Jan 2..31
        },
        index=pd.Index(["a", "b", "d"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=False)
    assert got.loc["a", "avg_order_value"] == pytest.approx(75.0 / 4)
    assert got.loc["a", "first_order_at"] == ts("2024-01-01 09:00")
    assert "c" not in got.index


@st.composite
def transactions(draw):
    n = draw(st.integers(1, 40))
    customers = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=n, max_size=n))
    minutes = draw(st.lists(st.integers(0, 60 * 24 * 90), min_size=n, max_size=n))
    amounts = draw(st.lists(st.floats(0, 500, allow_nan=False).map(lambda x: round(x, 2)), min_size=n, max_size=n))
    start = ts("2024-01-01")
    return pd.DataFrame(
        {
            "order_id": [str(i) for i in range(n)],
            "customer_id": customers,
            "ordered_at": [start + pd.Timedelta(minutes=m) for m in minutes],
            "amount": amounts,
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transactions(), st.integers(0, 120))
def test_order_summary_equals_lifetimes(tx, end_offset):
    as_of = (ts("2024-01-01") + pd.Timedelta(days=end_offset)).strftime("%Y-%m-%d")
    ref_tx = tx.assign(ordered_at=tx["ordered_at"].dt.tz_localize(None))
    ref_tx = ref_tx[ref_tx["ordered_at"] <= pd.Timestamp(as_of) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)]
    got = order_summary(tx, as_of=as_of).set_index("customer_id")
    if ref_tx.empty:
        assert got.empty or (got["orders_total"] == 0).all()
        return
    ref = summary_data_from_transaction_data(
        ref_tx, "customer_id", "ordered_at", monetary_value_col="amount", observation_period_end=as_of, freq="D"
    )
    got = got.loc[ref.index]
    for col in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_allclose(got[col].to_numpy(), ref[col].to_numpy(), rtol=1e-9, atol=1e-9, err_msg=col)


def _dataset():
    orders = orders_frame([("1", "a", "2024-03-01", 30.0), ("2", "b", "2024-03-20", 50.0)])
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "email": ["a@example.com", "b@example.com", "bad@", "d@example.com", None],
            "phone": ["+12085550123", "+14155550123", None, "+447400123456", "+33612345678"],
            "country": ["US", "US", "CA", "GB", "FR"],
            "region": [None, "CA", "BC", None, None],
            "timezone": [None, "America/Denver", None, None, "Mars/Olympus"],
            "preferred_channel": [None, None, None, "sms", None],
        }
    )
    consents = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "d", "d"],
            "channel": ["email", "email", "sms", "email", "sms", "sms", "email"],
            "status": [
                "subscribed",
                "unsubscribed",
                "subscribed",
                "subscribed",
                "subscribed",
                "subscribed",
                "subscribed",
            ],
            "recorded_at": pd.to_datetime(
                ["2024-01-01", "2024-03-10", "2024-01-01", "2024-01-01", "2024-04-15", "2024-01-01", "2024-01-01"],
                utc=True,
            ),
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "b"],
            "event": ["site_visit", "product_view", "product_view", "add_to_cart", "site_visit", "support_ticket"],
            "product_id": [None, "P1", "P2", "P2", None, None],
            "occurred_at": pd.to_datetime(
                [
                    "2024-03-30 00:00",
                    "2024-03-29 00:00",
                    "2024-03-30 10:00",
                    "2024-03-30 11:00",
                    "2024-03-05 00:00",
                    "2024-04-02 00:00",
                ],
                utc=True,
            ),
        }
    )
    messages = pd.DataFrame(
        {
            "message_id": [f"m{i}" for i in range(8)],
            "customer_id": ["d"] * 8,
            "channel": ["email"] * 4 + ["sms"] * 4,
            "sent_at": pd.to_datetime(["2024-03-01"] * 8, utc=True),
            "opened_at": pd.to_datetime(["2024-03-02", None, None, None, None, None, None, None], utc=True),
            "clicked_at": pd.to_datetime([None, None, None, None, "2024-03-02", "2024-03-03", None, None], utc=True),
        }
    )
    return from_frames(orders, customers, events, consents, messages)


def test_build_profiles_hand_built():
    p = build_profiles(_dataset(), as_of="2024-03-31").set_index("customer_id")
    assert list(p.reset_index().columns[-len(PROFILE_COLUMNS) + 1 :]) == PROFILE_COLUMNS[1:]
    # consent: the latest ledger row at as_of wins; rows after as_of are ignored
    assert p.loc["a", "email_consent"] == "unsubscribed" and p.loc["a", "sms_consent"] == "subscribed"
    assert p.loc["b", "sms_consent"] == "unknown" and p.loc["c", "email_consent"] == "unknown"
    assert not p.loc["a", "can_email"] and p.loc["a", "can_sms"]
    assert not p.loc["c", "can_email"]  # invalid email and no consent
    # behaviour windows and last viewed product
    assert p.loc["a", ["site_visits_7d", "product_views_7d", "cart_adds_7d"]].tolist() == [1, 2, 1]
    assert p.loc["a", "last_viewed_product"] == "P2"
    assert p.loc["b", "site_visits_7d"] == 0 and p.loc["b", "site_visits_30d"] == 1
    assert p.loc["b", "support_tickets_30d"] == 0  # the ticket is after as_of
    # engagement per channel
    assert p.loc["d", ["email_sends", "email_opens", "sms_sends", "sms_clicks"]].tolist() == [4, 1, 4, 2]
    # time zones: stated, else phone (all zones kept), else region, else country; an unknown stated zone is ignored
    assert p.loc["b", ["timezone", "timezone_source"]].tolist() == ["America/Denver", "stated"]
    assert p.loc["a", "timezone_source"] == "phone"
    assert set(p.loc["a", "timezones"].split("|")) == {"America/Boise", "America/Los_Angeles"}
    assert p.loc["c", ["timezone", "timezone_source"]].tolist() == ["America/Vancouver", "region"]
    assert p.loc["e", ["timezone", "timezone_source"]].tolist() == ["Europe/Paris", "phone"]
    # preferred channel: stated, else the only reachable one, else none
    assert p.loc["d", ["preferred_channel", "preferred_channel_source"]].tolist() == ["sms", "stated"]
    assert p.loc["a", "preferred_channel"] == "sms"
    assert p.loc["c", ["preferred_channel", "preferred_channel_source"]].tolist() == ["none", "unreachable"]
    # customers without orders still have a profile
    assert p.loc["c", "orders_total"] == 0 and pd.isna(p.loc["c", "last_order_at"])


def test_preferred_channel_inferred_from_clicks():
    ds = _dataset()
    consents = pd.concat(
        [
            ds.consents,
            pd.DataFrame(
                {"customer_id": ["d"], "channel": ["sms"], "status": ["subscribed"], "recorded_at": [ts("2024-01-02")]}
            ),
        ],
        ignore_index=True,
    )
    customers = ds.customers.assign(preferred_channel=None)
    p = build_profiles(from_frames(ds.orders, customers, ds.events, consents, ds.messages), as_of="2024-03-31")
    row = p.set_index("customer_id").loc["d"]
    assert (row["preferred_channel"], row["preferred_channel_source"]) == ("sms", "inferred")  # 2/4 sms vs 0/4 email


def test_build_profiles_does_not_modify_input(sample_dataset):
    before = sample_dataset.orders.copy()
    build_profiles(sample_dataset, as_of="2026-10-31")
    pd.testing.assert_frame_equal(sample_dataset.orders, before)


def test_sample_profiles_one_row_per_customer(sample_dataset, sample_profiles):
    assert len(sample_profiles) == len(sample_dataset.customers)
    assert sample_profiles["customer_id"].is_unique
    assert set(sample_profiles["timezone_source"]) >= {"phone", "region", "country"}
    assert (sample_profiles["timezones"].str.contains("|", regex=False)).any()


@st.composite
def order_books(draw):
    """An as_of day, customers in a shuffled order (one never orders) and orders around the window edges.

    Orders are drawn as days before the as_of day (the edges of the 30/90/365-day windows often, some after
    as_of) and a minute of that day, with cancellations, returns and negative amounts.
    """
    as_of_day = ts("2025-06-30")
    ids = draw(st.permutations(["a", "b", "c", "d", "e", "f"]))
    edges = st.sampled_from([0, 1, 29, 30, 31, 89, 90, 91, 364, 365, 366])
    n = draw(st.integers(1, 40))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(ids[:5]),
                st.one_of(edges, st.integers(-3, 600)),  # days before the as_of day
                st.integers(0, 24 * 60 - 1),  # minute of the day
                st.floats(-100, 500, allow_nan=False).map(lambda x: round(x, 2)),
                st.sampled_from(["placed", "placed", "placed", "Cancelled", "refunded", None]),
            ),
            min_size=n,
            max_size=n,
        )
    )
    when = [as_of_day - pd.Timedelta(days=r[1]) + pd.Timedelta(minutes=r[2]) for r in rows]
    orders = pd.DataFrame(
        {
            "order_id": [str(i) for i in range(n)],
            "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
            "ordered_at": pd.Series(when, dtype="datetime64[us, UTC]"),
            "amount": pd.Series([r[3] for r in rows], dtype="float64"),
            "status": pd.Series([r[4] for r in rows], dtype="string"),
        }
    )
    return orders, pd.DataFrame({"customer_id": list(ids)}), resolve_as_of(as_of_day.date())


def reference_order_columns(orders: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The non-lifetimes order columns, computed row by row in pandas."""
    o = orders[orders["ordered_at"] <= as_of]
    cancelled = (o["amount"] < 0) | o["status"].str.lower().isin(["cancelled", "refunded"]).fillna(False)
    bought = o[~cancelled]
    day = (as_of.normalize() - bought["ordered_at"].dt.floor("D")).dt.days  # 0 on the as_of day
    out = pd.DataFrame(
        {
            "orders_total": bought.groupby("customer_id").size(),
            "revenue_total": bought.groupby("customer_id")["amount"].sum(),
            "cancellations": o[cancelled].groupby("customer_id").size(),
            "first_order_at": bought.groupby("customer_id")["ordered_at"].min(),
            "last_order_at": bought.groupby("customer_id")["ordered_at"].max(),
        }
    )
    for days in (30, 90, 365):
        recent = bought[day < days]
        out[f"orders_{days}d"] = recent.groupby("customer_id").size()
        out[f"revenue_{days}d"] = recent.groupby("customer_id")["amount"].sum()
    counts = [c for c in out.columns if not c.endswith("_at")]
    out[counts] = out[counts].fillna(0)
    out["days_since_last_order"] = (as_of.normalize() - out["last_order_at"].dt.floor("D")).dt.days.astype(float)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_books())
def test_profile_order_columns_equal_a_row_by_row_reference(book):
    orders, customers, as_of = book
    dataset = from_frames(orders, customers)
    p = build_profiles(dataset, as_of=as_of)
    # one row per customer, in the customers table's order, whatever the order of the customer keys
    assert p["customer_id"].tolist() == customers["customer_id"].tolist()
    ref = reference_order_columns(orders, as_of).reindex(p["customer_id"])
    got = p.set_index("customer_id")
    for col in ("orders_total", "cancellations", "orders_30d", "orders_90d", "orders_365d"):
        assert got[col].tolist() == ref[col].fillna(0).astype(int).tolist(), col
    for col in ("revenue_total", "revenue_30d", "revenue_90d", "revenue_365d", "days_since_last_order"):
        want = ref[col].to_numpy(dtype=float)
        want = want if col == "days_since_last_order" else np.nan_to_num(want)
        np.testing.assert_allclose(got[col].to_numpy(dtype=float), want, rtol=1e-9, atol=1e-9, err_msg=col)
    for col in ("first_order_at", "last_order_at"):
        assert got[col].equals(ref[col].astype("datetime64[us, UTC]")), col
    # the string-keyed summary (the SQL a warehouse would run) agrees with the integer-keyed one
    summary = order_summary(orders, as_of=as_of).set_index("customer_id")
    pd.testing.assert_frame_equal(
        summary, got.loc[summary.index, summary.columns], check_dtype=False, check_index_type=False, rtol=1e-12
    )


def test_rows_of_customers_missing_from_the_customers_table_are_ignored():
    """A Dataset built directly (not through loading) may hold rows of unknown customers."""
    from workbench.models.dataset import Dataset

    orders = orders_frame([("1", "a", "2024-03-01", 30.0), ("2", "ghost", "2024-03-02", 99.0)])
    events = pd.DataFrame(
        {
            "customer_id": pd.Series(["ghost", "b"], dtype="string"),
            "event": ["site_visit", "site_visit"],
            "product_id": [None, None],
            "occurred_at": pd.to_datetime(["2024-03-20", "2024-03-21"], utc=True),
        }
    )
    customers = pd.DataFrame({"customer_id": pd.Series(["b", "a"], dtype="string")})
    dataset = Dataset(orders=orders, customers=customers, events=events)
    assert dataset.customer_keys("orders").tolist() == [1, -1]
    p = build_profiles(dataset, as_of="2024-03-31").set_index("customer_id")
    assert p.index.tolist() == ["b", "a"]
    assert p["orders_total"].tolist() == [0, 1] and p["revenue_total"].tolist() == [0.0, 30.0]
    assert p["site_visits_30d"].tolist() == [1, 0]


def test_profiles_can_be_edited_without_touching_the_dataset(sample_dataset):
    """Every column accepts a new value, and editing never writes through to the dataset or what it caches."""
    customers = sample_dataset.customers.copy(deep=True)
    reference = build_profiles(sample_dataset, as_of="2026-10-31")
    edited = build_profiles(sample_dataset, as_of="2026-10-31")
    for column in edited.columns:
        edited.loc[0, column] = edited.loc[1, column]  # raised "read-only" for columns viewed from Arrow
    assert edited.iloc[0].equals(reference.iloc[1].rename(0))
    pd.testing.assert_frame_equal(sample_dataset.customers, customers)
    pd.testing.assert_frame_equal(build_profiles(sample_dataset, as_of="2026-10-31"), reference)


def test_contacts_and_zones_are_checked_once_per_dataset(monkeypatch):
    """Loading checked every email and phone; profiles at any as_of reuse those answers and the time zones."""
    import workbench.contracts as contracts
    import workbench.profiles as profiles

    dataset = _dataset()
    first = build_profiles(dataset, as_of="2024-03-31")

    def parse_again(*_args, **_kwargs):
        raise AssertionError("phone numbers parsed again")

    monkeypatch.setattr(contracts, "valid_phones", parse_again)
    monkeypatch.setattr(profiles, "resolve_timezones", parse_again)
    later = build_profiles(dataset, as_of="2024-04-30")
    cols = ["has_valid_email", "has_valid_phone", "timezone", "timezones", "timezone_source"]
    pd.testing.assert_frame_equal(later[cols], first[cols])
    # new customers are checked anew
    changed = dataset.with_tables(customers=dataset.customers.assign(phone=None))
    with pytest.raises(AssertionError, match="parsed again"):
        build_profiles(changed, as_of="2024-04-30")


def _duckdb_codes(texts: list[str | None]) -> tuple[list[str | None], list[bool]]:
    """The profile SQL's own currency expressions, run by DuckDB."""
    with duckdb.connect(":memory:") as con:
        con.register(
            "t", pa.table({"i": pa.array(range(len(texts)), pa.int64()), "text": pa.array(texts, pa.string())})
        )
        rows = con.sql(
            "select upper(trim(text)), coalesce(length(upper(trim(text))) = 3, false) from t order by i"
        ).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def _no_connection() -> duckdb.DuckDBPyConnection:
    raise AssertionError("ASCII currency texts are read without DuckDB")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(max_codepoint=127), max_size=6)), max_size=8))
def test_ascii_currency_texts_are_coded_as_duckdb_codes_them(texts):
    code, ok = _currency_codes(pa.array(texts, pa.large_string()), _no_connection)
    assert (code.to_pylist(), ok.tolist()) == _duckdb_codes(texts)


def test_currency_texts_beyond_ascii_are_coded_by_duckdb():
    texts = [" eur ", "ß", "\u00a0usd", "ﬀx", "€UR", "\tgbp", None]
    with duckdb.connect(":memory:") as con:
        code, ok = _currency_codes(pa.array(texts, pa.large_string()), lambda: con)
    assert (code.to_pylist(), ok.tolist()) == _duckdb_codes(texts)
    assert ok.tolist()[0] and not ok.tolist()[-1]
