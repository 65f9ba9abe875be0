"""Unified customer profiles: one row per customer, computed with SQL on embedded DuckDB.

The order part reproduces lifetimes' ``summary_data_from_transaction_data``
with ``freq='D'`` exactly: orders on the same UTC day merge into one purchase
day; ``frequency`` counts repeat purchase days, ``recency`` is the number of
days from the first to the last purchase day, ``T`` the days from the first
purchase day to the ``as_of`` day, and ``monetary_value`` the mean amount of
the repeat purchase days (0 without repeats). Cancellations and returns (a
negative amount or a cancelled/returned status) are not purchases.

The SQL uses integer day numbers (``epoch_us(ts) // 86400000000``) rather than
``date_trunc`` on a TIMESTAMPTZ, which goes through the time-zone library and
is several times slower, and it is plain enough for SQLGlot to translate to a
warehouse dialect when profiles are pushed down.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from .contracts import valid_emails, valid_phones
from .errors import WorkbenchError
from .sources import Dataset
from .timezones import resolve_timezones

__all__ = [
    "CANCELLED_STATUSES",
    "ORDER_COLUMNS",
    "PROFILE_COLUMNS",
    "build_profiles",
    "order_summary",
    "order_summary_sql",
    "resolve_as_of",
]

CANCELLED_STATUSES = ("cancelled", "canceled", "returned", "refunded", "void")
US_PER_DAY = 86_400_000_000

ORDER_COLUMNS = [
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "orders_total",
    "revenue_total",
    "avg_order_value",
    "cancellations",
    "first_order_at",
    "last_order_at",
    "days_since_last_order",
    "orders_30d",
    "orders_90d",
    "orders_365d",
    "revenue_30d",
    "revenue_90d",
    "revenue_365d",
]

PROFILE_COLUMNS = [
    "customer_id",
    *ORDER_COLUMNS,
    "tenure_days",
    "email_sends",
    "email_opens",
    "email_clicks",
    "email_last_engaged_at",
    "sms_sends",
    "sms_clicks",
    "sms_last_engaged_at",
    "site_visits_7d",
    "site_visits_30d",
    "product_views_7d",
    "product_views_30d",
    "cart_adds_7d",
    "cart_adds_30d",
    "checkouts_30d",
    "support_tickets_30d",
    "last_viewed_product",
    "last_cart_at",
    "last_event_at",
    "email_consent",
    "sms_consent",
    "email_consent_at",
    "sms_consent_at",
    "has_valid_email",
    "has_valid_phone",
    "can_email",
    "can_sms",
    "timezone",
    "timezones",
    "timezone_source",
    "preferred_channel",
    "preferred_channel_source",
]


def resolve_as_of(as_of: object) -> pd.Timestamp:
    """The moment profiles are computed at, in UTC.

    A date (``"2011-12-09"`` or :class:`datetime.date`) means the end of that
    UTC day, so orders placed on that day count. A timestamp is used as given
    (a naive one is read as UTC).
    """
    if as_of is None:
        raise WorkbenchError("as_of is required (a date such as 2024-06-30). Profiles never use the clock")
    if isinstance(as_of, dt.date) and not isinstance(as_of, dt.datetime):
        return pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    if isinstance(as_of, str) and len(as_of.strip()) == 10:
        try:
            day = dt.date.fromisoformat(as_of.strip())
        except ValueError as exc:
            raise WorkbenchError(f"as_of {as_of!r} is not a date. Fix: write it as YYYY-MM-DD") from exc
        return resolve_as_of(day)
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError) as exc:
        raise WorkbenchError(f"as_of {as_of!r} is not a date or time. Fix: write it as YYYY-MM-DD") from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def order_summary_sql(orders: str = "orders", *, as_of_us: int, has_status: bool = True) -> str:
    """The SQL for the order-derived profile columns over a table or view named ``orders``.

    One scan of the orders: a first aggregation by customer and UTC day keeps
    purchases and cancellations apart with filtered aggregates, a second by
    customer derives every column. Without a ``status`` column, a cancellation
    is a negative amount.
    """
    cancelled = "amount < 0"
    if has_status:
        statuses = ", ".join(f"'{s}'" for s in CANCELLED_STATUSES)
        cancelled = f"(amount < 0 or coalesce(lower(cast(status as varchar)), '') in ({statuses}))"
    as_of_day = as_of_us // US_PER_DAY
    return f"""
