"""The data contract, enforced: normalise each table, assemble a :class:`Dataset`, count what is not fatal.

Ids are strings, timestamps are timezone-aware UTC, extra columns are kept
and ignored (the contract itself is data: :mod:`workbench.models.tables`).
:func:`validate` normalises one pandas table to that shape or raises
:class:`DataContractError` naming the table, column, number of bad rows and a
few example ids; :func:`from_frames` validates every table and builds the
dataset; :func:`quality_checks` counts what does not stop a run (invalid
emails or phones, returns, orphan rows).

Tables may also be given as Arrow tables, as loading reads them: typed
timestamps and numbers, ids as Arrow text. :func:`validate_arrow` checks such a
table column by column with Arrow's kernels, without a pandas copy and without
parsing a value twice, and the table stays in Arrow. It accepts a table only
when every check :func:`validate` makes would pass and give the same values;
whatever else it meets (a bad value, text it cannot read the way pandas reads
it) sends the table through :func:`validate`, so every refusal is the one
:func:`validate` gives, word for word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .locales import canonical_locale
from .models.dataset import (
    Dataset,
    Table,
    arrow_column,
    arrow_strings,
    arrow_to_frame,
    customer_positions,
    id_numbers,
    is_coded_text,
    is_text,
    text_codes,
    text_flags,
)
from .models.errors import DataContractError
from .models.tables import (
    CANCELLED_STATUSES,
    CONTRACTS,
    EVENT_ALIASES,
    FORMULA_START,
    KNOWN_EVENTS,
    QUALITY_COLUMNS,
    WHITESPACE,
)
from .phones import is_valid as is_valid_phone
from .phones import valid_and_zones
from .timezones import known_zone_names

T = TypeVar("T")

__all__ = [
    "cancelled_statuses",
    "contact_validity",
    "customer_contact_validity",
    "date_order",
    "derive_customers",
    "from_frames",
    "normalize_events",
    "numeric_date_parts",
    "quality_checks",
    "quality_row",
    "to_utc",
    "valid_emails",
    "valid_phones",
    "validate",
    "validate_arrow",
]


#: Dates written as numbers separated by / . or - with the year last (03/04/2026): day and month can swap.
_NUMERIC_DATE = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\b"
#: The span of timestamps the contract accepts; anything outside is a data error (a year 0001, a 9999 sentinel).
EARLIEST, LATEST = pd.Timestamp("1900-01-01", tz="UTC"), pd.Timestamp("2200-01-01", tz="UTC")


class AmbiguousDates(ValueError):
    """Dates written day and month first in one column, or only in a form that could be either."""

    def __init__(self, problem: str, mask: pd.Series) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mask = mask


def to_utc(values: pd.Series, *, day_first: bool | None = None) -> pd.Series:
    """Parse a column to timezone-aware UTC; naive values are taken as UTC.

    ISO 8601 is read as it is. Dates written with numbers only (``03/04/2026``)
    are read in one order for the whole column: day first when some value has a
    day above 12 (``13/04/2026``), month first when some value has a month
    position above 12 (``04/13/2026``); a column that has both, or only values
    that could be either, raises :class:`AmbiguousDates` rather than guessing.
    ``day_first`` gives the order decided for the whole column elsewhere (an
    engine that parses a column in parts: see :func:`numeric_date_parts`).
    Unparseable values become ``NaT``; the caller decides whether that is an
    error (see :func:`validate`).
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        out = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        out = values.dt.tz_localize("UTC")
    else:
        # no cache: pandas' cache of distinct strings costs more than it saves on timestamps, which rarely repeat
        text = values.astype("string").str.strip()
        out = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601", cache=False)
        retry = out.isna() & text.notna() & (text != "")
        if retry.any():
            # one unit for every part (a part parsed at nanoseconds cannot hold a year 0001 parsed at microseconds)
            out = out.astype("datetime64[us, UTC]")
            parts = text[retry].str.extract(_NUMERIC_DATE).astype("Float64")
            numeric = parts[0].notna()
            other = retry.copy()
            other[retry] = ~numeric.to_numpy(dtype=bool)
            if other.any():
                out[other] = pd.to_datetime(text[other], utc=True, errors="coerce", format="mixed", cache=False).astype(
                    "datetime64[us, UTC]"
                )
            if numeric.any():
                where = retry.copy()
                where[retry] = numeric.to_numpy(dtype=bool)
                if day_first is None:
                    first, second = parts.loc[numeric, 0], parts.loc[numeric, 1]
                    day_first = date_order(
                        bool((first > 12).any()), bool((second > 12).any()), bool((first != second).any()), where
                    )
                out[where] = pd.to_datetime(
                    text[where], utc=True, errors="coerce", format="mixed", dayfirst=day_first, cache=False
                ).astype("datetime64[us, UTC]")
    return out.astype("datetime64[us, UTC]")


def date_order(day_first: bool, month_first: bool, differ: bool, where: pd.Series) -> bool:
    """Whether a column's numeric dates are day first, from what its rows show (see :func:`to_utc`).

    ``day_first``: some date has a first number above 12; ``month_first``: some has a second number
    above 12; ``differ``: some has two different numbers. Raises :class:`AmbiguousDates` (with ``where``,
    the rows written with numbers) when the rows show both orders, or neither while the order matters.
    """
    if day_first and month_first:
        msg = "dates are written day first in some rows (13/04/2026) and month first in others (04/13/2026)"
        raise AmbiguousDates(msg, where)
    if not day_first and not month_first and differ:
        msg = "dates such as 03/04/2026 could be day/month or month/day, and no row tells which"
        raise AmbiguousDates(msg, where)
    return day_first


