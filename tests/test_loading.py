"""Loading at the engine's pace gives what the contract's pandas checks give, value for value and error for error.

``load_dataset`` reads files with Arrow's typed readers and checks the tables in Arrow
(:func:`workbench.contracts.validate_arrow`); the reference is the contract as pandas applies it: every CSV
cell read as text (``pd.read_csv(dtype=str)``) or the Parquet file read by pandas, then
:func:`workbench.contracts.from_frames` over those frames (:func:`workbench.contracts.validate`, value by
value). Both must give the same tables, dtypes, quality rows and customer keys, or the same error.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

import workbench.models.dataset as dataset_module
from workbench.contracts import from_frames, to_utc, valid_emails, validate_arrow
from workbench.io import load_dataset
from workbench.models.errors import DataContractError
from workbench.models.tables import EMAIL_PATTERN, TABLES
from workbench.profiles import build_profiles

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def reference(folder: Path, column_map: dict | None = None):
    """The dataset the contract defines: files read as pandas reads them, checked value by value."""
    frames = {}
    for name in TABLES:
        for ext in (".parquet", ".csv", ".csv.gz"):
            path = folder / f"{name}{ext}"
            if path.exists():
                frame = (
                    pd.read_parquet(path)
                    if ext == ".parquet"
                    else pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], engine="pyarrow")
                )
                frames[name] = frame.rename(columns=column_map or {})
    return from_frames(**frames, source=str(folder))


def outcome(load):
    """The dataset's tables, quality and keys, or the error (kind and message)."""
    try:
        ds = load()
    except DataContractError as exc:
        return ("error", type(exc).__name__, str(exc), exc.count, exc.examples)
    keys = {n: ds.customer_keys(n).tolist() for n in ("orders", "events", "consents", "messages") if ds.has(n)}
    return ("dataset", ds.tables(), ds.quality, keys)


def assert_same(got, want):
    assert got[0] == want[0], (got[:3], want[:3])
    if got[0] == "error":
        assert got == want
        return
    _, tables, quality, keys = got
    assert tables.keys() == want[1].keys()
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, want[1][name], check_exact=True, obj=name)
        assert frame.dtypes.astype(str).tolist() == want[1][name].dtypes.astype(str).tolist(), name
    pd.testing.assert_frame_equal(quality, want[2], check_exact=True)
    assert keys == want[3]


def _write(folder: Path, fmt: str = "csv", **tables: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "parquet":
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        else:
            frame.to_csv(folder / f"{name}.{fmt}", index=False)
    return folder


def _orders(n: int = 4, **columns: object) -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": [f"c{i % 3}" for i in range(n)],
            "ordered_at": [f"2026-0{1 + i % 9}-1{i % 9}T10:00:00Z" for i in range(n)],
            "amount": [f"{10 + i}.50" for i in range(n)],
        }
    )
    for name, values in columns.items():
        base[name] = values
    return base


# ---------------------------------------------------------------- the sample and its Parquet copy


@pytest.fixture(scope="module")
def sample_parquet(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample_parquet")
    for path in SAMPLE.glob("*.csv.gz"):
        name = path.name.split(".")[0]
        pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]).to_parquet(folder / f"{name}.parquet")
    return folder


def test_the_sample_loads_as_the_contract_reads_it():
    assert_same(outcome(lambda: load_dataset(SAMPLE)), outcome(lambda: reference(SAMPLE)))


def test_a_parquet_copy_of_the_sample_loads_as_the_contract_reads_it(sample_parquet):
    assert_same(outcome(lambda: load_dataset(sample_parquet)), outcome(lambda: reference(sample_parquet)))


