"""A dataset: the five tables of the data contract, validated and in UTC (see :mod:`workbench.models.tables`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import WorkbenchError
from .tables import CONTRACTS, QUALITY_COLUMNS, TABLES

__all__ = ["Dataset", "arrow_strings", "customer_positions"]

T = TypeVar("T")


@dataclass(frozen=True)
class Dataset:
    """The five tables of the data contract, validated and in UTC.

    ``orders`` is always present; the others may be ``None`` when the source
    has no such table. ``quality`` lists data-quality findings that did not stop
    loading (invalid emails or phones, rows an adapter set aside), one row per
    check with the number of rows concerned and what was done about them.

    Treat the tables as read-only: what is derived from them (customer keys,
    contact validity, time zones) is computed once and kept; make changed
    tables with :meth:`with_tables`.
    """

    orders: pd.DataFrame
    customers: pd.DataFrame
    events: pd.DataFrame | None = None
    consents: pd.DataFrame | None = None
    messages: pd.DataFrame | None = None
    quality: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUALITY_COLUMNS))
    source: str = ""
    # values derived from the tables: name -> (the tables they come from, value); a replace() copy starts empty
    _derived: dict[str, tuple[tuple[str, ...], object]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def derived(self, name: str, tables: tuple[str, ...], compute: Callable[[], T]) -> T:
        """A value computed from some of the tables, computed once per dataset and kept.

        ``tables`` names the tables it depends on: :meth:`with_tables` keeps the
        value for a copy only when none of them is replaced. Core modules keep
        what they derive here (contact validity, time zones).
        """
        if name not in self._derived:
            self._derived[name] = (tables, compute())
        return self._derived[name][1]  # type: ignore[return-value]

    def customer_keys(self, table: str) -> np.ndarray:
        """For each row of ``table``, the position of its customer in ``customers`` (-1 if not there).

        These integer keys are what profiles group and join on: computed once
        per dataset (loading computes them for ``orders`` while checking that
        every order's customer exists), so repeated profile runs, for example
        at several ``as_of`` dates, do not hash the string ids again.
        """
        frame = getattr(self, table)
        if frame is None:
            msg = f"the dataset has no {table} table"
            raise WorkbenchError(msg)
        return self.derived(
            f"keys:{table}",
            ("customers", table),
            lambda: customer_positions(frame["customer_id"], self.customers["customer_id"]),
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that are present, by name."""
        return {n: getattr(self, n) for n in TABLES if getattr(self, n) is not None}

    def with_tables(self, **tables: pd.DataFrame | None) -> Dataset:
        """A copy with some tables replaced (the dataset itself is immutable)."""
        out = replace(self, **tables)  # type: ignore[arg-type]  # only table fields are passed
        out._derived.update({k: v for k, v in self._derived.items() if not set(v[0]) & set(tables)})
        return out

    def summary(self) -> pd.DataFrame:
        """Rows per table and the time span each covers."""
        rows = []
        for name in TABLES:
            df = getattr(self, name)
            ts = next((c for c in CONTRACTS[name].timestamps if df is not None and c in df.columns), None)
            rows.append(
                {
                    "table": name,
                    "rows": 0 if df is None else len(df),
                    "present": df is not None,
                    "first": None if df is None or ts is None or df.empty else df[ts].min(),
                    "last": None if df is None or ts is None or df.empty else df[ts].max(),
                }
            )
        return pd.DataFrame(rows)


def customer_positions(ids: pd.Series, customer_ids: pd.Series) -> np.ndarray:
    """Position of each id in ``customer_ids`` (unique), -1 where it is not there, as int32."""
    found = pc.index_in(arrow_strings(ids), value_set=arrow_strings(customer_ids))
    positions: np.ndarray = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return positions


def arrow_strings(series: pd.Series) -> pa.Array:
    """The values as one Arrow ``large_string`` array (no copy when they are already Arrow strings in one chunk).

    Columns read by Arrow's CSV or Parquet readers arrive in several chunks; they are joined into one
    array, which the dictionary encoding and look-ups need.
    """
    array = pa.array(series.astype("string").array)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array if pa.types.is_large_string(array.type) else array.cast(pa.large_string())