with days as (
    select customer_id,
           epoch_us(ordered_at) // {US_PER_DAY} as day,
           sum(amount) filter (where not {cancelled}) as day_amount,
           count(*) filter (where not {cancelled}) as n_orders,
           count(*) filter (where {cancelled}) as n_cancelled,
           min(epoch_us(ordered_at)) filter (where not {cancelled}) as first_us,
           max(epoch_us(ordered_at)) filter (where not {cancelled}) as last_us
    from {orders}
    where epoch_us(ordered_at) <= {as_of_us}
    group by all
),
summary as (
    select customer_id,
           count(*) filter (where n_orders > 0) as n_days,
           max(day) filter (where n_orders > 0) as last_day,
           min(day) filter (where n_orders > 0) as first_day,
           sum(day_amount) as revenue_total,
           arg_min(day_amount, day) filter (where n_orders > 0) as first_day_amount,
           sum(n_orders) as orders_total,
           sum(n_cancelled) as cancellations,
           min(first_us) as first_us, max(last_us) as last_us,
           sum(n_orders) filter (where day > {as_of_day - 30}) as orders_30d,
           sum(n_orders) filter (where day > {as_of_day - 90}) as orders_90d,
           sum(n_orders) filter (where day > {as_of_day - 365}) as orders_365d,
           sum(day_amount) filter (where day > {as_of_day - 30}) as revenue_30d,
           sum(day_amount) filter (where day > {as_of_day - 90}) as revenue_90d,
           sum(day_amount) filter (where day > {as_of_day - 365}) as revenue_365d
    from days group by customer_id
)
select customer_id,
       greatest(n_days - 1, 0)::double as frequency,
       coalesce(last_day - first_day, 0)::double as recency,
       coalesce({as_of_day} - first_day, 0)::double as "T",
       -- mean over repeat days: every purchase day but the first
       (case when n_days > 1 then (revenue_total - first_day_amount) / (n_days - 1) else 0 end)::double
           as monetary_value,
       orders_total::bigint as orders_total,
       coalesce(revenue_total, 0)::double as revenue_total,
       (case when orders_total > 0 then revenue_total / orders_total else 0 end)::double as avg_order_value,
       cancellations::bigint as cancellations,
       make_timestamp(first_us) as first_order_at,
       make_timestamp(last_us) as last_order_at,
       ({as_of_day} - last_day)::double as days_since_last_order,
       coalesce(orders_30d, 0)::bigint as orders_30d,
       coalesce(orders_90d, 0)::bigint as orders_90d,
       coalesce(orders_365d, 0)::bigint as orders_365d,
       coalesce(revenue_30d, 0)::double as revenue_30d,
       coalesce(revenue_90d, 0)::double as revenue_90d,
       coalesce(revenue_365d, 0)::double as revenue_365d
from summary
"""


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("set timezone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # functions print nothing
    return con


def order_summary(orders: pd.DataFrame, *, as_of: object) -> pd.DataFrame:
    """The order-derived profile columns (``ORDER_COLUMNS``) for every customer with an order.

    Examples
    --------
    >>> orders = pd.DataFrame({
    ...     "order_id": ["1", "2", "3"], "customer_id": ["a", "a", "a"],
    ...     "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-11"], utc=True),
    ...     "amount": [10.0, 5.0, 20.0]})
    >>> order_summary(orders, as_of="2024-01-31")[["frequency", "recency", "T", "monetary_value"]]
       frequency  recency     T  monetary_value
    0        1.0     10.0  30.0            20.0
    """
    ts = resolve_as_of(as_of)
    with _connect() as con:
        con.register("orders_in", _order_view(orders))
        sql = order_summary_sql("orders_in", as_of_us=_epoch_us(ts), has_status="status" in orders.columns)
        out = con.execute(sql).df()
    return _fix_timestamps(out.sort_values("customer_id", ignore_index=True))


def _order_view(orders: pd.DataFrame) -> pd.DataFrame:
    cols = ["customer_id", "ordered_at", "amount"] + (["status"] if "status" in orders.columns else [])
    return orders[cols]


def _epoch_us(ts: pd.Timestamp) -> int:
    return int(ts.value // 1000)


def _fix_timestamps(df: pd.DataFrame) -> pd.DataFrame:
    out = df
    for col in df.columns:
        if col.endswith("_at"):
            series = df[col]
            if pd.api.types.is_datetime64_any_dtype(series.dtype):
                if getattr(series.dtype, "tz", None) is None:
                    series = series.dt.tz_localize("UTC")
                out = out.assign(**{col: series.dt.tz_convert("UTC").astype("datetime64[us, UTC]")})
    return out


_ENGAGEMENT_SQL = """
select customer_id,
    count(*) filter (where channel = 'email') as email_sends,
    count(opened_at) filter (where channel = 'email' and opened_at <= $as_of) as email_opens,
    count(clicked_at) filter (where channel = 'email' and clicked_at <= $as_of) as email_clicks,
    max(greatest(coalesce(opened_at, clicked_at), coalesce(clicked_at, opened_at)))
        filter (where channel = 'email' and coalesce(opened_at, clicked_at) <= $as_of) as email_last_engaged_at,
    count(*) filter (where channel = 'sms') as sms_sends,
    count(clicked_at) filter (where channel = 'sms' and clicked_at <= $as_of) as sms_clicks,
    max(clicked_at) filter (where channel = 'sms' and clicked_at <= $as_of) as sms_last_engaged_at
