"""The work on Apache Spark: profiles in Spark SQL, segment rules in Spark SQL, the send plan per partition.

Everything takes and returns Spark DataFrames, so that nothing larger than
one row per customer of a few columns ever reaches the driver:

- :func:`validate_tables`: the data contract's checks and refusals on Spark
  (:mod:`workbench.engines.spark_contract`); tables given straight to
  :func:`profiles` or :func:`plan` are checked first;
- :func:`profiles`: the profile SQL of :func:`workbench.profiles.profile_sql`
  written for Spark (SQLGlot), then the per-customer finish
  (:func:`workbench.profiles.finish_profiles`: valid addresses, time zones,
  tenure, preferred channel) on each partition with ``mapInArrow``;
- :func:`rule_segments`: the checked segment rules (:mod:`workbench.rules`),
  regenerated from their checked tree and written for Spark, as columns;
- :func:`plan`: the simulator (:func:`workbench.cadence.simulate`) on each
  partition of customers with ``mapInArrow``, each customer with their own
  consent ledger, and the audience-wide figures the outcome rates need
  computed once; every draw is keyed by customer and seed, so the plan is
  the same for any partitioning and equals the DuckDB engine's;
- :func:`plan_summaries`: the summary tables of a plan, added up by Spark
  (:mod:`workbench.engines.spark_summaries`).

PySpark is imported here only (``pip install 'workbench[spark]'``); data moves
between Python and the JVM as Arrow, never through pandas conversions of
Spark's own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..cadence import simulate
from ..cadence.engagement import outcome_priors
from ..cadence.simulate import PLAN_COLUMNS
from ..cadence.traverse import compile_journey
from ..models.errors import WorkbenchError
from ..models.journey import Journey
from ..models.policy import MarketRule
from ..models.tables import CANCELLED_STATUSES, TABLES
from ..policy import ContactPolicy, EngagementWeights
from ..profiles import ATTRIBUTES, INPUT_ATTRIBUTES, finish_profiles, profile_sql, resolve_as_of, sql_columns
from ..rules import CheckedRule
from .spark_arrow import arrow_table, to_pandas
from .spark_contract import (
    FILE,
    HIDDEN,
    ROW,
    SparkTables,
    is_checked,
    source_order,
    validate_table,
    validate_tables,
)
from .spark_summaries import plan_summaries

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: What ``mapInArrow`` runs on each partition: Arrow batches in, Arrow batches out.
_BatchFunction = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]

__all__ = [
    "DEFAULT_MASTER",
    "FILE",
    "HIDDEN",
    "ROW",
    "SparkTables",
    "SparkUnavailableError",
    "arrow_table",
    "engagement_scores",
    "from_dataset",
    "latest_order_day",
    "plan",
    "plan_summaries",
    "profiles",
    "rule_segments",
    "rule_sql",
    "session",
    "source_order",
    "tables_from_frames",
    "to_pandas",
    "validate_table",
    "validate_tables",
]

#: Where a session runs when no master is named and none is running: this machine, two cores.
DEFAULT_MASTER = "local[2]"
#: Customer columns the profile finish reads besides the carried attributes.
_INPUTS = INPUT_ATTRIBUTES


class SparkUnavailableError(WorkbenchError):
    """PySpark (or the Java it runs on) is not installed."""


def _pyspark() -> Any:
    try:
        import pyspark.sql
    except ImportError as exc:
        msg = (
            "the spark engine needs PySpark, which is not installed. "
            "Fix: pip install 'workbench[spark]' (and Java 17 or later), or use --engine duckdb"
        )
        raise SparkUnavailableError(msg) from exc
    return pyspark.sql


def session(
    master: str | None = None,
    *,
    app_name: str = "workbench",
    shuffle_partitions: int | None = None,
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """The Spark session the work runs on: the active one when there is one, else a new one.

    Parameters
    ----------
    master
        ``local[2]``, ``spark://host:7077``, ``yarn``, ``k8s://...``; None keeps
        the master of a running session (Databricks, ``spark-submit``) or starts
        :data:`DEFAULT_MASTER`.
    shuffle_partitions
        ``spark.sql.shuffle.partitions`` (Spark's default of 200 is many for one machine).
    config
        Other settings for a new session.

    The session's time zone is set to UTC, as every time of the data contract is, and
    Parquet files it writes hold times as UTC microseconds (not Spark's default INT96).
    """
    sql = _pyspark()
    active: SparkSession | None = sql.SparkSession.getActiveSession()
    if active is None or (master is not None and active.sparkContext.master != master):
        chosen = master or DEFAULT_MASTER
        builder = sql.SparkSession.builder.appName(app_name).master(chosen)
        if chosen.startswith("local") and "PYSPARK_PYTHON" not in os.environ:
            # local workers run this interpreter (and so this environment's packages)
            os.environ["PYSPARK_PYTHON"] = sys.executable
        for key, value in {
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            **dict(config or {}),
        }.items():
            builder = builder.config(key, value)
        try:
            active = builder.getOrCreate()
        except Exception as exc:  # the JVM does not start: no Java, or a bad master
            msg = f"cannot start Spark at {master or DEFAULT_MASTER} ({str(exc).splitlines()[0][:300]}). "
            msg += "Fix: install Java 17 or later (Debian: default-jre-headless) and check --master"
            raise SparkUnavailableError(msg) from None
    active.conf.set("spark.sql.session.timeZone", "UTC")
    active.sparkContext.setLogLevel("ERROR")
    if shuffle_partitions is not None:
        active.conf.set("spark.sql.shuffle.partitions", str(int(shuffle_partitions)))
    return active


# ---------------------------------------------------------------- data in and out


def _positioned(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with where each row is (:data:`FILE` empty, :data:`ROW` its position), the order of the frame."""
    return frame.assign(**{FILE: "", ROW: np.arange(len(frame), dtype=np.int64)})


def tables_from_frames(spark: SparkSession, tables: Mapping[str, pd.DataFrame]) -> dict[str, DataFrame]:
    """Spark DataFrames of tables held by pandas, as they are: :func:`profiles` and :func:`plan` check them
    against the contract (:func:`validate_tables`) before use. A checked dataset goes with :func:`from_dataset`."""
    return {
        name: spark.createDataFrame(arrow_table(_positioned(frame))) for name, frame in tables.items() if name in TABLES
    }


def from_dataset(spark: SparkSession, dataset: Any) -> SparkTables:
    """A :class:`~workbench.models.dataset.Dataset`'s tables (checked when it was loaded) as Spark DataFrames."""
    frames = {name: spark.createDataFrame(arrow_table(_positioned(frame))) for name, frame in dataset.tables().items()}
    return SparkTables(frames, source=dataset.source)


def _checked(tables: Mapping[str, DataFrame]) -> SparkTables:
    return tables if isinstance(tables, SparkTables) else validate_tables(tables)


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _arrow_schema(frame: DataFrame) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(frame.schema, timezone="UTC")


# ---------------------------------------------------------------- profiles


def _views(spark: SparkSession, tables: Mapping[str, DataFrame]) -> dict[str, str]:
    """Register the tables as temporary views with names no user table has; the names by table."""
    names = {}
    for name, frame in tables.items():
        view = f"workbench_{name}_{id(frame):x}"
        frame.createOrReplaceTempView(view)
        names[name] = view
    return names


def _finish_batches(
    as_of: pd.Timestamp,
    carried: Sequence[str],
    schema: pa.Schema,
    locales: Mapping[str, Any],
    kept: Sequence[str] = (),
) -> _BatchFunction:
    """The function ``mapInArrow`` runs on each partition: SQL columns in, finished profiles out."""

    def finish(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            table = pa.Table.from_batches([batch])
            customers = table.select(["customer_id", *carried]).to_pandas(
                types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get
            )
            done = finish_profiles(customers, sql_columns(table), as_of=as_of, **locales)
            for column in kept:
                done[column] = table.column(column).to_pandas()
            yield from pa.Table.from_pandas(done, schema=schema, preserve_index=False).to_batches()

    return finish


def profiles(
    spark: SparkSession,
    tables: Mapping[str, DataFrame],
    *,
    as_of: object,
    keep_order: bool = False,
    default_locale: str = "en-US",
    default_currency: str = "USD",
    markets: Sequence[MarketRule] | None = None,
) -> DataFrame:
    """One row per customer, every column of :func:`workbench.profiles.build_profiles`, computed by Spark.

    Parameters
    ----------
    spark
        The session (:func:`session`).
    tables
        Spark DataFrames of the contract's tables by name (``orders`` required):
        :class:`SparkTables` (:func:`workbench.io.read_spark_tables` for Parquet
        folders and Spark tables, :func:`from_dataset`), or any mapping of
        DataFrames, which is checked against the contract first (:func:`validate_tables`).
    as_of
        The profile moment (a date is the end of that day, UTC).
    default_locale, default_currency, markets
        The brand's locale and currency and the market rules, as for
        :func:`workbench.profiles.finish_profiles`.
    keep_order
        Keep the columns :data:`~workbench.engines.spark_contract.FILE` and
        :data:`~workbench.engines.spark_contract.ROW` of the customers, to sort
        the profiles in the order of the source
        (:func:`~workbench.engines.spark_contract.source_order`), as the DuckDB
        engine gives them.

    Returns
    -------
    pyspark.sql.DataFrame
        Lazy: nothing runs until it is written or collected. The rows are in
        no particular order.
    """
    checked = _with_read_columns(_checked(tables))
    ts = resolve_as_of(as_of)
    views = _views(spark, checked)
    customers = checked["customers"]
    carried = [c for c in (*ATTRIBUTES, *_INPUTS) if c in customers.columns]
    kept = list(HIDDEN) if keep_order else []
    sql = profile_sql(
        as_of=ts,
        dialect="spark",
        tables=tuple(checked),
        has_status="status" in checked["orders"].columns,
        has_currency="currency" in checked["orders"].columns,
        customer_columns=[*carried, *kept],
        table_names=views,
        pretty=False,
    )
    joined = spark.sql(sql)
    locales = {"default_locale": default_locale, "default_currency": default_currency, "markets": markets}
    template = pa.Table.from_pandas(_empty_profiles(joined, carried, ts), preserve_index=False)
    schema = _plain(template.schema)
    for column in kept:
        schema = schema.append(pa.field(column, pa.string() if column == FILE else pa.int64()))
    return joined.mapInArrow(_finish_batches(ts, carried, schema, locales, kept), _spark_schema(schema))


#: The optional columns the profile SQL reads, with their types: missing ones are read as missing values.
_READ_COLUMNS = {
    "messages": {"opened_at": "timestamp", "clicked_at": "timestamp"},
    "events": {"product_id": "string"},
}


def _with_read_columns(tables: SparkTables) -> dict[str, DataFrame]:
    from pyspark.sql import functions as F

    out = dict(tables)
    for name, columns in _READ_COLUMNS.items():
        if name in out:
            absent = {c: F.lit(None).cast(kind) for c, kind in columns.items() if c not in out[name].columns}
            out[name] = out[name].withColumns(absent) if absent else out[name]
    return out


def _empty_profiles(joined: DataFrame, carried: Sequence[str], as_of: pd.Timestamp) -> pd.DataFrame:
    """Zero profiles with the column types the finish gives (for the schema Spark needs before running it)."""
    empty = _arrow_schema(joined).empty_table()
    customers = empty.select(["customer_id", *carried]).to_pandas(
        types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get
    )
    return finish_profiles(customers, sql_columns(empty), as_of=as_of)


def _plain(schema: pa.Schema) -> pa.Schema:
    """``schema`` with the types Spark takes back from Python: strings, microsecond UTC times."""
    fields = []
    for field in schema:
        kind = field.type
        if pa.types.is_large_string(kind) or pa.types.is_dictionary(kind) or pa.types.is_null(kind):
            kind = pa.string()
        if pa.types.is_timestamp(kind):
            kind = pa.timestamp("us", tz="UTC" if kind.tz else None)
        fields.append(pa.field(field.name, kind))
    return pa.schema(fields)


# ---------------------------------------------------------------- segment rules


#: DuckDB's ``date_diff(unit, a, b)`` counts the unit's boundaries between a and b (calendar days, months),
#: Spark's ``datediff``/``timestampdiff`` whole units elapsed: the boundary count written for Spark.
_DATE_DIFF = {
    "day": "DATEDIFF(CAST({b} AS DATE), CAST({a} AS DATE))",
    "hour": "(FLOOR(UNIX_SECONDS(CAST({b} AS TIMESTAMP)) / 3600) - FLOOR(UNIX_SECONDS(CAST({a} AS TIMESTAMP)) / 3600))",
    "minute": "(FLOOR(UNIX_SECONDS(CAST({b} AS TIMESTAMP)) / 60) - FLOOR(UNIX_SECONDS(CAST({a} AS TIMESTAMP)) / 60))",
    "second": "(UNIX_SECONDS(CAST({b} AS TIMESTAMP)) - UNIX_SECONDS(CAST({a} AS TIMESTAMP)))",
    "month": "((YEAR({b}) * 12 + MONTH({b})) - (YEAR({a}) * 12 + MONTH({a})))",
    "quarter": "((YEAR({b}) * 4 + QUARTER({b})) - (YEAR({a}) * 4 + QUARTER({a})))",
    "year": "(YEAR({b}) - YEAR({a}))",
}


def rule_sql(rule: CheckedRule) -> str:
    """The checked rule (DuckDB SQL regenerated from its checked tree) written for Spark SQL by SQLGlot.

    ``date_diff`` is written as DuckDB counts (unit boundaries crossed); a unit
    Spark cannot count the same way (weeks) is refused with the fix.
    """
    import sqlglot
    from sqlglot import exp

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.DateDiff):
            given = node.args.get("unit")
            unit = str(given.name if given is not None else "day").lower().rstrip("s")
            if unit not in _DATE_DIFF:
                msg = (
                    f"segment {rule.segment!r}: rule `{rule.rule}` counts {unit}s with date_diff, which Spark "
                    "does not count as DuckDB does. Fix: count days (date_diff('day', ...) / 7), or use --engine duckdb"
                )
                raise WorkbenchError(msg)
            a = node.expression.transform(rewrite).sql(dialect="spark", identify=True)
            b = node.this.transform(rewrite).sql(dialect="spark", identify=True)
            return sqlglot.parse_one(_DATE_DIFF[unit].format(a=a, b=b), read="spark")
        return node

    tree = sqlglot.parse_one(rule.sql, read="duckdb").transform(rewrite)
    return tree.sql(dialect="spark", identify=True)


def rule_segments(frame: DataFrame, rules: Sequence[CheckedRule]) -> DataFrame:
    """``frame`` with one boolean column ``segment_<name>`` per checked rule, evaluated by Spark SQL.

    Only rules that passed :func:`workbench.rules.check_rules` get here (one
    boolean expression of allow-listed parts); Spark parses each as one
    expression. A customer for whom a rule is NULL is not in the segment.
    """
    from pyspark.sql import functions as F

    missing = sorted({c for r in rules for c in r.columns} - set(frame.columns))
    if missing:
        msg = f"segment rules read {', '.join(missing)}, which the profiles do not have. Fix: assign segments first"
        raise WorkbenchError(msg)
    columns = [F.coalesce(F.expr(f"({rule_sql(r)})"), F.lit(False)).alias(f"segment_{r.segment}") for r in rules]
    kept = [c for c in frame.columns if c not in {f"segment_{r.segment}" for r in rules}]
    return frame.select(*kept, *columns)


# ---------------------------------------------------------------- the send plan

_PLAN_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("journey_id", pa.string()),
        ("step_id", pa.string()),
        ("channel", pa.string()),
        ("template", pa.string()),
        ("variant", pa.string()),
        ("transactional", pa.bool_()),
        ("entry", pa.int32()),
        ("planned_at", pa.timestamp("us", tz="UTC")),
        ("scheduled_at", pa.timestamp("us", tz="UTC")),
        ("local_time", pa.timestamp("us")),
        ("timezone", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("blocked_by", pa.string()),
        ("opened", pa.bool_()),
        ("clicked", pa.bool_()),
        ("engagement_tier", pa.string()),
        # where the touch sorts: the customer's row in the audience, the journey and step's positions
        ("position", pa.int64()),
        ("journey_index", pa.int32()),
        ("step_index", pa.int32()),
    ]
)
#: The per-journey counts of each partition (added up on the driver).
_STATS_SCHEMA = pa.schema(
    [
        ("journey_id", pa.string()),
        ("entries", pa.int64()),
        ("customers", pa.int64()),
        ("goal_exits", pa.int64()),
        ("holdout", pa.int64()),
    ]
)
_POSITION = "__workbench_position"
_LEDGER = "__workbench_consents"


def _plan_batches(
    journeys: Sequence[Journey],
    policy: ContactPolicy,
    *,
    start: pd.Timestamp,
    days: int,
    seed: int,
    priors: Mapping[str, float],
    has_ledger: bool,
    stats: bool,
) -> _BatchFunction:
    """The function ``mapInArrow`` runs on each partition of customers: audience in, plan rows out."""
    order = {j.id: i for i, j in enumerate(journeys)}
    steps: dict[tuple[str, str], int] = {}  # as simulate numbers the send steps, by which it orders touches
    for i, j in enumerate(journeys):
        for node in compile_journey(j, i).order:
            if node.type in ("send_email", "send_sms"):
                steps[(j.id, node.id)] = len(steps)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        received = list(batches)
        if not received or sum(b.num_rows for b in received) == 0:
            return
        table = pa.Table.from_batches(received)
        consents = _ledger(table) if has_ledger else None
        audience = table.drop_columns([c for c in (_LEDGER,) if c in table.column_names]).to_pandas(
            types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get
        )
        made = simulate(
            audience.drop(columns=[_POSITION]),
            list(journeys),
            policy,
            start=start,
            days=days,
            seed=seed,
            consents=consents,
            progress=False,
            priors=priors,
        )
        if stats:
            yield pa.RecordBatch.from_pylist(made.attrs.get("journey_stats", []), schema=_STATS_SCHEMA)
            return
        where = pd.Index(audience["customer_id"].astype(object)).get_indexer(made["customer_id"].astype(object))
        columns = {}
        for column in PLAN_COLUMNS:
            values = made[column]
            if isinstance(values.dtype, pd.CategoricalDtype) or column == "customer_id":
                values = values.astype(object).where(values.notna(), None)
            columns[column] = values
        columns["position"] = audience[_POSITION].to_numpy(dtype=np.int64)[where]
        columns["journey_index"] = made["journey_id"].astype(object).map(order).to_numpy(dtype=np.int32)
        keys = zip(made["journey_id"].astype(object), made["step_id"].astype(object), strict=True)
        columns["step_index"] = np.array([steps[k] for k in keys], dtype=np.int32)
        frame = pd.DataFrame(columns)
        yield from pa.Table.from_pandas(frame, schema=_PLAN_SCHEMA, preserve_index=False).to_batches()

    return run


def _ledger(table: pa.Table) -> pd.DataFrame:
    """The consent rows of a partition's customers, from the list each audience row carries."""
    lists = table.column(_LEDGER).combine_chunks()
    ids = table.column("customer_id").combine_chunks()
    parents = pa.compute.list_parent_indices(lists)
    rows = pa.compute.list_flatten(lists)
    columns = {"customer_id": ids.take(parents)}
    for name in ("channel", "status", "recorded_at", "source"):  # source: the market's consent regime reads it
        if rows.type.get_field_index(name) >= 0:
            columns[name] = rows.field(name)
    frame = pa.table(columns)
    return frame.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def plan(
    audience: DataFrame,
    journeys: Sequence[Journey],
    policy: ContactPolicy,
    *,
    start: object,
    days: int,
    seed: int,
    consents: DataFrame | None = None,
    partitions: int | None = None,
    priors: Mapping[str, float] | None = None,
) -> tuple[DataFrame, DataFrame]:
    """The send plan of every customer of ``audience``, simulated per partition of customers.

    Parameters
    ----------
    audience
        Assigned profiles (one row per customer, the columns of
        :func:`workbench.cadence.simulate`'s audience) with a ``position``
        column: the customer's place in the audience, by which the plan is
        ordered like the DuckDB engine's.
    journeys, policy, start, days, seed
        As for :func:`workbench.cadence.simulate`.
    consents
        The consent ledger (a :class:`SparkTables`' ``consents``, or a frame that is
        checked against the contract first); each customer's rows travel with the customer.
    partitions
        Partitions of customers (hashed by id); None keeps the audience's.
    priors
        :func:`workbench.cadence.engagement.outcome_priors` of the whole audience; computed with Spark when None.

    Returns
    -------
    (plan, stats)
        The plan rows (:data:`workbench.cadence.simulate.PLAN_COLUMNS` as text and
        times, plus ``position``, ``journey_index`` and ``step_index`` to sort by) and
        each partition's per-journey counts; both lazy.
    """
    from pyspark.sql import functions as F

    start_ts = pd.Timestamp(start)
    start_ts = start_ts.tz_localize("UTC") if start_ts.tzinfo is None else start_ts.tz_convert("UTC")
    if priors is None:
        priors = _priors(audience)
    frame = audience.withColumnRenamed("position", _POSITION)
    if consents is not None and not is_checked(consents):
        consents = validate_table("consents", consents)
    if consents is not None:
        fields = ["channel", "status", "recorded_at", *(["source"] if "source" in consents.columns else [])]
        ledger = consents.groupBy("customer_id").agg(F.collect_list(F.struct(*fields)).alias(_LEDGER))
        frame = frame.join(ledger, on="customer_id", how="left")
    if partitions is not None:
        frame = frame.repartition(int(partitions), "customer_id")
    common = {
        "start": start_ts,
        "days": int(days),
        "seed": int(seed),
        "priors": dict(priors),
        "has_ledger": consents is not None,
    }
    rows = frame.mapInArrow(_plan_batches(journeys, policy, **common, stats=False), _spark_schema(_PLAN_SCHEMA))
    stats = frame.mapInArrow(_plan_batches(journeys, policy, **common, stats=True), _spark_schema(_STATS_SCHEMA))
    return rows, stats


_PRIOR_COLUMNS = ("email_sends", "email_opens", "email_clicks", "sms_sends", "sms_clicks", "orders_365d")


def _priors(audience: DataFrame) -> dict[str, float]:
    """:func:`~workbench.cadence.engagement.outcome_priors` added up by Spark (sums of counts: exact in any order)."""
    from pyspark.sql import functions as F

    present = [c for c in _PRIOR_COLUMNS if c in audience.columns]
    row = audience.agg(
        F.count(F.lit(1)).alias("customers"),
        *[F.sum(F.coalesce(F.col(c).cast("double"), F.lit(0.0))).alias(c) for c in present],
    ).collect()[0]
    sums = {c: float(row[c] or 0.0) for c in present}
    return {**dict.fromkeys(_PRIOR_COLUMNS, 0.0), **sums, "customers": float(row["customers"])}


def local_priors(audience: pd.DataFrame) -> dict[str, float]:
    """The priors of an audience held by the driver (the same figures :func:`_priors` adds up in Spark)."""
    return outcome_priors(audience)


# ---------------------------------------------------------------- what the plan reads besides profiles


def latest_order_day(tables: Mapping[str, DataFrame]) -> Any:
    """The day (UTC) of the latest order: the default ``as_of`` (:func:`workbench.application.default_as_of`)."""
    from pyspark.sql import functions as F

    day = _checked(tables)["orders"].agg(F.to_date(F.max("ordered_at"))).collect()[0][0]  # the session is in UTC
    if day is None:
        msg = "orders has no order date, so there is no default as_of. Fix: pass as_of (YYYY-MM-DD)"
        raise WorkbenchError(msg)
    return day


_LN2 = float(np.log(2.0))


def engagement_scores(
    tables: Mapping[str, DataFrame],
    *,
    as_of: object,
    weights: EngagementWeights | None = None,
    half_life_days: float = 30.0,
) -> DataFrame:
    """:func:`workbench.cadence.engagement.engagement_score` added up by Spark: ``customer_id``, ``engagement_score``.

    Every customer appears (0 without signals). Each signal counts
    ``weight * 0.5 ** (age_days / half_life_days)``; the sums per customer run
    in another order than on one machine, so a score may differ in its last
    digits (never a tier, unless a score falls on a threshold to 15 digits).
    """
    from pyspark.sql import functions as F

    checked = _checked(tables)
    ts = resolve_as_of(as_of)
    w = weights or EngagementWeights()
    as_of_us = int(ts.value // 1000)
    signals: list[tuple[DataFrame, str, float]] = []
    messages = checked.get("messages")
    if messages is not None:
        email = F.col("channel") == "email"
        for col, mask, weight in (
            ("opened_at", email, w.email_open),
            ("clicked_at", email, w.email_click),
            ("clicked_at", ~email, w.sms_click),
        ):
            if col in messages.columns and weight > 0:
                signals.append((messages.where(F.coalesce(mask, F.lit(False))), col, weight))
    events = checked.get("events")
    if events is not None and w.site_visit > 0:
        signals.append((events.where(F.col("event") == "site_visit"), "occurred_at", w.site_visit))
    orders = checked["orders"]
    if w.order > 0:
        placed = F.col("amount") > 0
        if "status" in orders.columns:
            statuses = F.lower(F.col("status").cast("string")).isin(*CANCELLED_STATUSES)
            placed = placed & ~F.coalesce(statuses, F.lit(False))
        signals.append((orders.where(F.coalesce(placed, F.lit(False))), "ordered_at", w.order))
    customers = checked["customers"].select("customer_id")
    if not signals:
        return customers.select("customer_id", F.lit(0.0).alias("engagement_score"))
    parts = []
    for i, (frame, col, _) in enumerate(signals):
        age = (F.lit(as_of_us) - F.unix_micros(F.col(col))) / F.lit(1e6) / F.lit(86_400.0)
        decay = F.exp(F.lit(-_LN2) * age / F.lit(float(half_life_days)))
        kept = frame.where(F.col(col).isNotNull() & (age >= 0))
        parts.append(kept.select("customer_id", F.lit(i).alias("signal"), decay.alias("decay")))
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    sums = union.groupBy("customer_id").pivot("signal", list(range(len(signals)))).agg(F.sum("decay"))
    total = F.lit(0.0)
    for i, (_, _, weight) in enumerate(signals):  # added in the order the local computation adds them
        total = total + F.coalesce(F.col(str(i)) * F.lit(float(weight)), F.lit(0.0))
    scored = sums.select("customer_id", total.alias("engagement_score"))
    return customers.join(scored, on="customer_id", how="left").select(
        "customer_id", F.coalesce(F.col("engagement_score"), F.lit(0.0)).alias("engagement_score")
    )
