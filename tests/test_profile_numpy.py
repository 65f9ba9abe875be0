"""The order and message columns of profiles computed with NumPy from the customer keys agree with the SQL.

``build_profiles`` counts and sums the orders and messages with NumPy when it can; the SQL
(``order_summary_sql`` and ``part_sql``: what a warehouse runs, and what ``build_profiles`` falls back
to) is the reference, run here on the same rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench import profiles
from workbench.contracts import cancelled_statuses
from workbench.models.dataset import Dataset
from workbench.profiles import ORDER_COLUMNS, build_profiles, resolve_as_of

STATUSES = [
    "placed",
    "placed",
    "CANCELLED",
    "Canceled",
    "Void",
    "VOİD",
    "void ",
    "Returned",
    "refunded",
    "cancel",
    None,
]
CURRENCIES = ["usd", " EUR ", "GBPX", "", None, "JPY"]


def sql_order_columns(dataset: Dataset, as_of: pd.Timestamp) -> dict[str, object]:
    """The order columns as the profile SQL gives them, placed by customer key (the reference)."""
    present = dataset.column_names("orders")
    columns = ["ordered_at", "amount"] + [c for c in ("status", "currency") if c in present]
    with profiles._connect() as con:
        profiles._load(con, "orders_in", profiles._keyed(dataset, "orders", columns))
        sql = profiles.order_summary_sql(
            "orders_in",
            as_of_us=profiles._epoch_us(as_of),
            has_status="status" in present,
            key=profiles._KEY,
            has_currency="currency" in present,
        )
        return profiles._spread(con.sql(sql).to_arrow_table(), len(dataset.customers), profiles._ORDER_DEFAULTS)


def assert_same_columns(got: dict[str, object], want: dict[str, object], columns: list[str]) -> None:
    for column in columns:
        a, b = got[column], want[column]
        if isinstance(b, np.ndarray) and b.dtype.kind == "f":
            assert isinstance(a, np.ndarray) and a.dtype == b.dtype, column
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=column)
        elif isinstance(b, np.ndarray):
            assert isinstance(a, np.ndarray) and a.dtype == b.dtype, column
            assert a.tolist() == b.tolist(), column
        else:  # timestamps and text
            assert pd.Series(a).equals(pd.Series(b)), column


@st.composite
def order_sets(draw):
    """Customers (one never orders), orders of them and of unknown customers around the window edges,
    cancellations by amount and by status in any case, several orders on one day, and an as_of moment."""
    ids = draw(st.permutations(["a", "b", "c", "d", "e", "f"]))
    as_of = draw(st.sampled_from(["2025-06-30", "2025-06-30 12:00", "1970-01-02", "2199-12-30", "1900-03-01"]))
    as_of_ts = resolve_as_of(as_of if len(as_of) == 10 else pd.Timestamp(as_of, tz="UTC"))
    edges = st.sampled_from([0, 1, 29, 30, 31, 89, 90, 91, 364, 365, 366])
    n = draw(st.integers(0, 40))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from([*ids[:5], "ghost"]),
                st.one_of(edges, st.integers(-3, 800)),  # days before the as_of day
                st.integers(0, 24 * 60 - 1),
                st.one_of(
                    st.floats(-100, 500, allow_nan=False).map(lambda x: round(x, 2)),
                    # amounts of the size orders have: monetary_value subtracts the first day from the total,
                    # and with an amount like 1e12 only the rounding of the sums (in any order) would be left
                    st.sampled_from([0.0, -0.0, 99_999.99, 0.1]),
                ),
                st.sampled_from(STATUSES),
                st.sampled_from(CURRENCIES),
            ),
            min_size=n,
            max_size=n,
        )
    )
    day = as_of_ts.normalize()
    when = [
        min(
            max(day - pd.Timedelta(days=r[1]) + pd.Timedelta(minutes=r[2]), pd.Timestamp("1900-01-01", tz="UTC")),
            pd.Timestamp("2199-12-31 23:59", tz="UTC"),
        )
        for r in rows
    ]
    orders = pd.DataFrame(
        {
            "order_id": pd.Series([str(i) for i in range(n)], dtype="string"),
            "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
            "ordered_at": pd.Series(when, dtype="datetime64[us, UTC]"),
            "amount": pd.Series([r[3] for r in rows], dtype="float64"),
        }
    )
    if draw(st.booleans()):
        orders["status"] = pd.Series([r[4] for r in rows], dtype="string")
    if draw(st.booleans()):
        orders["currency"] = pd.Series([r[5] for r in rows], dtype="string")
    customers = pd.DataFrame({"customer_id": pd.Series(list(ids), dtype="string")})
    return orders, customers, as_of_ts


def as_held(frame: pd.DataFrame, coded: list[str], chunk: int) -> pa.Table:
    """A frame as loading holds it: Arrow, the columns of few values dictionary-encoded, in chunks."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for column in coded:
        if column in table.column_names:
            i = table.schema.get_field_index(column)
            table = table.set_column(i, column, table.column(i).dictionary_encode())
    return pa.Table.from_batches(table.to_batches(max_chunksize=chunk), table.schema)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_sets(), st.booleans())