from messages where sent_at <= $as_of group by customer_id
"""

_EVENTS_SQL = """
select customer_id,
    count(*) filter (where event = 'site_visit' and occurred_at > $as_of - interval 7 day) as site_visits_7d,
    count(*) filter (where event = 'site_visit' and occurred_at > $as_of - interval 30 day) as site_visits_30d,
    count(*) filter (where event = 'product_view' and occurred_at > $as_of - interval 7 day) as product_views_7d,
    count(*) filter (where event = 'product_view' and occurred_at > $as_of - interval 30 day) as product_views_30d,
    count(*) filter (where event = 'add_to_cart' and occurred_at > $as_of - interval 7 day) as cart_adds_7d,
    count(*) filter (where event = 'add_to_cart' and occurred_at > $as_of - interval 30 day) as cart_adds_30d,
    count(*) filter (where event = 'checkout_started' and occurred_at > $as_of - interval 30 day) as checkouts_30d,
    count(*) filter (where event = 'support_ticket' and occurred_at > $as_of - interval 30 day) as support_tickets_30d,
    arg_max(cast(product_id as varchar), occurred_at) filter (where event = 'product_view') as last_viewed_product,
    max(occurred_at) filter (where event in ('add_to_cart', 'checkout_started')) as last_cart_at,
    max(occurred_at) as last_event_at
from events where occurred_at <= $as_of group by customer_id
"""

_CONSENT_SQL = """
with latest as (
    select customer_id, channel, arg_max(status, recorded_at) as status, max(recorded_at) as recorded
    from consents where recorded_at <= $as_of group by customer_id, channel
)
select customer_id,
    max(status) filter (where channel = 'email') as email_consent,
    max(status) filter (where channel = 'sms') as sms_consent,
    max(recorded) filter (where channel = 'email') as email_consent_at,
    max(recorded) filter (where channel = 'sms') as sms_consent_at