def test_tables_stay_in_arrow_until_asked_for(monkeypatch):
    """Loading and profiles read the tables as Arrow: only customers become a DataFrame (profiles carry them)."""
    made = []
    convert = dataset_module.arrow_to_frame
    monkeypatch.setattr(dataset_module, "arrow_to_frame", lambda name, table: made.append(name) or convert(name, table))
    ds = load_dataset(SAMPLE)
    build_profiles(ds, as_of="2026-10-31")
    assert made == ["customers"]
    assert ds.messages["channel"].dtype == "string" and made == ["customers", "messages"]
    assert ds.messages is ds.messages  # made once, kept


def test_a_duckdb_file_loads_as_the_contract_reads_it(tmp_path):
    db = tmp_path / "shop.duckdb"
    orders = _orders(6, status=["placed", "Cancelled", None, "placed", "returned", "placed"])
    with duckdb.connect(str(db)) as con:
        con.register("o", orders.assign(ordered_at=pd.to_datetime(orders["ordered_at"], utc=True)))
        con.execute("create table orders as select * from o")
    ds = load_dataset(db)
    with duckdb.connect(str(db), read_only=True) as con:
        want = from_frames(con.sql("select * from orders").df())
    pd.testing.assert_frame_equal(ds.orders, want.orders, check_exact=True)
    pd.testing.assert_frame_equal(ds.quality, want.quality, check_exact=True)


# ---------------------------------------------------------------- cells written every which way

_ZONES = st.sampled_from(["", "Z", "+00:00", "+02:00", "-05:00", "+0530", "-08", " +01:00"])
_FRACTIONS = st.sampled_from(["", ".5", ".123", ".123456", ".1234567", ".123456789"])


@st.composite
def timestamp_text(draw) -> str:
    """A timestamp as exports write them: ISO 8601 in its forms, day/month numbers, blanks, junk."""
    day = draw(st.dates(dt.date(1890, 1, 1), dt.date(2210, 12, 31)))
    kind = draw(st.sampled_from(["iso", "iso", "iso", "date", "numeric", "blank", "junk"]))
    if kind == "date":
        return day.isoformat()
    if kind == "numeric":
        sep = draw(st.sampled_from(["/", ".", "-"]))
        return f"{day.day:02d}{sep}{day.month:02d}{sep}{day.year}"
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "  "]))
    if kind == "junk":
        return draw(st.sampled_from(["yesterday", "2024-13-45", "2024-02-30T10:00:00Z", "0001-01-01", "9999-12-31"]))
    clock = f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
    if draw(st.booleans()):
        clock += f":{draw(st.integers(0, 59)):02d}{draw(_FRACTIONS)}"
    sep = draw(st.sampled_from(["T", " "]))
    return f"{day.isoformat()}{sep}{clock}{draw(_ZONES)}"


@st.composite
def timestamp_columns(draw) -> list[str]:
    """A column of timestamps mostly of one form (as one export writes them), sometimes mixed."""
    n = draw(st.integers(1, 8))
    if draw(st.booleans()):
        return [draw(timestamp_text()) for _ in range(n)]
    zone, fraction, sep = draw(_ZONES), draw(_FRACTIONS), draw(st.sampled_from(["T", " "]))
    days = draw(st.lists(st.dates(dt.date(1900, 1, 2), dt.date(2199, 12, 30)), min_size=n, max_size=n))
    return [f"{d.isoformat()}{sep}10:20:30{fraction}{zone}" for d in days]


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(timestamp_columns(), st.sampled_from(["csv", "csv.gz"]))
@example(["0001-01-01", "2000-01-01T00:00:00.1234567"], "csv")  # a year 0001 beside nanoseconds
def test_timestamps_are_read_as_the_contract_reads_them(tmp_path_factory, texts, fmt):
    folder = _write(tmp_path_factory.mktemp("ts"), fmt, orders=_orders(len(texts), ordered_at=texts))
    assert_same(outcome(lambda: load_dataset(folder)), outcome(lambda: reference(folder)))


_AMOUNTS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        ["1e5", ".5", "5.", "+5", " 5", "5 ", "-0", "1e309", "nan", "NaN", "inf", "-Infinity", "$5", "1,5", "", "0x10"]
    ),
)


