"""Engines: profiles and the send-plan simulation on embedded DuckDB against Spark local mode (2 cores).

Rows: profiles at 1M and 10M orders (100k and 1M customers) and simulation at
100k and 1M customers, each with the time per 100k customers, so that linear
scaling shows as a flat column. On Spark the orders are a Parquet file read by
Spark (as a dataset folder is), and two steps are timed apart:

- ``read + check``: reading the Parquet orders and holding them to the data
  contract (:func:`workbench.engines.spark.validate_tables`: ids, times, amounts,
  duplicate order ids), each check computed by Spark;
- ``profiles``: the profiles of the checked orders (cached by Spark in setup),
  forced to completion with the ``noop`` sink, which computes every row and
  writes none.

Spark's session start is setup (not timed); the simulation's audience is handed
to Spark in setup too. The figures of one machine's two cores, shared with other
work, are a floor for a paper estimate of a cluster, not a measurement of one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.harness import measure, table

AS_OF = "2026-10-31"
PROFILE_SIZES = (1_000_000, 10_000_000)
PLAN_SIZES = (100_000, 1_000_000)
#: Memory of Spark's driver (in local mode also its executor): 10M orders cached need more than the default 1g.
DRIVER_MEMORY = os.environ.get("BENCH_SPARK_MEMORY", "4g")


def _spark():
    from workbench.engines import spark

    return spark.session("local[2]", shuffle_partitions=8, config={"spark.driver.memory": DRIVER_MEMORY})


def setup_duckdb_profiles(n: int):
    from benchmarks.bench_profiles import setup_dataset

    return setup_dataset(n)


def duckdb_profiles(dataset) -> object:
    from workbench.profiles import build_profiles

    return build_profiles(dataset, as_of=AS_OF)


def _parquet_orders(n: int) -> Path:
    """The benchmark's orders (:func:`benchmarks.bench_profiles._orders`) as ``<tmp>/shop/orders.parquet``."""
    from benchmarks.bench_profiles import _orders

    folder = Path(tempfile.mkdtemp(prefix="bench-engines-")) / "shop"
    atexit.register(shutil.rmtree, folder.parent, True)  # the measuring process removes it when it ends
    folder.mkdir()
    _orders(n).to_parquet(folder / "orders.parquet", index=False)
    return folder


def setup_spark_read(n: int):
    return _spark(), _parquet_orders(n)


def spark_read(inputs) -> None:
    from workbench.io import read_spark_tables

    session, folder = inputs
    read_spark_tables(session, folder)  # every check runs when the tables are read


def setup_spark_profiles(n: int):
    from workbench.io import read_spark_tables

    session = _spark()
    tables = read_spark_tables(session, _parquet_orders(n))
    for frame in tables.values():
        frame.cache().count()  # the read and the checks are setup here (timed on their own row)
    return session, tables


def spark_profiles(inputs) -> None:
    from workbench.engines import spark

    session, tables = inputs
    spark.profiles(session, tables, as_of=AS_OF).write.format("noop").mode("overwrite").save()


def setup_duckdb_plan(n: int):
    from benchmarks.bench_cadence import audience_of

    return audience_of(n)


def duckdb_plan(inputs) -> object:
    from benchmarks.bench_cadence import subject

    return subject(inputs)


def setup_spark_plan(n: int):
    from benchmarks.bench_cadence import audience_of
    from workbench.cadence.engagement import outcome_priors
    from workbench.engines import spark

    audience, strategy = audience_of(n)
    session = _spark()
    frame = session.createDataFrame(spark.arrow_table(audience.assign(position=np.arange(len(audience)))))
    frame = frame.repartition(8, "customer_id").cache()
    frame.count()
    return frame, strategy, outcome_priors(audience)


def spark_plan(inputs) -> None:
    from benchmarks.bench_cadence import DAYS, START
    from workbench.engines import spark
    from workbench.journeys import build_journeys

    frame, strategy, priors = inputs
    rows, _ = spark.plan(
        frame, build_journeys(strategy), strategy.policy, start=START, days=DAYS, seed=1, priors=priors
    )
    rows.write.format("noop").mode("overwrite").save()


def _row(work: str, size: int, customers: int, engine: str, m: dict[str, float]) -> dict[str, str]:
    return {
        "work": work,
        "size": f"{size:,}",
        "customers": f"{customers:,}",
        "engine": engine,
        "median_s": f"{m['median_s']:.2f}",
        "s per 100k customers": f"{m['median_s'] / (customers / 100_000):.2f}",
        "peak_mb (driver)": f"{m['peak_mb']:.0f}",
    }


def run(quick: bool = False) -> str:
    rows = []
    for n in PROFILE_SIZES[:1] if quick else PROFILE_SIZES:
        customers = n // 10
        repeat = 3 if n < 10_000_000 else 1
        m = measure(
            "benchmarks.bench_engines:setup_duckdb_profiles", "benchmarks.bench_engines:duckdb_profiles", n, repeat
        )
        rows.append(_row("profiles", n, customers, "duckdb", m))
        m = measure("benchmarks.bench_engines:setup_spark_read", "benchmarks.bench_engines:spark_read", n, 1, 3600)
        rows.append(_row("read + check Parquet", n, customers, "spark local[2]", m))
        m = measure(
            "benchmarks.bench_engines:setup_spark_profiles", "benchmarks.bench_engines:spark_profiles", n, repeat, 3600
        )
        rows.append(_row("profiles", n, customers, "spark local[2]", m))
    for n in PLAN_SIZES[:1] if quick else PLAN_SIZES:
        m = measure("benchmarks.bench_engines:setup_duckdb_plan", "benchmarks.bench_engines:duckdb_plan", n, 1, 3600)
        rows.append(_row("simulate 90 days", n, n, "duckdb", m))
        m = measure("benchmarks.bench_engines:setup_spark_plan", "benchmarks.bench_engines:spark_plan", n, 1, 3600)
        rows.append(_row("simulate 90 days", n, n, "spark local[2]", m))
    notes = (
        "size: orders for profiles (10 per customer), customers for the plan; Spark forced with the noop sink.\n"
        "peak_mb is the driver process's (the JVM and Python workers of Spark are other processes).\n"
        "Taken on a machine of 2 cores shared with other work: compare rows of one run, not runs.\n"
    )
    return table(rows, list(rows[0])) + "\n" + notes
