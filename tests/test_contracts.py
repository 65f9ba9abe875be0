"""The data contract: each validation error names table, column, count and example ids; inputs stay untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from workbench.io import load_dataset
from workbench.models.errors import DataContractError, WorkbenchError


def _orders(**over) -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "customer_id": ["c1", "c1", "c2", "c3"],
            "ordered_at": ["2024-01-01T10:00:00", "2024-01-05 12:00:00+02:00", "2024-02-01", "2024-03-01T00:00:00Z"],
            "amount": ["10.5", "20", "7.25", "3"],
        }
    )
    for k, v in over.items():
        base[k] = v
    return base


def _write(folder: Path, **tables: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    return folder


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _raises(folder: Path) -> DataContractError:
    before = _digest(folder)
    with pytest.raises(DataContractError) as info:
        load_dataset(folder)
    assert _digest(folder) == before, "loading must not modify the input folder"
    return info.value


def test_missing_required_column_is_named(tmp_path):
    err = _raises(_write(tmp_path, orders=_orders().drop(columns="amount")))
    assert err.table == "orders" and err.column == "amount"
    assert "orders.amount" in str(err) and "missing" in str(err) and "column_map" in str(err)


def test_unparseable_timestamp_names_rows_and_ids(tmp_path):
    err = _raises(_write(tmp_path, orders=_orders(ordered_at=["2024-01-01", "yesterday", "2024-13-45", "2024-03-01"])))
    assert (err.table, err.column, err.count) == ("orders", "ordered_at", 2)
    assert err.examples == ["o2", "o3"]
    assert "orders.ordered_at" in str(err) and "2 rows" in str(err) and "o2, o3" in str(err)


def test_duplicate_order_ids(tmp_path):
    err = _raises(_write(tmp_path, orders=_orders(order_id=["o1", "o1", "o3", "o3"])))
    assert (err.table, err.column, err.count) == ("orders", "order_id", 4)
    assert err.examples == ["o1", "o3"]
    assert "duplicate" in str(err) and "o1, o3" in str(err)


def test_duplicate_customer_ids(tmp_path):
    customers = pd.DataFrame({"customer_id": ["c1", "c2", "c2", "c3"], "email": ["a@x.io", "b@x.io", "c@x.io", None]})
    err = _raises(_write(tmp_path, orders=_orders(), customers=customers))
    assert (err.table, err.column, err.count, err.examples) == ("customers", "customer_id", 2, ["c2"])
    assert "customers.customer_id" in str(err)


def test_non_numeric_amount(tmp_path):
    err = _raises(_write(tmp_path, orders=_orders(amount=["10", "$20", "n/a", "3"])))
    assert (err.table, err.column, err.count, err.examples) == ("orders", "amount", 2, ["o2", "o3"])
    assert "not a number" in str(err) and "Fix:" in str(err)


def test_unknown_consent_channel_and_status(tmp_path):
    consents = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "channel": ["email", "push", "SMS"],
            "status": ["subscribed", "subscribed", "opted-in"],
            "recorded_at": ["2024-01-01"] * 3,
        }
    )
    err = _raises(_write(tmp_path, orders=_orders(), consents=consents))
    assert (err.table, err.column, err.count, err.examples) == ("consents", "channel", 1, ["c2"])
    assert "push" in str(err)
    consents["channel"] = ["email", "sms", "SMS"]
    err = _raises(_write(tmp_path, orders=_orders(), consents=consents))
    assert (err.table, err.column, err.count, err.examples) == ("consents", "status", 1, ["c3"])
    assert "opted-in" in str(err) and "subscribed or unsubscribed" in str(err)


def test_empty_orders_table(tmp_path):
    err = _raises(_write(tmp_path, orders=_orders().iloc[0:0]))
    assert err.table == "orders" and "empty" in str(err)


def test_no_orders_file(tmp_path):
    tmp_path.joinpath("customers.csv").write_text("customer_id\nc1\n")
    err = _raises(tmp_path)
    assert err.table == "orders" and "no orders table" in str(err)


def test_missing_customer_id_in_orders(tmp_path):
    err = _raises(_write(tmp_path, orders=_orders(customer_id=["c1", None, "c2", None])))
    assert (err.table, err.column, err.count) == ("orders", "customer_id", 2)
    assert "row 1" in str(err) and "row 3" in str(err)


def test_timestamps_normalised_to_utc(tmp_path):
    ds = load_dataset(_write(tmp_path, orders=_orders()))
    ts = ds.orders.set_index("order_id")["ordered_at"]
    assert str(ts.dtype) == "datetime64[us, UTC]"
    assert ts["o1"] == pd.Timestamp("2024-01-01 10:00", tz="UTC")  # no zone: read as UTC
    assert ts["o2"] == pd.Timestamp("2024-01-05 10:00", tz="UTC")  # +02:00 converted
    assert ds.orders["amount"].dtype == "float64"


def test_customers_derived_from_orders(tmp_path):
    ds = load_dataset(_write(tmp_path, orders=_orders()))
    assert ds.customers["customer_id"].tolist() == ["c1", "c2", "c3"]
    assert ds.customers.set_index("customer_id").loc["c1", "created_at"] == pd.Timestamp("2024-01-01 10:00", tz="UTC")


def test_derived_customers_sorted_by_id_with_every_order_keyed(tmp_path):
    ids = ["zoë", "Z9", "élan", "a", "zoë", "a", "Z9", "10", "9"]
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(ids))],
            "customer_id": ids,
            "ordered_at": pd.date_range("2024-01-01", periods=len(ids), freq="D", tz="UTC")[::-1],
            "amount": 1.0,
        }
    )
    ds = load_dataset(_write(tmp_path, orders=orders))
    assert ds.customers["customer_id"].tolist() == sorted(set(ids))  # code point order, as Python sorts
    first = orders.groupby("customer_id")["ordered_at"].min()
    assert ds.customers.set_index("customer_id")["created_at"].to_dict() == first.to_dict()
    keys = ds.customer_keys("orders")
    assert ds.customers["customer_id"].to_numpy()[keys].tolist() == ids


def test_column_map_flat_and_per_table(tmp_path):
    raw = _orders().rename(columns={"order_id": "InvoiceNo", "amount": "Total"})
    folder = _write(tmp_path / "a", orders=raw)
    assert load_dataset(folder, column_map={"InvoiceNo": "order_id", "Total": "amount"}).orders["amount"].sum() == 40.75
    per_table = {"orders": {"InvoiceNo": "order_id", "Total": "amount"}}
    assert len(load_dataset(folder, column_map=per_table).orders) == 4


def test_parquet_gzip_and_duckdb_sources(tmp_path):
    (tmp_path / "pq").mkdir()
    _orders().to_parquet(tmp_path / "pq" / "orders.parquet")
    (tmp_path / "gz").mkdir()
    _orders().to_csv(tmp_path / "gz" / "orders.csv.gz", index=False)
    db = tmp_path / "shop.duckdb"
    with duckdb.connect(str(db)) as con:
        con.register("o", _orders())
        con.execute("create table orders as select * from o")
    for source in (tmp_path / "pq", tmp_path / "gz", db):
        ds = load_dataset(source)
        assert ds.orders["amount"].sum() == pytest.approx(40.75), source


def test_invalid_contacts_are_counted_not_fatal(tmp_path):
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "email": ["good@example.com", "broken@", None],
            "phone": ["+14155550123", "+1555123", "+447400123456"],
        }
    )
    ds = load_dataset(_write(tmp_path, orders=_orders(), customers=customers))
    q = ds.quality.set_index("check")
    assert q.loc["invalid email address", "rows"] == 1 and q.loc["invalid email address", "examples"] == "c2"
    assert q.loc["no email address", "rows"] == 1
    assert q.loc["invalid phone number (E.164)", "rows"] == 1
    assert q.loc["invalid phone number (E.164)", "examples"] == "c2"


def test_quality_examples_are_the_first_five_customers_in_row_order(tmp_path):
    ids = [f"c{i}" for i in range(12)]
    emails = ["ok@example.com" if i % 3 == 0 else f"broken{i}@" for i in range(12)]
    customers = pd.DataFrame({"customer_id": ids, "email": emails, "phone": [None] * 12})
    orders = pd.DataFrame(
        {"order_id": ["o1"], "customer_id": ["c0"], "ordered_at": ["2024-01-01T00:00:00Z"], "amount": [5.0]}
    )
    q = load_dataset(_write(tmp_path, orders=orders, customers=customers)).quality.set_index("check")
    assert q.loc["invalid email address", "rows"] == 8
    assert q.loc["invalid email address", "examples"] == "c1, c2, c4, c5, c7"
    assert q.loc["no phone number", "examples"] == "c0, c1, c2, c3, c4"


def test_orders_for_unknown_customers_are_added_and_reported(tmp_path):
    customers = pd.DataFrame({"customer_id": ["c1", "c2"]})
    ds = load_dataset(_write(tmp_path, orders=_orders(), customers=customers))
    assert set(ds.customers["customer_id"]) == {"c1", "c2", "c3"}
    row = ds.quality[(ds.quality["table"] == "orders") & (ds.quality["check"] == "customer not in customers table")]
    assert row["rows"].item() == 1 and row["examples"].item() == "c3"
    # every order has the position of its customer, the added ones included
    keys = ds.customer_keys("orders")
    assert ds.customers["customer_id"].to_numpy()[keys].tolist() == ds.orders["customer_id"].tolist()


def test_customer_keys_are_kept_only_while_their_tables_are(tmp_path):
    events = pd.DataFrame(
        {"customer_id": ["c2", "ghost"], "event": ["site_visit", "site_visit"], "occurred_at": ["2024-01-01"] * 2}
    )
    ds = load_dataset(_write(tmp_path, orders=_orders(), events=events))
    assert ds.customer_keys("events").tolist() == [1, -1]  # ghost is not a customer
    assert ds.customer_keys("events") is ds.customer_keys("events")  # computed once
    # replacing another table keeps the keys; replacing customers recomputes them
    same = ds.with_tables(events=ds.events.iloc[:1])
    assert same.customer_keys("orders") is ds.customer_keys("orders")
    assert same.customer_keys("events").tolist() == [1]
    reordered = ds.with_tables(customers=ds.customers.iloc[::-1].reset_index(drop=True))
    assert reordered.customer_keys("orders").tolist() == [2, 2, 1, 0]
    with pytest.raises(WorkbenchError, match="no consents table"):
        ds.customer_keys("consents")
