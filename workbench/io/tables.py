"""Reading datasets: a folder of CSV / CSV.GZ / Parquet tables or a DuckDB file, into a validated Dataset.

Reading never modifies the input. Files are read by Arrow's readers, typed as
the data contract says (timestamps as UTC, amounts as numbers, everything else
as text), on every core (``.gz`` files inflated by ISA-L), and the tables stay
in Arrow: the dataset makes a pandas DataFrame of a table only when someone
asks for one. Validation and
assembly are the data contract's (:func:`workbench.contracts.from_frames`):
a table whose typed reading fails, or whose values the contract's quick checks
do not accept, is read again as text, as pandas reads it, and checked value by
value, so that every refusal names its rows exactly as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from isal import igzip
from isal.igzip_lib import IsalError

from ..contracts import from_frames, validate
from ..models.dataset import Dataset, Table
from ..models.errors import DataContractError, FileError, WorkbenchError
from ..models.tables import CONTRACTS, TABLES
from ..profiles import ATTRIBUTES, INPUT_ATTRIBUTES, finish_profiles, profile_sql, resolve_as_of, sql_columns
from .writer import write_table

__all__ = [
    "is_postgres_url",
    "load_dataset",
    "profiles_in_postgres",
    "shown_url",
    "use_arrow_memory_pool",
    "write_dataset",
]

_EXTENSIONS = (".parquet", ".csv", ".csv.gz")
_TEXT = pa.large_string()  # pandas' text columns are backed by large_string: no cast when one is asked for
_UTC = pa.timestamp("us", tz="UTC")
#: Bytes Arrow's CSV reader parses at a time (its default is 1 MiB; larger blocks give fewer chunks).
_BLOCK = 16 << 20
#: Text columns of few distinct values, read dictionary-encoded: a third of the memory of plain text, and a
#: Parquet file's own dictionary pages are kept rather than decoded into one string per row. A dataset gives
#: them to pandas as plain text.
_FEW_VALUES = {
    "customers": ("country", "region", "timezone", "loyalty_tier", "preferred_channel"),
    "orders": ("currency", "status"),
    "events": ("event",),
    "consents": ("channel", "status", "source", "keyword"),
    "messages": ("channel", "journey_id", "step_id", "variant", "bounced"),
}
_CODED = pa.dictionary(pa.int32(), _TEXT)
#: What reading a damaged or unreadable CSV file raises (then the file is read as pandas reads it, which names
#: the problem): Arrow's errors, and ISA-L's for a damaged ``.gz`` file.
_UNREADABLE: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    pa.ArrowException,
    cast(type[BaseException], IsalError),
)


def use_arrow_memory_pool() -> str:
    """Give Arrow's allocations to jemalloc (the C library's ``malloc`` where Arrow was built without it), unless
    ``ARROW_DEFAULT_MEMORY_POOL`` names a pool; the name of the pool in use.

    Loading allocates gigabytes in large blocks, freed and allocated again table after table. On Arrow's
    default pool (mimalloc) reading a million customers' ``messages.parquet`` (32.5M rows) took 14.7 s in a
    fresh process, 4.1 s on ``malloc``; the whole load and profiles 38-43 s, against 25-30 s on jemalloc.
    The choice holds for the process, as Arrow's own setting does; memory already allocated stays with the
    pool that gave it.
    """
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        try:
            pool = pa.jemalloc_memory_pool()
        except NotImplementedError:  # an Arrow built without jemalloc
            pool = pa.system_memory_pool()
        if pa.default_memory_pool().backend_name != pool.backend_name:
            pa.set_memory_pool(pool)
    return str(pa.default_memory_pool().backend_name)


def _find_table(folder: Path, name: str) -> Path | None:
    found = [folder / f"{name}{ext}" for ext in _EXTENSIONS if (folder / f"{name}{ext}").exists()]
    if len(found) > 1:
        raise DataContractError(
            name,
            None,
            f"{len(found)} files hold the {name} table in {folder} ({', '.join(p.name for p in found)})",
            remedy="keep one file per table: remove or rename the others (an old copy would be read silently)",
        )
    return found[0] if found else None


def _read_text(path: Path) -> pd.DataFrame:
    """The table as the data contract defines reading it: every CSV cell as text (blank is missing), or
    the Parquet file as pandas reads it."""
    try:
        if path.name.endswith(".parquet"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], engine="pyarrow")
    except (OSError, EOFError, ValueError) as exc:  # EOFError: a .gz file cut short
        raise DataContractError(
            path.name.split(".")[0],
            None,
            f"cannot read {path}: {exc}",
            remedy="check that the file is a readable CSV (UTF-8, header row) or Parquet file",
        ) from exc


def _csv_header(path: Path) -> list[str] | None:
    """The column names of a CSV file (read from its first block), None when Arrow cannot read it."""
    try:
        with pacsv.open_csv(path, convert_options=pacsv.ConvertOptions(null_values=[""])) as reader:
            return list(reader.schema.names)
    except (OSError, pa.ArrowException):
        return None


def _read_csv_typed(path: Path, name: str, rename: Mapping[str, str]) -> pa.Table | None:
    """A CSV file read by Arrow with the contract's types, None when that reading fails.

    Timestamps are first read as ISO 8601 with a zone (what most exports write), then, when that fails,
    as text (the contract's checks read zone-less ISO 8601 from it); amounts as floats; every other
    column as text, blank cells missing, as pandas reads the file with ``dtype=str``.
    """
    names = _csv_header(path)
    if names is None or len(set(names)) != len(names):
        return None
    contract = CONTRACTS[name]
    types = {}
    for column in names:
        target = rename.get(column, column)
        kind = _UTC if target in contract.timestamps else pa.float64() if target in contract.numeric else _TEXT
        types[column] = _CODED if target in _FEW_VALUES[name] else kind
    for attempt in (types, {c: _TEXT if t == _UTC else t for c, t in types.items()}):
        try:
            with _uncompressed(path) as source:
                return pacsv.read_csv(
                    source,
                    read_options=pacsv.ReadOptions(block_size=_BLOCK),
                    convert_options=pacsv.ConvertOptions(
                        column_types=attempt,
                        null_values=[""],
                        strings_can_be_null=True,
                        quoted_strings_can_be_null=True,
                    ),
                )
        except _UNREADABLE:
            if attempt is not types or _UTC not in types.values():
                return None
    return None


def _uncompressed(path: Path) -> BinaryIO:
    """The file's bytes, a ``.gz`` file inflated by ISA-L (``isal``): a third of the time zlib takes, which
    Arrow's own gzip stream uses, and the inflating is the one part of reading that runs on a single core.
    A damaged file raises ``OSError``, ``EOFError`` or ``IsalError``."""
    if path.name.endswith(".gz"):
        return cast(BinaryIO, igzip.open(path, "rb"))  # type: ignore[no-untyped-call]
    return open(path, "rb")


def _read_parquet_typed(path: Path, name: str, rename: Mapping[str, str]) -> pa.Table | None:
    """A Parquet file as Arrow, None when pandas would read it differently (an index stored in the file).

    Text columns of few values are read as dictionaries (:data:`_FEW_VALUES`)."""
    try:
        schema = pq.read_schema(path)
        coded = [
            f.name
            for f in schema
            if rename.get(f.name, f.name) in _FEW_VALUES[name]
            and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
        ]
        table = pq.read_table(path, read_dictionary=coded)
    except (OSError, pa.ArrowException):
        return None
    meta = table.schema.pandas_metadata or {}
    for index in meta.get("index_columns", []):
        if not (isinstance(index, dict) and index.get("kind") == "range" and index.get("start") == 0):
            return None
        if index.get("step") != 1:
            return None
    return table


def _read_file(found: Path, name: str, rename: Mapping[str, str]) -> Table:
    typed = (
        _read_parquet_typed(found, name, rename)
        if found.name.endswith(".parquet")
        else _read_csv_typed(found, name, rename)
    )
    return typed if typed is not None else _read_text(found)


def _read_duckdb(path: Path) -> tuple[dict[str, Table], Callable[[str], pd.DataFrame]]:
    """The tables of a DuckDB file as Arrow, and how pandas reads each one (for the contract's full check)."""
    import duckdb

    def arrow(table: str) -> pa.Table:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.sql(f'select * from "{table}"').to_arrow_table()

    def frame(table: str) -> pd.DataFrame:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.sql(f'select * from "{table}"').df()

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        tables: dict[str, Table] = {t: arrow(t) for t in TABLES if t in present}
    except duckdb.Error as exc:
        msg = f"{path} cannot be read as a DuckDB database ({str(exc).splitlines()[0]})"
        raise FileError(msg + ". Fix: pass a .duckdb file written by DuckDB, or a folder of tables") from None
    return tables, frame


def _column_map_for(column_map: Mapping[str, object] | None, table: str) -> dict[str, str]:
    if not column_map:
        return {}
    if any(isinstance(v, Mapping) for v in column_map.values()):
        per_table = column_map.get(table) or {}
        return {str(k): str(v) for k, v in per_table.items()} if isinstance(per_table, Mapping) else {}
    return {str(k): str(v) for k, v in column_map.items()}


def _renamed(table: Table, rename: Mapping[str, str]) -> Table:
    if isinstance(table, pd.DataFrame):
        return table.rename(columns=rename)
    return table.rename_columns([rename.get(c, c) for c in table.column_names]) if rename else table


def load_dataset(
    path: str | os.PathLike[str],
    *,
    column_map: Mapping[str, object] | None = None,
    tables: tuple[str, ...] = TABLES,
) -> Dataset:
    """Read and validate a dataset from a folder or a DuckDB file.

    Parameters
    ----------
    path
        A folder holding ``orders`` and any of ``customers``, ``events``,
        ``consents``, ``messages`` as ``.csv``, ``.csv.gz`` or ``.parquet``;
        a ``.duckdb`` file with tables of those names; or a PostgreSQL URL,
        ``postgresql://user@host:5432/db?schema=shop`` (default schema
        ``public``; a password is best kept in ``~/.pgpass`` or ``PGPASSWORD``),
        whose tables of those names are read with psycopg, in the order of
        their key (customers by id, orders by order id, ...).
    column_map
        Renames applied before validation: either one mapping for every table
        (``{"CustomerID": "customer_id"}``) or one per table
        (``{"orders": {"InvoiceNo": "order_id"}}``).
    tables
        Which tables to read (``orders`` is always read).

    Examples
    --------
    >>> ds = load_dataset("data/sample")            # doctest: +SKIP
    >>> ds.orders.columns[:4].tolist()              # doctest: +SKIP
    ['order_id', 'customer_id', 'ordered_at', 'amount']
    """
    use_arrow_memory_pool()
    if is_postgres_url(path):
        frames = _read_postgres(str(path), tables)
        renamed = {name: df.rename(columns=_column_map_for(column_map, name)) for name, df in frames.items()}
        return from_frames(**renamed, source=shown_url(str(path)))
    if isinstance(path, str) and path.startswith("spark:"):
        msg = f"{path} is a schema of Spark's catalog, which only the spark engine reads. Fix: pass --engine spark "
        msg += "(open_workspace(..., engine='spark')), or use workbench.io.read_spark_tables"
        raise FileError(msg)
    root = Path(path)
    if not root.exists():
        msg = f"data path {root} does not exist. Fix: pass a folder of tables or a .duckdb file"
        raise FileError(msg)
    raw: dict[str, Table] = {}
    text: Callable[[str], pd.DataFrame]
    if root.is_file() and root.suffix in {".duckdb", ".db"}:
        raw, text = _read_duckdb(root)
    elif root.is_dir():
        files: dict[str, Path] = {}
        for name in TABLES:
            if name not in tables and name != "orders":
                continue
            found = _find_table(root, name)
            if found is not None:
                files[name] = found
        # one file after the other: each read uses every core (two at a time gained nothing on two cores)
        raw = {name: _read_file(path, name, _column_map_for(column_map, name)) for name, path in files.items()}

        def text(name: str) -> pd.DataFrame:
            return _read_text(files[name])

    else:
        msg = f"{root} is neither a folder nor a .duckdb file. Fix: pass the folder holding orders.csv"
        raise FileError(msg)
    if "orders" not in raw:
        table = "orders"
        raise DataContractError(
            table,
            None,
            f"no orders table in {root}",
            remedy="add orders.csv, orders.csv.gz or orders.parquet (order_id, customer_id, ordered_at, amount)",
        )
    renamed = {name: _renamed(table, _column_map_for(column_map, name)) for name, table in raw.items()}

    def reread(name: str) -> pd.DataFrame:
        return text(name).rename(columns=_column_map_for(column_map, name))

    return from_frames(**renamed, source=str(root), reread=reread)


def write_dataset(dataset: Dataset, folder: str | os.PathLike[str], *, fmt: str = "csv.gz") -> list[Path]:
    """Write every present table of a dataset into ``folder`` as ``<table>.<fmt>``: each as the dataset
    holds it (an Arrow table straight from Arrow, its CSV text that of its DataFrame).

    The largest table is written on a thread of its own while the others are written (Arrow's writers
    and compressors let go of the interpreter); the files do not depend on it.
    """
    out = Path(folder)
    names = [name for name in TABLES if dataset.has(name)]
    largest = max(names, key=dataset.rows)
    with ThreadPoolExecutor(max_workers=1) as pool:
        big = pool.submit(write_table, dataset.held(largest), out / f"{largest}.{fmt}")
        written = {name: write_table(dataset.held(name), out / f"{name}.{fmt}") for name in names if name != largest}
        written[largest] = big.result()
    return [written[name] for name in names]


# ---------------------------------------------------------------- PostgreSQL


def is_postgres_url(path: object) -> bool:
    """Whether ``path`` names a PostgreSQL database (``postgresql://`` or ``postgres://``)."""
    return isinstance(path, str) and path.startswith(("postgresql://", "postgres://"))


def shown_url(url: str) -> str:
    """The URL without its password (for messages, the dataset's ``source`` and a run's manifest)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _postgres_target(url: str) -> tuple[str, str]:
    """The connection URL libpq takes (without ``schema``) and the schema named in the URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [v for k, v in query if k == "schema"]
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), (schemas[-1] if schemas else "public")


def _connect_postgres(url: str) -> Any:
    try:
        import psycopg
    except ImportError as exc:
        msg = "reading PostgreSQL needs psycopg. Fix: pip install 'psycopg[binary]'"
        raise FileError(msg) from exc
    conninfo, _ = _postgres_target(url)
    try:
        con = psycopg.connect(conninfo, connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        msg = f"cannot connect to {shown_url(url)} ({_first_line(exc)})"
        raise FileError(msg + ". Fix: check the host, port, user, database and password (~/.pgpass)") from None
    con.execute("set timezone = 'UTC'")
    con.execute("set datestyle = 'ISO, YMD'")
    return con


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _postgres_tables(con: Any, schema: str) -> dict[str, list[str]]:
    """The contract's tables in ``schema`` with their columns."""
    rows = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = %s "
        "order by table_name, ordinal_position",
        [schema],
    ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        if table in TABLES:
            found.setdefault(table, []).append(column)
    return found


def _missing_orders(url: str, schema: str) -> DataContractError:
    return DataContractError(
        "orders",
        None,
        f"no orders table in schema {schema!r} of {shown_url(url)}",
        remedy="name the schema that holds the tables with ?schema=NAME, or create orders "
        "(order_id, customer_id, ordered_at, amount)",
    )


def _copy_out(con: Any, query: Any) -> pd.DataFrame:
    """The rows of ``query`` through COPY as CSV, read like a CSV file (text, parsed by the contract)."""
    from psycopg import sql

    buffer = BytesIO()
    with con.cursor().copy(sql.SQL("copy ({}) to stdout (format csv, header)").format(query)) as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    return pd.read_csv(buffer, dtype=str, keep_default_na=False, na_values=[""], engine="pyarrow")


#: The order rows are read in: a table has none in SQL, and a scan may start anywhere in it (synchronized
#: scans), while ties in the RFM ranks are broken by the order of the customers.
_READ_ORDER = {
    "customers": ("customer_id",),
    "orders": ("order_id",),
    "messages": ("message_id",),
    "events": ("customer_id", "occurred_at", "event"),
    "consents": ("customer_id", "channel", "recorded_at"),
}


def _select_all(schema: str, name: str, columns: list[str]) -> Any:
    """``select *`` from a table, in the order of its key as text (byte order, whatever the database's collation)."""
    from psycopg import sql

    keys = [c for c in _READ_ORDER.get(name, ()) if c in columns] or columns
    order = sql.SQL(", ").join(sql.SQL('cast({} as text) collate "C"').format(sql.Identifier(c)) for c in keys)
    return sql.SQL("select * from {}.{} order by {}").format(sql.Identifier(schema), sql.Identifier(name), order)


def _read_postgres(url: str, wanted: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """The contract's tables of the URL's schema, as text frames (the contract parses them like CSV files)."""
    import psycopg

    _, schema = _postgres_target(url)
    with _connect_postgres(url) as con:
        try:
            present = _postgres_tables(con, schema)
            if "orders" not in present:
                raise _missing_orders(url, schema)
            return {
                name: _copy_out(con, _select_all(schema, name, present[name]))
                for name in TABLES
                if name in present and (name in wanted or name == "orders")
            }
        except psycopg.Error as exc:
            msg = f"cannot read the tables of schema {schema!r} of {shown_url(url)} ({_first_line(exc)})"
            raise FileError(msg + ". Fix: check that the user may read them") from None


def profiles_in_postgres(url: str, *, as_of: object = None) -> pd.DataFrame:
    """Profiles computed inside PostgreSQL: the profile SQL runs there and one row per customer comes back.

    The same profiles as ``build_profiles(load_dataset(url), as_of=...)``
    without reading every order over the wire: the SQL of
    :func:`workbench.profiles.profile_sql` (PostgreSQL dialect) aggregates the
    orders, messages, events and consents in the database; the customers
    table is read and checked by the data contract, and what is not SQL
    (valid addresses, time zones, tenure, preferred channel) is computed here
    (:func:`workbench.profiles.finish_profiles`). ``as_of`` defaults to the day
    of the latest order, as everywhere.
    """
    import psycopg
    from psycopg import sql

    _, schema = _postgres_target(url)
    with _connect_postgres(url) as con:
        try:
            present = _postgres_tables(con, schema)
            if "orders" not in present:
                raise _missing_orders(url, schema)
            if as_of is None:
                latest = con.execute(
                    sql.SQL("select max(ordered_at) from {}.orders").format(sql.Identifier(schema))
                ).fetchone()[0]
                if latest is None:
                    msg = "orders has no order date, so there is no default as_of. Fix: pass as_of"
                    raise WorkbenchError(msg)
                as_of = pd.Timestamp(latest).tz_convert("UTC").date()
            ts = resolve_as_of(as_of)
            if "customers" in present:
                raw = _copy_out(con, _select_all(schema, "customers", present["customers"]))
                customers = validate("customers", raw)
            else:
                raw = _copy_out(
                    con,
                    sql.SQL("select customer_id, min(ordered_at) as created_at from {}.orders group by 1").format(
                        sql.Identifier(schema)
                    ),
                )
                customers = validate("customers", raw).sort_values("customer_id", ignore_index=True)
            carried = [c for c in (*ATTRIBUTES, *INPUT_ATTRIBUTES) if c in present.get("customers", [])]
            query = profile_sql(
                as_of=ts,
                dialect="postgres",
                tables=tuple(present),
                has_status="status" in present["orders"],
                has_currency="currency" in present["orders"],
                customer_columns=carried,
                schema=schema,
                pretty=False,
            )
            cursor = con.execute(query)
            names = [d.name for d in cursor.description]
            rows = cursor.fetchall()
        except psycopg.Error as exc:
            msg = f"PostgreSQL could not compute the profiles in {shown_url(url)} ({_first_line(exc)})"
            raise FileError(msg + ". Fix: check that the tables have the contract's columns and types") from None
    table = pa.table({name: pa.array([row[i] for row in rows]) for i, name in enumerate(names)})
    where = pd.Index(table.column("customer_id").to_pylist()).get_indexer(customers["customer_id"].astype(object))
    placed = table.take(pa.array(where, mask=where < 0))
    return finish_profiles(customers, sql_columns(placed), as_of=ts)