from latest group by customer_id
"""

_PART_INPUTS = {
    "messages": ["customer_id", "channel", "sent_at", "opened_at", "clicked_at"],
    "events": ["customer_id", "event", "product_id", "occurred_at"],
    "consents": ["customer_id", "channel", "status", "recorded_at"],
}

_EMPTY = {
    "messages": pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="string"),
            "channel": pd.Series(dtype="string"),
            **{c: pd.Series(dtype="datetime64[us, UTC]") for c in ("sent_at", "opened_at", "clicked_at")},
        }
    ),
    "events": pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="string"),
            "event": pd.Series(dtype="string"),
            "product_id": pd.Series(dtype="string"),
            "occurred_at": pd.Series(dtype="datetime64[us, UTC]"),
        }
    ),
    "consents": pd.DataFrame(
        {
            "customer_id": pd.Series(dtype="string"),
            "channel": pd.Series(dtype="string"),
            "status": pd.Series(dtype="string"),
            "recorded_at": pd.Series(dtype="datetime64[us, UTC]"),
        }
    ),
}


def _table(dataset: Dataset, name: str, columns: list[str]) -> pd.DataFrame:
    df = getattr(dataset, name)
    out = df[[c for c in columns if c in df.columns]]
    for col in columns:
        if col not in out.columns:
            out = (
                out.assign(**{col: _EMPTY[name][col]})
                if len(out) == 0
                else out.assign(**{col: pd.Series(pd.NA, index=out.index, dtype=_EMPTY[name][col].dtype)})
            )
    return out


_COUNT_COLUMNS = (
    "email_sends",
    "email_opens",
    "email_clicks",
    "sms_sends",
    "sms_clicks",
    "site_visits_7d",
    "site_visits_30d",
    "product_views_7d",
    "product_views_30d",
    "cart_adds_7d",
    "cart_adds_30d",
    "checkouts_30d",
    "support_tickets_30d",
)


_PARTS = {
    # table: (alias, SQL, its columns with the value they take for a customer it has no row for)
    "messages": (
        "e",
        _ENGAGEMENT_SQL,
        {
            "email_sends": 0,
            "email_opens": 0,
            "email_clicks": 0,
            "sms_sends": 0,
            "sms_clicks": 0,
            "email_last_engaged_at": None,
            "sms_last_engaged_at": None,
        },
    ),
    "events": (
        "ev",
        _EVENTS_SQL,
        {
            "site_visits_7d": 0,
            "site_visits_30d": 0,
            "product_views_7d": 0,
            "product_views_30d": 0,
            "cart_adds_7d": 0,
            "cart_adds_30d": 0,
            "checkouts_30d": 0,
            "support_tickets_30d": 0,
            "last_viewed_product": None,
            "last_cart_at": None,
            "last_event_at": None,
        },
    ),
    "consents": (
        "k",
        _CONSENT_SQL,
        {
            "email_consent": "unknown",
            "sms_consent": "unknown",
            "email_consent_at": None,
            "sms_consent_at": None,
        },
    ),
}


def _profile_sql(as_of_us: int, *, has_status: bool, tables: set[str]) -> str:
    """One statement: the order summary and each present table's part, joined onto every customer."""
    zero = ",\n       ".join(
        f'coalesce(o."{c}", 0) as "{c}"'
        for c in ORDER_COLUMNS
        if not c.endswith("_order_at") and c != "days_since_last_order"
    )
    ctes = [f"o as ({order_summary_sql('orders_in', as_of_us=as_of_us, has_status=has_status)})"]
    columns = [zero, "o.first_order_at, o.last_order_at, o.days_since_last_order"]
    joins = ["left join o on o.customer_id = c.customer_id"]
    for table, (alias, sql, defaults) in _PARTS.items():
        if table not in tables:
            continue
        ctes.append(f"{alias} as ({sql})")
        joins.append(f"left join {alias} on {alias}.customer_id = c.customer_id")
        for column, default in defaults.items():
            if default is None:
                columns.append(f"{alias}.{column}")
            elif isinstance(default, str):
                columns.append(f"coalesce({alias}.{column}, '{default}') as {column}")
            else:
                columns.append(f"coalesce({alias}.{column}, 0)::bigint as {column}")
    return (
        "with "
        + ",\n".join(ctes)
        + "\nselect c._pos,\n       "
        + ",\n       ".join(columns)
        + "\nfrom customers_in c\n"
        + "\n".join(joins)
        + "\norder by c._pos\n"
    )


def _absent_columns(n: int, tables: set[str]) -> dict[str, object]:
    """Columns of the tables a dataset does not have, as their no-row values."""
    out: dict[str, object] = {}
    for table, (_, _, defaults) in _PARTS.items():
        if table in tables:
            continue
        for column, default in defaults.items():
            if default is None and column.endswith("_at"):
                out[column] = pd.Series(pd.NaT, index=range(n), dtype="datetime64[us, UTC]")
            elif default is None or isinstance(default, str):
                out[column] = pd.Series(pd.NA if default is None else default, index=range(n), dtype="string")
            else:
                out[column] = np.zeros(n, dtype=np.int64)
    return out


