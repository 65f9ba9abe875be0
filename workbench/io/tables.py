"""Reading datasets: a folder of CSV / CSV.GZ / Parquet tables or a DuckDB file, into a validated Dataset.

Reading never modifies the input. Files are read by Arrow's readers, typed as
the data contract says (timestamps as UTC, amounts as numbers, everything else
as text), on every core, and the tables stay in Arrow: the dataset makes a
pandas DataFrame of a table only when someone asks for one. Validation and
assembly are the data contract's (:func:`workbench.contracts.from_frames`):
a table whose typed reading fails, or whose values the contract's quick checks
do not accept, is read again as text, as pandas reads it, and checked value by
value, so that every refusal names its rows exactly as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..contracts import from_frames
from ..models.dataset import Dataset, Table
from ..models.errors import DataContractError, FileError
from ..models.tables import CONTRACTS, TABLES
from .writer import write_table

__all__ = ["load_dataset", "write_dataset"]

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
    except (OSError, ValueError) as exc:
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
            return pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=_BLOCK),
                convert_options=pacsv.ConvertOptions(
                    column_types=attempt, null_values=[""], strings_can_be_null=True, quoted_strings_can_be_null=True
                ),
            )
        except (OSError, pa.ArrowException):
            if attempt is not types or _UTC not in types.values():
                return None
    return None


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


def _read_duckdb(path: Path) -> tuple[dict[str, Table], Callable[[str], pd.DataFrame]]:
    """The tables of a DuckDB file as Arrow, and how pandas reads each one (for the contract's full check)."""
    import duckdb

    def query(table: str, kind: str) -> Table:
        with duckdb.connect(str(path), read_only=True) as con:
            relation = con.sql(f'select * from "{table}"')
            return relation.to_arrow_table() if kind == "arrow" else relation.df()

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        tables = {t: query(t, "arrow") for t in TABLES if t in present}
    except duckdb.Error as exc:
        msg = f"{path} cannot be read as a DuckDB database ({str(exc).splitlines()[0]})"
        raise FileError(msg + ". Fix: pass a .duckdb file written by DuckDB, or a folder of tables") from None
    return tables, lambda table: query(table, "pandas")  # type: ignore[return-value]


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
        or a ``.duckdb`` file with tables of those names.
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
    root = Path(path)
    if not root.exists():
        raise FileError(f"data path {root} does not exist. Fix: pass a folder of tables or a .duckdb file")
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
        for name, found in files.items():
            rename = _column_map_for(column_map, name)
            typed = (
                _read_parquet_typed(found, name, rename)
                if found.name.endswith(".parquet")
                else _read_csv_typed(found, name, rename)
            )
            raw[name] = typed if typed is not None else _read_text(found)

        def text(name: str) -> pd.DataFrame:
            return _read_text(files[name])

    else:
        raise FileError(f"{root} is neither a folder nor a .duckdb file. Fix: pass the folder holding orders.csv")
    if "orders" not in raw:
        raise DataContractError(
            "orders",
            None,
            f"no orders table in {root}",
            remedy="add orders.csv, orders.csv.gz or orders.parquet (order_id, customer_id, ordered_at, amount)",
        )
    renamed = {name: _renamed(table, _column_map_for(column_map, name)) for name, table in raw.items()}

    def reread(name: str) -> pd.DataFrame:
        return text(name).rename(columns=_column_map_for(column_map, name))

    return from_frames(**renamed, source=str(root), reread=reread)  # type: ignore[arg-type]


def write_dataset(dataset: Dataset, folder: str | os.PathLike[str], *, fmt: str = "csv.gz") -> list[Path]:
    """Write every present table of a dataset into ``folder`` as ``<table>.<fmt>``."""
    out = Path(folder)
    return [write_table(df, out / f"{name}.{fmt}") for name, df in dataset.tables().items()]
