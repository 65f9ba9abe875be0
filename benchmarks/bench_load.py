"""Loading and the first profiles of a synthetic folder, against DuckDB reading the same files (issue 17).

The folders are ``workbench synth --customers N --seed 7`` written as csv.gz and as Parquet (all five
tables; a million customers make 2.2M orders, 3.2M events, 1.4M consent rows and 32.5M messages). They
are made once and kept under ``benchmarks/results/data`` (or ``$WORKBENCH_BENCH_DATA``); the page cache
is warmed before each run, so every subject reads the files from memory.

Subjects, each in a fresh process, alternately, several rounds (the machine is shared):

- ``load + profiles``: ``load_dataset(folder)`` then ``build_profiles(dataset, as_of=...)``;
- ``load``: ``load_dataset(folder)`` alone (its peak is the memory of loading);
- ``duckdb read + group (floor)``: for each file, DuckDB reads every column (types sniffed from the
  file) and groups the rows by customer (``count(*)`` and ``count(column)`` of every other column).
  DuckDB's statistics propagation is off for it: on Parquet it otherwise answers ``count(column)`` of
  a column without nulls from the file's statistics and never reads it (7 of the messages' 14
  columns);
- ``duckdb tables + group``: DuckDB reads each file into an in-memory table, then groups it by customer
  (holding the data, as loading does: the floor for peak memory);
- ``duckdb profile sql``: DuckDB computes the profiles' SQL part (:func:`workbench.profiles.profile_sql`)
  straight from the files, unchecked: what the engine itself takes for the profiles' aggregates.

Targets: load + profiles within 1.5x of the floor's time; the peak memory of loading 1M customers
within 2x of DuckDB's tables. Each time is also given against ``duckdb tables + group``: what holding
the data costs the engine itself (the floor streams through the files and keeps nothing).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from benchmarks.harness import ratio, rounds, spread, table

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-10-31"
SEED = 7
TABLES = ("customers", "orders", "events", "consents", "messages")


def data_root() -> Path:
    return Path(os.environ.get("WORKBENCH_BENCH_DATA", ROOT / "benchmarks" / "results" / "data"))


def folder(size: int, fmt: str) -> Path:
    """The synthetic folder of ``size`` customers in ``fmt`` (made by ``workbench synth`` when missing)."""
    path = data_root() / f"synth-{size}-seed{SEED}-{fmt.replace('.', '')}"
    if not (path / f"messages.{fmt}").exists():
        from workbench.cli import main

        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        code = main(["synth", "--customers", str(size), "--seed", str(SEED), "--format", fmt, "--out", str(path)])
        if code != 0:
            raise RuntimeError(f"workbench synth failed with exit status {code}")
    return path


def _warm(path: Path) -> Path:
    for file in sorted(path.iterdir()):
        with open(file, "rb") as fh:
            while fh.read(1 << 24):
                pass
    # import time is not what is measured: the modules either side imports, those imported on first use included
    import duckdb  # noqa: F401
    import phonenumbers.timezone  # noqa: F401
    import pyarrow.dataset  # noqa: F401

    import workbench.io
    import workbench.profiles  # noqa: F401

    return path


def setup_csv(size: int) -> Path:
    return _warm(folder(size, "csv.gz"))


def setup_parquet(size: int) -> Path:
    return _warm(folder(size, "parquet"))


def load_and_profile(path: Path) -> object:
    from workbench.io import load_dataset
    from workbench.profiles import build_profiles

    return build_profiles(load_dataset(path), as_of=AS_OF)


def load(path: Path) -> object:
    from workbench.io import load_dataset

    return load_dataset(path)


def _files(path: Path) -> list[tuple[str, str]]:
    out = []
    for name in TABLES:
        for file in path.glob(f"{name}.*"):
            reader = "read_parquet" if file.name.endswith(".parquet") else "read_csv"
            out.append((name, f"{reader}('{file}')"))
    return out


def _connect():
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("set timezone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    return con


def duckdb_stream(path: Path) -> None:
    """Every file read (all columns, typed) and grouped by customer, without keeping the rows."""
    with _connect() as con:
        # every column is read: a count of a column the file's statistics say has no nulls is not taken from them
        con.execute("set disabled_optimizers = 'statistics_propagation'")
        for _, source in _files(path):
            columns = [r[0] for r in con.sql(f"describe select * from {source}").fetchall()]
            counts = ", ".join(f'count("{c}")' for c in columns if c != "customer_id")
            con.sql(f"select customer_id, count(*), {counts} from {source} group by customer_id").to_arrow_table()


def duckdb_tables(path: Path) -> None:
    """Every file read into an in-memory DuckDB table (all columns, typed), then grouped by customer."""
    with _connect() as con:
        for name, source in _files(path):
            con.execute(f"create table {name} as from {source}")
            con.sql(f"select customer_id, count(*) from {name} group by customer_id").to_arrow_table()


def duckdb_profiles(path: Path) -> None:
    """The profile SQL run by DuckDB over views of the files (no contract checks, no pandas)."""
    from workbench.profiles import profile_sql

    with _connect() as con:
        names = []
        for name, source in _files(path):
            con.execute(f"create view {name} as from {source}")
            names.append(name)
        order_columns = {r[0] for r in con.sql("describe orders").fetchall()}
        query = profile_sql(
            as_of=AS_OF,
            tables=tuple(names),
            has_status="status" in order_columns,
            has_currency="currency" in order_columns,
            customer_columns=("country", "timezone", "locale"),
            pretty=False,
        )
        con.sql(query).to_arrow_table()


SUBJECTS = {
    "duckdb read + group (floor)": "benchmarks.bench_load:duckdb_stream",
    "load + profiles": "benchmarks.bench_load:load_and_profile",
    "duckdb tables + group": "benchmarks.bench_load:duckdb_tables",
    "load": "benchmarks.bench_load:load",
    "duckdb profile sql": "benchmarks.bench_load:duckdb_profiles",
}


def run(quick: bool = False) -> str:
    sizes = [10_000] if quick else [100_000, 1_000_000]
    rows = []
    for size in sizes:
        for fmt, setup in (("csv.gz", "setup_csv"), ("parquet", "setup_parquet")):
            got = rounds(f"benchmarks.bench_load:{setup}", SUBJECTS, size, n=1 if quick else 3, timeout=3600)
            floor, tables = got["duckdb read + group (floor)"], got["duckdb tables + group"]
            for name, m in got.items():
                rows.append(
                    {
                        "customers": f"{size:,}",
                        "format": fmt,
                        "subject": name,
                        "seconds (range)": spread(m),
                        "vs floor (range)": ratio(m, floor),
                        "vs duckdb tables": ratio(m, tables),
                        "peak_mb": f"{m['peak_mb']:.0f}",
                        "memory vs duckdb tables": f"{m['peak_mb'] / max(tables['peak_mb'], 1):.2f}x",
                    }
                )
    note = (
        "\nTargets: load + profiles <= 1.5x the floor (DuckDB reading every column of the same files and "
        "grouping each by customer); peak memory of load at 1M <= 2x DuckDB holding the same tables. "
        "'vs duckdb tables' compares with DuckDB loading the files into tables: what holding the data "
        "costs the engine itself. "
        "Ratios are the median of per-round ratios (subjects run alternately, fresh process each)."
    )
    return table(rows, list(rows[0])) + note