def test_numpy_order_columns_equal_the_sql(book, as_arrow):
    orders, customers, as_of = book
    held = as_held(orders, ["status"], max(len(orders), 1)) if as_arrow else orders
    dataset = Dataset(orders=held, customers=customers)
    got = profiles._order_arrays(dataset, len(customers), as_of_us=profiles._epoch_us(as_of))
    assert got is not None
    assert list(got) == [c for c in profiles._ORDER_DEFAULTS if c != "latest_currency"]
    assert_same_columns(got, sql_order_columns(dataset, as_of), list(got))


def test_build_profiles_are_the_same_with_the_sql(sample_dataset, monkeypatch):
    """Every profile column, with NumPy for every table and with the SQL."""
    fast = build_profiles(sample_dataset, as_of="2026-10-31")
    assert all(sample_dataset.has(name) for name in ("messages", "events", "consents"))
    assert "currency" in sample_dataset.column_names("orders")
    monkeypatch.setattr(profiles, "_order_arrays", lambda *args, **kwargs: None)
    monkeypatch.setattr(profiles, "_message_counts", lambda *args, **kwargs: None)
    monkeypatch.setattr(profiles, "_currency_arrays", lambda *args, **kwargs: None)
    monkeypatch.setattr(profiles, "_NUMPY_PARTS", {})
    slow = build_profiles(sample_dataset, as_of="2026-10-31")
    sums = [c for c in ORDER_COLUMNS if fast[c].dtype.kind == "f"]
    others = [c for c in fast.columns if c not in sums]
    pd.testing.assert_frame_equal(fast[others], slow[others])
    pd.testing.assert_frame_equal(fast[sums], slow[sums], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("slow", ["second thread", "this thread"])
def test_parts_queued_behind_the_messages_are_the_same_on_either_thread(sample_dataset, monkeypatch, slow):
    """The events' and consents' parts wait behind the messages on the second thread; this thread runs those
    not started when it gets to them. Whichever thread runs them, the profiles are the same."""
    want = build_profiles(sample_dataset, as_of="2026-10-31")
    ran_on: dict[str, bool] = {}

    def recorded(name: str, part: Callable[..., object]) -> Callable[..., object]:
        def run(*args: object, **kwargs: object) -> object:
            ran_on[name] = threading.current_thread() is threading.main_thread()
            return part(*args, **kwargs)

        return run

    parts = {name: recorded(name, part) for name, part in profiles._NUMPY_PARTS.items()}
    monkeypatch.setattr(profiles, "_NUMPY_PARTS", parts)
    if slow == "second thread":  # still counting messages when this thread is done with its own parts
        count = profiles._MessageCounts.run

        def late(self: profiles._MessageCounts) -> object:
            if threading.current_thread() is not threading.main_thread():
                time.sleep(0.5)
            return count(self)

        monkeypatch.setattr(profiles._MessageCounts, "run", late)
    else:  # done with the messages long before this thread is done with its own parts
        currencies = profiles._currencies

        def slow_currencies(*args: object, **kwargs: object) -> object:
            time.sleep(0.5)
            return currencies(*args, **kwargs)

        monkeypatch.setattr(profiles, "_currencies", slow_currencies)
    got = build_profiles(sample_dataset, as_of="2026-10-31")
    assert ran_on == {"events": slow == "second thread", "consents": slow == "second thread"}
    pd.testing.assert_frame_equal(got, want)


def test_missing_amounts_or_times_are_left_to_the_sql():
    customers = pd.DataFrame({"customer_id": pd.Series(["a", "b"], dtype="string")})
    orders = pd.DataFrame(
        {
            "order_id": pd.Series(["1", "2", "3"], dtype="string"),
            "customer_id": pd.Series(["a", "b", "a"], dtype="string"),
            "ordered_at": pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01", None], utc=True)).astype(
                "datetime64[us, UTC]"
            ),
            "amount": [10.0, np.nan, 5.0],
        }
    )
    dataset = Dataset(orders=orders, customers=customers)
    as_of = resolve_as_of("2024-03-01")
    assert profiles._order_arrays(dataset, 2, as_of_us=profiles._epoch_us(as_of)) is None
    got = build_profiles(dataset, as_of=as_of)
    assert got["orders_total"].tolist() == [1, 0]  # b's only order has no amount: not a purchase
    assert got["revenue_total"].tolist() == [10.0, 0.0]


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 30),
    st.lists(st.tuples(st.integers(0, 29), st.integers(-40_000, 40_000)), max_size=60),
    st.sampled_from([1, 10**6, 10**8]),
)
def test_distinct_days_count_each_keys_days_once(n, pairs, stretch):
    """Against Python's sets; ``stretch`` spreads the days so that (key, day) numbers need 64 bits."""
    pairs = [(k % n, d * stretch) for k, d in pairs]
    key = np.array([p[0] for p in pairs], dtype=np.int32)
    day = np.array([p[1] for p in pairs], dtype=np.int64)
    want = [len({d for k, d in pairs if k == i}) for i in range(n)]
    assert profiles._distinct_days(key, day, n).tolist() == want


