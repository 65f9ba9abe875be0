"""Amounts in several currencies: never added up as if they were one.

Orders carry their own currency (the ``currency`` column of the orders table;
an order without one is in the brand's currency). Wherever amounts are added
up across orders, the figures are either in one currency, or converted into
the reporting currency with rates the strategy states (each with its day and
source: ``measurement.exchange_rates``), and every table says which currency
its figures are in. Orders in several currencies with no rate for one of them
are refused with the currency, the number of orders, example order ids and
the rate to add.

- :func:`order_currencies`: the currency of each order.
- :func:`orders_in_one_currency`: the orders with amounts in one currency (as
  they are, or converted), and that currency; ``only=`` keeps one currency's
  orders for per-currency figures.
- :func:`customers_with_mixed_currencies` and
  :func:`orders_in_customer_currency`: a customer whose orders are in several
  currencies, for the per-customer sums of the profiles;
  :func:`may_mix_currencies` rules it out from two columns, without the table.
- :func:`rates_table`: the rates used, for a report.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .models.errors import DataContractError, MeasurementError
from .models.measurement import ExchangeRate, MeasurementSettings

__all__ = [
    "CURRENCY_ATTR",
    "CurrencyMix",
    "customers_with_mixed_currencies",
    "may_mix_currencies",
    "order_currencies",
    "orders_in_customer_currency",
    "orders_in_one_currency",
    "rates_table",
    "spend_in_reporting_currency",
]

#: The ``attrs`` key of a frame whose amounts are all in one currency (its ISO 4217 code).
CURRENCY_ATTR = "currency"


def order_currencies(orders: pd.DataFrame, *, default_currency: str) -> pd.Series:
    """The currency of each order (trimmed, upper case); an order without one is in ``default_currency``."""
    if "currency" not in orders.columns:
        return pd.Series(default_currency, index=orders.index, dtype="string")
    code = orders["currency"].astype("string").str.strip().str.upper()
    return code.mask(code.isna() | (code == ""), default_currency)


def _rates(settings: MeasurementSettings | None) -> dict[str, ExchangeRate]:
    return {r.currency: r for r in (settings.exchange_rates if settings is not None else [])}


def _count_table(currency: pd.Series) -> str:
    counts = currency.value_counts()
    return ", ".join(f"{code} {n:,}" for code, n in counts.items())


def _missing_rate_error(orders: pd.DataFrame, currency: pd.Series, missing: Sequence[str], target: str) -> Exception:
    bad = currency.isin(missing).to_numpy()
    ids = orders.loc[bad, "order_id"] if "order_id" in orders.columns else orders.index[bad].to_series()
    example = missing[0]
    return DataContractError(
        "orders",
        "currency",
        f"no exchange rate from {', '.join(missing)} into the reporting currency {target}, so these orders cannot "
        f"be added to the others (orders per currency: {_count_table(currency)})",
        count=int(bad.sum()),
        examples=ids.head(5).tolist(),
        id_column="order_id",
        remedy=(
            "add the rate to the strategy under measurement.exchange_rates, with its day and source, e.g. "
            f"`- {{currency: {example}, rate: <{target} for 1 {example}>, date: 2026-10-31, source: <where from>}}`; "
            "or measure one currency at a time (currency=<code>)"
        ),
    )


def orders_in_one_currency(
    orders: pd.DataFrame,
    *,
    settings: MeasurementSettings | None = None,
    default_currency: str | None = None,
    only: str | None = None,
) -> pd.DataFrame:
    """The orders with every amount in one currency, named in ``attrs["currency"]``.

    - ``only``: keep the orders in that currency (figures per currency);
    - orders all in one currency: as they are;
    - else every amount converted into ``settings.reporting_currency`` with
      ``settings.exchange_rates`` (``amount`` converted; ``amount_original``
      and ``currency_original`` kept; ``attrs["exchange_rates"]`` lists the
      rates used with their day and source). A currency without a rate is an
      error naming it, its orders and the rate to add; no rates at all is an
      error too: amounts are never added up across currencies.

    Parameters
    ----------
    default_currency
        The currency of an order without one (default: the reporting
        currency, else USD).

    Raises
    ------
    DataContractError
        Orders in a currency without a rate.
    MeasurementError
        ``only`` names a currency no order is in.
    """
    if CURRENCY_ATTR in orders.attrs and not only:
        return orders  # already in one currency
    target = (settings.reporting_currency if settings is not None else None) or default_currency or ""
    if "currency" not in orders.columns and not only:
        out = orders.copy()
        out.attrs[CURRENCY_ATTR] = target  # "" when nobody said which currency the amounts are in
        out.attrs["exchange_rates"] = []
        return out
    currency = order_currencies(orders, default_currency=default_currency or target or "")
    currency = currency.mask(currency == "")
    if only:
        code = only.strip().upper()
        keep = (currency == code).to_numpy()
        if not keep.any():
            msg = f"no order is in {code} (orders per currency: {_count_table(currency) or 'none'})"
            raise MeasurementError(msg + ". Fix: name one of those currencies")
        out = orders.loc[keep].copy()
        out.attrs[CURRENCY_ATTR] = code
        out.attrs["exchange_rates"] = []
        return out
    codes = [c for c in currency.dropna().unique().tolist()]
    if len(codes) <= 1:
        out = orders.copy()
        out.attrs[CURRENCY_ATTR] = codes[0] if codes else target
        out.attrs["exchange_rates"] = []
        return out
    if not target:
        msg = (
            f"orders are in {len(codes)} currencies ({_count_table(currency)}) and no reporting currency is set, "
            "so their amounts cannot be added up. Fix: pass settings=MeasurementSettings(reporting_currency=..., "
            "exchange_rates=[...]) (a strategy's measurement settings report in the brand's currency), or measure "
            "one currency at a time (currency=<code>)"
        )
        raise MeasurementError(msg)
    rates = _rates(settings)
    missing = sorted(c for c in codes if c != target and c not in rates)
    if missing:
        raise _missing_rate_error(orders, currency, missing, target)
    factor = currency.map(lambda c: 1.0 if c == target else rates[c].rate).to_numpy(dtype=float)
    out = orders.copy()
    out["amount_original"] = orders["amount"]
    out["currency_original"] = currency.to_numpy()
    out["amount"] = pd.to_numeric(orders["amount"], errors="coerce").to_numpy(dtype=float) * factor
    out.attrs[CURRENCY_ATTR] = target
    out.attrs["exchange_rates"] = [rates[c].model_dump(mode="json") for c in sorted(codes) if c != target]
    return out


def rates_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The rates a frame's amounts were converted with: ``currency``, ``rate``, ``into``, ``date``, ``source``."""
    rows = [{**r, "into": frame.attrs.get(CURRENCY_ATTR)} for r in frame.attrs.get("exchange_rates", [])]
    return pd.DataFrame(rows, columns=["currency", "rate", "into", "date", "source"])


