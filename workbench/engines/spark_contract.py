"""The data contract on Spark: the tables checked and normalised by Spark, with the refusals of the local path.

:func:`validate_tables` holds Spark DataFrames of the contract's tables to the
rules of :func:`workbench.contracts.validate` and :func:`workbench.contracts.from_frames`
(the contract itself is data: :mod:`workbench.models.tables`) and raises the same
:class:`~workbench.models.errors.DataContractError`, word for word: a missing
required column, an empty orders table, missing ids, a timestamp that cannot be
parsed or lies outside 1900-2199, dates written day first and month first, an
amount that is not a number or is infinite, an unknown channel or status, a
duplicate key, an empty customers table. The checks are Spark expressions added
up in one job per table (and one grouping for the duplicate keys); the examples
are looked up only when a check fails.

Timestamps and amounts stored as text are parsed per partition by the
contract's own parsers (:func:`workbench.contracts.to_utc`, ``pandas.to_numeric``)
in an Arrow UDF, so that a text reads the same on Spark as on one machine; the
order of dates written with numbers only (``03/04/2026``) is decided once for
the whole column (:func:`workbench.contracts.date_order`). Typed columns
(Parquet timestamps, doubles, decimals) never leave the JVM.

Every table carries where each row was read (:data:`FILE` and :data:`ROW`: a
Parquet file and the row in it, or a partition and the row in it), so that an
example says ``row 7`` as the local path does, and the customers keep the
order of the source.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

import pandas as pd
import pyarrow as pa

from ..contracts import (
    _TIMESTAMP_FIX,
    EARLIEST,
    LATEST,
    AmbiguousDates,
    date_order,
    from_frames,
    numeric_date_parts,
    to_utc,
)
from ..models.dataset import Dataset
from ..models.errors import DataContractError
from ..models.tables import CONTRACTS, EVENT_ALIASES, TABLES
from .spark_arrow import to_pandas

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

__all__ = [
    "FILE",
    "HIDDEN",
    "ROW",
    "SparkTables",
    "is_checked",
    "source_order",
    "validate_table",
    "validate_tables",
    "with_positions",
]

#: The file (or partition) a row was read from, and its row there: the order of the source.
FILE, ROW = "__workbench_file", "__workbench_row"
HIDDEN = (FILE, ROW)
#: Spark's ``monotonically_increasing_id`` keeps the row within its partition in the low 33 bits.
_PARTITION_BITS = 33
#: What Python's ``str.strip()`` (and pandas') removes: Unicode white space and the ASCII separators 0x1C-0x1F.
_SPACE = r"[\t\n\x0B\f\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"


#: The frames :func:`validate_tables` returned (a frame given straight to the engine is checked first).
_CHECKED: WeakSet[Any] = WeakSet()


def is_checked(frame: object) -> bool:
    """Whether ``frame`` is a table :func:`validate_tables` checked (or a workbench dataset's, already checked)."""
    return frame in _CHECKED


def source_order() -> list[Column]:
    """The order of the source's rows: file (or partition) and row; rows added by the contract come last."""
    from pyspark.sql import functions as F

    return [F.asc_nulls_last(FILE), F.asc_nulls_last(ROW), F.col("customer_id")]


class SparkTables(Mapping[str, "DataFrame"]):
    """The contract's tables as Spark DataFrames, checked and normalised by :func:`validate_tables`.

    A mapping of table name to DataFrame, like a :class:`~workbench.models.dataset.Dataset`'s
    ``tables()``: ``orders`` and ``customers`` always (customers derived from the orders when
    the source has none, customers of orders missing from it added with only an id), then
    ``events``, ``consents`` and ``messages`` when present. Ids are text, timestamps UTC, amounts
    doubles, channels and statuses lower case, event names the workbench's. Nothing runs until
    a result is written or collected.
    """

    def __init__(
        self, frames: Mapping[str, DataFrame], *, source: str = "", raw: Mapping[str, DataFrame] | None = None
    ) -> None:
        self._frames = {name: frames[name] for name in TABLES if name in frames}
        self._raw = dict(raw or {})
        self.source = source
        _CHECKED.update(self._frames.values())

    def __getitem__(self, name: str) -> DataFrame:
        return self._frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def __repr__(self) -> str:
        return f"SparkTables({', '.join(self._frames)}; source={self.source!r})"

    def to_dataset(self) -> Dataset:
        """A local copy: the tables as read, in the order of the source, loaded by the local contract.

        For what needs every row on one machine (the data-quality counts of a
        report, a calibration check of the value model); the work of the Spark
        engine never asks for it.
        """
        frames = {}
        for name, frame in (self._raw or self._frames).items():
            ordered = frame.orderBy(FILE, ROW) if FILE in frame.columns else frame
            frames[name] = to_pandas(ordered.drop(*HIDDEN))
        return from_frames(**frames, source=self.source)


# ---------------------------------------------------------------- where rows come from


def with_positions(frame: DataFrame) -> DataFrame:
    """``frame`` with :data:`FILE` and :data:`ROW` (as read: its partition and the row within it) when it has none."""
    from pyspark.sql import functions as F

    if FILE in frame.columns and ROW in frame.columns:
        return frame
    return frame.select(
        "*",
        F.lpad(F.spark_partition_id().cast("string"), 10, "0").alias(FILE),
        (F.monotonically_increasing_id().bitwiseAND((1 << _PARTITION_BITS) - 1)).alias(ROW),
    )


def _row_numbers(frame: DataFrame, places: Sequence[tuple[str, int]]) -> list[int]:
    """The position in the whole table (0-based, as the local path counts) of rows given by file and row."""
    counts = sorted((r[0], int(r[1])) for r in frame.groupBy(FILE).count().collect())
    offsets, total = {}, 0
    for name, n in counts:
        offsets[name] = total
        total += n
    return [offsets[f] + int(r) for f, r in places]


# ---------------------------------------------------------------- parsing text as the contract does


def _strip(column: Column) -> Column:
    from pyspark.sql import functions as F

    return F.regexp_replace(column, f"^{_SPACE}+|{_SPACE}+$", "")


def _text_timestamps() -> Any:
    """An Arrow UDF: text in; both readings of numeric dates and their first and second numbers out."""
    from pyspark.sql.functions import arrow_udf  # type: ignore[attr-defined]

    @arrow_udf("day timestamp, month timestamp, first double, second double")  # type: ignore[untyped-decorator]
    def parse(values: pa.Array) -> pa.Array:
        text = pd.Series(values.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get))
        parts = numeric_date_parts(text)
        day = to_utc(text, day_first=True)
        month = to_utc(text, day_first=False) if parts["first"].notna().any() else day
        kind = pa.timestamp("us", tz="UTC")
        return pa.StructArray.from_arrays(
            [
                pa.array(day, type=kind, from_pandas=True),
                pa.array(month, type=kind, from_pandas=True),
                pa.array(parts["first"].astype("float64"), type=pa.float64(), from_pandas=True),
                pa.array(parts["second"].astype("float64"), type=pa.float64(), from_pandas=True),
            ],
            names=["day", "month", "first", "second"],
        )

    return parse


