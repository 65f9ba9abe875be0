"""The customer keys loading keeps for every table, and the orphan rows it counts, as Python finds them.

Loading finds the position in ``customers`` of every row's customer (``Dataset.customer_keys``), after the
customers the orders name and the customers table lacks were added; rows of other tables whose customer is
nowhere are counted in ``quality`` with their first ids in row order. Every way of finding positions (by number
for ids numbered alike, Arrow's ``index_in`` for small tables, DuckDB's join for large ones) is run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import workbench.models.dataset as dataset_module
from workbench.contracts import from_frames


@pytest.fixture(params=["by number", "look-up", "join"])
def engine(request, monkeypatch):
    """Every way of finding positions: by number (the ids here are numbered alike, ``c0`` to ``c5``), and as
    text by Arrow's ``index_in`` (small tables) or DuckDB's join (large ones)."""
    if request.param != "by number":
        monkeypatch.setattr(dataset_module, "_numbered_positions", lambda values, customers: None)
    if request.param == "join":
        monkeypatch.setattr(dataset_module, "_JOIN_ROWS", 0)
        monkeypatch.setattr(dataset_module, "_JOIN_CUSTOMERS", 0)
    return request.param


def _expected(ids: list[str | None], customers: list[str]) -> np.ndarray:
    return np.array([customers.index(i) if i in customers else -1 for i in ids], dtype=np.int32)


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
