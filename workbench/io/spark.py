"""Spark at the file edge: Parquet folders and Spark tables read by Spark, and Spark's outputs written all at once.

Reading: :func:`read_spark_tables` reads a dataset folder of Parquet tables
(``orders.parquet`` and the others, each a file or a folder of files) or the
tables of a schema of Spark's catalog (``spark:shop``) straight into Spark
DataFrames and checks them against the data contract there
(:func:`workbench.engines.spark.validate_tables`): no table passes through
this process.

Writing: the plan and the profiles are written by Spark as Parquet, partitioned
by a column that keeps the files few and useful (the plan by ``journey_id``, the
profiles by ``preferred_channel``), into a hidden folder beside the output that
is renamed into place when everything is written (:func:`workbench.io.writer.staged_output`):
an existing output is replaced only with ``force``, and a failure leaves nothing.
The output must be a folder this process and Spark's executors share (local mode,
or a mount every executor sees).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..application import SparkPlan
from ..cadence.simulate import PLAN_COLUMNS
from ..engines.spark import ROW, SparkTables, validate_tables
from ..engines.spark_contract import FILE
from ..models.errors import DataContractError, FileError, WorkbenchError
from ..models.names import safe_name
from ..models.tables import TABLES
from .tables import _column_map_for, _find_table
from .writer import OutputFolder, staged_output

__all__ = [
    "SPARK_PREFIX",
    "is_spark_source",
    "read_spark_tables",
    "reads_with_spark",
    "write_spark_plan",
    "write_spark_profiles",
]

#: How a schema of Spark's catalog is named as a data source: ``spark:shop`` or ``spark:catalog.shop``.
SPARK_PREFIX = "spark:"
_SCHEMA = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")
PathLike = str | os.PathLike[str]


def is_spark_source(data: object) -> bool:
    """Whether ``data`` names a schema of Spark's catalog (``spark:shop``)."""
    return isinstance(data, str) and data.startswith(SPARK_PREFIX)


def reads_with_spark(data: object) -> bool:
    """Whether the Spark engine reads ``data`` itself: a ``spark:`` schema, or a folder whose tables are all
    Parquet. Other sources (CSV, a DuckDB file, PostgreSQL) are read by :func:`workbench.io.load_dataset`
    and handed to Spark."""
    if is_spark_source(data):
        return True
    if not isinstance(data, str | os.PathLike):
        return False
    root = Path(data)
    if not root.is_dir():
        return False
    found = [_find_table(root, name) for name in TABLES]
    present = [p for p in found if p is not None]
    return bool(present) and found[TABLES.index("orders")] is not None and all(p.suffix == ".parquet" for p in present)


def _read_parquet(spark: Any, path: Path) -> Any:
    try:
        frame = spark.read.parquet(str(path))
        return frame.select("*", frame["_metadata.file_path"].alias(FILE), frame["_metadata.row_index"].alias(ROW))
    except Exception as exc:  # Spark's AnalysisException and the JVM's errors: the file is not what it should be
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise DataContractError(
            path.name.split(".")[0],
            None,
            f"Spark cannot read {path}: {first}",
            remedy="check that it is a Parquet file or a folder of Parquet files, with timestamps in microseconds "
            "(pyarrow: coerce_timestamps='us')",
        ) from None


def _read_table(spark: Any, name: str) -> Any:
    frame = spark.table(name)
    try:  # tables stored as files say where each row is; others are numbered by partition when checked
        return frame.select("*", frame["_metadata.file_path"].alias(FILE), frame["_metadata.row_index"].alias(ROW))
    except Exception:
        return frame