def numeric_date_parts(values: pd.Series) -> pd.DataFrame:
    """For each value that :func:`to_utc` reads as a date written with numbers only (``03/04/2026``): its
    first and second number (``first``, ``second``, missing for every other value).

    From these a column read in parts decides its order once (:func:`date_order`) and parses each part
    with ``to_utc(part, day_first=...)``, as :func:`to_utc` does for a whole column.
    """
    empty = pd.DataFrame({"first": pd.Series(pd.NA, index=values.index, dtype="Float64")})
    empty["second"] = empty["first"]
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(values.dtype):
        return empty
    text = values.astype("string").str.strip()
    iso = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601", cache=False)
    retry = iso.isna() & text.notna() & (text != "")
    if not retry.any():
        return empty
    parts = text[retry].str.extract(_NUMERIC_DATE).astype("Float64")
    empty.loc[retry, "first"] = parts[0]
    empty.loc[retry, "second"] = parts[1]
    return empty


_TIMESTAMP_FIX = "use ISO 8601 (2024-03-01T09:30:00Z); values without a zone are read as UTC"


def _given(values: pd.Series) -> pd.Series:
    """Where a value is present (not missing, not blank text)."""
    given = values.notna()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        given = given & (values.astype("string").str.strip() != "")
    return given.fillna(False).astype(bool)


def _refuse(table: str, col: str, df: pd.DataFrame, bad: pd.Series, ex_col: str, problem: str, remedy: str) -> None:
    if bad.any():
        raise DataContractError(
            table,
            col,
            problem,
            count=int(bad.sum()),
            examples=_examples(df, bad, ex_col),
            id_column=ex_col,
            remedy=remedy,
        )


def _examples(df: pd.DataFrame, mask: pd.Series, column: str) -> list[str]:
    if column in df.columns:
        return [str(v) for v in df.loc[mask, column].astype("string").fillna("<missing>").head(5)]
    return [f"row {i}" for i in df.index[mask][:5]]


def validate(name: str, df: pd.DataFrame, *, required: bool | None = None) -> pd.DataFrame:
    """Check one table against its contract and return it normalised.

    Ids become strings, timestamps UTC, numeric columns floats, channel and
    status lower case. Raises :class:`DataContractError` for a missing required
    column, an empty required table, missing ids, an unparseable timestamp, a
    non-numeric amount, a duplicate key, or an unknown channel or status.
    The input frame is never modified.
    """
    contract = CONTRACTS[name]
    must_have_rows = contract.required_table if required is None else required
    missing = [c for c in contract.required if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns[:12])) or "none"
        raise DataContractError(
            name,
            missing[0],
            f"required column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing (columns found: {have})",
            remedy="rename the source column with column_map={'"
            + name
            + "': {'<source name>': '"
            + missing[0]
            + "'}} or add the column",
        )
    if must_have_rows and len(df) == 0:
        raise DataContractError(name, None, "the table is empty", remedy=f"provide at least one row of {name}")
    out = df.copy(deep=False)  # columns are replaced, never written into: the input frame stays as it was
    ex_col = contract.example_column

    for col in contract.ids:
        if col not in out.columns:
            continue
        text = out[col].astype("string").str.strip()
        bad = text.isna() | (text == "")
        if bad.any():
            raise DataContractError(
                name,
                col,
                f"{col} is empty",
                count=int(bad.sum()),
                examples=[f"row {i}" for i in out.index[bad][:5]],
                id_column="position",
                remedy=f"drop or fill the rows without {col} before loading",
            )
        out[col] = text

    for col in contract.timestamps:
        if col not in out.columns:
            continue
        original = out[col]
        given = _given(original)
        try:
            parsed = to_utc(original)
        except AmbiguousDates as exc:
            raise DataContractError(
                name,
                col,
                exc.problem,
                count=int(exc.mask.sum()),
                examples=out.loc[exc.mask.to_numpy(dtype=bool), col].astype("string").head(5).tolist(),
                id_column="value",
                remedy="write timestamps in ISO 8601 (2026-04-03 or 2026-04-03T09:30:00Z)",
            ) from None
        bad = (parsed.isna() & given) | (~given if col in contract.required else False)
        _refuse(name, col, out, bad, ex_col, "timestamp cannot be parsed", _TIMESTAMP_FIX)
        outside = parsed.notna() & ((parsed < EARLIEST) | (parsed >= LATEST))
        _refuse(
            name,
            col,
            out,
            outside,
            ex_col,
            f"timestamp outside {EARLIEST.year}-{LATEST.year - 1}",
            "correct the dates, or drop rows that carry a placeholder date such as 0001-01-01 or 9999-12-31",
        )
        out[col] = parsed

    for col in contract.numeric:
        if col not in out.columns:
            continue
        original = out[col]
        given = _given(original)
        parsed = pd.to_numeric(original, errors="coerce").astype("float64")
        bad = (parsed.isna() & given) | (~given if col in contract.required else False)
        _refuse(
            name,
            col,
            out,
            bad,
            ex_col,
            "value is not a number",
            "write amounts as plain numbers with a dot for decimals (12.50), no currency sign",
        )
        infinite = pd.Series(np.isinf(parsed.to_numpy()), index=out.index)
        _refuse(
            name,
            col,
            out,
            infinite,
            ex_col,
            "value is infinite (inf, Infinity or a number too large to hold, such as 1e309)",
            "write the real amount; a missing amount stays empty",
        )
        out[col] = parsed

    for col, allowed in contract.enums.items():
        if col not in out.columns:
            continue
        norm = out[col].astype("string").str.strip().str.lower()
        bad = ~norm.isin(allowed)
        if bad.any():
            seen = ", ".join(sorted(norm[bad].fillna("<missing>").unique().tolist())[:5])
            raise DataContractError(
                name,
                col,
                f"unknown {col} ({seen}); allowed: {', '.join(allowed)}",
                count=int(bad.sum()),
                examples=_examples(out, bad, ex_col),
                id_column=ex_col,
                remedy=f"map the values to {' or '.join(allowed)} before loading",
            )
        out[col] = norm

    if contract.key and contract.key in out.columns:
        repeated = _repeated_values(out[contract.key])
        if repeated:
            dup = out[contract.key].isin(repeated)
            raise DataContractError(
                name,
                contract.key,
                f"duplicate {contract.key}",
                count=int(dup.sum()),
                examples=out.loc[dup, contract.key].drop_duplicates().head(5).tolist(),
                id_column=contract.key,
                remedy=f"each {contract.key} must appear once; drop or merge the duplicates",
            )
    return out