def build_profiles(dataset: Dataset, *, as_of: object) -> pd.DataFrame:
    """One row per customer: orders, engagement, behaviour, consent, time zone, preferred channel.

    Parameters
    ----------
    dataset
        A :class:`~workbench.sources.Dataset` (only ``orders`` is required).
    as_of
        The moment of the profile (a date means the end of that day, UTC).
        Nothing after it is counted.

    Returns
    -------
    DataFrame
        The customer attributes present (``email``, ``phone``,
        ``first_name``, ``country``, ``region``, ``loyalty_tier``,
        ``created_at``) followed by ``PROFILE_COLUMNS``, one row per customer in
        the order of ``dataset.customers``. Customers with no order have
        ``frequency`` 0 and missing order dates; consent is ``subscribed``,
        ``unsubscribed`` or ``unknown`` (no ledger row yet), and ``can_email``
        / ``can_sms`` are true only with consent and a valid address.
    """
    ts = resolve_as_of(as_of)
    customers = dataset.customers
    ids = pd.DataFrame({"customer_id": customers["customer_id"].to_numpy(), "_pos": np.arange(len(customers))})
    with _connect() as con:
        con.register("customers_in", ids)
        con.register("orders_in", _order_view(dataset.orders))
        tables = {name for name in _PARTS if getattr(dataset, name) is not None}
        for name in sorted(tables):
            con.register(name, _table(dataset, name, _PART_INPUTS[name]))
        sql = _profile_sql(_epoch_us(ts), has_status="status" in dataset.orders.columns, tables=tables)
        computed = con.execute(sql, {"as_of": ts.to_pydatetime()} if tables else None).df()
    computed = computed.assign(**_absent_columns(len(computed), tables))

    attrs = [
        c
        for c in ("email", "phone", "first_name", "country", "region", "loyalty_tier", "created_at")
        if c in customers.columns
    ]
    out = customers[["customer_id", *attrs]].reset_index(drop=True)
    computed = _fix_timestamps(computed.drop(columns="_pos"))
    out = pd.concat([out, computed], axis=1)
    started = out["created_at"] if "created_at" in out.columns else out["first_order_at"]
    started = started.where(started.notna() & (started <= ts), out["first_order_at"])
    out["tenure_days"] = ((ts - started).dt.total_seconds() / 86_400).round(3)
    for ch in ("email", "sms"):
        out[f"{ch}_consent"] = out[f"{ch}_consent"].astype("string")
    for column, check in (("email", valid_emails), ("phone", valid_phones)):
        present = column in out.columns and out[column].notna().any()
        out[f"has_valid_{column}"] = check(out[column]) if present else False
    out["can_email"] = (out["email_consent"] == "subscribed") & out["has_valid_email"]
    out["can_sms"] = (out["sms_consent"] == "subscribed") & out["has_valid_phone"]
    zones = resolve_timezones(customers)
    for col in ("timezone", "timezones", "timezone_source"):
        out[col] = zones[col].array  # same row order as out; .array keeps the Arrow strings as they are
    stated = customers["preferred_channel"].to_numpy() if "preferred_channel" in customers.columns else None
    out["preferred_channel"], out["preferred_channel_source"] = _preferred_channel(out, stated)
    out["last_viewed_product"] = out["last_viewed_product"].astype("string")
    return out[["customer_id", *attrs, *PROFILE_COLUMNS[1:]]]


def _preferred_channel(df: pd.DataFrame, stated_values: object = None) -> tuple[pd.Series, pd.Series]:
    """Stated preference, else the reachable channel with the better click rate, else the reachable one."""
    email_rate = df["email_clicks"] / df["email_sends"].where(df["email_sends"] >= 3)
    sms_rate = df["sms_clicks"] / df["sms_sends"].where(df["sms_sends"] >= 3)
    inferred = pd.Series("none", index=df.index, dtype="string")
    inferred = inferred.mask(df["can_sms"], "sms").mask(df["can_email"], "email")
    both = df["can_email"] & df["can_sms"]
    sms_better = both & (sms_rate.fillna(-1) > email_rate.fillna(-1))
    inferred = inferred.mask(sms_better, "sms")
    source = pd.Series("inferred", index=df.index, dtype="string")
    source = source.mask(~(df["can_email"] | df["can_sms"]), "unreachable")
    if stated_values is not None:
        stated = pd.Series(stated_values, index=df.index).astype("string").str.lower()
        use = stated.isin(["email", "sms"]).fillna(False)
        inferred = inferred.mask(use, stated)
        source = source.mask(use, "stated")
    return inferred, source
