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

``build_profiles`` runs one query per table, grouped by the dataset's integer
customer keys (positions in ``customers``, see
:meth:`~workbench.models.dataset.Dataset.customer_keys`) rather than the string ids,
and places each result by key, so no query joins onto the customers. The
inputs are copied into DuckDB tables first: a table's statistics give the key
range, and DuckDB then groups by customer into an array indexed by key (a
perfect hash) instead of a hash table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from .contracts import contact_validity
from .models.dataset import Dataset
from .models.errors import WorkbenchError
from .models.tables import CANCELLED_STATUSES
from .timezones import resolve_timezones

__all__ = [
    "CANCELLED_STATUSES",
    "ORDER_COLUMNS",
    "PROFILE_COLUMNS",
    "build_profiles",
    "customer_timezones",
    "order_summary",
    "order_summary_sql",
    "resolve_as_of",
]

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


#: The span of dates a profile date may take (and order dates are checked against at load).
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


def resolve_as_of(as_of: object) -> pd.Timestamp:
    """The moment profiles are computed at, in UTC.

    A date (``"2011-12-09"`` or :class:`datetime.date`) means the end of that
    UTC day, so orders placed on that day count. A timestamp is used as given
    (a naive one is read as UTC). Dates outside 1900-2199 are refused.
    """
    if as_of is None:
        raise WorkbenchError("as_of is required (a date such as 2024-06-30). Profiles never use the clock")
    if isinstance(as_of, dt.date) and not isinstance(as_of, dt.datetime):
        _check_span(as_of, as_of)
        return pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    if isinstance(as_of, str) and len(as_of.strip()) == 10:
        try:
            day = dt.date.fromisoformat(as_of.strip())
        except ValueError as exc:
            raise WorkbenchError(f"as_of {as_of!r} is not a date. Fix: write it as YYYY-MM-DD") from exc
        return resolve_as_of(day)
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError, OverflowError) as exc:
        raise WorkbenchError(f"as_of {as_of!r} is not a date or time. Fix: write it as YYYY-MM-DD") from exc
    if pd.isna(ts):
        raise WorkbenchError(f"as_of {as_of!r} is not a date or time. Fix: write it as YYYY-MM-DD")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    _check_span(ts.date(), as_of)
    return ts


def _check_span(day: dt.date, given: object) -> None:
    if not EARLIEST <= day <= LATEST:
        msg = f"as_of {given!s} is outside {EARLIEST.year}-{LATEST.year}. Fix: pass the date the profiles describe"
        raise WorkbenchError(msg)


def _cancelled_sql(has_status: bool) -> str:
    """A boolean SQL expression over an order row: is it a cancellation or return?"""
    if not has_status:
        return "amount < 0"
    statuses = ", ".join(f"'{s}'" for s in CANCELLED_STATUSES)
    return f"(amount < 0 or coalesce(lower(cast(status as varchar)), '') in ({statuses}))"


