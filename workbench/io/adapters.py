"""Adapters for real public datasets: the UCI Online Retail invoices and the Hillstrom e-mail experiment."""

from __future__ import annotations

import os
import re

import pandas as pd

from ..contracts import derive_customers, from_frames, quality_row, validate
from ..models.dataset import Dataset
from ..models.errors import DataContractError, WorkbenchError
from ..models.measurement import READOUT_DATASETS
from .resources import sample_data
from .tables import load_dataset

__all__ = ["HILLSTROM_ARMS", "READOUT_DATASETS", "load_hillstrom", "load_online_retail", "load_readout_data"]

_NON_PRODUCT = re.compile(
    r"^(POST|DOT|M|C2|D|S|B|CRUK|PADS|BANK CHARGES|AMAZONFEE|ADJUST.*|gift_\d+_\d+)$", re.IGNORECASE
)


def load_online_retail(path: str | os.PathLike[str]) -> Dataset:
    """Map the UCI Online Retail invoice lines onto the data contract.

    One order per invoice (``amount`` = sum of quantity × unit price over its
    product lines), in the customer's country. What does not fit the contract is
    handled explicitly and counted in ``dataset.quality``:

    - rows without a CustomerID: set aside (no customer to profile);
    - exact duplicate rows: dropped once each;
    - non-product stock codes (postage, fees, manual adjustments, vouchers):
      left out of order amounts;
    - lines with a zero unit price: kept (they add nothing to the amount);
    - cancellations (``C`` invoices): kept as orders with a negative amount and
      status ``cancelled``, so that profiles can exclude them;
    - bad-debt adjustments (``A`` invoices): set aside.
    """
    raw = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str, "Country": str})
    total = len(raw)
    quality = []

    def note(check: str, mask: pd.Series, action: str, column: str) -> None:
        quality.append(
            quality_row(
                "orders",
                column,
                check,
                int(mask.sum()),
                total,
                raw.loc[mask, "InvoiceNo"].drop_duplicates().head(5),
                action,
            )
        )

    no_customer = raw["CustomerID"].isna()
    note("no CustomerID", no_customer, "set aside: no customer to profile", "customer_id")
    duplicate = raw.duplicated(keep="first") & ~no_customer
    note("exact duplicate line", duplicate, "dropped (kept once)", "order_id")
    adjust = raw["InvoiceNo"].str.startswith("A") & ~no_customer & ~duplicate
    note("bad-debt adjustment invoice (A…)", adjust, "set aside", "order_id")
    stock = raw["StockCode"].astype("string").str.strip()
    non_product = stock.str.match(_NON_PRODUCT.pattern, case=False).fillna(False) & ~no_customer & ~duplicate & ~adjust
    note("non-product stock code (postage, fees, vouchers, manual)", non_product, "left out of order amounts", "amount")
    cancel = raw["InvoiceNo"].str.startswith("C") & ~no_customer & ~duplicate & ~adjust & ~non_product
    note("cancellation invoice (C…)", cancel, "kept as a cancelled order with a negative amount", "status")
    keep = raw[~no_customer & ~duplicate & ~adjust & ~non_product].copy()
    keep["line_amount"] = keep["Quantity"] * keep["UnitPrice"]
    keep["customer_id"] = keep["CustomerID"].str.replace(r"\.0$", "", regex=True)
    orders = (
        keep.groupby("InvoiceNo", sort=False)
        .agg(
            customer_id=("customer_id", "first"),
            ordered_at=("InvoiceDate", "first"),
            amount=("line_amount", "sum"),
            country=("Country", "first"),
        )
        .reset_index()
        .rename(columns={"InvoiceNo": "order_id"})
    )
    orders["amount"] = orders["amount"].round(2)
    orders["currency"] = "GBP"
    orders["status"] = orders["order_id"].str.startswith("C").map({True: "cancelled", False: "placed"})
    country = keep.groupby("customer_id")["Country"].agg(lambda s: s.mode().iat[0]).rename("country_name")
    customers = derive_customers(validate("orders", orders[["order_id", "customer_id", "ordered_at", "amount"]]))
    customers = customers.merge(country, left_on="customer_id", right_index=True, how="left")
    customers["country"] = customers["country_name"].map(_UCI_COUNTRIES).astype("string")
    customers = customers.drop(columns="country_name")
    return from_frames(orders, customers, quality=pd.concat(quality, ignore_index=True), source=str(path))