@_SETTINGS
@given(st.lists(_AMOUNTS, min_size=1, max_size=8), st.lists(_AMOUNTS, min_size=1, max_size=8))
def test_numbers_are_read_as_the_contract_reads_them(tmp_path_factory, amounts, revenue):
    folder = _write(tmp_path_factory.mktemp("num"), orders=_orders(len(amounts), amount=amounts))
    messages = pd.DataFrame(
        {
            "message_id": [f"m{i}" for i in range(len(revenue))],
            "customer_id": "c0",
            "channel": "email",
            "sent_at": "2026-01-01T10:00:00Z",
            "revenue": revenue,
        }
    )
    messages.to_csv(folder / "messages.csv", index=False)
    assert_same(outcome(lambda: load_dataset(folder)), outcome(lambda: reference(folder)))


_IDS = st.one_of(
    st.sampled_from(["c1", " c1", "c1 ", "\u00a0c2", "c2\u3000", "c1", "", " ", "=c3", "C1", "c10", "c9"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=4),
)


@_SETTINGS
@given(
    st.lists(_IDS, min_size=1, max_size=8),
    st.lists(st.sampled_from(["email", " EMAIL", "sms", "Sms ", "push", ""]), min_size=1, max_size=6),
    st.lists(st.sampled_from(["subscribed", "Unsubscribed", " subscribed ", "opted-in"]), min_size=6, max_size=6),
)
def test_ids_and_enums_are_read_as_the_contract_reads_them(tmp_path_factory, ids, channels, statuses):
    orders = _orders(len(ids), customer_id=ids, order_id=[f"o{i % 5}" for i in range(len(ids))])
    consents = pd.DataFrame(
        {
            "customer_id": ids[0],
            "channel": channels,
            "status": statuses[: len(channels)],
            "recorded_at": "2026-01-01T00:00:00Z",
        }
    )
    folder = _write(tmp_path_factory.mktemp("ids"), orders=orders, consents=consents)
    assert_same(outcome(lambda: load_dataset(folder)), outcome(lambda: reference(folder)))


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("zone", [None, "UTC", "America/New_York"])
def test_parquet_timestamps_of_any_unit_and_zone_are_read_as_pandas_reads_them(tmp_path, unit, zone):
    """Sub-microsecond times before 1970 are floored, as pandas converts them; zones keep the instant."""
    ns = np.array([-1_500, -2_208_988_800_000_000_001, 1_700_000_000_123_456_789, 1], dtype=np.int64)
    stamps = pd.Series(ns.view("datetime64[ns]")).astype(f"datetime64[{unit}]")
    stamps = stamps if zone is None else stamps.dt.tz_localize("UTC").dt.tz_convert(zone)
    folder = _write(tmp_path / "pq", "parquet", orders=_orders(4, ordered_at=stamps, amount=[1.0, 2.0, 3.0, 4.0]))
    assert_same(outcome(lambda: load_dataset(folder)), outcome(lambda: reference(folder)))


def test_a_parquet_file_with_a_stored_index_loads_as_pandas_reads_it(tmp_path):
    folder = tmp_path / "pq"
    folder.mkdir()
    orders = _orders(4, amount=[1.0, 2.0, 3.0, 4.0]).set_index("order_id", drop=False)
    orders.index.name = "row"
    orders.to_parquet(folder / "orders.parquet")  # the index is stored as a column
    assert_same(outcome(lambda: load_dataset(folder)), outcome(lambda: reference(folder)))


def test_a_column_map_renames_before_either_check(tmp_path):
    raw = _orders(amount=["1", "2", "$3", "4"]).rename(columns={"amount": "Total", "ordered_at": "When"})
    folder = _write(tmp_path / "d", orders=raw)
    mapping = {"Total": "amount", "When": "ordered_at"}
    got = outcome(lambda: load_dataset(folder, column_map=mapping))
    assert_same(got, outcome(lambda: reference(folder, mapping)))
    assert got[0] == "error" and "orders.amount" in got[2]


def test_extra_columns_keep_the_types_pandas_gives_them(tmp_path):
    orders = _orders(3).assign(
        note=["a", None, "c"], score=[1, 2, 3], flag=[True, False, True], when=pd.date_range("2026-01-01", periods=3)
    )
    folder = _write(tmp_path / "pq", "parquet", orders=orders.assign(amount=[1.0, 2.0, 3.0]))
    assert_same(outcome(lambda: load_dataset(folder)), outcome(lambda: reference(folder)))


# ---------------------------------------------------------------- the pieces


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(max_size=12), st.from_regex(r"[a-z\s.]{1,5}@[a-zé.\s]{1,6}\.[a-zA-Z]{1,3}\n?"))
    )
)
def test_emails_match_as_python_matches_the_pattern(values):
    series = pd.Series(values, dtype=object)
    want = [value is not None and re.match(EMAIL_PATTERN, value) is not None for value in values]
    assert valid_emails(series).tolist() == want


