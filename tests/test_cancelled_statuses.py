"""One rule for a cancelled order's status: the contract's count, the profiles' NumPy path and their SQL agree.

:func:`workbench.contracts.cancelled_statuses` is the rule the contract's quality count and the profiles' NumPy
path both call; the reference is the profile SQL's own expression (``_cancelled_sql``: ``coalesce(lower(status),
'') in (...)``) run by DuckDB on the same Arrow column.
"""

from __future__ import annotations

import itertools
import sys
from functools import cache

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench import profiles
from workbench.contracts import cancelled_statuses, from_frames
from workbench.models.tables import CANCELLED_STATUSES
from workbench.profiles import build_profiles


@cache
def _look_alikes() -> dict[str, list[str]]:
    """For each letter of the cancelled words, the characters some case mapping relates to it (its capital, a
    dotted capital I, a Kelvin sign): what a status written another way is made of."""
    letters = sorted({c for word in CANCELLED_STATUSES for c in word})
    found: dict[str, list[str]] = {c: [c, c.upper()] for c in letters}
    for point in range(0x80, sys.maxunicode + 1):
        char = chr(point)
        for mapped in (char.lower(), char.upper().lower(), char.casefold()):
            if mapped[:1] in found and char not in found[mapped[:1]]:
                found[mapped[:1]].append(char)
    return found


@st.composite
def statuses(draw: st.DrawFn) -> str | None:
    """A status: missing, any text, or a cancelled word with letters written another way and text around it."""
    kind = draw(st.sampled_from(["none", "text", "word", "word"]))
    if kind == "none":
        return None
    if kind == "text":
        return draw(st.text(max_size=12))
    word = draw(st.sampled_from([*CANCELLED_STATUSES, "placed", "cancel", "refund"]))
    letters = "".join(draw(st.sampled_from(_look_alikes().get(c, [c]))) for c in word)
    around = draw(st.sampled_from(["", "", "", " ", "\u00a0", "s", "\u0307"]))
    return letters + around if draw(st.booleans()) else around + letters


def _sql_rule(column: pa.ChunkedArray) -> list[bool]:
    """The profile SQL's cancellation expression over the column (amounts of 0: the status decides)."""
    n = len(column)
    table = pa.table({"i": pa.array(np.arange(n)), "amount": pa.array(np.zeros(n)), "status": column})
    with duckdb.connect(":memory:") as con:
        con.register("orders", table)
        rows = con.sql(f"select {profiles._cancelled_sql(True)} from orders order by i").fetchall()
    return [bool(r[0]) for r in rows]


def _column(values: list[str | None], pieces: int, coded: bool, dictionary: list[str | None]) -> pa.ChunkedArray:
    """The values as Arrow text in ``pieces`` chunks, plain or dictionary-encoded (with the extra ``dictionary``
    entries no row uses, and a missing value among the entries when a row is missing)."""
    array = pa.array(values, type=pa.string())
    cut = np.linspace(0, len(values), pieces + 1).astype(int)
    chunks = [array[a:b] for a, b in itertools.pairwise(cut)]
    if not coded:
        return pa.chunked_array(chunks, type=pa.string())
    coded_chunks = []
    for chunk in chunks:
        entries = list(dict.fromkeys([*dictionary, *chunk.to_pylist()]))
        at = {value: position for position, value in enumerate(entries)}
        # a missing row is a missing index, or an index to a missing entry, by turns
        indices = [None if v is None and k % 2 else at[v] for k, v in enumerate(chunk.to_pylist())]
        coded_chunks.append(
            pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), pa.array(entries, type=pa.string()))
        )
    return pa.chunked_array(coded_chunks, type=pa.dictionary(pa.int32(), pa.string()))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(statuses(), max_size=30),
    pieces=st.integers(1, 3),
    coded=st.booleans(),
    dictionary=st.lists(statuses(), max_size=4),
    large=st.booleans(),
)
def test_cancelled_statuses_agree_with_the_sql(values, pieces, coded, dictionary, large):
    """For any Unicode statuses, plain or dictionary-encoded, with missing values: cancelled exactly where DuckDB's
    ``lower(status) in (...)`` says so."""
    column = _column(values, pieces, coded, dictionary)
    if large and not coded:
        column = column.cast(pa.large_string())
    got = cancelled_statuses(column)
    assert got.dtype == bool and len(got) == len(values)
    assert got.tolist() == _sql_rule(column)


def test_a_dotted_capital_i_is_an_i_for_the_contract_and_both_profile_paths():
    """``VOİD`` is void by Unicode's simple case mapping (Python's ``str.lower`` makes it ``voi̇d``, with a combining
    dot): the quality count and the profiles' cancellations (NumPy and SQL) agree on it and the others."""
    statuses = ["placed", "VOİD", "Cancelled", None, "ＶＯＩＤ", "returned ", "REFUNDED", "void"]
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(statuses))],
            "customer_id": ["a", "b"] * (len(statuses) // 2),
            "ordered_at": pd.date_range("2026-01-01", periods=len(statuses), freq="D", tz="UTC"),
            "amount": [10.0] * len(statuses),
            "status": pd.array(statuses, dtype="string"),
        }
    )
    want = _sql_rule(pa.chunked_array([pa.array(statuses, pa.string())]))
    assert want == [False, True, True, False, False, False, True, True]
    dataset = from_frames(orders)
    quality = dataset.quality.set_index(["table", "check"]).loc[("orders", "cancellations and returns")]
    assert quality["rows"] == sum(want)
    assert quality["examples"] == ", ".join(o for o, w in zip(orders["order_id"], want, strict=True) if w)
    by_numpy = build_profiles(dataset, as_of="2026-02-01")
    assert by_numpy["cancellations"].sum() == sum(want)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(profiles, "_order_arrays", lambda *args, **kwargs: None)  # the SQL path
        by_sql = build_profiles(dataset, as_of="2026-02-01")
    assert by_sql["cancellations"].sum() == sum(want)