_UCI_COUNTRIES = {
    "United Kingdom": "GB",
    "France": "FR",
    "Australia": "AU",
    "Netherlands": "NL",
    "Germany": "DE",
    "Norway": "NO",
    "EIRE": "IE",
    "Switzerland": "CH",
    "Spain": "ES",
    "Poland": "PL",
    "Portugal": "PT",
    "Italy": "IT",
    "Belgium": "BE",
    "Lithuania": "LT",
    "Japan": "JP",
    "Iceland": "IS",
    "Channel Islands": "JE",
    "Denmark": "DK",
    "Cyprus": "CY",
    "Sweden": "SE",
    "Austria": "AT",
    "Israel": "IL",
    "Finland": "FI",
    "Bahrain": "BH",
    "Greece": "GR",
    "Hong Kong": "HK",
    "Singapore": "SG",
    "Lebanon": "LB",
    "United Arab Emirates": "AE",
    "Saudi Arabia": "SA",
    "Czech Republic": "CZ",
    "Canada": "CA",
    "Brazil": "BR",
    "USA": "US",
    "European Community": None,
    "Malta": "MT",
    "RSA": "ZA",
    "Unspecified": None,
}


HILLSTROM_ARMS = {"Mens E-Mail": "mens", "Womens E-Mail": "womens", "No E-Mail": "control"}


def load_hillstrom(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read Kevin Hillstrom's e-mail experiment: one row per customer, one campaign.

    Adds ``customer_id`` (row number, as the file has none) and ``arm``
    (``mens``, ``womens``, ``control``); keeps ``segment`` as published.
    ``visit`` and ``conversion`` are 0/1 ints, ``spend`` a float.
    """
    df = pd.read_csv(path)
    expected = {"recency", "history", "segment", "visit", "conversion", "spend"}
    missing = sorted(expected - set(df.columns))
    if missing:
        table = "hillstrom"
        raise DataContractError(
            table,
            missing[0],
            f"columns {', '.join(missing)} missing",
            remedy="pass the MineThatData e-mail challenge CSV",
        )
    unknown = ~df["segment"].isin(HILLSTROM_ARMS)
    if unknown.any():
        table = "hillstrom"
        raise DataContractError(
            table,
            "segment",
            "unknown arm",
            count=int(unknown.sum()),
            examples=df.loc[unknown, "segment"].unique()[:5],
            id_column="segment",
            remedy="arms must be 'Mens E-Mail', 'Womens E-Mail' or 'No E-Mail'",
        )
    out = df.copy()
    out.insert(0, "customer_id", [f"H{i:05d}" for i in range(1, len(df) + 1)])
    out["arm"] = out["segment"].map(HILLSTROM_ARMS)
    for col in ("visit", "conversion", "mens", "womens", "newbie"):
        if col in out.columns:
            out[col] = out[col].astype("int64")
    out["spend"] = out["spend"].astype("float64")
    return out


def load_readout_data(kind: str, path: str | os.PathLike[str] | None = None) -> Dataset | pd.DataFrame:
    """The data of a measurement readout: ``sample`` (a dataset folder; default the bundled sample) or
    ``hillstrom`` (the e-mail experiment CSV, whose path is required)."""
    if kind == "sample":
        return load_dataset(path or sample_data())
    if kind == "hillstrom":
        if not path:
            msg = "the hillstrom readout needs data_path: the path of hillstrom.csv.gz (data/real/hillstrom_email/)"
            table = "hillstrom"
            raise DataContractError(table, None, msg)
        return load_hillstrom(path)
    msg = f"unknown readout dataset {kind!r}. Fix: use one of {', '.join(READOUT_DATASETS)}"
    raise WorkbenchError(msg)
