"""CSV text of an Arrow table, cell for cell as pandas' ``to_csv(index=False)`` writes the table's DataFrame.

pandas formats a million rows a second or so, one Python object per cell; this module makes the same text
with Arrow's kernels and NumPy, a block of rows at a time:

- text (plain or dictionary-encoded) as it is, quoted where Python's ``csv`` module (which pandas writes
  with) quotes it; a missing value is an empty cell;
- floats as Python's ``repr`` writes them (``1.0``, ``0.1``, ``1e-05``), missing and NaN empty;
- integers without missing values as digits; booleans without missing values ``True`` and ``False``;
- UTC timestamps with the fraction of a second the finest value of the column needs (none, 3, 6 or 9
  digits, the same for every row) and ``+00:00``.

Each block's cells are then put into lines by Arrow's own CSV writer (``pyarrow.csv.write_csv``, never
quoting): it writes text, integers and empty cells as pandas does, and is several times faster than joining
the cells with Arrow's string kernels. A block with a cell that needs quotes (or holds a carriage return,
which Arrow's writer will not write unquoted) has its lines joined by the string kernels instead. The next
block is made on a worker thread while the one before it is handed on (to be compressed, for ``.csv.gz``).

A table with a column of any other kind (integers or booleans with missing values, which pandas holds as
floats or objects, timestamps in another zone, nested values) is written by pandas itself
(:func:`csv_blocks` decides). A single-column table is written by pandas too: Python's ``csv`` module
writes an empty cell alone on its line as ``""``.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["csv_blocks"]

_TEXT = pa.large_string()
#: Rows formatted at a time (a block of text of some tens of MB).
BLOCK_ROWS = 1 << 19
#: Worker threads making blocks ahead of the one handed on (Arrow's kernels and writer, and NumPy's, let go
#: of the interpreter); the blocks are handed on in order, and the columns' formats are worked out on them
#: too. One: on two cores the other is compressing, and two workers measured slower than one.
WORKERS = 1
_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
#: The zones written as ``+00:00``.
_UTC_NAMES = ("UTC", "Etc/UTC", "+00:00", "Z")


#: A block's cells of one column, and whether Arrow's CSV writer may write them as they are (no cell needs
#: quoting); text, or integers and text that Arrow writes as pandas does.
Cells = tuple[pa.Array, bool]


class _Unsupported(Exception):
    """A column this module does not format as pandas does: pandas writes the table."""


@cache
def _quoting_codes() -> tuple[int, ...]:
    """The ASCII codes that make Python's ``csv`` module quote a cell, found by asking it."""
    found = []
    for code in range(128):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([f"a{chr(code)}b", "x"])
        if buf.getvalue().startswith('"'):
            found.append(code)
    return tuple(found)


@cache
def _quote_class() -> str:
    """The characters that make Python's ``csv`` module quote a cell, as an RE2 class."""
    return "[" + "".join(f"\\x{{{code:x}}}" for code in _quoting_codes()) + "]"


def _quoted(text: pa.Array) -> pa.Array:
    """Text without missing values, each cell that needs it quoted as Python's ``csv`` module quotes it."""
    need = pc.match_substring_regex(text, _quote_class())
    if not pc.any(need).as_py():
        return text
    doubled = pc.replace_substring(text, '"', '""')
    wrapped = pc.binary_join_element_wise(pa.scalar('"', _TEXT), doubled, pa.scalar('"', _TEXT), pa.scalar("", _TEXT))
    return pc.if_else(need, wrapped, text)


@cache
def _structural() -> np.ndarray:
    """Which bytes stop Arrow's CSV writer from writing a cell as it is: what Python's ``csv`` module quotes
    (:func:`_quoting_codes`) and the carriage return, which Arrow's writer refuses unquoted."""
    found = np.zeros(256, dtype=bool)
    found[list(_quoting_codes())] = True
    found[ord("\r")] = True
    return found


def _plain(text: pa.Array) -> bool:
    """Whether no cell of ``text`` (plain text) holds a byte that needs quoting or is a carriage return."""
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64 if pa.types.is_large_string(text.type) else np.int32)
    first, last = int(offsets[text.offset]), int(offsets[text.offset + len(text)])
    if first == last:
        return True
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8, count=last - first, offset=first)
    codes = np.flatnonzero(_structural())
    if data.min() > codes.max():  # one pass for text without punctuation or controls (ids, codes, names)
        return True
    return not any(np.any(data == code) for code in codes)


def _text_cells(values: pa.Array) -> Cells:
    """Text as it is (missing: empty) where no cell needs quoting; otherwise each cell as ``csv`` writes it."""
    if pa.types.is_dictionary(values.type):
        labels = values.dictionary.cast(_TEXT)
        if _plain(labels):
            return values, True
        return _quoted(labels.fill_null("")).take(values.indices).fill_null(""), False
    if _plain(values):
        return values, True
    return _quoted(values.cast(_TEXT).fill_null("")), False