class CurrencyMix:
    """Customers whose orders are in more than one currency: ``frame`` (``customer_id``, ``currencies``,
    ``orders``), whether their orders were ``converted`` into each one's own currency, and the
    data-quality ``message`` and ``quality_row`` naming them."""

    def __init__(self, frame: pd.DataFrame, *, converted: bool = False, missing: Sequence[str] = ()) -> None:
        self.frame = frame
        self.converted = converted
        self.missing = tuple(missing)

    @classmethod
    def none(cls) -> CurrencyMix:
        """No customer ordered in more than one currency."""
        return cls(pd.DataFrame({"customer_id": pd.Series([], dtype="string"), "currencies": [], "orders": []}))

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def customer_ids(self) -> list[str]:
        ids: list[str] = self.frame["customer_id"].astype(str).tolist()
        return ids

    @property
    def action(self) -> str:
        if self.converted:
            return (
                "revenue columns in the customer's own currency (the latest order's); orders in another currency "
                "converted with the strategy's exchange rates"
            )
        return (
            "revenue columns add up amounts in different currencies for these customers: no exchange rate for "
            f"{', '.join(self.missing)}. Fix: add the rates under measurement.exchange_rates in the strategy"
        )

    def message(self) -> str:
        """One sentence for a report (empty when every customer orders in one currency)."""
        if self.frame.empty:
            return ""
        n = len(self.frame)
        ids = ", ".join(self.customer_ids[:5])
        return f"{n:,} customer{'s' if n != 1 else ''} ordered in more than one currency (e.g. {ids}): {self.action}"

    def quality_row(self, orders_total: int) -> dict[str, object]:
        """A row of ``Dataset.quality`` for these customers' orders."""
        rows = int(self.frame["orders"].sum()) if len(self.frame) else 0
        return {
            "table": "orders",
            "column": "currency",
            "check": "customer with orders in more than one currency",
            "rows": rows,
            "share": rows / orders_total if orders_total else 0.0,
            "examples": ", ".join(self.customer_ids[:5]),
            "action": self.action if len(self.frame) else "",
        }