def order_summary_sql(
    orders: str = "orders", *, as_of_us: int, has_status: bool = True, key: str = "customer_id"
) -> str:
    """The SQL for the order-derived profile columns, one row per ``key`` with an order at ``as_of``.

    Three aggregations over the orders, joined on the key. ``totals`` groups
    the order rows by customer: orders, revenue, cancellations, first and
    last order. ``purchase_days`` merges each customer's purchases per UTC
    day, and ``lifetimes`` counts those days and takes the first day's
    amount; with the first and last order from ``totals`` that gives
    lifetimes' four columns. ``recent`` reads only the last 365 days for the
    30/90/365-day windows. Only what needs the per-day merge goes through the
    per-day table, the largest intermediate result. Without a ``status``
    column, a cancellation is a negative amount. ``key`` is the customer
    column (``customer_id``, or the integer customer keys of a
    :class:`~workbench.models.dataset.Dataset`).
    """
    cancelled = _cancelled_sql(has_status)
    as_of_day = as_of_us // US_PER_DAY

    def since(days: int) -> int:  # first microsecond of the window's first day ("day > as_of_day - days")
        return (as_of_day - days + 1) * US_PER_DAY

    recent = ",\n           ".join(
        f"count(*) filter (where us >= {since(d)}) as orders_{d}d,\n"
        f"           sum(amount) filter (where us >= {since(d)}) as revenue_{d}d"
        for d in (30, 90)
    )
    return f"""
with purchase_days as (
    select {key}, epoch_us(ordered_at) // {US_PER_DAY} as day, sum(amount) as day_amount
    from {orders}
    where epoch_us(ordered_at) <= {as_of_us} and not {cancelled}
    group by all
),
lifetimes as (
    select {key}, count(*) as n_days, arg_min(day_amount, day) as first_day_amount
    from purchase_days
    group by {key}
),
totals as (
    select {key},
           count(*) filter (where not cancelled) as orders_total,
           sum(amount) filter (where not cancelled) as revenue_total,
           count(*) filter (where cancelled) as cancellations,
           min(us) filter (where not cancelled) as first_us,
           max(us) filter (where not cancelled) as last_us
    from (
        select {key}, epoch_us(ordered_at) as us, amount, {cancelled} as cancelled
        from {orders}
        where epoch_us(ordered_at) <= {as_of_us}
    )
    group by {key}
),
recent as (
    select {key},
           count(*) as orders_365d,
           sum(amount) as revenue_365d,
           {recent}
    from (
        select {key}, epoch_us(ordered_at) as us, amount
        from {orders}
        where epoch_us(ordered_at) between {since(365)} and {as_of_us} and not {cancelled}
    )
    group by {key}
)
select t.{key},
       coalesce(l.n_days - 1, 0)::double as frequency,
       coalesce(t.last_us // {US_PER_DAY} - t.first_us // {US_PER_DAY}, 0)::double as recency,
       coalesce({as_of_day} - t.first_us // {US_PER_DAY}, 0)::double as "T",
       -- mean over repeat days: every purchase day but the first
       (case when l.n_days > 1 then (t.revenue_total - l.first_day_amount) / (l.n_days - 1) else 0 end)::double
           as monetary_value,
       t.orders_total::bigint as orders_total,
       coalesce(t.revenue_total, 0)::double as revenue_total,
       (case when t.orders_total > 0 then t.revenue_total / t.orders_total else 0 end)::double as avg_order_value,
       t.cancellations::bigint as cancellations,
       make_timestamp(t.first_us) as first_order_at,
       make_timestamp(t.last_us) as last_order_at,
       ({as_of_day} - t.last_us // {US_PER_DAY})::double as days_since_last_order,
       coalesce(r.orders_30d, 0)::bigint as orders_30d,
       coalesce(r.orders_90d, 0)::bigint as orders_90d,
       coalesce(r.orders_365d, 0)::bigint as orders_365d,
       coalesce(r.revenue_30d, 0)::double as revenue_30d,
       coalesce(r.revenue_90d, 0)::double as revenue_90d,
       coalesce(r.revenue_365d, 0)::double as revenue_365d
from totals t
left join lifetimes l on l.{key} = t.{key}
left join recent r on r.{key} = t.{key}
"""