@settings(max_examples=200, deadline=None)
@given(timestamp_columns())
def test_arrow_reads_a_text_timestamp_only_as_pandas_reads_it(texts):
    """Where the quick check reads a text column of timestamps, :func:`to_utc` reads the same instants."""
    table = pa.table(
        {
            "order_id": [f"o{i}" for i in range(len(texts))],
            "customer_id": ["c"] * len(texts),
            "ordered_at": pa.array(texts, pa.large_string()),
            "amount": [1.0] * len(texts),
        }
    )
    quick = validate_arrow("orders", table)
    if quick is None:
        return
    event("read by Arrow")
    want = to_utc(pd.Series(texts, dtype="string"))
    got = dataset_module.utc_timestamps(quick.column("ordered_at"))
    assert pd.Series(got).equals(want)


def test_keys_in_increasing_order_are_not_hashed_for_duplicates_and_others_are(tmp_path):
    ordered = _write(tmp_path / "a", orders=_orders(6, order_id=["o1", "o2", "o3", "o4", "o5", "o6"]))
    assert load_dataset(ordered).orders["order_id"].is_unique
    shuffled = _write(tmp_path / "b", orders=_orders(6, order_id=["o6", "o2", "o3", "o2", "o5", "o6"]))
    with pytest.raises(DataContractError, match="duplicate order_id") as info:
        load_dataset(shuffled)
    assert info.value.count == 4 and info.value.examples == ["o6", "o2"]


@settings(max_examples=200, deadline=None)
@given(
    numbers=st.lists(st.one_of(st.integers(0, 30), st.integers(0, 10**9)), max_size=40),
    prefix=st.sampled_from(["", "O", "ord-"]),
    width=st.sampled_from([3, 7, 10]),
    odd=st.sampled_from([None, "O12", "x", "0" * 11]),
    chunks=st.integers(1, 3),
)
def test_repeated_ids_are_found_whichever_way_they_are_numbered(numbers, prefix, width, odd, chunks):
    """The ids that repeat, for ids numbered alike (told apart by number), in increasing order and others."""
    from collections import Counter

    from workbench.contracts import _repeated_values

    ids = [f"{prefix}{n % 10**width:0{width}d}" for n in numbers] + ([odd] if odd is not None else [])
    values = pa.array(ids, pa.large_string())
    cut = np.linspace(0, len(values), chunks + 1).astype(int)
    chunked = pa.chunked_array([values[a:b] for a, b in itertools.pairwise(cut)], type=values.type)
    want = {i for i, count in Counter(ids).items() if count > 1}
    assert set(_repeated_values(chunked)) == want


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.sampled_from(["a", "b", "c", "d", "e", "zz", ""]), max_size=60),
    customers=st.lists(st.sampled_from(["a", "b", "c", "d", "zz"]), min_size=1, max_size=8),
    chunks=st.integers(1, 4),
)
def test_customer_positions_by_join_and_by_look_up_agree(ids, customers, chunks):
    """The join on every core (large tables against many customers) finds the position ``index_in`` finds:
    the first one of a repeated customer id, -1 for an id that is not a customer."""
    values = pa.array(ids, type=pa.large_string())
    cut = np.linspace(0, len(values), chunks + 1).astype(int)
    chunked = pa.chunked_array([values[a:b] for a, b in itertools.pairwise(cut)], type=values.type)
    expected = np.array([customers.index(i) if i in customers else -1 for i in ids], dtype=np.int32)
    by_look_up = dataset_module.customer_positions(chunked, pd.Series(customers))
    saved = dataset_module._JOIN_ROWS, dataset_module._JOIN_CUSTOMERS
    try:
        dataset_module._JOIN_ROWS = dataset_module._JOIN_CUSTOMERS = 0
        by_join = dataset_module.customer_positions(chunked, pd.Series(customers))
    finally:
        dataset_module._JOIN_ROWS, dataset_module._JOIN_CUSTOMERS = saved
    np.testing.assert_array_equal(by_look_up, expected)
    np.testing.assert_array_equal(by_join, expected)
    assert by_join.dtype == by_look_up.dtype == np.int32