def _text_numbers() -> Any:
    """An Arrow UDF: text in, ``pandas.to_numeric`` out (what cannot be read, and NaN, are null)."""
    from pyspark.sql.functions import arrow_udf  # type: ignore[attr-defined]

    @arrow_udf("double")  # type: ignore[untyped-decorator]
    def parse(values: pa.Array) -> pa.Array:
        text = pd.Series(values.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get))
        return pa.array(pd.to_numeric(text, errors="coerce").astype("float64"), type=pa.float64(), from_pandas=True)

    return parse


def _kind(frame: DataFrame, column: str) -> str:
    return str(frame.schema[column].dataType.typeName())


_NUMBERS = {"byte", "short", "integer", "long", "float", "double", "decimal"}


# ---------------------------------------------------------------- one table


class _Check:
    """One check of a table: what it counts (a boolean Spark column) and how its refusal is written."""

    def __init__(self, key: str, column: str, bad: Column) -> None:
        self.key, self.column, self.bad = key, column, bad


def _validate(name: str, frame: DataFrame, *, required: bool | None = None) -> DataFrame:
    """One table checked against its contract and normalised (:func:`workbench.contracts.validate` on Spark)."""
    from pyspark.sql import functions as F

    contract = CONTRACTS[name]
    must_have_rows = contract.required_table if required is None else required
    columns = [c for c in frame.columns if c not in HIDDEN]
    missing = [c for c in contract.required if c not in columns]
    if missing:
        have = ", ".join(map(str, columns[:12])) or "none"
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
    ex_col = contract.example_column
    normal: dict[str, Column] = {c: F.col(c) for c in columns}
    helpers: dict[str, Column] = {}
    checks: list[_Check] = []
    for col in contract.ids:
        if col in columns:
            normal[col] = _strip(F.col(col).cast("string"))
            helpers[f"__id_{col}"] = normal[col]
            checks.append(_Check("id", col, normal[col].isNull() | (normal[col] == "")))
    given: dict[str, Column] = {}
    for col in contract.timestamps:
        if col not in columns:
            continue
        kind = _kind(frame, col)
        if kind in ("timestamp", "timestamp_ntz", "date"):
            helpers[f"__ts_{col}"] = F.struct(
                F.col(col).cast("timestamp").alias("day"),
                F.col(col).cast("timestamp").alias("month"),
                F.lit(None).cast("double").alias("first"),
                F.lit(None).cast("double").alias("second"),
            )
            given[col] = F.col(col).isNotNull()
        else:
            text = F.col(col).cast("string")
            helpers[f"__ts_{col}"] = _text_timestamps()(text)
            given[col] = text.isNotNull() & (_strip(text) != "")
            if kind in ("float", "double"):
                given[col] = given[col] & ~F.isnan(F.col(col))
    for col in contract.numeric:
        if col not in columns:
            continue
        kind = _kind(frame, col)
        if kind in _NUMBERS or kind == "boolean":
            value = F.col(col).cast("double")
            given[col] = value.isNotNull() & ~F.isnan(value)
            helpers[f"__num_{col}"] = F.when(given[col], value)
        else:
            text = F.col(col).cast("string")
            given[col] = text.isNotNull() & (_strip(text) != "")
            helpers[f"__num_{col}"] = _text_numbers()(text)
    staged = frame.select("*", *[value.alias(key) for key, value in helpers.items()])
    example = F.col(f"__id_{ex_col}") if f"__id_{ex_col}" in staged.columns else F.col(ex_col)

    # every count at once: rows, then each check in the order the local path makes them
    def parsed(col: str, variant: str) -> Column:
        return F.col(f"__ts_{col}").getField(variant)

    sums: dict[str, Column] = {"rows": F.count(F.lit(1))}
    for check in checks:
        sums[f"id:{check.column}"] = F.sum(check.bad.cast("long"))
    for col in contract.timestamps:
        if col not in columns:
            continue
        first, second = F.col(f"__ts_{col}").getField("first"), F.col(f"__ts_{col}").getField("second")
        sums[f"numeric:{col}"] = F.sum(first.isNotNull().cast("long"))
        sums[f"day_first:{col}"] = F.max(F.coalesce(first > 12, F.lit(False)).cast("int"))
        sums[f"month_first:{col}"] = F.max(F.coalesce(second > 12, F.lit(False)).cast("int"))
        sums[f"differ:{col}"] = F.max(F.coalesce(first != second, F.lit(False)).cast("int"))
        for variant in ("day", "month"):
            sums[f"unparsed:{col}:{variant}"] = F.sum(_unparsed(parsed(col, variant), given[col], col, contract))
            sums[f"outside:{col}:{variant}"] = F.sum(_outside(parsed(col, variant)).cast("long"))
    for col in contract.numeric:
        if col in columns:
            value = F.col(f"__num_{col}")
            sums[f"nan:{col}"] = F.sum(_unparsed(value, given[col], col, contract))
            sums[f"inf:{col}"] = F.sum(_infinite(value).cast("long"))
    for col, allowed in contract.enums.items():
        if col in columns:
            sums[f"enum:{col}"] = F.sum(_unknown(_enum(col), allowed).cast("long"))
    found = staged.agg(*[value.alias(key) for key, value in sums.items()]).collect()[0].asDict()

    def refuse(bad: Column, problem: str, remedy: str, count: int) -> None:
        rows = staged.where(bad).orderBy(FILE, ROW).select(example.cast("string")).limit(5).collect()
        raise DataContractError(
            name,
            col,
            problem,
            count=count,
            examples=["<missing>" if r[0] is None else r[0] for r in rows],
            id_column=ex_col,
            remedy=remedy,
        )

    if must_have_rows and not found["rows"]:
        raise DataContractError(name, None, "the table is empty", remedy=f"provide at least one row of {name}")
    for check in checks:
        count = int(found[f"id:{check.column}"] or 0)
        if count:
            places = staged.where(check.bad).orderBy(FILE, ROW).select(FILE, ROW).limit(5).collect()
            rows = _row_numbers(frame, [(r[0], r[1]) for r in places])
            raise DataContractError(
                name,
                check.column,
                f"{check.column} is empty",
                count=count,
                examples=[f"row {i}" for i in rows],
                id_column="position",
                remedy=f"drop or fill the rows without {check.column} before loading",
            )
    chosen: dict[str, str] = {}
    for col in contract.timestamps:
        if col not in columns:
            continue
        numeric = F.col(f"__ts_{col}").getField("first").isNotNull()
        try:
            day_first = date_order(
                bool(found[f"day_first:{col}"]),
                bool(found[f"month_first:{col}"]),
                bool(found[f"differ:{col}"]),
                pd.Series(dtype=bool),
            )
        except AmbiguousDates as exc:
            written = staged.where(numeric).orderBy(FILE, ROW).select(F.col(col).cast("string")).limit(5).collect()
            raise DataContractError(
                name,
                col,
                exc.problem,
                count=int(found[f"numeric:{col}"] or 0),
                examples=[r[0] for r in written],
                id_column="value",
                remedy="write timestamps in ISO 8601 (2026-04-03 or 2026-04-03T09:30:00Z)",
            ) from None
        variant = chosen[col] = "day" if day_first else "month"
        value = parsed(col, variant)
        count = int(found[f"unparsed:{col}:{variant}"] or 0)
        if count:
            refuse(_unparsed(value, given[col], col, contract) > 0, "timestamp cannot be parsed", _TIMESTAMP_FIX, count)
        count = int(found[f"outside:{col}:{variant}"] or 0)
        if count:
            refuse(
                _outside(value),
                f"timestamp outside {EARLIEST.year}-{LATEST.year - 1}",
                "correct the dates, or drop rows that carry a placeholder date such as 0001-01-01 or 9999-12-31",
                count,
            )
        normal[col] = value
    for col in contract.numeric:
        if col not in columns:
            continue
        value = F.col(f"__num_{col}")
        count = int(found[f"nan:{col}"] or 0)
        if count:
            refuse(
                _unparsed(value, given[col], col, contract) > 0,
                "value is not a number",
                "write amounts as plain numbers with a dot for decimals (12.50), no currency sign",
                count,
            )
        count = int(found[f"inf:{col}"] or 0)
        if count:
            refuse(
                _infinite(value),
                "value is infinite (inf, Infinity or a number too large to hold, such as 1e309)",
                "write the real amount; a missing amount stays empty",
                count,
            )
        normal[col] = value
    for col, allowed in contract.enums.items():
        if col not in columns:
            continue
        count = int(found[f"enum:{col}"] or 0)
        if count:
            bad = _unknown(_enum(col), allowed)
            seen_rows = (
                staged.where(bad)
                .select(F.coalesce(_enum(col), F.lit("<missing>")).alias("v"))
                .distinct()
                .orderBy("v")
                .limit(5)
                .collect()
            )
            seen = ", ".join(r[0] for r in seen_rows)
            refuse(
                bad,
                f"unknown {col} ({seen}); allowed: {', '.join(allowed)}",
                f"map the values to {' or '.join(allowed)} before loading",
                count,
            )
        normal[col] = _enum(col)
    out = staged.select(*[normal[c].alias(c) for c in columns], *HIDDEN)
    if contract.key and contract.key in columns:
        _refuse_duplicates(name, contract.key, out)
    return out


