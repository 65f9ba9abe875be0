"""A dataset: the five tables of the data contract, validated and in UTC (see :mod:`workbench.models.tables`).

A table is held as it was given: a pandas DataFrame, or an Arrow table (what
loading reads files into). An Arrow table becomes a DataFrame the first time
someone asks for it (``dataset.messages``) and that frame is kept; what the
workbench computes itself (customer keys, profiles) reads the Arrow columns, so
a table nobody asks for as pandas is never converted.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import WorkbenchError
from .tables import CONTRACTS, QUALITY_COLUMNS, TABLES

__all__ = [
    "Dataset",
    "Table",
    "arrow_column",
    "arrow_strings",
    "arrow_to_frame",
    "customer_positions",
    "id_numbers",
    "text_flags",
    "text_numbers",
    "utc_timestamps",
]

T = TypeVar("T")
#: A table as given: pandas, or Arrow (pyarrow has no type information, so mypy sees its half as Any).
Table: TypeAlias = pd.DataFrame | pa.Table

#: pandas' text dtype of validated ids, channels, statuses and event names (missing values are pd.NA).
STRING = pd.StringDtype("pyarrow")
#: The dtype of every validated timestamp.
UTC_US = pd.DatetimeTZDtype("us", "UTC")
_NAT = np.iinfo(np.int64).min


class Dataset:
    """The five tables of the data contract, validated and in UTC.

    ``orders`` and ``customers`` are always present; the others may be ``None``
    when the source has no such table. ``quality`` lists data-quality findings
    that did not stop loading (invalid emails or phones, rows an adapter set
    aside), one row per check with the number of rows concerned and what was
    done about them.

    Each table may be given as a pandas DataFrame or an Arrow table; the
    attributes (``dataset.orders``) are always DataFrames, made from an Arrow
    table when first asked for. :meth:`arrow` gives the columns as Arrow without
    going through pandas.

    Treat the tables as read-only: what is derived from them (customer keys,
    contact validity, time zones) is computed once and kept; make changed
    tables with :meth:`with_tables`.
    """

    __slots__ = ("_arrow", "_derived", "_frames", "_given", "quality", "source")

    _given: dict[str, Table]
    _frames: dict[str, pd.DataFrame]
    _arrow: dict[str, pa.Table]
    # values derived from the tables: name -> (the tables they come from, value)
    _derived: dict[str, tuple[tuple[str, ...], object]]
    quality: pd.DataFrame
    source: str

    def __init__(
        self,
        orders: Table,
        customers: Table,
        events: Table | None = None,
        consents: Table | None = None,
        messages: Table | None = None,
        quality: pd.DataFrame | None = None,
        source: str = "",
    ) -> None:
        given = {"customers": customers, "orders": orders, "events": events, "consents": consents, "messages": messages}
        for name, table in given.items():
            if table is not None and not isinstance(table, pd.DataFrame | pa.Table):
                msg = f"the {name} table must be a pandas DataFrame or an Arrow table, not {type(table).__name__}"
                raise WorkbenchError(msg)
        init = object.__setattr__
        init(self, "_given", {n: t for n, t in given.items() if t is not None})
        init(self, "_frames", {})
        init(self, "_arrow", {})
        init(self, "_derived", {})
        init(self, "quality", pd.DataFrame(columns=QUALITY_COLUMNS) if quality is None else quality)
        init(self, "source", source)

    def __setattr__(self, name: str, value: object) -> None:
        msg = f"a Dataset is read-only: make a changed copy with with_tables(), not by setting {name}"
        raise AttributeError(msg)

    def __repr__(self) -> str:
        rows = ", ".join(f"{n} {self._given[n].shape[0]:,}" for n in TABLES if n in self._given)
        return f"Dataset({rows}{f', source={self.source!r}' if self.source else ''})"

    # ------------------------------------------------------------ the tables as pandas

    @property
    def orders(self) -> pd.DataFrame:
        return self._frame("orders")

    @property
    def customers(self) -> pd.DataFrame:
        return self._frame("customers")

    @property
    def events(self) -> pd.DataFrame | None:
        return self._frame("events") if "events" in self._given else None

    @property
    def consents(self) -> pd.DataFrame | None:
        return self._frame("consents") if "consents" in self._given else None

    @property
    def messages(self) -> pd.DataFrame | None:
        return self._frame("messages") if "messages" in self._given else None

    def _frame(self, name: str) -> pd.DataFrame:
        given = self._given[name]
        if isinstance(given, pd.DataFrame):
            return given
        if name not in self._frames:
            self._frames[name] = arrow_to_frame(name, given)
        return self._frames[name]

    # ------------------------------------------------------------ the tables as Arrow

    def has(self, table: str) -> bool:
        """Whether the dataset holds ``table``."""
        return table in self._given

    def rows(self, table: str) -> int:
        """The number of rows of ``table`` (0 when absent), without making a DataFrame."""
        given = self._given.get(table)
        return 0 if given is None else int(given.shape[0])

    def column_names(self, table: str) -> list[str]:
        """The columns of ``table``, in order."""
        given = self._given[table]
        return [str(c) for c in given.columns] if isinstance(given, pd.DataFrame) else given.column_names

    def held(self, table: str) -> Table:
        """``table`` as the dataset holds it: the DataFrame it was given, or its Arrow table (no conversion)."""
        if table not in self._given:
            msg = f"the dataset has no {table} table"
            raise WorkbenchError(msg)
        return self._given[table]

    def arrow(self, table: str, columns: Sequence[str] | None = None) -> pa.Table:
        """``table`` (or some of its columns) as an Arrow table, without a copy when it was given as Arrow.

        A table given as pandas is converted column by column (text columns backed by Arrow are not copied).
        """
        if table not in self._given:
            msg = f"the dataset has no {table} table"
            raise WorkbenchError(msg)
        given = self._given[table]
        names = self.column_names(table) if columns is None else list(columns)
        if isinstance(given, pa.Table):
            return given if columns is None else given.select(names)
        return pa.table({c: arrow_column(given[c]) for c in names})

    def column(self, table: str, column: str) -> pa.ChunkedArray:
        """One column of ``table`` as Arrow."""
        return self.arrow(table, [column]).column(0)

    # ------------------------------------------------------------ derived values

    def derived(self, name: str, tables: tuple[str, ...], compute: Callable[[], T]) -> T:
        """A value computed from some of the tables, computed once per dataset and kept.

        ``tables`` names the tables it depends on: :meth:`with_tables` keeps the
        value for a copy only when none of them is replaced. Core modules keep
        what they derive here (contact validity, time zones).
        """
        if name not in self._derived:
            self._derived[name] = (tables, compute())
        return self._derived[name][1]  # type: ignore[return-value]

    def customer_keys(self, table: str) -> np.ndarray:
        """For each row of ``table``, the position of its customer in ``customers`` (-1 if not there).

        These integer keys are what profiles group and join on: loading
        computes them for every table while it checks that each row's customer
        exists, so profile runs, for example at several ``as_of`` dates, do not
        hash the string ids again.
        """
        if table not in self._given:
            msg = f"the dataset has no {table} table"
            raise WorkbenchError(msg)
        return self.derived(
            f"keys:{table}",
            ("customers", table),
            lambda: customer_positions(self.column(table, "customer_id"), self.column("customers", "customer_id")),
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that are present, by name, as pandas DataFrames."""
        return {n: self._frame(n) for n in TABLES if n in self._given}

    def with_tables(self, **tables: Table | None) -> Dataset:
        """A copy with some tables replaced (the dataset itself is immutable)."""
        unknown = set(tables) - set(TABLES)
        if unknown:
            msg = f"unknown table {sorted(unknown)[0]!r}: a dataset holds {', '.join(TABLES)}"
            raise WorkbenchError(msg)
        given: dict[str, Any] = {n: self._given.get(n) for n in TABLES} | tables
        out = Dataset(**given, quality=self.quality, source=self.source)
        for name, frame in self._frames.items():
            if name not in tables:
                out._frames[name] = frame
        out._derived.update({k: v for k, v in self._derived.items() if not set(v[0]) & set(tables)})
        return out

    def with_quality(self, quality: pd.DataFrame) -> Dataset:
        """A copy with another ``quality`` table (same tables, same derived values)."""
        out = Dataset(**{n: self._given.get(n) for n in TABLES}, quality=quality, source=self.source)
        out._frames.update(self._frames)
        out._derived.update(self._derived)
        return out

    def summary(self) -> pd.DataFrame:
        """Rows per table and the time span each covers."""
        rows = []
        for name in TABLES:
            present = name in self._given
            first = last = None
            if present and self.rows(name):
                ts = next((c for c in CONTRACTS[name].timestamps if c in self.column_names(name)), None)
                if ts is not None:
                    first, last = _time_span(self._given[name], ts)
            rows.append({"table": name, "rows": self.rows(name), "present": present, "first": first, "last": last})
        return pd.DataFrame(rows)