@pytest.mark.parametrize("kind", ["plain", "dictionary"])
def test_cancelled_statuses_follow_the_sql(kind):
    """Lower case as DuckDB's ``lower`` (a dotted capital I is an i); missing is not cancelled."""
    values = ["VOİD", "Void", "void ", "ＶＯＩＤ", "REFUNDED", "placed", None, "", "Canceled"]
    array = pa.chunked_array([pa.array(values[:4]), pa.array(values[4:])])
    if kind == "dictionary":
        array = pa.chunked_array([c.dictionary_encode() for c in array.chunks])
    import duckdb

    with duckdb.connect() as con:
        statuses = ", ".join(f"'{s}'" for s in profiles.CANCELLED_STATUSES)
        want = [
            con.execute(f"select coalesce(lower(cast(? as varchar)), '') in ({statuses})", [v]).fetchone()[0]
            for v in values
        ]
    assert cancelled_statuses(array).tolist() == want


def sql_part(dataset: Dataset, name: str, as_of: pd.Timestamp) -> dict[str, object]:
    """One other table's part as its SQL gives it, placed by customer key (the reference)."""
    with profiles._connect() as con:
        profiles._load(con, name, profiles._keyed(dataset, name, profiles._PART_INPUTS[name][1:]))
        part = con.sql(profiles.part_sql(name, as_of=as_of, key=profiles._KEY)).to_arrow_table()
    return profiles._spread(part, len(dataset.customers), profiles._PARTS[name])


@st.composite
def message_sets(draw):
    """Messages of known and unknown customers on any channel text, sent, opened and clicked around as_of
    (missing, before, at and after it; an open after the click, a click without an open), some columns absent."""
    ids = draw(st.permutations(["a", "b", "c", "d"]))
    as_of = resolve_as_of("2025-06-30")
    offsets = st.one_of(st.none(), st.sampled_from([-2, -1, 0, 1, 5]), st.integers(-50, 50))  # minutes from as_of

    def moment(minutes):
        return None if minutes is None else as_of + pd.Timedelta(minutes=minutes) - pd.Timedelta(microseconds=0)

    n = draw(st.integers(0, 40))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from([*ids[:3], "ghost"]),
                st.sampled_from(["email", "sms", "Email", "push", None]),
                offsets,
                offsets,
                offsets,
            ),
            min_size=n,
            max_size=n,
        )
    )
    messages = pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
            "channel": pd.Series([r[1] for r in rows], dtype="string"),
            "sent_at": pd.Series([moment(r[2]) for r in rows], dtype="datetime64[us, UTC]"),
            "opened_at": pd.Series([moment(r[3]) for r in rows], dtype="datetime64[us, UTC]"),
            "clicked_at": pd.Series([moment(r[4]) for r in rows], dtype="datetime64[us, UTC]"),
        }
    )
    for column in ("opened_at", "clicked_at"):
        if draw(st.booleans()) and draw(st.booleans()):
            messages = messages.drop(columns=column)
    customers = pd.DataFrame({"customer_id": pd.Series(list(ids), dtype="string")})
    orders = pd.DataFrame(
        {
            "order_id": pd.Series(["1"], dtype="string"),
            "customer_id": pd.Series([ids[0]], dtype="string"),
            "ordered_at": pd.Series([as_of - pd.Timedelta(days=3)], dtype="datetime64[us, UTC]"),
            "amount": [10.0],
        }
    )
    return orders, customers, messages, as_of


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message_sets(), st.booleans(), st.integers(1, 8), st.integers(1, 8), st.integers(1, 3))
def test_numpy_message_columns_equal_the_sql(book, as_arrow, batch, chunk, threads):
    """Counted ``batch`` rows at a time, over Arrow chunks of ``chunk`` rows (batches cut across chunks), by
    ``threads`` threads sharing the batches."""
    orders, customers, messages, as_of = book
    held = as_held(messages, ["channel"], chunk) if as_arrow else messages
    dataset = Dataset(orders=orders, customers=customers, messages=held)
    counts = profiles._MessageCounts(dataset, len(customers), as_of_us=profiles._epoch_us(as_of), batch=batch)
    with ThreadPoolExecutor(threads) as pool:
        runs = list(pool.map(lambda _: counts.run(), range(threads)))
    got = counts.result(*runs)
    assert got is not None
    assert list(got) == list(profiles._PARTS["messages"])
    assert_same_columns(got, sql_part(dataset, "messages", as_of), list(got))