def _unparsed(value: Column, given: Column, col: str, contract: Any) -> Column:
    bad = value.isNull() & given
    if col in contract.required:
        bad = bad | ~given
    return bad.cast("long")


def _outside(value: Column) -> Column:
    from pyspark.sql import functions as F

    earliest = F.lit(EARLIEST.to_pydatetime())
    latest = F.lit(LATEST.to_pydatetime())
    return value.isNotNull() & ((value < earliest) | (value >= latest))


def _infinite(value: Column) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(value.isin(float("inf"), float("-inf")), F.lit(False))


def _enum(col: str) -> Column:
    from pyspark.sql import functions as F

    return F.lower(_strip(F.col(col).cast("string")))


def _unknown(norm: Column, allowed: Sequence[str]) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(~norm.isin(*allowed), F.lit(True))


def _refuse_duplicates(name: str, key: str, frame: DataFrame) -> None:
    from pyspark.sql import functions as F

    repeated = frame.groupBy(key).agg(F.count(F.lit(1)).alias("n"), F.min(F.struct(FILE, ROW)).alias("at"))
    repeated = repeated.where(F.col("n") > 1)
    if repeated.isEmpty():
        return
    totals = repeated.agg(F.sum("n")).collect()[0][0]
    examples = [r[0] for r in repeated.orderBy("at").select(key).limit(5).collect()]
    raise DataContractError(
        name,
        key,
        f"duplicate {key}",
        count=int(totals),
        examples=examples,
        id_column=key,
        remedy=f"each {key} must appear once; drop or merge the duplicates",
    )


