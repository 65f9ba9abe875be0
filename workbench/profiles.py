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

The order columns are the exception: with the keys in hand they are counted
and summed with NumPy (``bincount`` over the rows in their order, one bucket per
window) and the purchase days are counted by sorting one number per (customer,
day) rather than grouping every pair in a hash table, the costliest step of the
SQL. The SQL stays the definition: tests hold the two to each other, and
``build_profiles`` runs the SQL for inputs NumPy is not given (missing amounts
or order times). Sums may differ from the SQL's in the last bits, as the SQL's
own do from run to run (DuckDB adds its threads' partial sums in any order).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .contracts import cancelled_statuses, contact_validity, customer_contact_validity, phone_checks
from .locales import resolve_currencies, resolve_locales
from .models.dataset import Dataset, is_coded_text, text_codes, text_numbers, utc_timestamps
from .models.errors import WorkbenchError
from .models.policy import MarketRule
from .models.tables import CANCELLED_STATUSES
from .timezones import resolve_timezones

if TYPE_CHECKING:
    from sqlglot import exp

__all__ = [
    "ATTRIBUTES",
    "CANCELLED_STATUSES",
    "DIALECTS",
    "LOCALE_COLUMNS",
    "ORDER_COLUMNS",
    "PROFILE_COLUMNS",
    "SQL_COLUMNS",
    "build_profiles",
    "customer_timezones",
    "finish_profiles",
    "order_summary",
    "order_summary_sql",
    "part_sql",
    "profile_sql",
    "resolve_as_of",
    "sql_columns",
    "to_dialect",
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
    "locale",
    "locale_source",
    "currency",
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
        msg = "as_of is required (a date such as 2024-06-30). Profiles never use the clock"
        raise WorkbenchError(msg)
    if isinstance(as_of, dt.date) and not isinstance(as_of, dt.datetime):
        _check_span(as_of, as_of)
        return pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    if isinstance(as_of, str) and len(as_of.strip()) == 10:
        try:
            day = dt.date.fromisoformat(as_of.strip())
        except ValueError as exc:
            msg = f"as_of {as_of!r} is not a date. Fix: write it as YYYY-MM-DD"
            raise WorkbenchError(msg) from exc
        return resolve_as_of(day)
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError, OverflowError) as exc:
        msg = f"as_of {as_of!r} is not a date or time. Fix: write it as YYYY-MM-DD"
        raise WorkbenchError(msg) from exc
    if pd.isna(ts):
        msg = f"as_of {as_of!r} is not a date or time. Fix: write it as YYYY-MM-DD"
        raise WorkbenchError(msg)
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


# ---------------------------------------------------------------- the profile SQL, written once
#
# The SQL below is DuckDB SQL with two functions of our own that each dialect writes its way
# (:func:`to_dialect`): ``epoch_us(ts)``, microseconds since 1970 (DuckDB's own function), and
# ``us_day(us)``, the UTC day number of a microsecond count, rounded down (also before 1970, where
# an integer division that truncates would put 1969-12-31 on day 0). On DuckDB ``us_day`` is a
# macro of integer arithmetic (:data:`US_DAY_MACRO`), as fast as the plain ``//``.

#: Days added before DuckDB's integer division so that it rounds down for every date after 1696.
_DAY_SHIFT = 100_000
#: ``us_day`` on DuckDB: the floor of ``us / 86400000000`` in integer arithmetic.
US_DAY_MACRO = f"(us + {_DAY_SHIFT * US_PER_DAY}) // {US_PER_DAY} - {_DAY_SHIFT}"
#: Dialects the profile SQL is written for (SQLGlot's names).
DIALECTS = ("duckdb", "spark", "snowflake", "bigquery", "postgres")


def _order_ctes(
    orders: str, *, as_of_us: int, has_status: bool, key: str, has_currency: bool = False
) -> list[tuple[str, str]]:
    """The order part as named CTEs; the last one, ``orders_part``, has one row per ``key``.

    With ``has_currency``, ``latest_currency`` is the currency (trimmed, upper
    case, three characters) of the customer's latest order at ``as_of``, of
    several at the same moment the greatest code; without, it is missing.
    """
    cancelled = _cancelled_sql(has_status)
    as_of_day = _floor_day(as_of_us)

    def since(days: int) -> int:  # first microsecond of the window's first day ("day > as_of_day - days")
        return (as_of_day - days + 1) * US_PER_DAY

    recent = ",\n           ".join(
        f"count(*) filter (where us >= {since(d)}) as orders_{d}d,\n"
        f"           sum(amount) filter (where us >= {since(d)}) as revenue_{d}d"
        for d in (30, 90)
    )
    code = "upper(trim(cast(currency as varchar)))"
    currencies = [
        (
            "currencies",
            f"""select {key}, currency as latest_currency from (
        select {key}, {code} as currency,
               row_number() over (partition by {key} order by epoch_us(ordered_at) desc, {code} desc) as pick
        from {orders}
        where epoch_us(ordered_at) <= {as_of_us} and length({code}) = 3
    ) as c where pick = 1""",
        )
    ]
    latest = "cur.latest_currency" if has_currency else "cast(null as varchar)"
    join_currency = f"\nleft join currencies cur on cur.{key} = t.{key}" if has_currency else ""
    return [
        *(currencies if has_currency else []),
        (
            "purchase_days",
            f"""select {key}, us_day(epoch_us(ordered_at)) as day, sum(amount) as day_amount
    from {orders}
    where epoch_us(ordered_at) <= {as_of_us} and not {cancelled}
    group by 1, 2""",
        ),
        (
            "lifetimes",
            f"""select {key}, count(*) as n_days, arg_min(day_amount, day) as first_day_amount
    from purchase_days
    group by {key}""",
        ),
        (
            "totals",
            f"""select {key},
           count(*) filter (where not cancelled) as orders_total,
           sum(amount) filter (where not cancelled) as revenue_total,
           count(*) filter (where cancelled) as cancellations,
           min(us) filter (where not cancelled) as first_us,
           max(us) filter (where not cancelled) as last_us
    from (
        select {key}, epoch_us(ordered_at) as us, amount, {cancelled} as cancelled
        from {orders}
        where epoch_us(ordered_at) <= {as_of_us}
    ) as o
    group by {key}""",
        ),
        (
            "recent",
            f"""select {key},
           count(*) as orders_365d,
           sum(amount) as revenue_365d,
           {recent}
    from (
        select {key}, epoch_us(ordered_at) as us, amount
        from {orders}
        where epoch_us(ordered_at) between {since(365)} and {as_of_us} and not {cancelled}
    ) as o
    group by {key}""",
        ),
        (
            "orders_part",
            f"""select t.{key},
       coalesce(l.n_days - 1, 0)::double as frequency,
       coalesce(us_day(t.last_us) - us_day(t.first_us), 0)::double as recency,
       coalesce({as_of_day} - us_day(t.first_us), 0)::double as "T",
       -- mean over repeat days: every purchase day but the first
       (case when l.n_days > 1 then (t.revenue_total - l.first_day_amount) / (l.n_days - 1) else 0 end)::double
           as monetary_value,
       t.orders_total::bigint as orders_total,
       coalesce(t.revenue_total, 0)::double as revenue_total,
       (case when t.orders_total > 0 then t.revenue_total / t.orders_total else 0 end)::double as avg_order_value,
       t.cancellations::bigint as cancellations,
       make_timestamp(t.first_us) as first_order_at,
       make_timestamp(t.last_us) as last_order_at,
       ({as_of_day} - us_day(t.last_us))::double as days_since_last_order,
       coalesce(r.orders_30d, 0)::bigint as orders_30d,
       coalesce(r.orders_90d, 0)::bigint as orders_90d,
       coalesce(r.orders_365d, 0)::bigint as orders_365d,
       coalesce(r.revenue_30d, 0)::double as revenue_30d,
       coalesce(r.revenue_90d, 0)::double as revenue_90d,
       coalesce(r.revenue_365d, 0)::double as revenue_365d,
       {latest} as latest_currency
from totals t
left join lifetimes l on l.{key} = t.{key}
left join recent r on r.{key} = t.{key}{join_currency}""",
        ),
    ]


def _floor_day(us: int) -> int:
    return us // US_PER_DAY  # Python's // rounds down


def _with(ctes: list[tuple[str, str]], final: str) -> str:
    body = ",\n".join(f"{name} as (\n    {sql}\n)" for name, sql in ctes)
    return f"with {body}\n{final}\n"


def order_summary_sql(
    orders: str = "orders",
    *,
    as_of_us: int,
    has_status: bool = True,
    key: str = "customer_id",
    has_currency: bool = False,
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

    The SQL is DuckDB's with ``us_day`` (:data:`US_DAY_MACRO`, a macro every
    connection of this module defines); :func:`to_dialect` writes it for
    another engine and :func:`profile_sql` gives every SQL column of a profile.
    """
    ctes = _order_ctes(orders, as_of_us=as_of_us, has_status=has_status, key=key, has_currency=has_currency)
    return _with(ctes, "select * from orders_part")


def _timestamp(ts: pd.Timestamp) -> str:
    return f"cast('{ts.strftime('%Y-%m-%d %H:%M:%S.%f')}+00:00' as timestamptz)"


def _part_ctes(name: str, table: str, *, as_of: pd.Timestamp, key: str) -> list[tuple[str, str]]:
    """The messages, events or consents part as named CTEs; the last, ``<name>_part``, one row per ``key``."""
    at = _timestamp(as_of)

    def within(days: int) -> str:  # the last ``days`` days up to as_of
        return f"occurred_at > {_timestamp(as_of - pd.Timedelta(days=days))}"

    if name == "messages":
        return [
            (
                "messages_part",
                f"""select {key},
        count(*) filter (where channel = 'email') as email_sends,
        count(opened_at) filter (where channel = 'email' and opened_at <= {at}) as email_opens,
        count(clicked_at) filter (where channel = 'email' and clicked_at <= {at}) as email_clicks,
        max(greatest(coalesce(opened_at, clicked_at), coalesce(clicked_at, opened_at)))
            filter (where channel = 'email' and coalesce(opened_at, clicked_at) <= {at}) as email_last_engaged_at,
        count(*) filter (where channel = 'sms') as sms_sends,
        count(clicked_at) filter (where channel = 'sms' and clicked_at <= {at}) as sms_clicks,
        max(clicked_at) filter (where channel = 'sms' and clicked_at <= {at}) as sms_last_engaged_at
    from {table} where sent_at <= {at} group by {key}""",
            )
        ]
    if name == "events":
        counts = ",\n        ".join(
            f"count(*) filter (where event = '{event}' and {within(days)}) as {column}"
            for event, column, days in _EVENT_COUNTS
        )
        return [
            (
                "event_counts",
                f"""select {key},
        {counts},
        max(occurred_at) filter (where event in ('add_to_cart', 'checkout_started')) as last_cart_at,
        max(occurred_at) as last_event_at
    from {table} where occurred_at <= {at} group by {key}""",
            ),
            # the latest product viewed; of several viewed at the same moment, the greatest id
            (
                "last_views",
                f"""select {key}, product_id from (
        select {key}, cast(product_id as varchar) as product_id,
               row_number() over (partition by {key} order by occurred_at desc, cast(product_id as varchar) desc)
                   as pick
        from {table}
        where event = 'product_view' and product_id is not null and occurred_at <= {at}
    ) as v where pick = 1""",
            ),
            (
                "events_part",
                f"""select e.*, v.product_id as last_viewed_product
    from event_counts e left join last_views v on v.{key} = e.{key}""",
            ),
        ]
    if name == "consents":
        # the latest ledger row per customer and channel; of two at the same moment, unsubscribed wins
        return [
            (
                "latest_consents",
                f"""select {key}, channel, status, recorded_at from (
        select {key}, channel, status, recorded_at,
               row_number() over (partition by {key}, channel order by recorded_at desc, status desc) as pick
        from {table} where recorded_at <= {at}
    ) as c where pick = 1""",
            ),
            (
                "consents_part",
                f"""select {key},
        max(status) filter (where channel = 'email') as email_consent,
        max(status) filter (where channel = 'sms') as sms_consent,
        max(recorded_at) filter (where channel = 'email') as email_consent_at,
        max(recorded_at) filter (where channel = 'sms') as sms_consent_at
    from latest_consents group by {key}""",
            ),
        ]
    msg = f"no profile part for table {name!r}"
    raise WorkbenchError(msg)


_EVENT_COUNTS = (
    ("site_visit", "site_visits_7d", 7),
    ("site_visit", "site_visits_30d", 30),
    ("product_view", "product_views_7d", 7),
    ("product_view", "product_views_30d", 30),
    ("add_to_cart", "cart_adds_7d", 7),
    ("add_to_cart", "cart_adds_30d", 30),
    ("checkout_started", "checkouts_30d", 30),
    ("support_ticket", "support_tickets_30d", 30),
)


def part_sql(name: str, table: str | None = None, *, as_of: object, key: str = "customer_id") -> str:
    """The SQL of one other table's part of the profile (``messages``, ``events`` or ``consents``), DuckDB dialect."""
    ts = resolve_as_of(as_of)
    return _with(_part_ctes(name, table or name, as_of=ts, key=key), f"select * from {name}_part")


#: Customer attributes a profile carries over from the customers table.
ATTRIBUTES = ("email", "phone", "first_name", "country", "region", "loyalty_tier", "created_at")
#: Customer columns the rest of a profile is computed from (time zone, preferred channel, locale).
INPUT_ATTRIBUTES = ("timezone", "preferred_channel", "locale")


def profile_sql(
    *,
    as_of: object,
    dialect: str = "duckdb",
    tables: Sequence[str] = ("customers", "orders", "messages", "events", "consents"),
    has_status: bool = True,
    has_currency: bool = False,
    customer_columns: Sequence[str] = ATTRIBUTES + INPUT_ATTRIBUTES,
    schema: str | None = None,
    table_names: Mapping[str, str] | None = None,
    pretty: bool = True,
) -> str:
    """One query giving, per customer, every profile column that SQL computes, in ``dialect``.

    The customers table (or, without one, the customers of the orders) left
    joined to each table's part: the order summary
    (:func:`order_summary_sql`), engagement from ``messages``, behaviour from
    ``events`` and the consent ledger's latest state from ``consents``, with
    the value a customer without rows takes (0, ``unknown`` consent, missing
    dates). The customers' ``customer_columns`` that exist come first. What is
    not SQL (valid addresses, time zones, tenure, preferred channel) is
    computed from this result by :func:`finish_profiles`.

    Parameters
    ----------
    as_of
        The profile moment (a date is the end of that day, UTC).
    dialect
        One of :data:`DIALECTS`.
    tables
        The tables the source has (``orders`` is required).
    has_status, has_currency
        Whether ``orders`` has a ``status`` and a ``currency`` column.
    customer_columns
        Columns of ``customers`` to carry (those missing from ``tables`` are left out by the caller).
    schema
        A schema to qualify the table names with.
    table_names
        Other names of the tables (e.g. the temporary views an engine registered), by contract name.

    Examples
    --------
    >>> print(profile_sql(as_of="2026-10-31", dialect="spark").splitlines()[0])
    WITH purchase_days AS (
    """
    if dialect not in DIALECTS:
        msg = f"dialect {dialect!r} is not known. Fix: use one of {', '.join(DIALECTS)}"
        raise WorkbenchError(msg)
    if "orders" not in tables:
        msg = "the profile SQL needs an orders table. Fix: add orders to the source"
        raise WorkbenchError(msg)
    ts = resolve_as_of(as_of)

    def name(table: str) -> str:
        table = (table_names or {}).get(table, table)
        return f"{schema}.{table}" if schema else table

    ctes = _order_ctes(
        name("orders"), as_of_us=_epoch_us(ts), has_status=has_status, key="customer_id", has_currency=has_currency
    )
    present = [part for part in ("messages", "events", "consents") if part in tables]
    for part in present:
        ctes += _part_ctes(part, name(part), as_of=ts, key="customer_id")
    if "customers" in tables:
        source = f"{name('customers')} c"
        carried = [f"c.{column}" for column in customer_columns]
    else:
        # the customers of the orders, created at their first order (as loading derives them)
        derived = f"select customer_id, min(ordered_at) as created_at from {name('orders')} group by customer_id"
        ctes.append(("derived_customers", derived))
        source = "derived_customers c"
        carried = ["c.created_at"] if "created_at" in customer_columns else []
    columns = ["c.customer_id", *carried]
    columns += [_defaulted("o", column, default) for column, default in _ORDER_DEFAULTS.items()]
    joins = ["left join orders_part o on o.customer_id = c.customer_id"]
    for alias, part in (("m", "messages"), ("e", "events"), ("k", "consents")):
        defaults = _PARTS[part]
        if part in present:
            columns += [_defaulted(alias, column, default) for column, default in defaults.items()]
            joins.append(f"left join {part}_part {alias} on {alias}.customer_id = c.customer_id")
        else:
            columns += [f"{_literal(column, default)} as {column}" for column, default in defaults.items()]
    final = "select " + ",\n       ".join(columns) + f"\nfrom {source}\n" + "\n".join(joins)
    return to_dialect(_with(ctes, final), dialect, pretty=pretty)


def _defaulted(alias: str, column: str, default: object) -> str:
    quoted = f'"{column}"' if column == "T" else column
    if default is None or default != default:  # missing stays missing
        return f"{alias}.{quoted} as {quoted}"
    return f"coalesce({alias}.{quoted}, {_literal(column, default)}) as {quoted}"


def _literal(column: str, default: object) -> str:
    if isinstance(default, str):
        return f"'{default}'"
    if default is None or default != default:
        kind = "timestamptz" if column.endswith("_at") else ("double" if column.startswith("days") else "varchar")
        return f"cast(null as {kind})"
    return f"cast({default} as {'bigint' if isinstance(default, int) else 'double'})"


def to_dialect(sql: str, dialect: str, *, pretty: bool = True) -> str:
    """The profile SQL (DuckDB dialect with ``epoch_us`` and ``us_day``) written for ``dialect`` with SQLGlot.

    ``epoch_us`` and ``us_day`` become each engine's own form, so that every
    engine computes the same integer day numbers (Spark:
    ``cast(floor(unix_micros(ts) / 86400000000) as bigint)``); ``arg_min``,
    ``make_timestamp`` and aggregate ``filter`` clauses are written the way each
    engine runs them exactly.
    """
    import sqlglot  # loaded only when SQL is written for another engine

    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = tree.transform(lambda node: _rewrite(node, dialect))
    return tree.sql(dialect=dialect, pretty=pretty)


def _rewrite(node: exp.Expr, dialect: str) -> exp.Expr:
    from sqlglot import exp, parse_one

    def template(text: str, **args: exp.Expr) -> exp.Expr:
        # the arguments are written first (they may hold functions to rewrite too)
        written = {k: v.transform(lambda n: _rewrite(n, dialect)).sql(dialect=dialect) for k, v in args.items()}
        return parse_one(text.format(**written), read=dialect)

    if isinstance(node, exp.Anonymous) and str(node.name).lower() in ("epoch_us", "us_day"):
        arg = node.expressions[0]
        if str(node.name).lower() == "epoch_us":
            forms = {
                "duckdb": "EPOCH_US({x})",
                "spark": "UNIX_MICROS({x})",
                "bigquery": "UNIX_MICROS({x})",
                "snowflake": "DATE_PART(EPOCH_MICROSECOND, {x})",
                "postgres": "CAST(EXTRACT(EPOCH FROM {x}) * 1000000 AS BIGINT)",
            }
        else:
            forms = {
                "duckdb": "(" + US_DAY_MACRO.replace("us", "({x})", 1) + ")",
                "spark": f"CAST(FLOOR({{x}} / {US_PER_DAY}) AS BIGINT)",
                "bigquery": f"CAST(FLOOR({{x}} / {US_PER_DAY}) AS INT64)",
                "snowflake": f"CAST(FLOOR({{x}} / {US_PER_DAY}) AS BIGINT)",
                "postgres": f"CAST(FLOOR({{x}} / {US_PER_DAY}.0) AS BIGINT)",
            }
        return template(forms[dialect], x=arg)
    if dialect == "postgres" and isinstance(node, exp.UnixToTime):
        # exact to the microsecond (to_timestamp goes through a double)
        return template("(TIMESTAMPTZ 'epoch' + {x} * INTERVAL '1 microsecond')", x=node.this)
    if dialect == "postgres" and isinstance(node, exp.ArgMin):
        return template("(ARRAY_AGG({x} ORDER BY {y}))[1]", x=node.this, y=node.expression)
    if dialect in ("bigquery", "snowflake") and isinstance(node, exp.Filter):
        # no FILTER clause: the aggregate reads its argument only where the condition holds
        agg, condition = node.this, node.expression.this
        argument = agg.this if not isinstance(agg.this, exp.Star) else exp.Literal.number(1)
        filtered: exp.Expr = agg.copy()
        filtered.set("this", exp.Case(ifs=[exp.If(this=condition.copy(), true=argument.copy())]))
        return filtered
    return node


#: Group by customer with a perfect hash up to 2**20 customer keys (DuckDB's default stops at 2**12).
_PERFECT_HASH_BITS = 20


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("set timezone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # functions print nothing
    con.execute(f"set perfect_ht_threshold = {_PERFECT_HASH_BITS}")
    con.execute(f"create macro us_day(us) as {US_DAY_MACRO}")
    return con


class _Connection:
    """A DuckDB connection (:func:`_connect`) opened when first asked for, closed on leaving the block: an
    in-memory database takes some 20 ms to open, and the profiles' NumPy parts need none."""

    def __init__(self) -> None:
        self._con: duckdb.DuckDBPyConnection | None = None

    def __call__(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = _connect()
        return self._con

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._con is not None:
            self._con.close()


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
        out = con.execute(sql).df().drop(columns="latest_currency")
    return _fix_timestamps(out.sort_values("customer_id", ignore_index=True))


def _order_view(orders: pd.DataFrame) -> pd.DataFrame:
    cols = ["customer_id", "ordered_at", "amount"] + [c for c in ("status", "currency") if c in orders.columns]
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


_PART_INPUTS = {
    "messages": ["customer_id", "channel", "sent_at", "opened_at", "clicked_at"],
    "events": ["customer_id", "event", "product_id", "occurred_at"],
    "consents": ["customer_id", "channel", "status", "recorded_at"],
}

_UTC_MICROS = pa.timestamp("us", tz="UTC")

#: The Arrow type of each input column a table may lack (it is then read as missing everywhere).
_PART_TYPES = {
    "channel": pa.large_string(),
    "event": pa.large_string(),
    "product_id": pa.large_string(),
    "status": pa.large_string(),
    **{c: _UTC_MICROS for c in ("sent_at", "opened_at", "clicked_at", "occurred_at", "recorded_at")},
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
    "latest_currency": None,
}

#: Each other table's part: its columns with the value a customer without rows takes.
_PARTS: dict[str, dict[str, object]] = {
    "messages": {
        "email_sends": 0,
        "email_opens": 0,
        "email_clicks": 0,
        "email_last_engaged_at": None,
        "sms_sends": 0,
        "sms_clicks": 0,
        "sms_last_engaged_at": None,
    },
    "events": {
        "site_visits_7d": 0,
        "site_visits_30d": 0,
        "product_views_7d": 0,
        "product_views_30d": 0,
        "cart_adds_7d": 0,
        "cart_adds_30d": 0,
        "checkouts_30d": 0,
        "support_tickets_30d": 0,
        "last_cart_at": None,
        "last_event_at": None,
        "last_viewed_product": None,
    },
    "consents": {
        "email_consent": "unknown",
        "sms_consent": "unknown",
        "email_consent_at": None,
        "sms_consent_at": None,
    },
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
        return _UTC_MICROS
    return pa.int64() if isinstance(default, int) else pa.float64()


def _column(values: pa.ChunkedArray | None, n: int, column: str, default: object) -> object:
    """One profile column for pandas: ``values`` with the default where a customer has none."""
    kind = _arrow_type(column, default)
    if values is None and _is_number(kind):
        return np.full(n, default, dtype=kind.to_pandas_dtype())
    values = pa.chunked_array([pa.nulls(n, kind)]) if values is None else values.cast(kind)
    if pa.types.is_timestamp(kind):
        return utc_timestamps(values)
    if pa.types.is_large_string(kind):
        return pd.arrays.ArrowStringArray(values if default is None else values.fill_null(default))
    if default == default:  # not NaN: fill, so counts stay integers
        values = values.fill_null(default)
    array = values.to_numpy()
    return array if array.flags.writeable else array.copy()  # a zero-copy view of Arrow memory is read-only


def _is_number(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def _spread(part: pa.Table | None, n: int, defaults: dict[str, object]) -> dict[str, object]:
    """A part's columns with one row per customer, in the order of ``customers`` (by the key column).

    ``part`` is None for a table the dataset does not have: every customer
    gets the default. Rows of customers not in ``customers`` (key -1) are dropped.
    Numbers are written into an array of the default at their customers' positions;
    text and times are taken by position.
    """
    if part is None:
        return {c: _column(None, n, c, d) for c, d in defaults.items()}
    keys = part.column(_KEY).to_numpy()
    known = keys >= 0
    rows = keys[known]
    kinds = {column: _arrow_type(column, default) for column, default in defaults.items()}
    taken = [column for column, kind in kinds.items() if not _is_number(kind)]
    placed = None
    if taken:
        index = np.full(n, -1, dtype=np.int64)
        index[rows] = np.flatnonzero(known)
        placed = part.select(taken).take(pa.array(index, mask=index < 0))
    out: dict[str, object] = {}
    for column, default in defaults.items():
        kind = kinds[column]
        if placed is not None and column in taken:
            out[column] = _column(placed.column(column), n, column, default)
            continue
        values = part.column(column).cast(kind)
        if default == default:  # not NaN: fill, so counts stay integers
            values = values.fill_null(default)
        full = np.full(n, default, dtype=kind.to_pandas_dtype())
        full[rows] = values.to_numpy()[known]  # a missing float is NaN
        out[column] = full
    return out


def _currency_sql(orders: str, *, as_of_us: int) -> str:
    """Each customer key's ``latest_currency``: the ``currencies`` part of :func:`order_summary_sql`."""
    ctes = _order_ctes(orders, as_of_us=as_of_us, has_status=False, key=_KEY, has_currency=True)
    return _with([c for c in ctes if c[0] == "currencies"], "select * from currencies")


def _order_arrays(dataset: Dataset, n: int, *, as_of_us: int) -> dict[str, object] | None:
    """The order columns of :func:`order_summary_sql` (all but ``latest_currency``), one value per customer in
    the order of ``customers``, computed with NumPy from the customer keys of the orders.

    Sums and counts are ``bincount`` over the order rows in their order; the purchase days of a customer are
    counted by sorting the distinct (customer key, day) numbers rather than grouping every pair in a hash table.
    Gives None, so that the SQL is run, for what it does not handle: missing or non-float amounts, missing
    order times, a status that is not text.
    """
    stamps = dataset.column("orders", "ordered_at")
    amounts = dataset.column("orders", "amount")
    status = dataset.column("orders", "status") if "status" in dataset.column_names("orders") else None
    text = status is None or is_coded_text(status.type)
    usable = stamps.type == _UTC_MICROS and pa.types.is_floating(amounts.type) and text
    if not usable or stamps.null_count or amounts.null_count:
        return None
    us = np.asarray(stamps.cast(pa.int64()).to_numpy(), dtype=np.int64)
    amount = np.asarray(amounts.cast(pa.float64()).to_numpy(), dtype=np.float64)
    keys = dataset.customer_keys("orders")
    as_of_day = _floor_day(as_of_us)
    cancelled = amount < 0
    if status is not None:
        cancelled |= cancelled_statuses(status)
    # rows of unknown customers or after as_of go to an extra key n, dropped at the end
    rows = (keys >= 0) & (us <= as_of_us)
    key = np.where(rows, keys, n)
    bought = np.where(cancelled, n, key)
    day = us // US_PER_DAY  # rounds down, like us_day
    with ThreadPoolExecutor(1) as pool:  # the sort runs beside the sums (NumPy lets go of the interpreter)
        counted = pool.submit(_distinct_days, bought, day, n + 1)
        # one bucket per row and customer: 0 older than a year, 1 within 365 days, 2 within 90, 3 within 30,
        # 4 a cancellation; counts and amounts of every bucket in one pass each
        bucket = (day > as_of_day - 365).astype(np.int8)
        bucket += day > as_of_day - 90
        bucket += day > as_of_day - 30
        bucket[cancelled] = 4
        cell = key.astype(np.int64) * 5 + bucket
        counts = np.bincount(cell, minlength=(n + 1) * 5).reshape(n + 1, 5)[:n]
        sums = np.bincount(cell, weights=amount, minlength=(n + 1) * 5).astype(np.float64, copy=False)
        sums = sums.reshape(n + 1, 5)[:n]  # (bincount of no rows gives integers)
        # the revenue in one sum over the rows in their order (as an engine adding them in one thread does),
        # not the sum of the buckets' sums: lifetimes' monetary value subtracts the first day from it
        revenue = np.bincount(bought, weights=amount, minlength=n + 1).astype(np.float64, copy=False)
        first_us = np.full(n + 1, np.iinfo(np.int64).max)
        last_us = np.full(n + 1, np.iinfo(np.int64).min)
        np.minimum.at(first_us, bought, us)
        np.maximum.at(last_us, bought, us)
        first_day = first_us[:n] // US_PER_DAY
        on_first = day == np.append(first_day, 0)[bought]
        first_day_amount = np.bincount(bought, weights=np.where(on_first, amount, 0.0), minlength=n + 1)[:n]
        first_day_amount = first_day_amount.astype(np.float64, copy=False)
        n_days = counted.result()[:n]
    first_us, last_us = first_us[:n], last_us[:n]
    orders_total = counts[:, :4].sum(axis=1)
    revenue_total = revenue[:n]
    has = orders_total > 0
    first_day = np.where(has, first_day, 0)
    last_day = np.where(has, last_us // US_PER_DAY, 0)
    repeats = np.maximum(n_days - 1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        monetary = np.where(repeats > 0, (revenue_total - first_day_amount) / np.maximum(repeats, 1), 0.0)
        average = np.where(has, revenue_total / np.maximum(orders_total, 1), 0.0)
    out: dict[str, object] = {
        "frequency": repeats.astype(np.float64),
        "recency": (last_day - first_day).astype(np.float64),
        "T": np.where(has, as_of_day - first_day, 0).astype(np.float64),
        "monetary_value": monetary,
        "orders_total": orders_total.astype(np.int64),
        "revenue_total": revenue_total,
        "avg_order_value": average,
        "cancellations": counts[:, 4].astype(np.int64),
        "first_order_at": _micros(np.where(has, first_us, _NAT)),
        "last_order_at": _micros(np.where(has, last_us, _NAT)),
        "days_since_last_order": np.where(has, (as_of_day - last_day).astype(np.float64), np.nan),
    }
    for days, since in ((30, 3), (90, 2), (365, 1)):
        out[f"orders_{days}d"] = counts[:, since:4].sum(axis=1).astype(np.int64)
        out[f"revenue_{days}d"] = sums[:, since:4].sum(axis=1)
    return {c: out[c] for c in _ORDER_DEFAULTS if c in out}


_NAT = np.iinfo(np.int64).min


def _stamps(values: pa.ChunkedArray | None, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """A UTC-microsecond timestamp column as microseconds and whether each is there (None, a column the
    table lacks: none are). Where a value is missing the microseconds are whatever Arrow's buffer holds:
    read them only where the value is there."""
    if values is None:
        return np.zeros(rows, dtype=np.int64), np.zeros(rows, dtype=bool)
    if not values.null_count:
        return np.asarray(values.cast(pa.int64()).to_numpy(), dtype=np.int64), np.ones(len(values), dtype=bool)
    parts = [_int64_buffer(c) for c in values.chunks if len(c)]
    micros = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return micros, np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _int64_buffer(chunk: pa.Array) -> np.ndarray:
    """The 64-bit values of an Arrow array as its buffer holds them (zeros when it has none: all missing)."""
    data = chunk.buffers()[1]
    if data is None:
        return np.zeros(len(chunk), dtype=np.int64)
    return np.frombuffer(data, dtype=np.int64)[chunk.offset : chunk.offset + len(chunk)]


#: Rows of messages counted at a time: each batch's temporaries (a dozen arrays of one value per row) are
#: a few megabytes, reused from one batch to the next, instead of a dozen arrays as long as the table.
_MESSAGE_BATCH = 1 << 20


#: The cells a customer's messages are counted in: email by (opened, clicked) by as_of, then SMS by clicked.
_CELLS = 6


class _MessageCounts:
    """The messages part of :func:`part_sql`, one value per customer in the order of ``customers``, computed
    with NumPy from the customer keys, ``batch`` rows at a time: each row's cell (its customer, and for an
    email whether it was opened and clicked by as_of, for an SMS whether it was clicked) is written to a
    buffer of a few batches, counted by ``bincount`` whenever the buffer is full; ``maximum.at`` keeps the
    latest engagement. Rows on other channels, not yet sent or of no known customer go to a last customer
    that is dropped.

    Several threads may share the work: each calls :meth:`run`, which takes the next batch not yet taken
    until none is left, and :meth:`result` combines what the runs found. :attr:`usable` says whether the
    columns can be counted so (else the SQL is run).
    """

    def __init__(self, dataset: Dataset, n: int, *, as_of_us: int, batch: int = _MESSAGE_BATCH) -> None:
        names = dataset.column_names("messages")
        self.n, self.as_of_us, self.batch = n, as_of_us, batch
        self.channel = dataset.column("messages", "channel") if "channel" in names else None
        self.times = [
            dataset.column("messages", c) if c in names else None for c in ("sent_at", "opened_at", "clicked_at")
        ]
        self.usable = (
            self.channel is not None
            and is_coded_text(self.channel.type)
            and all(t is None or t.type == _UTC_MICROS for t in self.times)
        )
        self.keys = dataset.customer_keys("messages") if self.usable else np.zeros(0, dtype=np.int32)
        self._next = itertools.count()  # the next batch (taking one is atomic)

    def run(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Count batches until none is left: the latest email and SMS engagement of the batches this run took,
        and their cells counted (None when it took none)."""
        n, as_of_us, keys = self.n, self.as_of_us, self.keys
        email_last = np.full(n, _NAT)
        sms_last = np.full(n, _NAT)
        # cells of the batches taken since the last count: a few batches' worth, counted when full (bincount
        # reads 64-bit numbers, so they are written as such)
        buffer = np.empty(min(8 * self.batch, len(keys)), dtype=np.int64)
        filled = 0
        counted: np.ndarray | None = None
        while self.usable and (start := next(self._next) * self.batch) < len(keys):
            size = min(self.batch, len(keys) - start)
            if filled + size > len(buffer):
                counted, filled = self._count(buffer[:filled], counted), 0
            assert self.channel is not None
            code = text_numbers(self.channel.slice(start, size), {"email": 1, "sms": 2})
            email, sms = code == 1, code == 2
            stamps = [_stamps(None if t is None else t.slice(start, size), size) for t in self.times]
            (sent, sent_there), (opened, opened_there), (clicked, clicked_there) = stamps
            key = keys[start : start + size]
            rows = (key >= 0) & sent_there & (sent <= as_of_us)
            opened_by = opened_there & (opened <= as_of_us)
            clicked_by = clicked_there & (clicked <= as_of_us)
            # cell: 2 * opened + clicked for an email (0 to 3), 4 + clicked for an SMS
            cell = buffer[filled : filled + size]
            cell[:] = np.where(rows & (email | sms), key, n)
            cell *= _CELLS
            cell += np.where(email, opened_by.astype(np.int8) * 2 + clicked_by, 4 + clicked_by.astype(np.int8))
            filled += size
            # email engagement: the later of open and click, counted when the first of them (the open, else the
            # click) is by as_of
            touched = np.flatnonzero(rows & email & (opened_there | clicked_there))
            opens, clicks, has_open = opened[touched], clicked[touched], opened_there[touched]
            first = np.where(has_open, opens, clicks)
            latest = np.where(has_open & clicked_there[touched], np.maximum(opens, clicks), first)
            by = first <= as_of_us
            np.maximum.at(email_last, key[touched[by]], latest[by])
            sms_clicked = rows & sms & clicked_by
            np.maximum.at(sms_last, key[sms_clicked], clicked[sms_clicked])
        return email_last, sms_last, self._count(buffer[:filled], counted)

    def _count(self, cells: np.ndarray, counted: np.ndarray | None) -> np.ndarray | None:
        """``counted`` with ``cells`` added (counted by one ``bincount``)."""
        if not len(cells):
            return counted
        found = np.bincount(cells, minlength=(self.n + 1) * _CELLS)
        if counted is None:
            return found
        counted += found
        return counted

    def result(self, *runs: tuple[np.ndarray, np.ndarray, np.ndarray | None]) -> dict[str, object]:
        """The part's columns from what every run found (after every run has ended; the columns are usable)."""
        assert self.usable
        n = self.n
        email_last = np.maximum.reduce([r[0] for r in runs]) if runs else np.full(n, _NAT)
        sms_last = np.maximum.reduce([r[1] for r in runs]) if runs else np.full(n, _NAT)
        total = np.zeros((n + 1) * _CELLS, dtype=np.int64)
        for run in runs:
            if run[2] is not None:
                total += run[2]
        cells = total.reshape(n + 1, _CELLS)[:n]
        return {
            "email_sends": cells[:, 0:4].sum(axis=1),
            "email_opens": cells[:, [2, 3]].sum(axis=1),
            "email_clicks": cells[:, [1, 3]].sum(axis=1),
            "email_last_engaged_at": _micros(email_last),
            "sms_sends": cells[:, 4:6].sum(axis=1),
            "sms_clicks": cells[:, 5].copy(),
            "sms_last_engaged_at": _micros(sms_last),
        }


def _message_counts(dataset: Dataset, n: int, *, as_of_us: int, batch: int = _MESSAGE_BATCH) -> _MessageCounts | None:
    """:class:`_MessageCounts` of the dataset's messages; None when the SQL counts them (no messages table, or
    columns of other types)."""
    if not dataset.has("messages"):
        return None
    counts = _MessageCounts(dataset, n, as_of_us=as_of_us, batch=batch)
    return counts if counts.usable else None


def _message_arrays(
    dataset: Dataset, n: int, *, as_of_us: int, batch: int = _MESSAGE_BATCH
) -> dict[str, object] | None:
    """The messages part of :func:`part_sql` counted by :class:`_MessageCounts` on this thread alone (None: the
    SQL counts them)."""
    counts = _message_counts(dataset, n, as_of_us=as_of_us, batch=batch)
    return None if counts is None else counts.result(counts.run())


def _ranked(distinct: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Each text's place among ``distinct`` in byte order (the order in which SQL compares text), and the texts
    in that order."""
    order = pc.sort_indices(distinct)
    rank = np.empty(len(distinct), dtype=np.int32)
    rank[order.to_numpy()] = np.arange(len(distinct), dtype=np.int32)
    return rank, distinct.take(order)


def _latest(key: np.ndarray, us: np.ndarray, rank: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``n`` keys, the latest moment of its rows and, of its rows at that moment, the greatest
    ``rank`` (``_NAT`` and -1 for a key without rows): the row ``order by us desc, text desc`` picks first."""
    latest = np.full(n, _NAT)
    np.maximum.at(latest, key, us)
    top = us == latest[key]
    pick = np.full(n, -1, dtype=np.int32)
    np.maximum.at(pick, key[top], rank[top])
    return latest, pick


def _picked(by_rank: pa.Array, pick: np.ndarray, n: int, column: str, default: object) -> object:
    """The profile column of the texts ``pick`` names by rank (``by_rank``: the texts in rank order; -1: the
    default)."""
    chosen = by_rank.take(pa.array(pick, mask=pick < 0)) if len(by_rank) else pa.nulls(n, pa.large_string())
    return _column(pa.chunked_array([chosen]), n, column, default)


def _currency_codes(texts: pa.Array, sql: Callable[[], duckdb.DuckDBPyConnection]) -> tuple[pa.Array, np.ndarray]:
    """The profile SQL's currency code of each text (``upper(trim(text))``), and whether it counts (three
    characters long).

    ASCII texts are read in Python, where ``strip(" ")`` and ``upper()`` are DuckDB's ``trim`` and ``upper``
    (a test holds them to DuckDB's answers); texts with other characters are given to DuckDB (``sql()``, the
    connection), whose Unicode rules the SQL follows.
    """
    values = texts.to_pylist()
    if all(v is None or v.isascii() for v in values):
        made = [None if v is None else v.strip(" ").upper() for v in values]
        return pa.array(made, pa.large_string()), np.array([v is not None and len(v) == 3 for v in made], dtype=bool)
    con = sql()
    con.register("currency_texts", pa.table({"i": pa.array(np.arange(len(texts))), "text": texts}))
    found = con.sql(
        "select upper(trim(text)) as code, coalesce(length(upper(trim(text))) = 3, false) as ok "
        "from currency_texts order by i"
    ).to_arrow_table()
    con.unregister("currency_texts")
    code = found.column("code").combine_chunks().cast(pa.large_string())
    return code, np.asarray(found.column("ok").to_numpy(), dtype=bool)


def _currency_arrays(
    sql: Callable[[], duckdb.DuckDBPyConnection], dataset: Dataset, n: int, *, as_of_us: int
) -> dict[str, object] | None:
    """``latest_currency`` of :func:`order_summary_sql` with NumPy: each distinct currency text is made a code
    as the SQL makes it (:func:`_currency_codes`), and the latest order's code is picked by key. None (the SQL
    is run) for columns of other types."""
    currency, stamps = dataset.column("orders", "currency"), dataset.column("orders", "ordered_at")
    if not is_coded_text(currency.type) or stamps.type != _UTC_MICROS:
        return None
    distinct, codes = text_codes(currency)
    code, ok = _currency_codes(distinct, sql)
    kept = pc.unique(code.filter(pa.array(ok))).cast(pa.large_string())
    rank = np.full(len(distinct), -1, dtype=np.int32)
    kept_rank, by_rank = _ranked(kept)
    if len(kept):
        at = pc.index_in(code, value_set=kept).fill_null(0).to_numpy()
        rank = np.where(ok, kept_rank[at], -1).astype(np.int32)
    us, there = _stamps(stamps, len(stamps))
    keys = dataset.customer_keys("orders")
    row_rank = rank[codes] if len(rank) else np.zeros(len(codes), dtype=np.int32)
    rows = np.flatnonzero((keys >= 0) & there & (us <= as_of_us) & (row_rank >= 0))
    _, pick = _latest(keys[rows], us[rows], row_rank[rows], n)
    return {"latest_currency": _picked(by_rank, pick, n, "latest_currency", None)}


#: The events the profile counts, in the order of their codes (from 1) in :func:`_event_arrays`.
_EVENT_KINDS = ("site_visit", "product_view", "add_to_cart", "checkout_started", "support_ticket")


def _event_arrays(dataset: Dataset, n: int, *, as_of_us: int) -> dict[str, object] | None:
    """The events part of :func:`part_sql` with NumPy from the customer keys: counts by ``bincount`` of the
    rows of the last 30 days, the latest moments by ``maximum.at``, the last product viewed by
    :func:`_latest`. None (the SQL is run) for columns of other types."""
    names = dataset.column_names("events")
    if "event" not in names or "occurred_at" not in names:
        return None
    event, stamps = dataset.column("events", "event"), dataset.column("events", "occurred_at")
    product = dataset.column("events", "product_id") if "product_id" in names else None
    if not is_coded_text(event.type) or stamps.type != _UTC_MICROS:
        return None
    if product is not None and not is_coded_text(product.type):
        return None
    us, there = _stamps(stamps, len(stamps))
    keys = dataset.customer_keys("events")
    rows = (keys >= 0) & there & (us <= as_of_us)
    code_of = {name: i + 1 for i, name in enumerate(_EVENT_KINDS)}  # 0: any other event
    kind = text_numbers(event, code_of)
    out: dict[str, object] = {}
    widest = max(days for _, _, days in _EVENT_COUNTS)
    recent = np.flatnonzero(rows & (us > as_of_us - widest * US_PER_DAY))
    recent_key, recent_kind, recent_us = keys[recent], kind[recent], us[recent]
    for name, column, days in _EVENT_COUNTS:
        hit = (recent_kind == code_of[name]) & (recent_us > as_of_us - days * US_PER_DAY)
        out[column] = np.bincount(recent_key[hit], minlength=n).astype(np.int64)
    for column, wanted in (("last_cart_at", ("add_to_cart", "checkout_started")), ("last_event_at", None)):
        chosen = rows if wanted is None else rows & np.isin(kind, [code_of[w] for w in wanted])
        latest = np.full(n, _NAT)
        np.maximum.at(latest, keys[chosen], us[chosen])
        out[column] = _micros(latest)
    out["last_viewed_product"] = _last_viewed(product, keys, us, rows & (kind == code_of["product_view"]), n)
    return {c: out[c] for c in _PARTS["events"]}


def _last_viewed(
    product: pa.ChunkedArray | None, keys: np.ndarray, us: np.ndarray, views: np.ndarray, n: int
) -> object:
    """Each customer's latest viewed product (of several at one moment, the greatest id)."""
    if product is None:
        return _column(None, n, "last_viewed_product", None)
    at = np.flatnonzero(views)
    distinct, codes = text_codes(product.take(pa.array(at)))
    named = np.asarray(distinct.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    rank, by_rank = _ranked(distinct.fill_null(""))  # (a missing id is no row's: its rows are left out below)
    kept = named[codes] if len(named) else np.zeros(len(codes), dtype=bool)
    at, codes = at[kept], codes[kept]
    _, pick = _latest(keys[at], us[at], rank[codes], n)
    return _picked(by_rank, pick, n, "last_viewed_product", None)


def _consent_arrays(dataset: Dataset, n: int, *, as_of_us: int) -> dict[str, object] | None:
    """The consents part of :func:`part_sql` with NumPy from the customer keys: each channel's latest ledger row
    by :func:`_latest` (of two at one moment, the greater status). None (the SQL is run) for columns of other
    types or a missing status."""
    names = dataset.column_names("consents")
    if any(c not in names for c in ("channel", "status", "recorded_at")):
        return None
    channel, status = dataset.column("consents", "channel"), dataset.column("consents", "status")
    stamps = dataset.column("consents", "recorded_at")
    if not (is_coded_text(channel.type) and is_coded_text(status.type)) or stamps.type != _UTC_MICROS:
        return None
    distinct, codes = text_codes(status)
    if distinct.null_count:
        return None
    ranks, by_rank = _ranked(distinct)
    rank = ranks[codes] if len(distinct) else np.zeros(len(codes), dtype=np.int32)
    us, there = _stamps(stamps, len(stamps))
    keys = dataset.customer_keys("consents")
    rows = (keys >= 0) & there & (us <= as_of_us)
    code = text_numbers(channel, {"email": 1, "sms": 2})
    out: dict[str, object] = {}
    for number, name in enumerate(("email", "sms"), start=1):
        on = np.flatnonzero(rows & (code == number))
        latest, pick = _latest(keys[on], us[on], rank[on], n)
        out[f"{name}_consent"] = _picked(by_rank, pick, n, f"{name}_consent", "unknown")
        out[f"{name}_consent_at"] = _micros(latest)
    return {c: out[c] for c in _PARTS["consents"]}


#: The other tables' parts computed with NumPy when their columns allow (else by :func:`part_sql`); the
#: messages' part is shared by both threads (:class:`_MessageCounts`).
_NUMPY_PARTS = {"events": _event_arrays, "consents": _consent_arrays}


def _micros(values: np.ndarray) -> object:
    """Microseconds since 1970 (``_NAT`` where missing) as pandas' UTC timestamps."""
    return pd.array(values.view("datetime64[us]"), dtype=pd.DatetimeTZDtype("us", "UTC"))


def _distinct_days(key: np.ndarray, day: np.ndarray, n: int) -> np.ndarray:
    """For each of ``n`` customer keys, how many distinct days its rows fall on.

    Each (key, day) pair becomes one number, ``key * span + day - first day``; sorted, a number that
    differs from the one before it starts a new purchase day. Sorting 32-bit numbers (when they fit)
    is about twice as fast as 64-bit ones.
    """
    if not len(key):
        return np.zeros(n, dtype=np.int64)
    low = int(day.min())
    span = int(day.max()) - low + 1
    if n * span < 2**31:
        pairs = key.astype(np.int32) * np.int32(span) + (day - low).astype(np.int32)
    else:
        pairs = key.astype(np.int64) * span + (day - low)
    pairs.sort()
    starts = np.ones(len(pairs), dtype=bool)
    np.not_equal(pairs[1:], pairs[:-1], out=starts[1:])
    return np.bincount(pairs[starts] // span, minlength=n)


def customer_timezones(dataset: Dataset) -> pd.DataFrame:
    """Each customer's time zone (:func:`~workbench.timezones.resolve_timezones`), resolved once per dataset."""
    return dataset.derived(
        "timezones", ("customers",), lambda: resolve_timezones(dataset.customers, phone_checks(dataset)[1])
    )


def build_profiles(
    dataset: Dataset,
    *,
    as_of: object,
    default_locale: str = "en-US",
    default_currency: str = "USD",
    markets: Sequence[MarketRule] | None = None,
) -> pd.DataFrame:
    """One row per customer: orders, engagement, behaviour, consent, time zone, preferred channel.

    Parameters
    ----------
    dataset
        A :class:`~workbench.models.dataset.Dataset` (only ``orders`` is required).
    as_of
        The moment of the profile (a date means the end of that day, UTC).
        Nothing after it is counted.
    default_locale, default_currency, markets
        The brand's locale and currency and the market rules (default
        :data:`~workbench.models.policy.DEFAULT_MARKETS`) that give ``locale``
        (stated, else the market's, else the brand's) and ``currency`` (the
        latest order's, else the market's, else the brand's); see
        :mod:`workbench.locales`.

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
    as_of_us = _epoch_us(ts)
    n = len(dataset.customers)
    computed: dict[str, object] = {}
    # the messages' NumPy part (the largest table) runs on a second thread beside the other parts, and this
    # thread takes the batches left when it is done with them; the messages' keys are found first, on this
    # thread, so that no table's keys are computed twice. The events' and consents' NumPy parts wait on the
    # second thread behind the messages: this thread runs, last first, those not started when it gets to them
    counts = _message_counts(dataset, n, as_of_us=as_of_us)
    with _Connection() as duck, ThreadPoolExecutor(1) as pool:
        by_numpy = pool.submit(counts.run) if counts is not None else None
        queued = {
            name: pool.submit(part, dataset, n, as_of_us=as_of_us)
            for name, part in _NUMPY_PARTS.items()
            if dataset.has(name)
        }
        present = dataset.column_names("orders")
        has_status, has_currency = "status" in present, "currency" in present
        fast = _order_arrays(dataset, n, as_of_us=as_of_us)
        if fast is not None:
            computed.update(fast)
            currency = _currency_arrays(duck, dataset, n, as_of_us=as_of_us) if has_currency else None
            if currency is None:
                latest = None
                if has_currency:
                    _load(duck(), "orders_in", _keyed(dataset, "orders", ["ordered_at", "currency"]))
                    latest = duck().sql(_currency_sql("orders_in", as_of_us=as_of_us)).to_arrow_table()
                currency = _spread(latest, n, {"latest_currency": None})
            computed.update(currency)
        else:
            order_columns = ["ordered_at", "amount"] + [c for c in ("status", "currency") if c in present]
            _load(duck(), "orders_in", _keyed(dataset, "orders", order_columns))
            sql = order_summary_sql(
                "orders_in", as_of_us=as_of_us, has_status=has_status, key=_KEY, has_currency=has_currency
            )
            computed.update(_spread(duck().sql(sql).to_arrow_table(), n, _ORDER_DEFAULTS))
        # what the profile takes from the customers and orders alone is found meanwhile too
        validity, zones = contact_validity(dataset), customer_timezones(dataset)
        customers = dataset.customers.reset_index(drop=True)
        locales = resolve_locales(customers, default_locale=default_locale, markets=markets)
        currencies = _currencies(customers, computed, default_currency=default_currency, markets=markets)
        mine = counts.run() if counts is not None else None
        ran_here = {}
        for name in reversed(list(queued)):  # one at a time: the second thread may start the next meanwhile
            if queued[name].cancel():
                ran_here[name] = _NUMPY_PARTS[name](dataset, n, as_of_us=as_of_us)
        parts: dict[str, dict[str, object]] = {}
        for name in _PARTS:
            part = None
            if name == "messages" and counts is not None and by_numpy is not None and mine is not None:
                parts[name] = counts.result(mine, by_numpy.result())
                continue
            if name in queued:
                fast = ran_here[name] if name in ran_here else queued[name].result()
                if fast is not None:
                    parts[name] = fast
                    continue
            if dataset.has(name):
                _load(duck(), name, _keyed(dataset, name, _PART_INPUTS[name][1:]))
                part = duck().sql(part_sql(name, as_of=ts, key=_KEY)).to_arrow_table()
            parts[name] = _spread(part, n, _PARTS[name])
        for name in _PARTS:
            computed.update(parts[name])
    return finish_profiles(
        dataset.customers,
        computed,
        as_of=ts,
        validity=validity,
        zones=zones,
        default_locale=default_locale,
        default_currency=default_currency,
        markets=markets,
        locales=locales,
        currencies=currencies,
    )


#: The columns that say a customer's language and currency, last of ``PROFILE_COLUMNS``.
LOCALE_COLUMNS = ("locale", "locale_source", "currency")


#: Every column :func:`profile_sql` computes, with the value a customer without rows takes.
SQL_COLUMNS: dict[str, object] = {**_ORDER_DEFAULTS, **{c: d for part in _PARTS.values() for c, d in part.items()}}


def sql_columns(table: pa.Table) -> dict[str, object]:
    """The SQL part of profiles (rows of :func:`profile_sql`, any engine) as :func:`finish_profiles` takes it."""
    n = table.num_rows
    return {c: _column(table.column(c) if c in table.column_names else None, n, c, d) for c, d in SQL_COLUMNS.items()}


def finish_profiles(
    customers: pd.DataFrame,
    computed: Mapping[str, object],
    *,
    as_of: object,
    validity: Mapping[str, np.ndarray] | None = None,
    zones: pd.DataFrame | None = None,
    default_locale: str = "en-US",
    default_currency: str = "USD",
    markets: Sequence[MarketRule] | None = None,
    locales: pd.DataFrame | None = None,
    currencies: pd.Series | None = None,
) -> pd.DataFrame:
    """The profiles from the SQL columns: attributes, tenure, valid addresses, consent, time zone, channel, locale.

    Everything here is per customer, so it runs on any slice of customers (a
    Spark partition, the customers of a database) and gives the same rows.

    Parameters
    ----------
    customers
        The customers, one row each, in the order of ``computed``.
    computed
        Each column of :data:`SQL_COLUMNS`, one value per customer (see :func:`sql_columns`).
    as_of
        The profile moment.
    validity, zones
        Valid addresses (``email``, ``phone``) and time zones when already known
        (a dataset keeps them); computed from ``customers`` otherwise.
    default_locale, default_currency, markets
        The brand's locale and currency and the market rules: ``locale`` is
        the stated one, else the market's, else the brand's; ``currency`` the
        latest order's (``latest_currency``), else the market's, else the
        brand's (:mod:`workbench.locales`).
    locales, currencies
        :func:`~workbench.locales.resolve_locales` and
        :func:`~workbench.locales.resolve_currencies` of these customers and
        settings when already known (:func:`build_profiles` finds them while
        the messages are counted); computed here otherwise.
    """
    ts = resolve_as_of(as_of)
    customers = customers.reset_index(drop=True)
    attrs = [c for c in ATTRIBUTES if c in customers.columns]
    # Series (not raw arrays) of what the dataset holds, so that editing the profiles copies rather than
    # writes through to dataset.customers or its cached values
    columns: dict[str, Any] = {c: customers[c] for c in ["customer_id", *attrs]}
    columns.update(computed)
    first_order = pd.Series(computed["first_order_at"])
    started = columns.get("created_at", first_order)
    started = started.where(started.notna() & (started <= ts), first_order)
    columns["tenure_days"] = ((ts - started).dt.total_seconds() / 86_400).round(3)
    valid = validity if validity is not None else customer_contact_validity(customers)
    columns["has_valid_email"], columns["has_valid_phone"] = valid["email"].copy(), valid["phone"].copy()
    for channel, address in (("email", "email"), ("sms", "phone")):
        subscribed = pd.Series(computed[f"{channel}_consent"]) == "subscribed"
        columns[f"can_{channel}"] = subscribed.to_numpy(dtype=bool, na_value=False) & columns[f"has_valid_{address}"]
    zones = zones if zones is not None else resolve_timezones(customers)
    for col in ("timezone", "timezones", "timezone_source"):
        columns[col] = zones[col]  # same row order as customers, keeping the Arrow strings as they are
    stated = customers["preferred_channel"] if "preferred_channel" in customers.columns else None
    columns["preferred_channel"], columns["preferred_channel_source"] = _preferred_channel(columns, stated)
    if locales is None:
        locales = resolve_locales(customers, default_locale=default_locale, markets=markets)
    columns["locale"] = locales["locale"].array
    columns["locale_source"] = locales["locale_source"].array
    if currencies is None:
        currencies = _currencies(customers, computed, default_currency=default_currency, markets=markets)
    columns["currency"] = currencies.array
    order = PROFILE_COLUMNS[1:]
    return pd.DataFrame({c: columns[c] for c in ["customer_id", *attrs, *order]}, copy=False)


def _currencies(
    customers: pd.DataFrame,
    computed: Mapping[str, object],
    *,
    default_currency: str,
    markets: Sequence[MarketRule] | None,
) -> pd.Series:
    """:func:`~workbench.locales.resolve_currencies` from the latest order's currency of ``computed``."""
    latest = pd.Series(computed["latest_currency"], dtype="string")
    return resolve_currencies(customers, latest, default_currency=default_currency, markets=markets)


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