@st.composite
def _numbered_ids(draw):
    """Customers whose ids are numbered alike (a prefix, then digits of one width), and rows naming them, ids of
    the same shape nobody has, and ids of other shapes: other widths and prefixes, letters or non-ASCII digits
    among the digits, a prefix in another case, the empty id."""
    prefix = draw(st.sampled_from(["", "C", "cust-", "é"]))
    width = draw(st.integers(1, 4))
    number = st.integers(0, 10**width - 1).map(lambda n: f"{prefix}{n:0{width}d}")
    customers = draw(st.lists(number, min_size=1, max_size=12))
    # each odd id is a customer's id changed in one way, so it differs from that customer's by one detail
    changes = [
        lambda c: "",
        lambda c: c + "0",
        lambda c: c[:-1],
        lambda c: ("X" + c[1:]) if prefix else ("X" + c),
        lambda c: c.upper() if c.upper() != c else c.lower() + "x",
        lambda c: c[:-1] + "a",
        lambda c: c[:-1] + "\u0663",
        # the same number as the customer's, written with a byte that is not a digit
        lambda c: c[:-2] + chr(ord(c[-2]) - 1) + chr(ord(c[-1]) + 10) if width > 1 else c + ":",
    ]
    # one id a byte longer and one a byte shorter: together as long as two ids of the customers' width
    changes.append(lambda c: c + "0" + "\n" + c[:-1])
    # a few kinds of change per example, so that many chunks hold ids of one width and one kind of change
    kinds = draw(st.lists(st.sampled_from(changes), min_size=1, max_size=2, unique=True))
    odd = st.tuples(st.sampled_from(customers), st.sampled_from(kinds)).map(lambda p: p[1](p[0]).split("\n"))
    one = st.one_of(st.sampled_from(customers), number).map(lambda i: [i])
    ids = [i for run in draw(st.lists(st.one_of(one, one, odd), max_size=40)) for i in run]
    return customers, ids