def test_message_times_that_are_all_missing_without_a_buffer():
    """A column Arrow made of nulls alone has no data buffer to read."""
    as_of = resolve_as_of("2025-06-30")
    sent = pa.array([as_of - pd.Timedelta(days=d) for d in (1, 2, 3)], pa.timestamp("us", tz="UTC"))
    messages = pa.table(
        {
            "customer_id": pa.array(["a", "b", "a"]),
            "channel": pa.array(["email", "sms", "email"]),
            "sent_at": sent,
            "opened_at": pa.nulls(3, pa.timestamp("us", tz="UTC")),
            "clicked_at": pa.array([None, sent[1].as_py(), sent[2].as_py()], pa.timestamp("us", tz="UTC")),
        }
    )
    customers = pd.DataFrame({"customer_id": pd.Series(["a", "b"], dtype="string")})
    orders = pd.DataFrame(
        {
            "order_id": pd.Series(["1"], dtype="string"),
            "customer_id": pd.Series(["a"], dtype="string"),
            "ordered_at": pd.Series([as_of - pd.Timedelta(days=3)], dtype="datetime64[us, UTC]"),
            "amount": [10.0],
        }
    )
    dataset = Dataset(orders=orders, customers=customers, messages=messages)
    got = profiles._message_arrays(dataset, 2, as_of_us=profiles._epoch_us(as_of))
    assert got is not None
    assert got["email_clicks"].tolist() == [1, 0] and got["sms_clicks"].tolist() == [0, 1]
    assert_same_columns(got, sql_part(dataset, "messages", as_of), list(got))


def one_order(customer: str, as_of: pd.Timestamp) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": pd.Series(["1"], dtype="string"),
            "customer_id": pd.Series([customer], dtype="string"),
            "ordered_at": pd.Series([as_of - pd.Timedelta(days=3)], dtype="datetime64[us, UTC]"),
            "amount": [10.0],
        }
    )


#: Moments around the edges of the windows (as_of, 7 and 30 days before it, and a microsecond either side of
#: each), a few others, and missing: few enough that rows often share one.
_AS_OF = resolve_as_of("2025-06-30")
_MOMENTS = st.sampled_from(
    [
        None,
        *(_AS_OF + pd.Timedelta(microseconds=e) for e in (-1, 0, 1)),
        *(_AS_OF - pd.Timedelta(days=d) + pd.Timedelta(microseconds=e) for d in (7, 30) for e in (-1, 0, 1)),
        *(_AS_OF - pd.Timedelta(minutes=m) for m in (1, 60 * 24 * 3, 60 * 24 * 45)),
    ]
)