def _latest_currency(orders: pd.DataFrame, currency: pd.Series) -> pd.Series:
    """Each customer's currency: the one of their latest order (the profiles' rule), indexed by customer_id."""
    frame = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].astype("string").to_numpy(),
            "at": pd.to_datetime(orders["ordered_at"], utc=True, errors="coerce").to_numpy(),
            "c": currency.to_numpy(),
        }
    )
    frame = frame.sort_values(["customer_id", "at"], kind="stable")
    return frame.groupby("customer_id", sort=False)["c"].last()


def _currency_codes(currency: pa.Array | pa.ChunkedArray, *, default_currency: str) -> np.ndarray:
    """Each order's currency as a small integer, equal for equal currencies as :func:`order_currencies` reads them
    (trimmed, upper case, missing or blank as ``default_currency``), found on the distinct values only."""
    chunked = currency if isinstance(currency, pa.ChunkedArray) else pa.chunked_array([currency])
    if not pa.types.is_dictionary(chunked.type):
        chunked = pc.dictionary_encode(chunked.cast(pa.large_string()))
    chunked = chunked.unify_dictionaries()
    if chunked.num_chunks == 0:
        return np.zeros(0, dtype=np.int64)
    values = chunked.chunk(0).dictionary
    indices = pa.chunked_array([c.indices for c in chunked.chunks], type=chunked.type.index_type)
    named = order_currencies(pd.DataFrame({"currency": values.to_pandas()}), default_currency=default_currency)
    codes, uniques = pd.factorize(named, use_na_sentinel=False)
    default = int(np.flatnonzero(uniques == default_currency)[0]) if default_currency in set(uniques) else len(uniques)
    lookup = np.append(codes.astype(np.int64), default)  # a missing value (index -1 below) is the default currency
    positions = indices.fill_null(-1).to_numpy().astype(np.int64, copy=False)
    found: np.ndarray = lookup[positions]
    return found


def may_mix_currencies(
    customer_keys: np.ndarray, currency: pa.Array | pa.ChunkedArray | pd.Series | None, *, default_currency: str
) -> bool:
    """Whether some customer may have orders in more than one currency, from two columns of the orders only.

    ``customer_keys`` holds an integer per order, equal for orders of the same customer (the dataset's customer
    keys); ``currency`` the orders' currency column (None when the orders have none). False means that
    :func:`customers_with_mixed_currencies` finds no customer, so the orders need not be read as a table;
    True that it may find some (orders of ids missing from the customers share one key, and are counted as
    one customer here). Runs over the distinct currency values and one pass of integers.
    """
    if currency is None or len(customer_keys) == 0:
        return False
    if isinstance(currency, pd.Series):
        currency = pa.array(currency.astype("string").array, type=pa.large_string())
    codes = _currency_codes(currency, default_currency=default_currency)
    if codes.min() == codes.max():
        return False
    keys = np.asarray(customer_keys, dtype=np.int64) + 1  # -1 (no such customer) becomes 0
    seen = np.empty(int(keys.max()) + 1, dtype=np.int64)
    seen[keys] = codes  # some currency of each customer's orders: any order in another one is a mix
    return bool((seen[keys] != codes).any())


