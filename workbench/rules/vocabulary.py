"""The vocabulary of segment rules: the columns a rule may read and their kinds, the allowed functions, the limits.

Shared by the syntax check (:mod:`workbench.rules.syntax`) and the evaluation (:mod:`workbench.rules`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pyarrow as pa

from ..models.errors import StrategyError
from ..profiles import PROFILE_COLUMNS
from ..value import VALUE_COLUMNS

__all__ = [
    "ASSIGNED_COLUMNS",
    "BOOLEAN",
    "CUSTOMER_ATTRIBUTES",
    "DATE",
    "INTERVAL",
    "MAX_RULE_DEPTH",
    "MAX_RULE_LENGTH",
    "NUMBER",
    "RULE_COLUMNS",
    "RULE_FUNCTIONS",
    "TEXT",
    "TIMESTAMP",
    "CheckedRule",
]

# ---------------------------------------------------------------- the columns a rule may read

#: Kinds of value a rule works with (a column's kind decides which operators and functions fit it).
BOOLEAN, NUMBER, TEXT, TIMESTAMP, DATE, INTERVAL = "boolean", "number", "text", "timestamp", "date", "interval"
_NULL = "null"
_ARROW_TYPES = {
    BOOLEAN: pa.bool_(),
    NUMBER: pa.float64(),
    TEXT: pa.string(),
    TIMESTAMP: pa.timestamp("us", tz="UTC"),
}

_COUNTS = (
    "orders_total",
    "cancellations",
    "orders_30d",
    "orders_90d",
    "orders_365d",
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
#: The kind of every column of ``profiles.PROFILE_COLUMNS`` (a test checks them against build_profiles).
_PROFILE_KINDS: dict[str, str] = {
    "customer_id": TEXT,
    **dict.fromkeys(
        (
            "frequency",
            "recency",
            "T",
            "monetary_value",
            "revenue_total",
            "avg_order_value",
            "days_since_last_order",
            "revenue_30d",
            "revenue_90d",
            "revenue_365d",
            "tenure_days",
            *_COUNTS,
        ),
        NUMBER,
    ),
    **dict.fromkeys(
        (
            "first_order_at",
            "last_order_at",
            "email_last_engaged_at",
            "sms_last_engaged_at",
            "last_cart_at",
            "last_event_at",
            "email_consent_at",
            "sms_consent_at",
        ),
        TIMESTAMP,
    ),
    **dict.fromkeys(
        (
            "last_viewed_product",
            "email_consent",
            "sms_consent",
            "timezone",
            "timezones",
            "timezone_source",
            "preferred_channel",
            "preferred_channel_source",
            "locale",
            "locale_source",
            "currency",
        ),
        TEXT,
    ),
    **dict.fromkeys(("has_valid_email", "has_valid_phone", "can_email", "can_sms"), BOOLEAN),
}
#: Customer attributes ``build_profiles`` carries through when the customers table has them.
CUSTOMER_ATTRIBUTES: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("email", "phone", "first_name", "country", "region", "loyalty_tier"), TEXT),
        "created_at": TIMESTAMP,
    }
)
#: Columns ``segments.assign`` adds before the rules run (a test checks them against assign).
ASSIGNED_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("r_score", "f_score", "m_score", "fm_score"), NUMBER),
        **dict.fromkeys(("rfm_segment", "lifecycle_stage", "intent", "channel_reach"), TEXT),
    }
)
#: Predicted customer value the workspace adds to profiles (:func:`workbench.value.customer_value`).
#: ``value_currency`` is the currency of ``expected_spend`` and ``clv_365d`` (the reporting currency, or the
#: customer's own when the strategy has no rate for it).
VALUE_KINDS: Mapping[str, str] = MappingProxyType({**dict.fromkeys(VALUE_COLUMNS, NUMBER), "value_currency": TEXT})
#: Every column a rule may read, with its kind: the one list ``validate``, ``segments`` and the simulator use.
RULE_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        **{c: _PROFILE_KINDS[c] for c in PROFILE_COLUMNS},
        **CUSTOMER_ATTRIBUTES,
        **VALUE_KINDS,
        **ASSIGNED_COLUMNS,
    }
)

# ---------------------------------------------------------------- the functions a rule may call


@dataclass(frozen=True)
class _Function:
    names: tuple[str, ...]  # as written in a rule
    args: tuple[frozenset[str], ...]  # kinds each argument may have (the last repeats)
    returns: str | None  # None: the common kind of the arguments
    doc: str


_ANY = frozenset({BOOLEAN, NUMBER, TEXT, TIMESTAMP, DATE, INTERVAL})
_T = frozenset({TEXT})
_N = frozenset({NUMBER})
_TIME = frozenset({TIMESTAMP, DATE})
#: The allow-listed functions by name (aliases share a spec).
_FUNCTIONS: dict[str, _Function] = {
    f.names[0]: f
    for f in (
        _Function(("lower",), (_T,), TEXT, "lower-case text"),
        _Function(("upper",), (_T,), TEXT, "upper-case text"),
        _Function(("trim",), (_T,), TEXT, "text without leading and trailing spaces"),
        _Function(("length",), (_T,), NUMBER, "number of characters"),
        _Function(("substring", "substr"), (_T, _N, _N), TEXT, "part of a text: substring(x, start, length)"),
        _Function(("starts_with",), (_T, _T), BOOLEAN, "whether a text starts with another"),
        _Function(("ends_with",), (_T, _T), BOOLEAN, "whether a text ends with another"),
        _Function(("contains",), (_T, _T), BOOLEAN, "whether a text contains another"),
        _Function(("regexp_matches",), (_T, _T), BOOLEAN, "whether a text matches a pattern (RE2, linear time)"),
        _Function(("concat",), (_ANY,), TEXT, "texts joined (as ||)"),
        _Function(("abs",), (_N,), NUMBER, "absolute value"),
        _Function(("round",), (_N, _N), NUMBER, "round(x, decimals)"),
        _Function(("floor",), (_N,), NUMBER, "round down"),
        _Function(("ceil", "ceiling"), (_N,), NUMBER, "round up"),
        _Function(("least",), (_ANY,), None, "smallest of the arguments"),
        _Function(("greatest",), (_ANY,), None, "largest of the arguments"),
        _Function(("coalesce", "ifnull"), (_ANY,), None, "first argument that is not null"),
        _Function(("nullif",), (_ANY, _ANY), None, "null when both arguments are equal"),
        _Function(("if",), (frozenset({BOOLEAN}), _ANY, _ANY), None, "if(condition, then, else), as CASE"),
        _Function(("date_diff", "datediff"), (_TIME, _TIME), NUMBER, "date_diff('day', start, end): units between"),
        _Function(("date_part",), (_T, _TIME), NUMBER, "date_part('month', ts): a part of a date"),
        _Function(("extract",), (_TIME,), NUMBER, "extract(month from ts): a part of a date"),
    )
}
#: The pure functions a rule may call: name -> what it does. Nothing else can be called.
RULE_FUNCTIONS: Mapping[str, str] = MappingProxyType({name: f.doc for f in _FUNCTIONS.values() for name in f.names})

#: A rule longer than this is refused before it is parsed.
MAX_RULE_LENGTH = 2000
#: Deepest nesting of a rule's parsed tree.
MAX_RULE_DEPTH = 60


# ---------------------------------------------------------------- checking


@dataclass(frozen=True)
class CheckedRule:
    """A rule that passed the check.

    Attributes
    ----------
    segment : str
        The segment's name.
    rule : str
        The rule as written.
    sql : str
        The DuckDB expression regenerated from the checked tree (what runs).
    columns : tuple of str
        The profile columns it reads.
    """

    segment: str
    rule: str
    sql: str
    columns: tuple[str, ...]


class _Refused(Exception):
    """One problem of a rule: what is wrong and the fix."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix


def _shown(rule: str) -> str:
    text = " ".join(rule.split())
    return text if len(text) <= 120 else text[:117] + "..."


def _error(segment: str, rule: str, problem: str, fix: str, index: int | None = None) -> StrategyError:
    stop = "" if problem.endswith("?") else "."
    err = StrategyError(f"segment {segment!r}: rule `{_shown(rule)}` {problem}{stop} Fix: {fix}")
    err.segment, err.problem, err.fix = segment, problem, fix  # type: ignore[attr-defined]
    err.path = ("segments", index, "rule") if index is not None else ("segments",)  # type: ignore[attr-defined]
    return err


def _first_line(exc: Exception) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__