def drawn_table(draw, columns: dict[str, tuple[object, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers a to d, and up to 40 rows of known customers (three of them) and an unknown one, each column
    drawn from its strategy (``columns``: name, then strategy and pandas dtype)."""
    ids = draw(st.permutations(["a", "b", "c", "d"]))
    n = draw(st.integers(0, 40))
    strategies = [st.sampled_from([*ids[:3], "ghost"]), *(strategy for strategy, _ in columns.values())]
    rows = draw(st.lists(st.tuples(*strategies), min_size=n, max_size=n))
    names = {"customer_id": "string", **{name: dtype for name, (_, dtype) in columns.items()}}
    frame = pd.DataFrame(
        {name: pd.Series([r[i] for r in rows], dtype=dtype) for i, (name, dtype) in enumerate(names.items())}
    )
    return pd.DataFrame({"customer_id": pd.Series(list(ids), dtype="string")}), frame


@st.composite
def event_sets(draw):
    """Events of known and unknown customers, of every counted kind and others, around the windows' edges,
    several at one moment (views of different products), product ids missing, empty or absent."""
    customers, events = drawn_table(
        draw,
        {
            "event": (st.sampled_from([*profiles._EVENT_KINDS, "purchase", None]), "string"),
            "occurred_at": (_MOMENTS, "datetime64[us, UTC]"),
            "product_id": (st.sampled_from(["p1", "p2", "P1", "p10", "é", "", None]), "string"),
        },
    )
    if draw(st.booleans()) and draw(st.booleans()):
        events = events.drop(columns="product_id")
    return one_order(customers["customer_id"].iloc[0], _AS_OF), customers, events


def assert_part_is_the_sql(name: str, book: tuple, as_arrow: bool, chunk: int, coded: list[str]) -> None:
    """The NumPy part of table ``name`` of the drawn rows (held as pandas, or as Arrow in chunks with ``coded``
    dictionary-encoded) equals its SQL part."""
    orders, customers, rows = book
    held = as_held(rows, coded, chunk) if as_arrow else rows
    dataset = Dataset(orders=orders, customers=customers, **{name: held})
    got = profiles._NUMPY_PARTS[name](dataset, len(customers), as_of_us=profiles._epoch_us(_AS_OF))
    assert got is not None
    assert list(got) == list(profiles._PARTS[name])
    assert_same_columns(got, sql_part(dataset, name, _AS_OF), list(got))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_sets(), st.booleans(), st.integers(1, 8))
def test_numpy_event_columns_equal_the_sql(book, as_arrow, chunk):
    assert_part_is_the_sql("events", book, as_arrow, chunk, ["event", "product_id"])


@st.composite
def consent_sets(draw):
    """Ledger rows of known and unknown customers on every channel, around as_of, two at one moment."""
    customers, consents = drawn_table(
        draw,
        {
            "channel": (st.sampled_from(["email", "sms", "push"]), "string"),
            "status": (st.sampled_from(["subscribed", "unsubscribed", "pending"]), "string"),
            "recorded_at": (_MOMENTS, "datetime64[us, UTC]"),
        },
    )
    return one_order(customers["customer_id"].iloc[0], _AS_OF), customers, consents


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consent_sets(), st.booleans(), st.integers(1, 8))
def test_numpy_consent_columns_equal_the_sql(book, as_arrow, chunk):
    assert_part_is_the_sql("consents", book, as_arrow, chunk, ["channel", "status"])


def test_a_missing_consent_status_is_left_to_the_sql():
    consents = pa.table(
        {
            "customer_id": ["a", "a"],
            "channel": ["email", "email"],
            "status": pa.array(["subscribed", None]),
            "recorded_at": pa.array([_AS_OF.to_pydatetime()] * 2, pa.timestamp("us", tz="UTC")),
        }
    )
    customers = pd.DataFrame({"customer_id": pd.Series(["a"], dtype="string")})
    dataset = Dataset(orders=one_order("a", _AS_OF), customers=customers, consents=consents)
    assert profiles._consent_arrays(dataset, 1, as_of_us=profiles._epoch_us(_AS_OF)) is None


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_sets(), st.booleans(), st.integers(1, 8))
def test_numpy_latest_currency_equals_the_sql(book, as_arrow, chunk):
    """Codes as the SQL makes them (trimmed of spaces, upper case, three characters), the latest order's,
    of several at one moment the greatest."""
    orders, customers, as_of = book
    if "currency" not in orders.columns:
        orders = orders.assign(currency=pd.Series(["usd", " EUR ", None, "ｕｓｄ", "\tGBP", "eur"] * 7)[: len(orders)])
        orders["currency"] = orders["currency"].astype("string")
    held = as_held(orders, ["status", "currency"], chunk) if as_arrow else orders
    dataset = Dataset(orders=held, customers=customers)
    with profiles._Connection() as duck:
        got = profiles._currency_arrays(duck, dataset, len(customers), as_of_us=profiles._epoch_us(as_of))
    assert got is not None
    want = sql_order_columns(dataset, as_of)
    assert_same_columns(got, want, ["latest_currency"])