# ---------------------------------------------------------------- the dataset


def _normalize_events(events: DataFrame) -> DataFrame:
    """Event names in the workbench's words (:func:`workbench.contracts.normalize_events`)."""
    from pyspark.sql import functions as F

    norm = F.regexp_replace(F.lower(_strip(F.col("event").cast("string"))), "[^a-z0-9]+", "_")
    norm = F.regexp_replace(norm, "^_+|_+$", "")
    aliases = F.create_map(*[F.lit(x) for pair in EVENT_ALIASES.items() for x in pair])
    renamed = F.coalesce(F.element_at(aliases, norm), norm)
    return events.withColumn("event", renamed)


def _customers_of(orders: DataFrame) -> DataFrame:
    """One customer per id of ``orders``, created at the first order (:func:`workbench.contracts.derive_customers`)."""
    from pyspark.sql import functions as F

    return orders.groupBy("customer_id").agg(F.min("ordered_at").alias("created_at"))


def _with_unknown(customers: DataFrame, orders: DataFrame) -> DataFrame:
    """The customers, then the customers of orders missing from them with only an id (sorted after the others)."""
    from pyspark.sql import functions as F

    unknown = _customers_of(orders).join(customers.select("customer_id"), on="customer_id", how="left_anti")
    if "created_at" not in customers.columns:
        if unknown.isEmpty():
            return customers
        # as the local path: the added customers bring created_at, missing for the others
        customers = customers.withColumn("created_at", F.lit(None).cast("timestamp"))
    extra = unknown.select(
        *[
            F.col(c) if c in ("customer_id", "created_at") else F.lit(None).cast(customers.schema[c].dataType).alias(c)
            for c in customers.columns
            if c not in HIDDEN
        ],
        F.lit(None).cast("string").alias(FILE),
        F.lit(None).cast("long").alias(ROW),
    )
    return customers.unionByName(extra)