@settings(max_examples=200, deadline=None)
@given(
    drawn=_numbered_ids(),
    chunks=st.integers(1, 4),
    kind=st.sampled_from([pa.string(), pa.large_string()]),
    skip=st.integers(0, 3),
)
@example(drawn=(["12", "34"], ["120", "1", "34"]), chunks=1, kind=pa.string(), skip=1)  # lengths that add up
@example(drawn=(["C12", "C34"], ["X12", "C34"]), chunks=1, kind=pa.string(), skip=0)  # another prefix
@example(drawn=(["C10", "C34"], ["C0:", "C34"]), chunks=1, kind=pa.large_string(), skip=0)  # ":" after "9"
@example(drawn=(["C10", "C99"], ["C10", "C98", "C00", "C99"]), chunks=2, kind=pa.string(), skip=0)  # out of span
def test_numbered_ids_are_found_by_number_where_text_finds_them(drawn, chunks, kind, skip):
    """Ids numbered alike are found by their numbers at the positions their text has in ``customers`` (the
    first of a repeated id, -1 for an id nobody has), in chunks that are slices of Arrow's buffers, and a
    chunk naming an id of another shape is looked up as text."""
    customers, ids = drawn
    values = pa.array(["C9"] * skip + ids, type=kind)[skip:]  # a slice: its offsets do not start at 0
    cut = np.linspace(0, len(values), chunks + 1).astype(int)
    chunked = pa.chunked_array([values[a:b] for a, b in itertools.pairwise(cut)], type=kind)
    expected = np.array([customers.index(i) if i in customers else -1 for i in ids], dtype=np.int32)
    numbered = dataset_module._numbered_positions(chunked, pa.array(customers, pa.large_string()))
    assert numbered is not None  # the customers' ids are numbered alike, within the span the table allows
    np.testing.assert_array_equal(numbered, expected)
    found = dataset_module.customer_positions(chunked, pd.Series(customers))
    np.testing.assert_array_equal(found, expected)
    assert found.dtype == np.int32


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(["", "C", "cust-", "é", "ab12"]),
    width=st.integers(1, 12),
    numbers=st.lists(st.integers(0, 10**12 - 1), min_size=1, max_size=20),
    kind=st.sampled_from([pa.string(), pa.large_string()]),
)
def test_id_numbers_are_the_numbers_their_digits_write(prefix, width, numbers, kind):
    """Read a word at a time (ids of up to eight bytes) or a byte at a time (longer ones), each id's number is
    the number its digits write; one id with another prefix or a byte that is not a digit gives none."""
    ids = [f"{prefix}{n % 10**width:0{width}d}" for n in numbers]
    size = len(ids[0].encode())
    got = dataset_module._id_numbers(pa.array(ids, kind), size, prefix.encode())
    assert got is not None
    assert got.tolist() == [n % 10**width for n in numbers]
    for odd in ("/", ":", "a", "\x00"):
        changed = [*ids[:-1], ids[-1][:-1] + odd]
        assert dataset_module._id_numbers(pa.array(changed, kind), size, prefix.encode()) is None
    if prefix:
        other = [*ids[:-1], chr(ord(prefix[0]) + 1) + ids[-1][1:]]
        assert dataset_module._id_numbers(pa.array(other, kind), size, prefix.encode()) is None


def test_ids_not_numbered_alike_are_hashed():
    """Customers whose ids are not all one prefix and digits of one width, or whose numbers are spread too
    thin for a table of positions, are found by their text."""
    for customers in (["C01", "C1"], ["C01", "D01"], ["C01", "C0x"], ["a", "b"], ["C" + "1" * 19], ["1", "١"]):
        assert dataset_module._numbered_positions(pa.chunked_array([["C01"]]), pa.array(customers)) is None
    sparse = pa.array(["000000", "999999"], pa.large_string())
    assert dataset_module._numbered_positions(pa.chunked_array([["999999"]]), sparse) is None
    found = dataset_module.customer_positions(pa.chunked_array([["999999", "000000", "5"]]), sparse)
    np.testing.assert_array_equal(found, [1, 0, -1])