def _float_cells(values: pa.Array) -> Cells:
    """Floats as Python's ``repr``: Arrow writes the same shortest digits, but no ``.0`` on whole numbers and
    its exponents in other places, so the (rare) values without a ``.`` or with an exponent, or close to where
    Python starts writing one, are written by NumPy (which writes ``repr``). A column mostly missing (the
    revenue of sends, most of which convert to nothing) has only its values formatted."""
    if values.null_count > len(values) // 2:
        valid = values.is_valid()
        present, _ = _float_cells(values.filter(valid))
        return pc.replace_with_mask(pa.nulls(len(values), _TEXT), valid, present), True
    text = values.cast(_TEXT)
    size = pc.abs(values)
    odd = pc.or_(pc.invert(pc.match_substring(text, ".")), pc.match_substring(text, "e"))
    odd = pc.or_(odd, pc.or_(pc.less(size, 1e-3), pc.greater_equal(size, 1e15))).fill_null(False)
    if pc.any(odd).as_py():
        rows = np.flatnonzero(odd.to_numpy(zero_copy_only=False))
        numbers = values.take(pa.array(rows)).to_numpy(zero_copy_only=False)
        text = pc.replace_with_mask(text, odd, pa.array(numbers.astype(str), _TEXT))
    return pc.if_else(pc.is_nan(values).fill_null(True), pa.scalar("", _TEXT), text), True


def _int_cells(values: pa.Array) -> Cells:
    return values, True  # Arrow's writer writes integers as digits


def _bool_cells(values: pa.Array) -> Cells:
    return pc.if_else(values, pa.scalar("True", _TEXT), pa.scalar("False", _TEXT)), True


class _Clock:
    """How pandas writes one UTC timestamp column: ``YYYY-MM-DD HH:MM:SS``, the fraction of a second its
    finest value needs (0, 3, 6 or 9 digits, the same on every row), then ``+00:00``."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        kind = column.type
        if kind.tz not in _UTC_NAMES:
            raise _Unsupported
        self.per_second = _PER_SECOND[kind.unit]
        ints = column.cast(pa.int64())
        span = pc.min_max(ints)
        low, high = span["min"].as_py(), span["max"].as_py()
        if low is not None and (low // self.per_second < -2208988800 or high // self.per_second >= 253402300800):
            raise _Unsupported  # before 1900 or from the year 10000: pandas' own spelling
        self.digits = max((_digits(chunk, self.per_second) for chunk in ints.chunks), default=0)

    def cells(self, values: pa.Array) -> Cells:
        ints = np.frombuffer(values.buffers()[1], dtype=np.int64, count=len(values), offset=values.offset * 8)
        valid = None
        if values.null_count:
            valid = values.is_valid().to_numpy(zero_copy_only=False)
            ints = ints[valid]
        seconds, part = np.divmod(ints, self.per_second)
        days, clock = np.divmod(seconds, 86_400)
        fields: list[tuple[str, str]] = [("date", "V11"), ("time", "V8")]
        if self.digits:
            fields += [("dot", "V1"), ("fraction", f"V{self.digits}")]
        fields.append(("zone", "V6"))
        rows = np.empty(len(ints), dtype=np.dtype(fields))
        rows["date"] = _dates(days)
        rows["time"] = _clock()[clock]
        rows["zone"] = np.void(b"+00:00")
        if self.digits:
            rows["dot"] = np.void(b".")
            fraction = part * 10**self.digits // self.per_second
            if self.digits <= 4:
                rows["fraction"] = _numbers(self.digits)[fraction]
            else:
                head, tail = np.divmod(fraction, 10_000)
                parts = np.empty(len(ints), dtype=np.dtype([("head", f"V{self.digits - 4}"), ("tail", "V4")]))
                parts["head"] = _numbers(self.digits - 4)[head]
                parts["tail"] = _numbers(4)[tail]
                rows["fraction"] = parts.view(f"V{self.digits}")
        width = rows.dtype.itemsize
        if valid is None:
            offsets = np.arange(0, width * (len(values) + 1), width, dtype=np.int64)
        else:
            offsets = np.zeros(len(values) + 1, dtype=np.int64)
            np.cumsum(valid * np.int64(width), out=offsets[1:])
        return pa.LargeStringArray.from_buffers(len(values), pa.py_buffer(offsets), pa.py_buffer(rows)), True


def _dates(days: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DD `` of days since 1970-01-01, as fixed-size records: worked out once per day of the span
    and looked up when the span is shorter than the list (a column of a few years), else row by row."""
    if not len(days):
        return np.empty(0, dtype="V11")
    low, high = int(days.min()), int(days.max())
    if high - low < len(days):
        looked_up: np.ndarray = _date_records(np.arange(low, high + 1))[days - low]
        return looked_up
    return _date_records(days)


def _date_records(days: np.ndarray) -> np.ndarray:
    year, month, day = _civil(days)
    rows = np.empty(
        len(days), dtype=np.dtype([("y", "V4"), ("d1", "V1"), ("m", "V2"), ("d2", "V1"), ("d", "V2"), ("s", "V1")])
    )
    rows["y"] = _numbers(4)[year]
    rows["m"] = _numbers(2)[month]
    rows["d"] = _numbers(2)[day]
    rows["d1"] = rows["d2"] = np.void(b"-")
    rows["s"] = np.void(b" ")
    return rows.view("V11")