def validate_table(name: str, frame: DataFrame) -> DataFrame:
    """One table (not ``orders`` or ``customers``, which are checked together) checked and normalised."""
    out = _validate(name, with_positions(frame))
    if name == "events":
        out = _normalize_events(out)
    _CHECKED.add(out)
    return out


def validate_tables(tables: Mapping[str, DataFrame], *, source: str = "") -> SparkTables:
    """Spark DataFrames of the contract's tables, checked and normalised as loading checks them locally.

    The Spark form of :func:`workbench.contracts.from_frames`: each table is
    held to its contract (see the module's docstring), an empty customers table
    is refused, customers are derived from the orders when there is no
    customers table and the customers of orders missing from it are added,
    and event names are renamed to the workbench's.

    Parameters
    ----------
    tables
        DataFrames by table name (``orders`` required; other names are ignored),
        as read (:func:`workbench.io.read_spark_tables` for Parquet folders and
        Spark tables) or made by a program.
    source
        Where the tables come from, for messages.

    Raises
    ------
    DataContractError
        The first check that fails, with the message the local path gives.
    """
    if "orders" not in tables:
        table = "orders"
        raise DataContractError(
            table,
            None,
            f"no orders table in {source or 'the tables given'}",
            remedy="add orders.csv, orders.csv.gz or orders.parquet (order_id, customer_id, ordered_at, amount)",
        )
    raw = {name: with_positions(tables[name]) for name in TABLES if name in tables}
    orders = _validate("orders", raw["orders"])
    out = {"orders": orders}
    given = raw.get("customers")
    if given is not None:
        if given.isEmpty():
            n = orders.select("customer_id").distinct().count()
            table = "customers"
            raise DataContractError(
                table,
                None,
                f"the customers table has no rows while orders name {n:,} customers",
                remedy="fill the customers table, or remove the file so customers are derived from orders",
            )
        customers = _validate("customers", given)
        out["customers"] = _with_unknown(customers, orders)
    else:
        from pyspark.sql import functions as F

        derived = _customers_of(orders)
        out["customers"] = derived.select(
            "customer_id", "created_at", F.lit(None).cast("string").alias(FILE), F.lit(None).cast("long").alias(ROW)
        )
    if "events" in raw:
        out["events"] = _normalize_events(_validate("events", raw["events"]))
    for name in ("consents", "messages"):
        if name in raw:
            out[name] = _validate(name, raw[name])
    return SparkTables(out, source=source, raw=raw)