def _repeated_values(values: pd.Series | pa.ChunkedArray) -> list[str]:
    """The values that appear more than once (none when the values are in strictly increasing order, as exports
    and generated ids often are, or numbered alike with different numbers; otherwise hashed in DuckDB: pandas
    takes seconds on millions)."""
    import duckdb

    array = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([_arrow_text(values)])
    if _strictly_increasing(array) or _numbers_differ(id_numbers(array)):
        return []
    with duckdb.connect(":memory:") as con:
        con.execute("set enable_progress_bar = false")
        con.register("ids", pa.table({"id": array}))
        return [row[0] for row in con.sql("select id from ids group by id having count(*) > 1").fetchall()]


def _numbers_differ(numbers: np.ndarray | None) -> bool:
    """Whether ids numbered alike (their numbers, None for other ids) are all different: counted in a table
    over the numbers' span when it is small, else sorted."""
    if numbers is None or len(numbers) < 2:
        return numbers is not None
    low, high = int(numbers.min()), int(numbers.max())
    if high - low < 4 * len(numbers) + 65_536:
        return bool(np.bincount(numbers - low).max() <= 1)
    ordered = np.sort(numbers)
    return not bool((ordered[1:] == ordered[:-1]).any())


def _strictly_increasing(values: pa.ChunkedArray) -> bool:
    """Whether each text value sorts after the one before it (byte order), so that none repeats."""
    if len(values) < 2 or (not pa.types.is_large_string(values.type) and not pa.types.is_string(values.type)):
        return len(values) < 2
    later = pc.greater(values.slice(1), values.slice(0, len(values) - 1))
    return pc.all(later, skip_nulls=False).as_py() is True