@cache
def _clock() -> np.ndarray:
    """``HH:MM:SS`` of every second of a day, as fixed-size records looked up by the second."""
    return np.frombuffer(
        "".join(f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)).encode(),
        dtype="V8",
    )


def _digits(ints: pa.Array, per_second: int) -> int:
    """The digits of a fraction of a second (0, 3, 6 or 9) the finest value of ``ints`` needs, in ``unit``s
    of which there are ``per_second`` a second. One remainder per row, in runs of a million rows; only the
    rows with a fraction are looked at further."""
    values = np.frombuffer(ints.buffers()[1], dtype=np.int64, count=len(ints), offset=ints.offset * 8)
    valid = ints.is_valid().to_numpy(zero_copy_only=False) if ints.null_count else None
    digits = 0
    for start in range(0, len(values), 1 << 20):
        part = values[start : start + (1 << 20)] % per_second
        has = part != 0
        if valid is not None:
            has &= valid[start : start + (1 << 20)]
        if not has.any():
            continue
        fractions = part[has]
        for finer in (9, 6, 3):
            if 10**finer <= per_second and np.any(fractions % (per_second // 10 ** (finer - 3))):
                digits = max(digits, finer)
                break
        if 10**digits >= per_second:
            return digits
    return digits


@cache
def _numbers(width: int) -> np.ndarray:
    """Every number of ``width`` digits (at most 5) zero-padded, as fixed-size records looked up by value."""
    return np.frombuffer("".join(f"{i:0{width}d}" for i in range(10**width)).encode(), dtype=f"V{width}")


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's
    ``civil_from_days``)."""
    z = days + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (month <= 2), month, day


def _formatter(column: pa.ChunkedArray) -> Callable[[pa.Array], Cells]:
    kind = column.type
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    if text or (
        pa.types.is_dictionary(kind)
        and (pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type))
    ):
        return _text_cells
    if pa.types.is_float64(kind):
        return _float_cells
    if pa.types.is_integer(kind) and not column.null_count:
        return _int_cells
    if pa.types.is_boolean(kind) and not column.null_count:
        return _bool_cells
    if pa.types.is_timestamp(kind):
        return _Clock(column).cells
    raise _Unsupported


def csv_blocks(table: pa.Table) -> Iterator[bytes | memoryview]:
    """The CSV text of ``table`` (header first, ``\\n`` line ends), in blocks of bytes, as pandas' ``to_csv``
    writes the table's DataFrame (``table.to_pandas()``)."""
    if table.num_columns < 2 or len(set(table.column_names)) != table.num_columns:
        yield _by_pandas(table)
        return
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        try:
            formats = list(pool.map(_formatter, table.columns))
        except (_Unsupported, pa.ArrowException):
            yield _by_pandas(table)
            return
        header = _quoted(pa.array([str(c) for c in table.column_names], _TEXT)).to_pylist()
        yield (",".join(header) + "\n").encode()
        pending: deque[Future[bytes | memoryview]] = deque()
        for start in range(0, table.num_rows, BLOCK_ROWS):
            pending.append(pool.submit(_block, table, formats, start))
            if len(pending) > WORKERS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _by_pandas(table: pa.Table) -> bytes:
    text: str = table.to_pandas().to_csv(index=False, lineterminator="\n")
    return text.encode()


def _block(table: pa.Table, formats: list[Callable[[pa.Array], Cells]], start: int) -> bytes | memoryview:
    """The lines of the rows from ``start``, a block of them."""
    block = table.slice(start, BLOCK_ROWS).combine_chunks()
    return _lines([fmt(block.column(i).chunk(0)) for i, fmt in enumerate(formats)])


def _lines(cells: list[Cells]) -> bytes | memoryview:
    """The lines of a block of rows from its cells: by Arrow's CSV writer when every cell may be written as it
    is, else by joining the cells (quoted where they need it) with Arrow's string kernels."""
    import pyarrow.csv as pcsv

    if all(plain for _, plain in cells):
        sink = pa.BufferOutputStream()
        columns = [values for values, _ in cells]
        options = pcsv.WriteOptions(include_header=False, batch_size=1 << 16, quoting_style="none")
        pcsv.write_csv(pa.Table.from_arrays(columns, names=[str(i) for i in range(len(columns))]), sink, options)
        return memoryview(sink.getvalue())
    text = [_as_text(values) if plain else values for values, plain in cells]
    comma, empty, newline = pa.scalar(",", _TEXT), pa.scalar("", _TEXT), pa.scalar("\n", _TEXT)
    line = pc.binary_join_element_wise(*text, comma)
    del text
    lines = pc.binary_join_element_wise(line, empty, newline)  # each row, then a line end
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    first, last = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    return memoryview(lines.buffers()[2])[first:last]


def _as_text(values: pa.Array) -> pa.Array:
    """Cells Arrow's writer would write as they are (text, integers), as text: missing ones empty."""
    return values.cast(_TEXT).fill_null("")
