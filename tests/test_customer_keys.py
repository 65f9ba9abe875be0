"""The customer keys of the events, consents and messages: one look-up of all their ids, as each table alone.

Loading finds the position in ``customers`` of every row's customer. The three tables after the orders are looked
up together (:func:`workbench.models.dataset.customer_positions_of`), so the hash table of the customers' ids is
built once; the reference is :func:`workbench.models.dataset.customer_positions` of each table on its own, and for
the positions themselves Python's ``list.index``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench.models.dataset as dataset_module
from workbench.contracts import from_frames

IDS = st.sampled_from(["a", "b", "c", "d", "e", "zz", "", "é", None])


@pytest.fixture(params=["look-up", "join"])
def engine(request, monkeypatch):
    """Both ways of finding positions: Arrow's ``index_in`` (small tables), DuckDB's join (large ones)."""
    if request.param == "join":
        monkeypatch.setattr(dataset_module, "_JOIN_ROWS", 0)
        monkeypatch.setattr(dataset_module, "_JOIN_CUSTOMERS", 0)
    return request.param


def _chunked(values: list[str | None], pieces: int) -> pa.ChunkedArray:
    array = pa.array(values, type=pa.string())
    cut = np.linspace(0, len(values), pieces + 1).astype(int)
    return pa.chunked_array([array[a:b] for a, b in itertools.pairwise(cut)], type=array.type)


def _expected(ids: list[str | None], customers: list[str]) -> np.ndarray:
    return np.array([customers.index(i) if i in customers else -1 for i in ids], dtype=np.int32)


@settings(max_examples=80, deadline=None)
@given(
    columns=st.lists(st.tuples(st.lists(IDS, max_size=40), st.integers(1, 3)), max_size=4),
    customers=st.lists(st.sampled_from(["a", "b", "c", "d", "zz", "é"]), min_size=1, max_size=8),
    join=st.booleans(),
)
def test_positions_of_several_columns_are_each_columns_positions(columns, customers, join):
    """Each column's positions, from one look-up of all the columns: the first position of a repeated customer
    id, -1 for an id that is not a customer or is missing, as int32, by the join and by ``index_in``."""
    arrays = [_chunked(ids, pieces) for ids, pieces in columns]
    saved = dataset_module._JOIN_ROWS, dataset_module._JOIN_CUSTOMERS
    try:
        if join:
            dataset_module._JOIN_ROWS = dataset_module._JOIN_CUSTOMERS = 0
        together = dataset_module.customer_positions_of(arrays, pd.Series(customers))
        alone = [dataset_module.customer_positions(array, pd.Series(customers)) for array in arrays]
    finally:
        dataset_module._JOIN_ROWS, dataset_module._JOIN_CUSTOMERS = saved
    assert len(together) == len(columns)
    for (ids, _), got, single in zip(columns, together, alone, strict=True):
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, _expected(ids, customers))
        np.testing.assert_array_equal(single, _expected(ids, customers))


def _tables() -> dict[str, pd.DataFrame]:
    """Customers c0-c4; orders naming c5 (not a customer: added at its first order); the other tables naming
    known customers, c5, and ids nobody has (x1-x7), in row orders that put the unknown ids first in some."""
    t = "2026-03-0{}T10:00:00Z"
    customers = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(5)], "email": [f"c{i}@example.com" for i in range(5)]}
    )
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(6)],
            "customer_id": ["c0", "c5", "c1", "c5", "c2", "c4"],
            "ordered_at": [t.format(1 + i) for i in range(6)],
            "amount": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
        }
    )
    events = pd.DataFrame(
        {
            "customer_id": ["x1", "c3", "c5", "x2", "x1", "c0", "x3", "x4", "x5", "x6", "c1"],
            "occurred_at": [t.format(1 + i % 9) for i in range(11)],
            "event": ["site_visit"] * 11,
        }
    )
    consents = pd.DataFrame(
        {
            "customer_id": ["c0", "c5", "c1"],
            "channel": ["email", "sms", "email"],
            "status": ["subscribed", "subscribed", "unsubscribed"],
            "recorded_at": [t.format(1), t.format(2), t.format(3)],
        }
    )
    messages = pd.DataFrame(
        {
            "message_id": [f"m{i}" for i in range(8)],
            "customer_id": ["c4", "x7", "c5", "c4", "x7", "c2", "x1", "c0"],
            "channel": ["email", "sms"] * 4,
            "sent_at": [t.format(1 + i) for i in range(8)],
        }
    )
    return {"orders": orders, "customers": customers, "events": events, "consents": consents, "messages": messages}


def test_loading_finds_every_tables_keys_against_the_customers_with_those_orders_add(engine):
    """The keys loading keeps are the positions among the customers after the orders' unknown customer (c5) was
    added, as Python finds them; the orphan rows are counted with their first five ids in row order."""
    tables = _tables()
    dataset = from_frames(**tables)
    customers = dataset.customers["customer_id"].tolist()
    assert customers == ["c0", "c1", "c2", "c3", "c4", "c5"]
    quality = dataset.quality.set_index(["table", "check"])
    for name in ("orders", "events", "consents", "messages"):
        ids = tables[name]["customer_id"].tolist()
        np.testing.assert_array_equal(dataset.customer_keys(name), _expected(ids, customers), err_msg=name)
        if name == "orders":
            continue
        orphans = [i for i in ids if i not in customers]
        row = quality.loc[(name, "customer not in customers table")]
        assert row["rows"] == len(orphans), name
        assert row["examples"] == ", ".join(orphans[:5]), name
        assert row["share"] == pytest.approx(len(orphans) / len(ids)), name
    assert quality.loc[("events", "customer not in customers table"), "examples"] == "x1, x2, x1, x3, x4"


def test_loading_keeps_the_keys_it_found(monkeypatch):
    """Profiles after loading read the kept keys: no table's ids are looked up again."""
    dataset = from_frames(**_tables())

    def again(*args, **kwargs):
        msg = "looked up again"
        raise AssertionError(msg)

    monkeypatch.setattr(dataset_module, "customer_positions", again)
    monkeypatch.setattr(dataset_module, "customer_positions_of", again)
    for name in ("orders", "events", "consents", "messages"):
        assert len(dataset.customer_keys(name)) == dataset.rows(name)


def test_keys_of_a_changed_customers_table_are_found_again():
    """Replacing the customers drops the kept keys; each table's keys are then found against the new customers."""
    dataset = from_frames(**_tables())
    fewer = dataset.customers.iloc[[5, 0]].reset_index(drop=True)  # c5, c0
    changed = dataset.with_tables(customers=fewer)
    for name in ("events", "messages"):
        ids = _tables()[name]["customer_id"].tolist()
        np.testing.assert_array_equal(changed.customer_keys(name), _expected(ids, ["c5", "c0"]), err_msg=name)
