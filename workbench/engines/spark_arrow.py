"""Data between pandas and Spark as Arrow, with the types each side expects."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["arrow_table", "to_pandas"]


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A pandas frame as Arrow with types Spark reads: strings, not large strings or dictionaries."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_large_string(kind):
            kind = pa.string()
        if pa.types.is_timestamp(kind):
            kind = pa.timestamp("us", tz=kind.tz)
        fields.append(pa.field(field.name, kind))
    return table.cast(pa.schema(fields))


def to_pandas(frame: DataFrame) -> pd.DataFrame:
    """A Spark DataFrame on the driver through Arrow (strings stay Arrow strings, integers with gaps stay integers)."""
    table = frame.toArrow()
    mapping = {
        pa.string(): pd.StringDtype("pyarrow"),
        pa.large_string(): pd.StringDtype("pyarrow"),
        pa.int64(): pd.Int64Dtype(),
        pa.int32(): pd.Int32Dtype(),
    }
    out = table.to_pandas(types_mapper=mapping.get)
    for field in table.schema:  # integers without a gap are plain numpy integers, as the DuckDB engine gives
        if pa.types.is_integer(field.type) and table.column(field.name).null_count == 0:
            out[field.name] = out[field.name].to_numpy(dtype=field.type.to_pandas_dtype())
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            out[field.name] = out[field.name].dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    return out