def _time_span(table: Table, column: str) -> tuple[object, object]:
    if isinstance(table, pd.DataFrame):
        return table[column].min(), table[column].max()
    span = pc.min_max(table.column(column))
    return tuple(
        pd.NaT if s.as_py() is None else pd.Timestamp(s.cast(pa.int64()).as_py(), unit="us", tz="UTC")
        for s in (span["min"], span["max"])
    )


def arrow_column(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A pandas column as Arrow, without a copy when pandas holds it in Arrow, or holds UTC times with none
    missing (Arrow then reads pandas' memory)."""
    array = series.array
    if isinstance(array, pd.arrays.ArrowStringArray | pd.arrays.ArrowExtensionArray):
        return array._pa_array  # the Arrow data pandas holds (no copy)
    if isinstance(array, pd.arrays.DatetimeArray) and array.dtype == UTC_US:
        micros = array.asi8
        if micros.flags.c_contiguous and not (micros == _NAT).any():
            return pa.Array.from_buffers(pa.timestamp("us", tz="UTC"), len(micros), [None, pa.py_buffer(micros)])
    return pa.array(array, from_pandas=True)


#: Rows from which customer positions are found by a join on every core rather than one hash look-up.
_JOIN_ROWS = 1_000_000
#: Customers from which the join is faster: below, Arrow's hash table of the ids stays in the processor's caches
#: and one look-up per row beats the join. Measured on two cores, 3M rows: against 10k customers 0.10-0.18 s
#: against 0.18-0.35 s; against 60k, 0.20-0.36 s against 0.20-0.31 s; against 100k, 0.51-0.66 s against
#: 0.28-0.42 s (3.2M messages of a 100k-customer folder: 0.63-0.90 s against 0.37-0.57 s); against 1M
#: customers the join takes two thirds of the time of the look-ups.
_JOIN_CUSTOMERS = 50_000


def customer_positions(ids: pd.Series | pa.Array | pa.ChunkedArray, customer_ids: object) -> np.ndarray:
    """Position of each id in ``customer_ids`` (the first one, should an id repeat), -1 where it is not there,
    as int32.

    Ids numbered alike (``C0000042``) are found by number (:func:`_numbered_positions`). Other ids: a large
    column against many customers is looked up by a hash join in DuckDB, on every core (faster than Arrow's
    one-threaded ``index_in`` once the customers' hash table outgrows the caches); other columns by
    ``index_in``. All give the same positions.
    """
    values = _text_chunks(ids)
    customers = arrow_strings(customer_ids)
    if not (customers.null_count or values.null_count):
        numbered = _numbered_positions(values, customers)
        if numbered is not None:
            return numbered
    values = values.cast(pa.large_string())
    small = len(values) < _JOIN_ROWS or len(customers) < _JOIN_CUSTOMERS
    if small or customers.null_count or values.null_count:
        found = pc.index_in(values, value_set=customers)
        positions: np.ndarray = found.fill_null(-1).to_numpy().astype(np.int32, copy=False)
        return positions
    import duckdb

    row_type = np.int32 if len(values) < 2**31 else np.int64  # fewer bytes for the join to carry and return
    rows = pa.table({"i": pa.array(np.arange(len(values), dtype=row_type)), "customer_id": values})
    known = pa.table({"k": pa.array(np.arange(len(customers), dtype=np.int32)), "customer_id": customers})
    out = np.full(len(values), -1, dtype=np.int32)
    with duckdb.connect(":memory:") as con:
        con.execute("set enable_progress_bar = false")
        con.register("rows", rows)
        con.register("known", known)
        # customer ids are unique in a loaded dataset: join on them as they are, and only when a row found
        # several customers join again on the first position of each id (one more hash aggregation)
        pairs = con.sql("select rows.i, known.k from rows join known on rows.customer_id = known.customer_id")
        found = pairs.to_arrow_table()
        out[found.column("i").to_numpy()] = found.column("k").to_numpy()
        if found.num_rows != np.count_nonzero(out >= 0):
            found = con.sql(
                "select rows.i, first_known.k from rows join "
                "(select customer_id, min(k) as k from known group by customer_id) as first_known "
                "on rows.customer_id = first_known.customer_id"
            ).to_arrow_table()
            out[found.column("i").to_numpy()] = found.column("k").to_numpy()
    return out


def _text_chunks(values: object) -> pa.ChunkedArray:
    """Values as Arrow text chunks (``string`` or ``large_string``), without joining the chunks."""
    if isinstance(values, pa.ChunkedArray) and is_text(values.type):
        return values
    if isinstance(values, pd.Series) and isinstance(values.array, pd.arrays.ArrowStringArray):
        return values.array._pa_array
    return pa.chunked_array([arrow_strings(values)])


#: Customer ids numbered this way have their positions found by number (see :func:`_numbered_positions`): at
#: most this many digits, and numbers spanning at most this many times the number of customers (plus 65,536),
#: the size of the table of positions kept for the span.
_MAX_DIGITS = 18
_MAX_SPAN = 4


def _numbered_positions(values: pa.ChunkedArray, customers: pa.Array) -> np.ndarray | None:
    """:func:`customer_positions` of ids numbered alike, without hashing any text; None when the customers'
    ids are not numbered alike (then they are hashed).

    Ids are *numbered alike* when each is the same text (possibly none) followed by digits, all the same
    length in bytes, as generators and many shops write them (``C0000042``, ``17850``). Two such ids are
    the same text exactly when their numbers are the same, so each row's customer is found by its number
    in a table of positions over the span of the customers' numbers (the first position of a number that
    repeats). An id not numbered like the customers' is no customer's: a chunk of rows holding one has its
    positions looked up as text, with every other such chunk, by one ``index_in``.
    """
    numbering = _numbering(customers)
    if numbering is None:
        return None
    prefix, width = numbering
    numbers = _id_numbers(customers, width, prefix)
    if numbers is None:
        return None
    unique, first_at = np.unique(numbers, return_index=True)
    low, high = int(unique[0]), int(unique[-1])
    if high - low + 1 > _MAX_SPAN * len(customers) + 65_536:
        return None
    table = np.full(high - low + 1, -1, dtype=np.int32)
    table[unique - low] = first_at
    out = np.empty(len(values), dtype=np.int32)
    unnumbered: list[tuple[int, pa.Array]] = []
    start = 0
    for chunk in values.chunks:
        if not len(chunk):
            continue
        end = start + len(chunk)
        found = _id_numbers(chunk, width, prefix)
        if found is None:
            unnumbered.append((start, chunk))
        elif int(found.min()) >= low and int(found.max()) <= high:
            found -= low  # (a new array of this chunk's numbers)
            np.take(table, found, out=out[start:end])
        else:
            inside = (found >= low) & (found <= high)
            out[start:end] = np.where(inside, table[np.where(inside, found - low, 0)], -1)
        start = end
    if unnumbered:
        rows = pa.chunked_array([c for _, c in unnumbered], type=values.type).cast(pa.large_string())
        looked_up = pc.index_in(rows, value_set=customers).fill_null(-1).to_numpy()
        at = 0
        for start, chunk in unnumbered:
            out[start : start + len(chunk)] = looked_up[at : at + len(chunk)]
            at += len(chunk)
    return out


def _numbering(ids: pa.Array) -> tuple[bytes, int] | None:
    """The prefix and width in bytes of ids numbered like the first of ``ids`` (None: it is not a prefix and
    then 1 to ``_MAX_DIGITS`` digits, or there is none)."""
    if len(ids) == 0:
        return None
    first = ids[0].as_py().encode("utf-8")
    prefix = first.rstrip(b"0123456789")
    width = len(first)
    return (prefix, width) if 0 < width - len(prefix) <= _MAX_DIGITS else None


def id_numbers(values: pa.ChunkedArray) -> np.ndarray | None:
    """The number of each id when the ids are numbered alike (see :func:`_numbered_positions`: the prefix
    and width of the first id, every id in text chunks without missing values), else None. Two such ids are
    the same text exactly when their numbers are the same."""
    chunks = [chunk for chunk in values.chunks if len(chunk)]
    numbering = _numbering(chunks[0]) if chunks and not values.null_count and is_text(values.type) else None
    if numbering is None:
        return None
    prefix, width = numbering
    parts = []
    for chunk in chunks:
        found = _id_numbers(chunk, width, prefix)
        if found is None:
            return None
        parts.append(found)
    return np.concatenate(parts)


def _id_numbers(chunk: pa.Array, width: int, prefix: bytes) -> np.ndarray | None:
    """The number of each id of a text chunk without missing values (not empty), when every id is ``prefix`` and then
    digits, ``width`` bytes in all; else None. Read from the chunk's own buffers (no copy of its text)."""
    n = len(chunk)
    kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    _, offsets_buffer, data_buffer = chunk.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=kind, count=n + 1, offset=chunk.offset * np.dtype(kind).itemsize)
    begin = int(offsets[0])
    if int(offsets[-1]) - begin != n * width:
        return None
    steps = np.diff(offsets)
    if int(steps.min()) != width or int(steps.max()) != width:
        return None
    rows = np.frombuffer(data_buffer, dtype=np.uint8, count=n * width, offset=begin).reshape(n, width)
    if width <= 8:
        return _word_numbers(rows, prefix)
    for j, byte in enumerate(prefix):
        column = rows[:, j]
        if int(column.min()) != byte or int(column.max()) != byte:
            return None
    digits = range(len(prefix), width)
    for j in digits:
        column = rows[:, j]
        if int(column.min()) < 48 or int(column.max()) > 57:  # b"0", b"9"
            return None
    number: np.ndarray[Any, np.dtype[np.signedinteger[Any]]] = np.zeros(
        n, dtype=np.int32 if len(digits) <= 9 else np.int64
    )
    for j in digits:
        number *= 10
        number += rows[:, j]
        number -= 48
    return number


_EVERY_BYTE = 0x0101010101010101  # times a byte: that byte in each of a word's eight bytes


def _word_numbers(rows: np.ndarray, prefix: bytes) -> np.ndarray | None:
    """:func:`_id_numbers` of ids of at most eight bytes (``rows``, one per id), each read as one 64-bit word:
    the prefix and the digits are checked, and the digits made a number, eight bytes at a time.

    An id shorter than eight bytes is read after ``0`` digits that fill its word (they add nothing to its
    number). Little-endian words hold the id's first byte lowest; the digits are checked by their high
    nibbles (3, and still 3 after adding 6: ``0`` to ``9``), then combined pairwise (tens, hundreds, ten
    thousands), the standard way of reading eight ASCII digits at once.
    """
    n, width = rows.shape
    if width == 8:
        words = rows.view("<u8").reshape(n)
    else:
        filled = np.full((n, 8), ord("0"), dtype=np.uint8)
        filled[:, 8 - width :] = rows
        words = filled.view("<u8").reshape(n)
    lead = 8 - width
    mask = sum(0xFF << (8 * (lead + j)) for j in range(len(prefix)))
    wanted = sum(byte << (8 * (lead + j)) for j, byte in enumerate(prefix))
    high, zeros = np.uint64(0xF0 * _EVERY_BYTE), np.uint64(0x30 * _EVERY_BYTE)
    if mask:
        if np.bitwise_or.reduce((words & np.uint64(mask)) ^ np.uint64(wanted)):
            return None
        words = (words & np.uint64(~mask & 0xFFFFFFFFFFFFFFFF)) | np.uint64(mask & int(zeros))
    below_ten = (words + np.uint64(6 * _EVERY_BYTE)) & high  # a digit plus 6 keeps its high nibble 3
    if np.bitwise_or.reduce((words & high) ^ zeros) or np.bitwise_or.reduce(below_ten ^ zeros):
        return None
    value = words - zeros
    value = ((value * np.uint64(10 * 256 + 1)) >> np.uint64(8)) & np.uint64(0x00FF00FF00FF00FF)
    value = ((value * np.uint64(100 * 65536 + 1)) >> np.uint64(16)) & np.uint64(0x0000FFFF0000FFFF)
    value = (value * np.uint64(10000 * 2**32 + 1)) >> np.uint64(32)
    return value.astype(np.int32)


def is_text(kind: pa.DataType) -> bool:
    """Whether an Arrow type is text (``string`` or ``large_string``)."""
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def is_coded_text(kind: pa.DataType) -> bool:
    """Text, plain or dictionary-encoded (loading reads columns of few values as a dictionary)."""
    return is_text(kind) or (pa.types.is_dictionary(kind) and is_text(kind.value_type))


def text_flags(values: pa.ChunkedArray, test: Callable[[pa.Array], pa.Array]) -> np.ndarray:
    """``test`` (an Arrow kernel giving one boolean per value) of each value of a text column, plain or
    dictionary-encoded, as a NumPy array: a dictionary-encoded chunk is tested once per distinct value, and
    a missing value or result is False."""
    if pa.types.is_dictionary(values.type):
        chunks = [test(c.dictionary).fill_null(False).take(c.indices) for c in values.chunks]
        found = pa.chunked_array(chunks, type=pa.bool_())
    else:
        found = test(values)
    return np.asarray(found.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def text_numbers(values: pa.ChunkedArray, numbers: Mapping[str, int]) -> np.ndarray:
    """The number ``numbers`` gives each value of a text column, plain or dictionary-encoded (0 for other and
    missing values), as int8: a dictionary-encoded chunk looks its values up once per distinct value."""
    if not pa.types.is_dictionary(values.type):
        out = np.zeros(len(values), dtype=np.int8)
        for text, number in numbers.items():
            out[text_flags(values, functools.partial(pc.equal, text))] = number
        return out
    parts = []
    for chunk in values.chunks:
        words = chunk.dictionary.to_pylist()
        lookup = np.array([numbers.get(w, 0) if w is not None else 0 for w in words] + [0], dtype=np.int8)
        index = chunk.indices.fill_null(len(words)).to_numpy(zero_copy_only=False)
        parts.append(lookup[index])
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int8)


def text_codes(values: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """The distinct values of a text column, plain or dictionary-encoded (as ``large_string``, a missing value
    among them when a row is missing), and each row's position among them (int32)."""
    text = pa.large_string()
    if not pa.types.is_dictionary(values.type):
        distinct = pc.unique(values).cast(text)
        found = pc.index_in(values, value_set=distinct).to_numpy(zero_copy_only=False)
        return distinct, found.astype(np.int32, copy=False)
    parts = [chunk.dictionary.cast(text) for chunk in values.chunks]
    if values.null_count or any(part.null_count for part in parts):
        parts.append(pa.nulls(1, text))
    distinct = pc.unique(pa.chunked_array(parts, type=text))
    null_at = pc.index_in(pa.nulls(1, text), value_set=distinct)[0].as_py()
    codes = []
    for chunk in values.chunks:
        local = pc.index_in(chunk.dictionary.cast(text), value_set=distinct).to_numpy(zero_copy_only=False)
        index = chunk.indices.fill_null(0).to_numpy(zero_copy_only=False)
        rows = local[index] if len(local) else np.zeros(len(index), dtype=np.int32)
        if chunk.null_count:
            rows = np.where(chunk.is_null().to_numpy(zero_copy_only=False), null_at, rows)
        codes.append(rows.astype(np.int32, copy=False))
    return distinct, np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32)


def arrow_strings(values: object) -> pa.Array:
    """The values as one Arrow ``large_string`` array (no copy when they are already Arrow strings in one chunk).

    ``values`` is a pandas Series or an Arrow array. Columns read by Arrow's CSV or Parquet readers arrive
    in several chunks; they are joined into one array, which the dictionary encoding and look-ups need.
    """
    if isinstance(values, pa.Array | pa.ChunkedArray):
        array = values
        if not is_text(array.type):
            array = pa.array(pd.Series(array.to_pandas()).astype("string").array)
    else:
        array = pa.array(pd.Series(values).astype("string").array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    return array if pa.types.is_large_string(array.type) else array.cast(pa.large_string())


def utc_timestamps(values: pa.Array | pa.ChunkedArray) -> pd.api.extensions.ExtensionArray:
    """Arrow ``timestamp[us, tz=UTC]`` values as pandas' ``datetime64[us, UTC]`` (missing: NaT)."""
    micros = pc.fill_null(values.cast(pa.int64()), _NAT)
    ints = micros.to_numpy() if isinstance(micros, pa.ChunkedArray) else micros.to_numpy(zero_copy_only=False)
    naive = np.asarray(ints, dtype=np.int64).view("datetime64[us]")
    return pd.array(naive if naive.flags.writeable else naive.copy(), dtype=UTC_US)


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary-encoded text as plain text, except columns pandas itself wrote as categoricals."""
    categorical = {
        c.get("name")
        for c in (table.schema.pandas_metadata or {}).get("columns", [])
        if c.get("pandas_type") == "categorical"
    }
    for i, field in enumerate(table.schema):
        kind = field.type
        if pa.types.is_dictionary(kind) and is_text(kind.value_type) and field.name not in categorical:
            table = table.set_column(i, field.name, table.column(i).cast(pa.large_string()))
    return table


def arrow_to_frame(name: str, table: pa.Table) -> pd.DataFrame:
    """A validated Arrow table as the DataFrame the contract describes.

    Ids, channels, statuses and event names become pandas' ``string`` text,
    timestamps ``datetime64[us, UTC]``, numbers ``float64``; other columns become
    what pandas makes of them when it reads the same file (``str`` text, and the
    types a Parquet file records). Text that loading kept dictionary-encoded
    becomes plain text.
    """
    contract = CONTRACTS[name]
    text = {*contract.ids, *contract.enums, *(["event"] if name == "events" else [])}
    stamps, numbers = set(contract.timestamps), set(contract.numeric)
    others = [c for c in table.column_names if c not in text | stamps | numbers]
    rest = _decoded(table.select(others)).to_pandas() if others else None
    columns: dict[str, Any] = {}
    for column in table.column_names:
        values = table.column(column)
        if column in text:
            columns[column] = pd.arrays.ArrowStringArray(values.cast(pa.large_string()))
        elif column in stamps:
            columns[column] = utc_timestamps(values)
        elif column in numbers:
            array = values.to_numpy()
            columns[column] = array if array.flags.writeable else array.copy()
        else:
            columns[column] = rest[column] if rest is not None else None
    frame = pd.DataFrame(columns, copy=False)
    metadata = table.schema.metadata or {}
    if b"PANDAS_ATTRS" in metadata:
        frame.attrs = json.loads(metadata[b"PANDAS_ATTRS"])
    return frame