def read_spark_tables(
    spark: Any,
    source: PathLike,
    *,
    column_map: Mapping[str, object] | None = None,
    tables: Sequence[str] = TABLES,
) -> SparkTables:
    """The contract's tables read by Spark and checked there.

    Parameters
    ----------
    spark
        The session (:func:`workbench.engines.spark.session`).
    source
        A folder of Parquet tables (``orders.parquet`` and any of
        ``customers``, ``events``, ``consents``, ``messages``; each a file or
        a folder of Parquet files, read in the order of their names), or
        ``spark:<schema>`` (``spark:shop``, ``spark:catalog.shop``): the tables
        of those names in Spark's catalog.
    column_map
        Renames applied before the checks, as for :func:`workbench.io.load_dataset`.
    tables
        Which tables to read (``orders`` is always read).

    Raises
    ------
    DataContractError
        A table breaks the contract (the local path's message), a file is not
        Parquet, or there are no orders.
    FileError
        The folder does not exist, or the source is not a folder or a schema.
    """
    wanted = [name for name in TABLES if name in tables or name == "orders"]
    frames: dict[str, Any] = {}
    if is_spark_source(source):
        schema = str(source)[len(SPARK_PREFIX) :].strip()
        if not _SCHEMA.match(schema):
            msg = f"{source!s} does not name a schema of Spark's catalog. Fix: write spark:<schema>, e.g. spark:shop"
            raise WorkbenchError(msg)
        for name in wanted:
            if spark.catalog.tableExists(f"{schema}.{name}"):
                frames[name] = _read_table(spark, f"{schema}.{name}")
        where = f"schema {schema!r} of Spark's catalog"
    else:
        root = Path(source)
        if not root.exists():
            msg = f"data path {root} does not exist. Fix: pass a folder of Parquet tables or spark:<schema>"
            raise FileError(msg)
        if not root.is_dir():
            msg = f"{root} is not a folder. Spark reads a folder of Parquet tables or spark:<schema>. "
            msg += "Fix: pass the folder holding orders.parquet, or use --engine duckdb for a single file"
            raise FileError(msg)
        for name in wanted:
            found = _find_table(root, name)
            if found is None:
                continue
            if found.suffix != ".parquet":
                raise DataContractError(
                    name,
                    None,
                    f"{found} is not Parquet: Spark reads the tables of a folder when they are all Parquet",
                    remedy="write the tables as Parquet (workbench synth --format parquet), or read the folder with "
                    "load_dataset, which the spark engine then hands to Spark",
                )
            frames[name] = _read_parquet(spark, found)
        where = str(root)
    if "orders" not in frames:
        table = "orders"
        raise DataContractError(
            table,
            None,
            f"no orders table in {where}",
            remedy="add orders.parquet (order_id, customer_id, ordered_at, amount)",
        )
    renamed = {}
    for name, frame in frames.items():
        mapping = {k: v for k, v in _column_map_for(column_map, name).items() if k in frame.columns}
        renamed[name] = frame.withColumnsRenamed(mapping) if mapping else frame
    return validate_tables(renamed, source=str(source))


# ---------------------------------------------------------------- writing


def _tidy(folder: Path) -> None:
    """Remove the checksum files Hadoop's local file system writes beside each file (``.part-0.crc``)."""
    for crc in folder.rglob(".*.crc"):
        crc.unlink(missing_ok=True)


_MICROS = ("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")


def _write_parquet(frame: Any, target: Path, partition_by: Sequence[str]) -> None:
    """Write ``frame`` into ``target`` (a staging folder of ours), times as UTC microseconds (not INT96)."""
    conf = frame.sparkSession.conf
    before = conf.get(_MICROS[0], None)
    conf.set(*_MICROS)
    try:
        frame.write.mode("overwrite").partitionBy(*partition_by).parquet(str(target))
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        msg = f"Spark could not write {target} ({first}). Fix: choose a folder Spark's executors can write to"
        raise FileError(msg) from None
    finally:
        if before is None:
            conf.unset(_MICROS[0])
        else:
            conf.set(_MICROS[0], before)
    _tidy(target)


def write_spark_profiles(frame: Any, target: PathLike, *, force: bool = False) -> Path:
    """Write profiles (a Spark DataFrame: :meth:`workbench.application.Workspace.spark_profiles`) as a Parquet
    folder partitioned by ``preferred_channel``, all at once; returns the folder."""
    final = Path(target)
    with staged_output(final, force=force, what="profiles") as folder:
        _write_parquet(frame, folder.root, ["preferred_channel"])
    return final


def write_spark_plan(plan: SparkPlan, where: OutputFolder) -> dict[str, Path]:
    """Write ``send_plan.parquet/`` (Parquet written by Spark, partitioned by ``journey_id``) and
    ``cadence/<summary>.csv`` (the summaries, added up by Spark); returns the paths by name.

    The plan is simulated once: its rows are kept by Spark (memory, then disk) while they are
    written and summed. Within each file the touches are in the order of the DuckDB engine's plan.
    """
    from pyspark import StorageLevel

    rows = plan.rows.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        target = where.path("send_plan.parquet")
        ordered = rows.sortWithinPartitions("journey_id", "position", "planned_at", "step_index")
        _write_parquet(
            ordered.select(*[c for c in PLAN_COLUMNS if c != "journey_id"], "journey_id"), target, ["journey_id"]
        )
        summaries = plan.summaries(rows)
    finally:
        rows.unpersist()
    written = {"send_plan": target}
    for table, frame in summaries.items():
        written[table] = where.write_table(f"cadence/{safe_name(table)}.csv", frame)
    return written