#: Group by customer with a perfect hash up to 2**20 customer keys (DuckDB's default stops at 2**12).
_PERFECT_HASH_BITS = 20


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("set timezone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # functions print nothing
    con.execute(f"set perfect_ht_threshold = {_PERFECT_HASH_BITS}")
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


# The other tables' parts, each grouped by {key}; $as_of is the profile moment.

_ENGAGEMENT_SQL = """
select {key},
    count(*) filter (where channel = 'email') as email_sends,
    count(opened_at) filter (where channel = 'email' and opened_at <= $as_of) as email_opens,
    count(clicked_at) filter (where channel = 'email' and clicked_at <= $as_of) as email_clicks,
    max(greatest(coalesce(opened_at, clicked_at), coalesce(clicked_at, opened_at)))
        filter (where channel = 'email' and coalesce(opened_at, clicked_at) <= $as_of) as email_last_engaged_at,
    count(*) filter (where channel = 'sms') as sms_sends,
    count(clicked_at) filter (where channel = 'sms' and clicked_at <= $as_of) as sms_clicks,
    max(clicked_at) filter (where channel = 'sms' and clicked_at <= $as_of) as sms_last_engaged_at
from messages where sent_at <= $as_of group by {key}
"""

_EVENTS_SQL = """
select {key},
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
from events where occurred_at <= $as_of group by {key}
"""

_CONSENT_SQL = """
with latest as (
    select {key}, channel, arg_max(status, recorded_at) as status, max(recorded_at) as recorded
    from consents where recorded_at <= $as_of group by {key}, channel
)
select {key},
    max(status) filter (where channel = 'email') as email_consent,
    max(status) filter (where channel = 'sms') as sms_consent,
    max(recorded) filter (where channel = 'email') as email_consent_at,
    max(recorded) filter (where channel = 'sms') as sms_consent_at
from latest group by {key}
"""

_PART_INPUTS = {
    "messages": ["customer_id", "channel", "sent_at", "opened_at", "clicked_at"],
    "events": ["customer_id", "event", "product_id", "occurred_at"],
    "consents": ["customer_id", "channel", "status", "recorded_at"],
}

#: The Arrow type of each input column a table may lack (it is then read as missing everywhere).
_PART_TYPES = {
    "channel": pa.large_string(),
    "event": pa.large_string(),
    "product_id": pa.large_string(),
    "status": pa.large_string(),
    **{c: pa.timestamp("us", tz="UTC") for c in ("sent_at", "opened_at", "clicked_at", "occurred_at", "recorded_at")},
}


#: Each column with the value it takes for a customer its table has no row for
#: (None: missing; NaN: a missing number).
_ORDER_DEFAULTS: dict[str, object] = {
    **{c: 0.0 for c in ("frequency", "recency", "T", "monetary_value", "revenue_total", "avg_order_value")},
    **{c: 0 for c in ("orders_total", "cancellations", "orders_30d", "orders_90d", "orders_365d")},
    **{c: 0.0 for c in ("revenue_30d", "revenue_90d", "revenue_365d")},
    "first_order_at": None,
    "last_order_at": None,
    "days_since_last_order": float("nan"),
}

_PARTS: dict[str, tuple[str, dict[str, object]]] = {
    "messages": (
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
        _CONSENT_SQL,
        {
            "email_consent": "unknown",
            "sms_consent": "unknown",
            "email_consent_at": None,
            "sms_consent_at": None,
        },
    ),
}

_KEY = "customer_key"  # the integer customer keys of the dataset (positions in dataset.customers)


def _keyed(dataset: Dataset, name: str, columns: list[str]) -> pa.Table:
    """Some columns of the dataset's table ``name`` as Arrow, with the customer key in place of the customer id.

    A column the table lacks is all missing."""
    have = set(dataset.column_names(name))
    table = dataset.arrow(name, [c for c in columns if c in have])
    out = {_KEY: pa.array(dataset.customer_keys(name))}
    for column in columns:
        out[column] = table.column(column) if column in have else pa.nulls(dataset.rows(name), _PART_TYPES[column])
    return pa.table(out)


def _load(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Copy ``table`` into DuckDB: unlike a registered view, a table has statistics, and the known
    range of the customer keys lets DuckDB group by customer with a perfect hash (an array indexed
    by key) instead of a hash table."""
    con.register("incoming", table)
    con.execute(f"create table {name} as from incoming")
    con.unregister("incoming")


def _arrow_type(column: str, default: object) -> pa.DataType:
    if isinstance(default, str) or (default is None and not column.endswith("_at")):
        return pa.large_string()
    if default is None:
        return pa.timestamp("us", tz="UTC")
    return pa.int64() if isinstance(default, int) else pa.float64()


def _column(values: pa.ChunkedArray | None, n: int, column: str, default: object) -> object:
    """One profile column for pandas: ``values`` with the default where a customer has none."""
    kind = _arrow_type(column, default)
    values = pa.chunked_array([pa.nulls(n, kind)]) if values is None else values.cast(kind)
    if pa.types.is_timestamp(kind):
        return pd.Series(values.to_pandas().array)
    if pa.types.is_large_string(kind):
        return pd.arrays.ArrowStringArray(values if default is None else values.fill_null(default))
    if default == default:  # not NaN: fill, so counts stay integers
        values = values.fill_null(default)
    array = values.to_numpy()
    return array if array.flags.writeable else array.copy()  # a zero-copy view of Arrow memory is read-only


def _spread(part: pa.Table | None, n: int, defaults: dict[str, object]) -> dict[str, object]:
    """A part's columns with one row per customer, in the order of ``customers`` (by the key column).

    ``part`` is None for a table the dataset does not have: every customer
    gets the default. Rows of customers not in ``customers`` (key -1) are dropped.
    """
    if part is None:
        return {c: _column(None, n, c, d) for c, d in defaults.items()}
    keys = part.column(_KEY).to_numpy()
    index = np.full(n, -1, dtype=np.int64)
    known = keys >= 0
    index[keys[known]] = np.flatnonzero(known)
    placed = part.take(pa.array(index, mask=index < 0))
    return {c: _column(placed.column(c), n, c, d) for c, d in defaults.items()}


def customer_timezones(dataset: Dataset) -> pd.DataFrame:
    """Each customer's time zone (:func:`~workbench.timezones.resolve_timezones`), resolved once per dataset."""
    return dataset.derived("timezones", ("customers",), lambda: resolve_timezones(dataset.customers))


def build_profiles(dataset: Dataset, *, as_of: object) -> pd.DataFrame:
    """One row per customer: orders, engagement, behaviour, consent, time zone, preferred channel.

    Parameters
    ----------
    dataset
        A :class:`~workbench.models.dataset.Dataset` (only ``orders`` is required).
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

    Notes
    -----
    Each table's part is one SQL query grouped by the dataset's integer
    customer keys (:meth:`~workbench.models.dataset.Dataset.customer_keys`); the
    parts are placed by key, so no query joins onto the customers.
    """
    ts = resolve_as_of(as_of)
    customers = dataset.customers
    n = len(customers)
    params = {"as_of": ts.to_pydatetime()}
    computed: dict[str, object] = {}
    with _connect() as con:
        has_status = "status" in dataset.column_names("orders")
        order_columns = ["ordered_at", "amount"] + (["status"] if has_status else [])
        _load(con, "orders_in", _keyed(dataset, "orders", order_columns))
        sql = order_summary_sql("orders_in", as_of_us=_epoch_us(ts), has_status=has_status, key=_KEY)
        computed.update(_spread(con.sql(sql).to_arrow_table(), n, _ORDER_DEFAULTS))
        for name, (part_sql, defaults) in _PARTS.items():
            part = None
            if dataset.has(name):
                _load(con, name, _keyed(dataset, name, _PART_INPUTS[name][1:]))
                part = con.sql(part_sql.format(key=_KEY), params=params).to_arrow_table()
            computed.update(_spread(part, n, defaults))

    attrs = [
        c
        for c in ("email", "phone", "first_name", "country", "region", "loyalty_tier", "created_at")
        if c in customers.columns
    ]
    # Series (not raw arrays) of what the dataset holds, so that editing the profiles copies rather than
    # writes through to dataset.customers or its cached values
    columns: dict[str, Any] = {c: customers[c].reset_index(drop=True) for c in ["customer_id", *attrs]}
    columns.update(computed)
    first_order = computed["first_order_at"]
    started = columns.get("created_at", first_order)
    started = started.where(started.notna() & (started <= ts), first_order)
    columns["tenure_days"] = ((ts - started).dt.total_seconds() / 86_400).round(3)
    valid = contact_validity(dataset)
    columns["has_valid_email"], columns["has_valid_phone"] = valid["email"].copy(), valid["phone"].copy()
    for channel, address in (("email", "email"), ("sms", "phone")):
        subscribed = pd.Series(computed[f"{channel}_consent"]) == "subscribed"
        columns[f"can_{channel}"] = subscribed.to_numpy(dtype=bool, na_value=False) & columns[f"has_valid_{address}"]
    zones = customer_timezones(dataset)
    for col in ("timezone", "timezones", "timezone_source"):
        columns[col] = zones[col]  # same row order as customers, keeping the Arrow strings as they are
    stated = customers["preferred_channel"] if "preferred_channel" in customers.columns else None
    columns["preferred_channel"], columns["preferred_channel_source"] = _preferred_channel(columns, stated)
    return pd.DataFrame({c: columns[c] for c in ["customer_id", *attrs, *PROFILE_COLUMNS[1:]]}, copy=False)


_CHANNEL_CHOICES = pa.array(["none", "email", "sms"])
_CHANNEL_SOURCES = pa.array(["inferred", "unreachable", "stated"])


def _preferred_channel(columns: dict[str, object], stated: pd.Series | None = None) -> tuple[object, object]:
    """Stated preference, else the reachable channel with the better click rate, else the reachable one.

    A click rate counts from three sends; with both channels reachable and no
    better SMS rate, email is chosen. Returns the channel and its source
    (``stated``, ``inferred`` or ``unreachable``) as string arrays.
    """

    def click_rate(channel: str) -> np.ndarray:
        sends = np.asarray(columns[f"{channel}_sends"], dtype=float)
        enough = sends >= 3
        return np.where(enough, np.asarray(columns[f"{channel}_clicks"]) / np.where(enough, sends, 1), -1.0)

    can_email, can_sms = np.asarray(columns["can_email"]), np.asarray(columns["can_sms"])
    choice = np.where(can_email, 1, np.where(can_sms, 2, 0))
    choice[can_email & can_sms & (click_rate("sms") > click_rate("email"))] = 2
    source = np.where(can_email | can_sms, 0, 1)
    if stated is not None:
        said = pd.Series(stated.array).astype("string").str.lower()
        for code, channel in ((1, "email"), (2, "sms")):
            chosen = (said == channel).to_numpy(dtype=bool, na_value=False)
            choice[chosen] = code
            source[chosen] = 2
    return (
        pd.arrays.ArrowStringArray(_CHANNEL_CHOICES.take(choice)),
        pd.arrays.ArrowStringArray(_CHANNEL_SOURCES.take(source)),
    )