@settings(max_examples=60, deadline=None)
@given(
    micros=st.lists(st.one_of(st.none(), st.integers(-(2**62), 2**62)), max_size=40),
    step=st.integers(1, 3),
)
def test_utc_times_reach_arrow_as_pandas_holds_them(micros, step):
    """A column of UTC times (read by Arrow without a copy when none is missing) gives the values, the type and the
    missing entries that Arrow's own conversion from pandas gives, also for a column that is a slice of another."""
    times = pd.Series(
        pd.array(
            [pd.NaT if m is None else pd.Timestamp(m, unit="us", tz="UTC") for m in micros], dtype=dataset_module.UTC_US
        )
    )
    frame = pd.DataFrame({"a": times, "b": times})
    for column in (times, frame["b"], times.iloc[::step]):
        got = dataset_module.arrow_column(column)
        expected = pa.array(column.array, from_pandas=True)
        assert got.type == pa.timestamp("us", tz="UTC")
        assert got.equals(expected)
        assert got.null_count == int(column.isna().sum())


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), _IDS, st.text(alphabet=st.sampled_from("ab\t\x1c\x1f \u0085\u00a0\u2028é"), max_size=4)),
        max_size=30,
    ),
    cuts=st.lists(st.integers(0, 30), max_size=3),
    skip=st.integers(0, 3),
    kind=st.sampled_from([pa.string(), pa.large_string()]),
)
def test_ids_are_trimmed_as_arrow_trims_them(values, cuts, skip, kind):
    """Chunks whose values need no trimming are kept as they are (read from their bytes), and the text is
    what Arrow's ``utf8_trim_whitespace`` makes of every value, also for chunks that are slices of others,
    in the text type it came in (Parquet's ``string`` or ``large_string``)."""
    from workbench.contracts import _any_empty, _plain_edges, _trimmed

    array = pa.array(values, type=kind).slice(min(skip, len(values)))
    bounds = sorted({0, len(array), *(min(c, len(array)) for c in cuts)})
    chunked = pa.chunked_array([array[a:b] for a, b in itertools.pairwise(bounds)], type=kind)
    got = _trimmed(chunked)
    want = pa.compute.utf8_trim_whitespace(array).to_pylist()
    assert got.type == kind
    assert got.to_pylist() == want
    assert _any_empty(got) == any(v is None or v == "" for v in want)
    for chunk in chunked.chunks:
        if _plain_edges(chunk):
            assert pa.compute.utf8_trim_whitespace(chunk).to_pylist() == chunk.to_pylist()


@settings(max_examples=100, deadline=None)
@given(
    flags=st.lists(st.booleans(), max_size=40),
    cuts=st.lists(st.integers(0, 40), max_size=3),
    limit=st.integers(1, 6),
)
def test_the_first_examples_are_the_first_rows_that_match(flags, cuts, limit):
    """The examples a quality check shows are the first ``limit`` matching values in row order, across chunks."""
    from workbench.contracts import _first

    values = [f"v{i}" for i in range(len(flags))]
    bounds = sorted({0, len(values), *(min(c, len(values)) for c in cuts)})
    pieces = [pa.array(values[a:b], type=pa.large_string()) for a, b in itertools.pairwise(bounds)]
    chunked = pa.chunked_array(pieces, type=pa.large_string())
    expected = [v for v, f in zip(values, flags, strict=True) if f][:limit]
    assert _first(chunked, np.array(flags, dtype=bool), limit) == expected


