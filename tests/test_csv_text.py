"""CSV text made by Arrow and NumPy is the text pandas writes for the same table, and files round-trip."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.io import load_dataset, write_dataset, write_table
from workbench.io.csv_text import csv_blocks


def _text(table: pa.Table) -> bytes:
    return b"".join(bytes(block) for block in csv_blocks(table))


def _pandas(table: pa.Table) -> bytes:
    return table.to_pandas().to_csv(index=False).encode()


_TEXTS = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["a,b", 'q"', "x\ny", "r\rz", "", " s", "t\tt"]))
_FLOATS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1e6, 1e6).map(lambda x: round(x, 2)),
    st.sampled_from([0.0, -0.0, 1.0, 1e-4, 9.99e-5, 1e-3, 1e15, 1e16, 123456789012345.6, 0.1, 2.5e-4]),
)
_MICROS = st.integers(-2208988800 * 10**6, 7258118400 * 10**6 - 1)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(_TEXTS, _FLOATS, _MICROS, st.booleans(), st.integers(-(2**62), 2**62), st.booleans()), max_size=30
    ),
    st.sampled_from(["s", "ms", "us", "ns"]),
    st.sampled_from([1, 1000, 1_000_000]),
)
def test_text_floats_times_bools_and_ints_as_pandas_writes_them(rows, unit, round_to):
    """Quoting, repr of floats (NaN, infinities, exponents, -0.0), the fraction of a second the finest
    timestamp needs, booleans and integers: every cell as pandas' to_csv writes the table's DataFrame."""
    texts, floats, micros, missing_time, ints, flags = (list(c) for c in zip(*rows, strict=True)) if rows else ([],) * 6
    per_unit = {"s": 10**6, "ms": 1000, "us": 1, "ns": 1}[unit]
    stamps = [
        None if gone else (m // round_to * round_to // per_unit) for m, gone in zip(micros, missing_time, strict=True)
    ]
    if unit == "ns":
        stamps = [None if s is None else s * 1000 + 7 * (round_to == 1) for s in stamps]
        stamps = [None if s is None or not -(2**63) < s < 2**63 else s for s in stamps]
    table = pa.table(
        {
            "name, quoted": pa.array(texts, pa.large_string()),
            "amount": pa.array(floats, pa.float64()),
            "at": pa.array(stamps, pa.int64()).cast(pa.timestamp(unit, tz="UTC")),
            "code": pa.array(ints, pa.int64()),
            "flag": pa.array(flags, pa.bool_()),
            "kind": pa.array(texts, pa.string()).dictionary_encode(),
        }
    )
    assert _text(table) == _pandas(table)


def test_the_sample_tables_as_pandas_writes_them(sample_dataset):
    for name in ("customers", "orders", "events", "consents", "messages"):
        table = sample_dataset.arrow(name)
        assert _text(table) == _pandas(table), name


_PLAIN = st.one_of(st.none(), st.text(st.characters(codec="utf-8", exclude_characters=',"\n\r'), max_size=6))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_PLAIN, _PLAIN, st.integers(-(2**62), 2**62), _MICROS), min_size=1, max_size=30))
def test_blocks_without_quotes_are_lined_up_by_arrows_writer(rows):
    """Cells that need no quotes (missing text, text of any other characters, dictionary-encoded or not,
    integers, times) are put into lines by Arrow's CSV writer, and the text is pandas' own."""
    import pyarrow.csv as pcsv

    calls = []
    write_csv = pcsv.write_csv
    texts, kinds, ints, micros = (list(c) for c in zip(*rows, strict=True))
    table = pa.table(
        {
            "text": pa.array(texts, pa.large_string()),
            "kind": pa.array(kinds, pa.string()).dictionary_encode(),
            "code": pa.array(ints, pa.int64()),
            "at": pa.array(micros, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        }
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pcsv, "write_csv", lambda *a, **k: calls.append(1) or write_csv(*a, **k))
        assert _text(table) == _pandas(table)
    assert calls


@pytest.mark.parametrize("odd", ["a,b", 'q"', "x\ny", "r\rz"])
def test_a_block_with_a_cell_arrows_writer_refuses_is_joined_instead(odd):
    """Quotes, commas and line ends are quoted as Python's csv module quotes them; a carriage return, which
    Python's csv module leaves unquoted and Arrow's writer refuses unquoted, is written as it is."""
    table = pa.table({"a": pa.array(["plain", odd, None]), "b": pa.array(["x", "y", odd]).dictionary_encode()})
    assert _text(table) == _pandas(table)


def test_a_mostly_missing_float_column_has_only_its_values_formatted():
    """Revenue of sends: most rows missing; the few values (NaN, whole, tiny, huge) as pandas writes them."""
    rng = np.random.default_rng(11)
    amounts = np.round(rng.random(5000) * 300, 2)
    amounts[:6] = [float("nan"), 1.0, 1e-05, 1e16, -0.0, 123.45]
    missing = rng.random(5000) < 0.9
    missing[:6] = False
    table = pa.table({"id": pa.array(np.arange(5000)), "revenue": pa.array(amounts, mask=missing)})
    assert table.column("revenue").null_count > 2500
    assert _text(table) == _pandas(table)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-25567, 2932896), min_size=1, max_size=40), st.integers(0, 3))
def test_dates_looked_up_or_worked_out_row_by_row_are_the_calendar(days, spread):
    """A column of days within a short span is written from a table of the span's dates, a wider one row
    by row: both are the proleptic Gregorian calendar (1900 to 9999)."""
    import datetime as dt

    from workbench.io.csv_text import _dates

    values = np.array(days, dtype=np.int64)
    if spread < 3:  # close together: a span shorter than the list
        values = values[0] + values % (len(values) * spread + 1)
        values = np.clip(values, -25567, 2932896)
    epoch = dt.date(1970, 1, 1)
    want = [(epoch + dt.timedelta(days=int(d))).strftime("%Y-%m-%d ") for d in values]
    assert [bytes(r).decode() for r in _dates(values)] == [f"{w[:-1].zfill(10)} " for w in want]


@pytest.mark.parametrize(
    "column",
    [
        pa.array([1, None], pa.int64()),  # pandas holds these as floats
        pa.array([True, None]),  # and these as objects
        pa.array([0, 1], pa.int64()).cast(pa.timestamp("s", tz="Europe/Paris")),
        pa.array([[1], [2]]),
    ],
)
def test_other_columns_are_written_by_pandas(column):
    table = pa.table({"id": ["a", "b"], "x": column})
    assert _text(table) == _pandas(table)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_blocks_of_rows_join_into_one_text(monkeypatch, workers):
    """Blocks formatted on one thread or several are handed on in order."""
    import workbench.io.csv_text as csv_text

    rng = np.random.default_rng(3)
    words = pa.array(np.array(["a", "b,c", "d"])[rng.integers(0, 3, 1000)])
    table = pa.table({"a": pa.array(rng.integers(0, 100, 1000)), "b": pa.array(rng.random(1000)), "c": words})
    monkeypatch.setattr(csv_text, "BLOCK_ROWS", 7)
    monkeypatch.setattr(csv_text, "WORKERS", workers)
    assert _text(table) == _pandas(table)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_an_arrow_table_round_trips_through_a_file(tmp_path, suffix):
    table = pa.table(
        {
            "id": pa.array(["a", "b,c", None], pa.large_string()),
            "amount": [1.5, None, -2.0],
            "at": pa.array([0, 1_500_000, None], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "kind": pa.array(["x", "y", "x"]).dictionary_encode(),
        }
    )
    path = write_table(table, tmp_path / f"t{suffix}")
    if suffix == ".parquet":
        back = pd.read_parquet(path)
        pd.testing.assert_frame_equal(back, table.to_pandas(), check_dtype=False, check_categorical=False)
    else:
        raw = gzip.decompress(path.read_bytes()) if suffix == ".csv.gz" else path.read_bytes()
        assert raw == _pandas(table)


def test_csv_gz_is_a_plain_gzip_stream_without_a_time(tmp_path):
    table = pa.table({"a": pa.array(np.arange(300_000)), "b": pa.array(np.arange(300_000) / 7)})
    one = write_table(table, tmp_path / "one.csv.gz").read_bytes()
    two = write_table(table, tmp_path / "two.csv.gz").read_bytes()
    assert one == two  # no name or time in the header: the same table, the same bytes
    assert one[4:8] == b"\0\0\0\0"  # the header's modification time
    assert gzip.decompress(one) == _pandas(table)


@pytest.mark.parametrize("fmt", ["csv.gz", "parquet"])
def test_a_written_synthetic_dataset_loads_as_it_was(tmp_path, small_dataset, fmt):
    write_dataset(small_dataset, tmp_path, fmt=fmt)
    back = load_dataset(tmp_path)
    for name in ("customers", "orders", "events", "consents", "messages"):
        want = getattr(small_dataset, name)
        if fmt == "csv.gz" and "bounced" in want:  # loading keeps a column outside the contract as text
            want = want.assign(bounced=want["bounced"].astype(str))
        pd.testing.assert_frame_equal(getattr(back, name), want, check_dtype=False, check_categorical=False)


def test_parquet_of_dictionary_text_reads_back_as_plain_text_everywhere(tmp_path):
    import duckdb
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "customer_id": pa.array(["c1", "c2", "c3"]),
            "country": pa.array(["US", "FR", "US"]).dictionary_encode(),
            "at": pa.array([1, 2, 3], pa.timestamp("us", tz="UTC")),
        }
    )
    path = write_table(table, tmp_path / "t.parquet")
    back = pq.read_table(path)
    assert back.schema.field("country").type == pa.string() and back.column("country").to_pylist() == ["US", "FR", "US"]
    assert back.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert str(pd.read_parquet(path)["country"].dtype) != "category"
    assert duckdb.sql(f"select typeof(country) from '{path}' limit 1").fetchall() == [("VARCHAR",)]
    # the column of few values is still stored with dictionary pages
    assert "PLAIN_DICTIONARY" in str(
        pq.ParquetFile(path).metadata.row_group(0).column(1).encodings
    ) or "RLE_DICTIONARY" in str(pq.ParquetFile(path).metadata.row_group(0).column(1).encodings)