def customers_with_mixed_currencies(orders: pd.DataFrame, *, default_currency: str) -> CurrencyMix:
    """The customers whose orders are in more than one currency, with the currencies and their order counts."""
    if "currency" not in orders.columns or orders.empty:
        return CurrencyMix.none()
    currency = order_currencies(orders, default_currency=default_currency)
    frame = pd.DataFrame({"customer_id": orders["customer_id"].astype("string").to_numpy(), "c": currency.to_numpy()})
    n = frame.groupby("customer_id", sort=True)["c"].nunique()
    mixed = n[n > 1].index
    if len(mixed) == 0:
        return CurrencyMix.none()
    sub = frame[frame["customer_id"].isin(mixed)]
    out = (
        sub.groupby("customer_id", sort=True)["c"]
        .agg(currencies=lambda s: ", ".join(sorted(set(s))), orders="size")
        .reset_index()
    )
    return CurrencyMix(out)


def orders_in_customer_currency(
    orders: pd.DataFrame,
    *,
    settings: MeasurementSettings | None,
    default_currency: str,
) -> tuple[pd.DataFrame, CurrencyMix]:
    """Orders with every customer's amounts in that customer's own currency, for the per-customer sums.

    A customer's currency is the one of their latest order (as in the profiles).
    A customer whose orders are all in one currency keeps them as they are (the
    usual case: the frame itself is returned). For a customer with orders in
    another currency, each such order's amount is converted through the
    reporting currency with the strategy's rates
    (``amount × rate(order's) ÷ rate(customer's)``), when the strategy has a rate
    for every currency involved; else no order is changed and the
    :class:`CurrencyMix` says these customers' sums add up different currencies
    (a data-quality finding naming them and the rates to add). Rows, their order
    and every other column are kept, so counts and dates are unchanged.
    """
    mix = customers_with_mixed_currencies(orders, default_currency=default_currency)
    if not len(mix):
        return orders, mix
    target = (settings.reporting_currency if settings is not None else None) or default_currency
    rates = _rates(settings)
    involved = sorted({c for cs in mix.frame["currencies"] for c in cs.split(", ")})
    missing = [c for c in involved if c != target and c not in rates]
    if missing:
        return orders, CurrencyMix(mix.frame, converted=False, missing=missing)
    currency = order_currencies(orders, default_currency=default_currency)
    own = _latest_currency(orders, currency).reindex(orders["customer_id"].astype("string")).to_numpy(dtype=object)
    codes = currency.to_numpy(dtype=object)
    differs = codes != own
    to_target = {c: (1.0 if c == target else rates[c].rate) for c in involved}
    factor = np.ones(len(orders))
    idx = np.flatnonzero(differs)
    factor[idx] = np.array([to_target[c] for c in codes[idx]]) / np.array([to_target[c] for c in own[idx]])
    out = orders.copy()
    out["amount"] = pd.to_numeric(orders["amount"], errors="coerce").to_numpy(dtype=float) * factor
    out["currency"] = own
    return out, CurrencyMix(mix.frame, converted=True)


def spend_in_reporting_currency(
    profiles: pd.DataFrame, *, settings: MeasurementSettings | None, default_currency: str
) -> pd.DataFrame:
    """Profiles whose spend (``monetary_value``) is in one currency when the strategy's rates allow it.

    Each profile's spend is in its own ``currency``. When the profiles hold
    several currencies and the strategy has a rate into the reporting currency
    for each, ``monetary_value`` is converted and ``currency`` becomes the
    reporting currency (``attrs["exchange_rates"]`` lists the rates used), so the
    value models predict every customer in it; otherwise the profiles are
    returned as they are and the value models keep each currency apart
    (:func:`workbench.value.customer_value`).
    """
    if "currency" not in profiles.columns or "monetary_value" not in profiles.columns:
        return profiles
    code = profiles["currency"].astype("string").fillna(default_currency)
    codes = sorted(code.unique().tolist())
    target = (settings.reporting_currency if settings is not None else None) or default_currency
    rates = _rates(settings)
    if len(codes) <= 1 or any(c != target and c not in rates for c in codes):
        return profiles
    factor = code.map(lambda c: 1.0 if c == target else rates[c].rate).to_numpy(dtype=float)
    out = profiles.copy()
    out["monetary_value"] = pd.to_numeric(profiles["monetary_value"], errors="coerce").to_numpy(dtype=float) * factor
    out["currency"] = target
    out.attrs["exchange_rates"] = [rates[c].model_dump(mode="json") for c in codes if c != target]
    return out