def _arrow_text(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A pandas column as Arrow text (no copy for text pandas already holds in Arrow)."""
    array = values.array
    if isinstance(array, pd.arrays.ArrowStringArray):
        return array._pa_array
    return pa.array(values.astype("string").array)


# ---------------------------------------------------------------- the same checks over Arrow tables

_EARLIEST_US, _LATEST_US = EARLIEST.value // 1000, LATEST.value // 1000
_UTC_US = pa.timestamp("us", tz="UTC")
#: Arrow's ISO 8601 readings tried on a text timestamp column, in order: with a zone, then without (read as UTC).
_ISO_TYPES = (pa.timestamp("us", tz="UTC"), pa.timestamp("ns", tz="UTC"), pa.timestamp("us"), pa.timestamp("ns"))


def _utc_micros(values: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Timestamps as ``timestamp[us, tz=UTC]``, as :func:`to_utc` reads them; None for values it reads otherwise.

    Typed timestamps keep their instant (a zone-less one is read as UTC) and finer units are floored to the
    microsecond, as pandas converts them. Text is read when every value is ISO 8601 that Arrow's parser
    reads, all with a zone or all without (read as UTC), as pandas' ISO 8601 parser reads the same text.
    """
    kind = values.type
    if is_text(kind):
        for target in _ISO_TYPES:
            try:
                return _utc_micros(pc.cast(values, target))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        return None
    if not pa.types.is_timestamp(kind):
        return None
    ints = values.cast(pa.int64())
    if kind.unit in ("s", "ms"):
        ints = pc.multiply_checked(ints, 1_000_000 if kind.unit == "s" else 1_000)
    elif kind.unit == "ns":
        chunks = []
        for chunk in ints.chunks:
            floored = np.floor_divide(chunk.fill_null(0).to_numpy(zero_copy_only=False), 1000)
            chunks.append(pa.array(floored, mask=chunk.is_null().to_numpy(zero_copy_only=False)))
        ints = pa.chunked_array(chunks, type=pa.int64())
    return ints.cast(_UTC_US)


#: Bytes that may begin or end a value Arrow's ``utf8_trim_whitespace`` would shorten: the ASCII white space it
#: trims (tab to carriage return, the four separators 0x1C-0x1F, space) and every byte of a multi-byte character
#: (some of which are white space, such as U+00A0 or U+3000).
_EDGE_BYTES = np.zeros(256, dtype=bool)
_EDGE_BYTES[[*range(0x09, 0x0E), *range(0x1C, 0x21), *range(0x80, 0x100)]] = True


def _offsets(chunk: pa.Array) -> np.ndarray:
    """Where each value of a text chunk (``string`` or ``large_string``) begins, and where the last ends (no
    copy)."""
    kind = np.dtype(np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
    return np.frombuffer(chunk.buffers()[1], dtype=kind, count=len(chunk) + 1, offset=kind.itemsize * chunk.offset)


def _any_empty(values: pa.ChunkedArray) -> bool:
    """Whether a text column holds an empty (or missing) value, read from its offsets."""
    for chunk in values.chunks:
        offsets = _offsets(chunk)
        if len(chunk) and (offsets[1:] == offsets[:-1]).any():
            return True
    return False


def _plain_edges(chunk: pa.Array) -> bool:
    """Whether no value of a text chunk begins or ends with a byte of :data:`_EDGE_BYTES` (then
    trimming leaves every value as it is), read from the chunk's offsets and bytes without a copy."""
    if len(chunk) == 0:
        return True
    offsets, data_buffer = _offsets(chunk), chunk.buffers()[2]
    if data_buffer is None or offsets[-1] == offsets[0]:
        return True
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    begin, width = int(offsets[0]), int(offsets[1] - offsets[0])
    steps = np.diff(offsets)
    if width and int(steps.min()) == width and int(steps.max()) == width:  # values of one length (ids often are)
        rows = data[begin : begin + width * len(chunk)].reshape(len(chunk), width)
        return _no_edge(rows[:, 0]) and _no_edge(rows[:, -1])
    starts, ends = offsets[:-1], offsets[1:]
    filled = steps > 0  # empty and missing values have no edges
    if not filled.all():
        starts, ends = starts[filled], ends[filled]
    return _no_edge(data[starts]) and _no_edge(data[ends - 1])


def _no_edge(edges: np.ndarray) -> bool:
    """Whether none of these bytes is one of :data:`_EDGE_BYTES` (at once when all are printable ASCII)."""
    if not len(edges) or (int(edges.min()) > 0x20 and int(edges.max()) < 0x80):
        return True
    return not _EDGE_BYTES[edges].any()


def _trimmed(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text (``string`` or ``large_string``, kept so) without leading and trailing white space (Arrow's kernel,
    which pandas' ``str.strip`` calls), reusing every chunk that has none to strip: a chunk whose values all
    begin and end with a plain ASCII character is kept without running the kernel."""
    chunks = []
    for chunk in values.chunks:
        if _plain_edges(chunk):
            chunks.append(chunk)
            continue
        trimmed = pc.utf8_trim_whitespace(chunk)
        same = pc.all(pc.equal(pc.binary_length(trimmed), pc.binary_length(chunk))).as_py() is not False
        chunks.append(chunk if same else trimmed)
    return pa.chunked_array(chunks, type=values.type)


def _lower_words(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.lower()


_TEXT = pa.large_string()


def _by_distinct(
    values: pa.ChunkedArray, normalise: Callable[[pd.Series], pd.Series]
) -> tuple[pd.Series, np.ndarray, pa.Array]:
    """``normalise`` applied to each distinct value once: the distinct values normalised, each row's
    position among them, and the distinct values themselves."""
    distinct, codes = text_codes(values)
    return normalise(pd.Series(pd.arrays.ArrowStringArray(distinct))), codes, distinct


def _recoded(normalised: pd.Series, codes: np.ndarray) -> pa.ChunkedArray:
    """Each row's normalised value, dictionary-encoded (text of few distinct values takes little memory)."""
    target = pa.array(normalised.array, type=_TEXT)
    values = pc.unique(target)
    remap = pc.index_in(target, value_set=values).to_numpy(zero_copy_only=False).astype(np.int32)
    indices = remap[codes] if len(remap) else np.zeros(len(codes), dtype=np.int32)
    missing = normalised.isna().to_numpy(dtype=bool)
    mask = missing[codes] if missing.any() else None
    return pa.chunked_array([pa.DictionaryArray.from_arrays(pa.array(indices, mask=mask), values)])


def _coded_as_allowed(values: pa.ChunkedArray, allowed: tuple[str, ...]) -> pa.ChunkedArray | None:
    """A dictionary-encoded column with no missing value whose dictionaries hold only allowed values as they
    are written (lower case, trimmed), as one chunk with one dictionary of text: what :func:`_recoded` makes of
    it, read from the dictionaries alone (a Parquet file's column of channels has one per row group). None for
    any other column."""
    if not pa.types.is_dictionary(values.type) or values.null_count:
        return None
    known = set(allowed)
    for chunk in values.chunks:
        words = chunk.dictionary
        if words.null_count or not known.issuperset(words.to_pylist()):
            return None
    coded = values.cast(pa.dictionary(pa.int32(), _TEXT)).unify_dictionaries()
    if coded.num_chunks == 0:
        return None
    return pa.chunked_array([coded.combine_chunks() if coded.num_chunks > 1 else coded.chunk(0)])


def validate_arrow(name: str, table: pa.Table, *, required: bool | None = None) -> pa.Table | None:
    """Check one Arrow table against its contract: the table normalised, or None when :func:`validate` must decide.

    The checks and the values are those of :func:`validate`: ids are text without surrounding space and
    never empty, timestamps UTC at microsecond precision and within 1900-2199, numbers finite floats,
    channels and statuses known and lower case, keys unique. Columns arrive typed (what loading reads):
    timestamps as Arrow timestamps or ISO 8601 text, numbers as floats, ids, channels and statuses as
    text. None means that something is wrong or read differently (a bad or missing value, a number
    written as text, a duplicate key): :func:`validate` on the same data then raises the contract's
    error, with its counts and examples, or returns the table.
    """
    contract = CONTRACTS[name]
    must_have_rows = contract.required_table if required is None else required
    names = table.column_names
    if len(set(names)) != len(names) or any(c not in names for c in contract.required):
        return None
    if must_have_rows and table.num_rows == 0:
        return None
    columns = dict(zip(names, table.columns, strict=True))
    for col in contract.ids:
        if col not in columns:
            continue
        values = columns[col]
        if not is_text(values.type):
            return None
        values = _trimmed(values)  # ``string`` stays so (no copy of the offsets): pandas' view casts it
        if values.null_count or _any_empty(values):
            return None
        columns[col] = values
    for col in contract.timestamps:
        if col not in columns:
            continue
        parsed = _utc_micros(columns[col])
        if parsed is None or (col in contract.required and parsed.null_count):
            return None
        span = pc.min_max(parsed.cast(pa.int64()))
        low, high = span["min"].as_py(), span["max"].as_py()
        if low is not None and (low < _EARLIEST_US or high >= _LATEST_US):
            return None
        columns[col] = parsed
    for col in contract.numeric:
        if col not in columns:
            continue
        values = columns[col]
        if not pa.types.is_float64(values.type) or (col in contract.required and values.null_count):
            return None
        if pc.any(pc.invert(pc.is_finite(values))).as_py():  # NaN written as text, or infinite
            return None
    for col, allowed in contract.enums.items():
        if col not in columns:
            continue
        values = columns[col]
        if not is_coded_text(values.type) or values.null_count:
            return None
        kept = _coded_as_allowed(values, allowed)
        if kept is not None:
            columns[col] = kept
            continue
        normalised, codes, _ = _by_distinct(values, _lower_words)
        if normalised.isna().any() or not normalised.isin(allowed).all():
            return None
        columns[col] = _recoded(normalised, codes)
    if contract.key and contract.key in columns and _repeated_values(columns[contract.key]):
        return None
    return pa.table(columns, metadata=table.schema.metadata)


@cache
def _email_re2() -> str:
    """The email pattern (:data:`~workbench.models.tables.EMAIL_PATTERN`) as Python's ``re.match`` reads it,
    written for Arrow's engine (RE2): RE2's ``\\s`` is ASCII only, so white space is spelled out as every
    character ``str.isspace`` accepts (Python's ``\\s``), and RE2's ``$`` does not also match before a final
    newline as Python's does."""
    space = "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE)
    return rf"^[^@{space}]+@[^@{space}]+\.[A-Za-z]{{2,}}\n?$"


def valid_emails(values: pd.Series) -> pd.Series:
    """True where the value is a usable email address (:data:`~workbench.models.tables.EMAIL_PATTERN`);
    missing is False.

    Matched by Arrow's regular-expression kernel with a pattern that means what ``EMAIL_PATTERN``
    means to Python's ``re.match`` (a test holds the two to the same answers).
    """
    text = _column(pd.DataFrame({"v": pd.Series(values).astype("string")}), "v")
    matched = pc.match_substring_regex(text, _email_re2()).fill_null(False)
    return pd.Series(matched.to_numpy(), index=values.index, dtype=bool)


def valid_phones(values: pd.Series) -> pd.Series:
    """True where the value is a valid E.164 number (phonenumbers); missing is False.

    The text must start with ``+``; validity is ``phonenumbers.is_valid_number(phonenumbers.parse(text,
    None))``, computed for the whole column at once (:func:`workbench.phones.is_valid`).
    """
    text = values.astype("string")
    international = text.str.startswith("+").fillna(False).astype(bool)
    return pd.Series(is_valid_phone(text.where(international)).to_numpy(), index=values.index)


# ---------------------------------------------------------------- a dataset from frames


def from_frames(
    orders: Table,
    customers: Table | None = None,
    events: Table | None = None,
    consents: Table | None = None,
    messages: Table | None = None,
    *,
    quality: pd.DataFrame | None = None,
    source: str = "",
    reread: Callable[[str], pd.DataFrame] | None = None,
    customer_keys: Mapping[str, np.ndarray] | None = None,
) -> Dataset:
    """Validate tables and build a :class:`Dataset` (customers derived from orders when absent).

    Each table is a pandas DataFrame or an Arrow table. An Arrow table that
    :func:`validate_arrow` accepts stays in Arrow; one it does not is checked
    by :func:`validate` as pandas reads it: ``reread(name)`` when given (the
    loader reads the file again as text, as the contract defines it), else the
    table converted to pandas. Loading also finds the customer of every row of
    every table (:meth:`~workbench.models.dataset.Dataset.customer_keys`); code that made the tables
    itself and knows each row's customer (the generator) gives them as ``customer_keys`` (table name: position
    in ``customers`` of each row, as int32), and they are taken as they are.
    """

    def check(name: str, table: Table) -> Table:
        if isinstance(table, pa.Table):
            fast = validate_arrow(name, table)
            if fast is not None:
                return fast
            table = reread(name) if reread is not None else table.to_pandas()
        return validate(name, table)

    given_keys = dict(customer_keys or {}) if customers is not None else {}
    # the messages (the largest table) are checked on a second thread while the other tables are checked, the
    # orders' customers found and the customers' phone numbers parsed: mostly single-threaded kernels
    with ThreadPoolExecutor(max_workers=1) as pool:
        checking = None if messages is None else pool.submit(check, "messages", messages)
        v_orders = check("orders", orders)
        if customers is not None and customers.shape[0] == 0:
            named = pc.count_distinct(_column(v_orders, "customer_id")).as_py()
            table = "customers"
            raise DataContractError(
                table,
                None,
                f"the customers table has no rows while orders name {named:,} customers",
                remedy="fill the customers table, or remove the file so customers are derived from orders",
            )
        v_customers: Table
        if customers is None:
            v_customers, keys = _derive_customers(_column(v_orders, "customer_id"), _column(v_orders, "ordered_at"))
        else:
            v_customers = check("customers", customers)
            keys = (
                customer_positions(_column(v_orders, "customer_id"), _column(v_customers, "customer_id"))
                if given_keys.get("orders") is None
                else given_keys["orders"]
            )
        found_quality = [] if quality is None else [quality]
        v_events = None
        if events is not None:
            v_events, notes = _normalize_events(check("events", events))
            found_quality.extend(notes)
        if (keys < 0).any():
            v_customers, keys, note = _with_unknown_customers(v_orders, v_customers, keys)
            found_quality.append(note)
        # the customers are final: the messages' and events' customers are found on the second thread too
        finding = pool.submit(_other_keys, v_customers, {"events": v_events, "messages": checking}, given_keys)
        phones, validity = _contact_checks(v_customers)
        v_consents = None if consents is None else check("consents", consents)
        v_messages = None if checking is None else checking.result()
        found_keys = finding.result()
    dataset = Dataset(
        orders=v_orders,
        customers=v_customers,
        events=v_events,
        consents=v_consents,
        messages=v_messages,
        source=source,
    )
    dataset.derived("phones", ("customers",), _returning(phones))
    dataset.derived("contacts", ("customers",), _returning(validity))
    dataset.derived("keys:orders", ("customers", "orders"), lambda: keys)
    for name, known in (given_keys | found_keys).items():
        if name != "orders" and dataset.has(name):
            dataset.derived(f"keys:{name}", ("customers", name), _returning(known))
    checks = quality_checks(dataset)
    all_quality = pd.concat([*found_quality, checks], ignore_index=True) if found_quality else checks
    return dataset.with_quality(all_quality[QUALITY_COLUMNS])


def _other_keys(
    customers: Table, tables: Mapping[str, Table | Future[Table] | None], given: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The position in ``customers`` of the customer of every row of each table (a table still being checked
    is waited for), except tables that are absent or whose positions are ``given``."""
    ids = _column(customers, "customer_id")
    out = {}
    for name, table in tables.items():
        found = table.result() if isinstance(table, Future) else table
        if found is not None and given.get(name) is None:
            out[name] = customer_positions(_column(found, "customer_id"), ids)
    return out


def _with_unknown_customers(
    orders: Table, customers: Table, keys: np.ndarray
) -> tuple[Table, np.ndarray, pd.DataFrame]:
    """The customers with a row added for each id that orders name and customers lack (created at its first
    order), the orders' keys among them, and the quality row that says so."""
    unknown = np.flatnonzero(keys < 0)
    unknown_ids = _column(orders, "customer_id").take(pa.array(unknown))
    missing_ids = pc.unique(unknown_ids).to_pylist()  # in order of first appearance, as pandas' unique
    added, _ = _derive_customers(unknown_ids, _column(orders, "ordered_at").take(pa.array(unknown)))
    frame = customers if isinstance(customers, pd.DataFrame) else arrow_to_frame("customers", customers)
    extended = pd.concat([frame, added], ignore_index=True)
    note = quality_row(
        "orders",
        "customer_id",
        "customer not in customers table",
        len(missing_ids),
        customers.shape[0],
        missing_ids[:5],
        "added to customers with only an id",
    )
    return extended, customer_positions(_column(orders, "customer_id"), _column(extended, "customer_id")), note


def _returning(value: T) -> Callable[[], T]:
    return lambda: value


def _contact_checks(
    customers: Table,
) -> tuple[tuple[np.ndarray, pd.Series | None], dict[str, np.ndarray]]:
    """:func:`phone_checks` and :func:`contact_validity` of a customers table, read from its email and phone
    columns alone (converted to pandas as the dataset converts them)."""
    if isinstance(customers, pd.DataFrame):
        contact = customers[[c for c in ("email", "phone") if c in customers.columns]]
    else:
        names = [c for c in ("email", "phone") if c in customers.column_names]
        contact = arrow_to_frame("customers", customers.select(names)) if names else pd.DataFrame()
    if contact.shape[1] == 0:
        contact = pd.DataFrame(index=pd.RangeIndex(customers.shape[0]))
    phones = _phone_checks(contact)
    return phones, _contact_validity(contact, phones[0])


def _column(table: Table, column: str) -> pa.ChunkedArray:
    """One column of a pandas or Arrow table, as Arrow."""
    if isinstance(table, pa.Table):
        return table.column(column)
    values = arrow_column(table[column])
    return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])


def contact_validity(dataset: Dataset) -> dict[str, np.ndarray]:
    """Per customer (in the order of ``customers``): is the ``email`` usable, is the ``phone`` valid E.164?

    Checked once per dataset (parsing phone numbers is the costly part):
    loading counts the invalid ones in ``quality`` and profiles reuse the
    same answers for ``has_valid_email`` and ``has_valid_phone``. A
    missing column means no valid address.
    """
    return dataset.derived(
        "contacts", ("customers",), lambda: _contact_validity(dataset.customers, phone_checks(dataset)[0])
    )


def customer_contact_validity(customers: pd.DataFrame) -> dict[str, np.ndarray]:
    """:func:`contact_validity` of a customers table outside a dataset (nothing is kept)."""
    return _contact_checks(customers)[1]


def _contact_validity(customers: pd.DataFrame, phone: np.ndarray) -> dict[str, np.ndarray]:
    present = "email" in customers.columns and customers["email"].notna().any()
    email = valid_emails(customers["email"]).to_numpy(dtype=bool) if present else np.zeros(len(customers), dtype=bool)
    return {"email": email, "phone": phone}


def phone_checks(dataset: Dataset) -> tuple[np.ndarray, pd.Series | None]:
    """Per customer (in the order of ``customers``): is the phone valid E.164 (:func:`valid_phones`), and
    its time zones (:func:`~workbench.timezones.phone_time_zones`; None without phone numbers).

    Both come from one parse of each distinct number, once per dataset: loading checks validity, and
    profiles read the zones.
    """
    return dataset.derived("phones", ("customers",), lambda: _phone_checks(dataset.customers))


def _phone_checks(customers: pd.DataFrame) -> tuple[np.ndarray, pd.Series | None]:
    n = len(customers)
    if "phone" not in customers.columns or not customers["phone"].notna().any():
        return np.zeros(n, dtype=bool), None
    text = customers["phone"].astype("string").reset_index(drop=True)
    stripped = text.str.strip(WHITESPACE)
    international = text.str.startswith("+").fillna(False).to_numpy(dtype=bool)
    padded = (text != stripped).fillna(False).to_numpy(dtype=bool)
    # validity reads the text as given (international only), zones the stripped text: one parse serves both
    # where they are the same text, and the few numbers with white space around them are parsed as given too
    again = np.flatnonzero(international & padded)
    valid, zones = valid_and_zones(pd.concat([stripped, text.iloc[again]], ignore_index=True), keep=known_zone_names)
    out = valid.to_numpy(dtype=bool)
    phone = out[:n] & international & ~padded
    phone[again] = out[n:]
    return phone, zones.iloc[:n]


def derive_customers(orders: pd.DataFrame) -> pd.DataFrame:
    """One customer row per id seen in orders (sorted by id), created at the first order."""
    return _derive_customers(_column(orders, "customer_id"), _column(orders, "ordered_at"))[0]


def _derive_customers(ids: pa.ChunkedArray, when: pa.ChunkedArray) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`derive_customers` from the orders' customer ids and times, and the position of each order's
    customer in it (Arrow hashing, no groupby)."""
    encoded = pc.dictionary_encode(arrow_strings(ids))
    by_id = pc.sort_indices(encoded.dictionary).to_numpy()
    rank = np.empty(len(by_id), dtype=np.int32)
    rank[by_id] = np.arange(len(by_id), dtype=np.int32)
    keys = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    micros = _utc_micros(when)
    times = (micros if micros is not None else when).cast(pa.int64()).to_numpy()
    first = np.full(len(by_id), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, keys, times)
    customers = pd.DataFrame(
        {
            "customer_id": pd.arrays.ArrowStringArray(encoded.dictionary.take(pa.array(by_id))),
            "created_at": pd.Series(first.view("datetime64[us]")).dt.tz_localize("UTC"),
        }
    )
    return customers, keys


def normalize_events(events: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Event names in the workbench's words, and quality rows saying what was renamed and what is not read.

    Names are lower-cased with words joined by ``_`` (``Add To Cart`` becomes
    ``add_to_cart``) and the common names of other tools map to the workbench's
    (:data:`~workbench.models.tables.EVENT_ALIASES`); names the workbench does
    not read are kept and counted, so an intent segment at zero is explained.
    """
    out, notes = _normalize_events(events)
    return out, notes  # a DataFrame in gives a DataFrame out


def _event_words(raw: pd.Series) -> pd.Series:
    norm = raw.str.strip().str.lower().str.replace(r"[^a-z0-9]+", "_", regex=True).str.strip("_")
    return norm.replace(EVENT_ALIASES)


def _normalize_events(events: Table) -> tuple[Table, list[pd.DataFrame]]:
    """:func:`normalize_events` for a pandas or Arrow table: each distinct name is normalised once.

    The quality rows are computed by pandas over the rows they concern (none, for names already in the
    workbench's words), so they read as they always have.
    """
    if isinstance(events, pd.DataFrame) or not is_coded_text(events.column("event").type):
        given = events["event"] if isinstance(events, pd.DataFrame) else events.column("event").to_pandas()
        text = _column(pd.DataFrame({"event": pd.Series(given).astype("string")}), "event")
    else:
        text = events.column("event")
    normalised, position, distinct = _by_distinct(text, _event_words)
    dist_raw = pd.Series(pd.arrays.ArrowStringArray(distinct))
    renamed_d = ((normalised != dist_raw).fillna(False).astype(bool) & normalised.isin(KNOWN_EVENTS)).to_numpy()
    unknown_d = (~normalised.isin(KNOWN_EVENTS)).to_numpy(dtype=bool)
    norm_col = _recoded(normalised, position)
    n = events.shape[0]
    notes = []
    renamed = renamed_d[position] if renamed_d.any() else np.zeros(n, dtype=bool)
    if renamed.any():
        rows = pa.array(np.flatnonzero(renamed))
        raw = pd.Series(pd.arrays.ArrowStringArray(text.take(rows).cast(_TEXT)))
        norm = pd.Series(pd.arrays.ArrowStringArray(norm_col.take(rows).cast(_TEXT)))
        pairs = pd.DataFrame({"from": raw, "to": norm}).drop_duplicates()
        notes.append(
            quality_row(
                "events",
                "event",
                "event names written another way",
                int(renamed.sum()),
                n,
                [f"{a} → {b}" for a, b in pairs.itertuples(index=False)][:5],
                "renamed to the workbench's event names",
            )
        )
    unknown = unknown_d[position] if unknown_d.any() else np.zeros(n, dtype=bool)
    if unknown.any():
        names = pd.Series(pd.arrays.ArrowStringArray(norm_col.take(pa.array(np.flatnonzero(unknown))).cast(_TEXT)))
        names = names.value_counts()
        notes.append(
            quality_row(
                "events",
                "event",
                "event names the workbench does not read",
                int(unknown.sum()),
                n,
                [f"{name} ({count:,})" for name, count in names.head(5).items()],
                f"kept but unused: profiles and intent segments read {', '.join(KNOWN_EVENTS)}",
            )
        )
    if isinstance(events, pa.Table):
        return events.set_column(events.column_names.index("event"), "event", norm_col), notes
    out = events.copy(deep=False)
    out["event"] = pd.arrays.ArrowStringArray(norm_col.cast(_TEXT))
    return out, notes


# ---------------------------------------------------------------- data quality


def quality_row(
    table: str, column: str, check: str, rows: int, total: int, examples: Iterable[object], action: str
) -> pd.DataFrame:
    """One row of ``Dataset.quality``: a check, how many of ``total`` rows it concerns, examples and the action."""
    return pd.DataFrame(
        [
            {
                "table": table,
                "column": column,
                "check": check,
                "rows": int(rows),
                "share": (rows / total) if total else 0.0,
                "examples": ", ".join(map(str, list(examples)[:5])),
                "action": action,
            }
        ]
    )


def quality_checks(dataset: Dataset) -> pd.DataFrame:
    """Checks that are counted, not fatal: invalid emails and phone numbers, returns, orphan rows.

    Returns one row per check (``table``, ``column``, ``check``, ``rows``,
    ``share``, ``examples``, ``action``); a check that finds nothing is
    still listed with ``rows`` 0 so the report shows it was run.
    """
    frames = []
    c = dataset.customers
    n = len(c)
    ids = dataset.column("customers", "customer_id")
    valid = contact_validity(dataset)
    for column, invalid, unused, absent, unreachable in (
        ("email", "invalid email address", "email not used for sends", "no email address", "email not reachable"),
        (
            "phone",
            "invalid phone number (E.164)",
            "SMS not used for this customer",
            "no phone number",
            "SMS not reachable",
        ),
    ):
        if column not in c.columns:
            continue
        text = c[column].astype("string")
        given = text.notna() & (text.str.strip() != "")
        bad = given & ~valid[column]
        frames.append(quality_row("customers", column, invalid, bad.sum(), n, _first(ids, _marked(bad)), unused))
        frames.append(
            quality_row("customers", column, absent, (~given).sum(), n, _first(ids, _marked(~given)), unreachable)
        )
    if "locale" in c.columns:
        given = _given(c["locale"])
        text = c["locale"].astype("string")
        known = {v: canonical_locale(v) is not None for v in text[given].unique().tolist()}
        unknown = [v for v, ok in known.items() if not ok]
        bad = given & text.isin(unknown).fillna(False).astype(bool)  # (a column with no locale at all has none)
        frames.append(
            quality_row(
                "customers",
                "locale",
                "locale is not a BCP 47 tag Babel knows (e.g. fr-CA)",
                int(bad.sum()),
                n,
                _first(ids, _marked(bad)),
                "ignored: the locale is derived from country and region",
            )
        )
    formula = c["customer_id"].astype("string").str.startswith(FORMULA_START).fillna(False).astype(bool)
    frames.append(
        quality_row(
            "customers",
            "customer_id",
            "id starts like a spreadsheet formula (=, +, -, @)",
            int(formula.sum()),
            n,
            _first(ids, _marked(formula)),
            "kept; written with a leading ' in the CSV files meant for spreadsheets",
        )
    )
    order_ids = dataset.column("orders", "order_id")
    negative = _cancelled(dataset)
    frames.append(
        quality_row(
            "orders",
            "amount",
            "cancellations and returns",
            negative.sum(),
            len(negative),
            _first(order_ids, negative),
            "excluded from purchase counts and revenue",
        )
    )
    for name in ("events", "consents", "messages"):
        if not dataset.has(name):
            continue
        orphan = dataset.customer_keys(name) < 0
        frames.append(
            quality_row(
                name,
                "customer_id",
                "customer not in customers table",
                orphan.sum(),
                dataset.rows(name),
                _first(dataset.column(name, "customer_id"), orphan),
                "ignored in profiles",
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=QUALITY_COLUMNS)


def _marked(mask: pd.Series) -> np.ndarray:
    """A boolean Series as a NumPy mask (missing: not marked)."""
    return np.asarray(mask.to_numpy(dtype=bool, na_value=False), dtype=bool)


def _first(values: pa.ChunkedArray, mask: np.ndarray, limit: int = 5) -> list[object]:
    """The first ``limit`` values where ``mask`` holds, in row order."""
    found: list[int] = []
    block = 1 << 20
    for start in range(0, len(mask), block):  # stop at the block holding the last one
        found.extend((start + np.flatnonzero(mask[start : start + block])[: limit - len(found)]).tolist())
        if len(found) == limit:
            break
    return [values[i].as_py() for i in found]  # one value at a time: taking from chunks would join them first


def _cancelled(dataset: Dataset) -> np.ndarray:
    """Orders that are cancellations or returns: a negative amount, or a cancelled/returned status."""
    negative: np.ndarray = dataset.column("orders", "amount").to_numpy() < 0
    if "status" not in dataset.column_names("orders"):
        return negative
    status = dataset.column("orders", "status")
    if not is_coded_text(status.type):
        status = _column(pd.DataFrame({"status": pd.Series(status.to_pandas()).astype("string")}), "status")
    cancelled: np.ndarray = negative | cancelled_statuses(status)
    return cancelled


def cancelled_statuses(status: pa.ChunkedArray) -> np.ndarray:
    """For each order status (text, plain or dictionary-encoded), whether it makes the order a cancellation
    or return: its lower case is one of :data:`~workbench.models.tables.CANCELLED_STATUSES`; a missing status
    is not.

    This is the profile SQL's rule, ``coalesce(lower(status), '') in (...)``: lower case by Unicode's case
    mapping of each character, as Arrow's ``utf8_lower`` and DuckDB's ``lower`` make it (a dotted capital I
    is an i). A dictionary-encoded column is lower-cased once per distinct value.
    """
    return text_flags(status, lambda v: pc.is_in(pc.utf8_lower(v.cast(pa.large_string())), value_set=_CANCELLED))


_CANCELLED = pa.array(CANCELLED_STATUSES, pa.large_string())