def _damaged(kind: str, data: bytes) -> bytes:
    if kind == "not gzip":
        return data[10:]
    if kind == "cut short":
        return data[: len(data) // 2]
    flipped = bytearray(data)  # bytes changed inside the compressed stream: the checksum no longer matches
    for k in range(len(data) // 3, len(data) // 3 + 40, 4):
        flipped[k] ^= 0x55
    return bytes(flipped)


@pytest.mark.parametrize("kind", ["not gzip", "cut short", "changed bytes"])
def test_a_damaged_gzip_file_is_refused_with_its_name(tmp_path, kind):
    orders = _orders(3000, note=[f"n{i * 7919 % 10007}" for i in range(3000)])  # enough text for several blocks
    path = _write(tmp_path, "csv.gz", orders=orders) / "orders.csv.gz"
    path.write_bytes(_damaged(kind, path.read_bytes()))
    with pytest.raises(DataContractError, match=rf"cannot read {re.escape(str(path))}") as info:
        load_dataset(tmp_path)
    assert info.value.table == "orders"


def test_a_gzip_file_of_several_members_is_read_whole(tmp_path):
    """A ``.csv.gz`` made by joining gzip files (as ``cat a.gz b.gz`` or parallel compressors make) holds all
    their rows, as pandas reads it."""
    import gzip

    text = _orders(40).to_csv(index=False).encode()
    head, tail = text[: len(text) // 2], text[len(text) // 2 :]
    (tmp_path / "orders.csv.gz").write_bytes(gzip.compress(head) + gzip.compress(tail))
    got = load_dataset(tmp_path)
    assert len(got.orders) == 40
    assert_same(outcome(lambda: load_dataset(tmp_path)), outcome(lambda: reference(tmp_path)))


def test_of_two_unreadable_files_the_error_names_the_first_table(tmp_path):
    """Of two unreadable files the error names the one the tables' order reaches first (orders before
    consents, the larger file)."""
    consents = pd.DataFrame({"customer_id": ["c1"] * 4000, "channel": "email", "status": "subscribed"})
    _write(tmp_path, "csv.gz", orders=_orders(3), consents=consents)
    for name in ("orders", "consents"):
        path = tmp_path / f"{name}.csv.gz"
        path.write_bytes(_damaged("not gzip", path.read_bytes()))
    assert (tmp_path / "consents.csv.gz").stat().st_size > (tmp_path / "orders.csv.gz").stat().st_size
    with pytest.raises(DataContractError, match="cannot read") as info:
        load_dataset(tmp_path)
    assert info.value.table == "orders"


def _pool_after_loading(env: dict[str, str]) -> str:
    """The name of Arrow's memory pool after ``load_dataset`` in a fresh interpreter with ``env``."""
    import os
    import subprocess
    import sys

    code = (
        "import pyarrow as pa; from workbench.io import load_dataset; "
        f"before = pa.default_memory_pool().backend_name; load_dataset({str(SAMPLE)!r}); "
        "print(before, pa.default_memory_pool().backend_name)"
    )
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, env={**clean, **env}, capture_output=True, text=True, check=True)
    return done.stdout.split()[-1]


def test_loading_puts_arrow_on_jemalloc_unless_a_pool_is_named():
    try:
        expected = pa.jemalloc_memory_pool().backend_name
    except NotImplementedError:
        expected = "system"
    assert _pool_after_loading({}) == expected
    assert _pool_after_loading({"ARROW_DEFAULT_MEMORY_POOL": "mimalloc"}) == "mimalloc"
    assert _pool_after_loading({"ARROW_DEFAULT_MEMORY_POOL": "system"}) == "system"


@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(
        st.lists(st.sampled_from(["email", "sms", "Email", " sms", "SMS ", "push"]), min_size=1, max_size=12),
        min_size=1,
        max_size=4,
    )
)
def test_a_coded_channel_column_is_checked_and_kept_as_the_contract_reads_it(chunks):
    """Channels read as dictionaries (a Parquet file has one per row group): the values the contract gives
    (lower case, trimmed) in one chunk of one dictionary, or None where a value is not a channel."""
    channel = pa.chunked_array([pa.array(c).dictionary_encode() for c in chunks])
    n = len(channel)
    table = pa.table(
        {
            "message_id": [f"m{i:04d}" for i in range(n)],
            "customer_id": ["c"] * n,
            "channel": channel,
            "sent_at": pa.array([dt.datetime(2026, 1, 1, tzinfo=dt.UTC)] * n, pa.timestamp("us", tz="UTC")),
        }
    )
    quick = validate_arrow("messages", table)
    words = [v.strip().lower() for c in chunks for v in c]
    if any(w not in ("email", "sms") for w in words):
        assert quick is None
        return
    assert quick is not None
    got = quick.column("channel")
    assert got.num_chunks == 1 and got.type == pa.dictionary(pa.int32(), pa.large_string())
    assert got.to_pylist() == words
