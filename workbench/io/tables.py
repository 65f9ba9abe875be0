"""Reading datasets: a folder of CSV / CSV.GZ / Parquet tables or a DuckDB file, into a validated Dataset.

Reading never modifies the input. Validation and assembly are the data
contract's (:func:`workbench.contracts.from_frames`); this module only finds
and reads the files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..contracts import from_frames
from ..models.dataset import Dataset
from ..models.errors import DataContractError, FileError
from ..models.tables import TABLES
from .writer import write_table

__all__ = ["load_dataset", "write_dataset"]

_EXTENSIONS = (".parquet", ".csv", ".csv.gz")


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


def _read_file(path: Path) -> pd.DataFrame:
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


def _read_duckdb(path: Path) -> dict[str, pd.DataFrame]:
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
            return {t: con.execute(f'select * from "{t}"').df() for t in TABLES if t in present}
    except duckdb.Error as exc:
        msg = f"{path} cannot be read as a DuckDB database ({str(exc).splitlines()[0]})"
        raise FileError(msg + ". Fix: pass a .duckdb file written by DuckDB, or a folder of tables") from None


def _column_map_for(column_map: Mapping[str, object] | None, table: str) -> dict[str, str]:
    if not column_map:
        return {}
    if any(isinstance(v, Mapping) for v in column_map.values()):
        per_table = column_map.get(table) or {}
        return {str(k): str(v) for k, v in per_table.items()} if isinstance(per_table, Mapping) else {}
    return {str(k): str(v) for k, v in column_map.items()}


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
    if root.is_file() and root.suffix in {".duckdb", ".db"}:
        raw = _read_duckdb(root)
    elif root.is_dir():
        raw = {}
        for name in TABLES:
            if name not in tables and name != "orders":
                continue
            found = _find_table(root, name)
            if found is not None:
                raw[name] = _read_file(found)
    else:
        raise FileError(f"{root} is neither a folder nor a .duckdb file. Fix: pass the folder holding orders.csv")
    if "orders" not in raw:
        raise DataContractError(
            "orders",
            None,
            f"no orders table in {root}",
            remedy="add orders.csv, orders.csv.gz or orders.parquet (order_id, customer_id, ordered_at, amount)",
        )
    renamed = {name: df.rename(columns=_column_map_for(column_map, name)) for name, df in raw.items()}
    return from_frames(**renamed, source=str(root))


def write_dataset(dataset: Dataset, folder: str | os.PathLike[str], *, fmt: str = "csv.gz") -> list[Path]:
    """Write every present table of a dataset into ``folder`` as ``<table>.<fmt>``."""
    out = Path(folder)
    return [write_table(df, out / f"{name}.{fmt}") for name, df in dataset.tables().items()]
