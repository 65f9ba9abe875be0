"""Segment rules: one boolean expression over profile columns, parsed, checked and evaluated in a locked DuckDB.

A rule in the strategy (``segments: - name, rule``) is written by a person and read as untrusted
input. It is parsed with SQLGlot (DuckDB dialect) and accepted only when it is **one boolean
expression** made of:

- profile columns (:data:`RULE_COLUMNS`: the columns of ``profiles.build_profiles``, the customer
  attributes it carries, and the columns ``segments.assign`` adds before rules run), unqualified;
- literals: numbers, 'strings', ``true`` / ``false``, ``null``, ``date '2026-01-01'``,
  ``timestamp '2026-01-01 00:00'``, ``interval 30 day``;
- operators: ``= <> != < <= > >=``, ``and or not``, ``+ - * / // % **``, ``||``,
  ``in (...)`` (a list of values), ``between``, ``is [not] null``, ``is [not] true/false``,
  ``is [not] distinct from``, ``[not] like`` / ``ilike`` (with ``escape``), ``case``, ``cast`` /
  ``::`` to a plain type;
- the pure functions of :data:`RULE_FUNCTIONS`.

Everything else is refused with a :class:`~workbench.models.errors.StrategyError` naming the segment,
the rule, what is wrong and the fix: several statements, comments, subqueries, table functions
(``read_csv``, ``read_text``, ``read_parquet``, ``glob`` ...), statements (``COPY``, ``ATTACH``,
``PRAGMA``, ``SET``), aggregates and window functions, unknown functions or columns (with the close
matches). A rule whose value is not true/false (``revenue_365d``) is refused too: the type is
inferred from the parsed tree and the column types, checked again by DuckDB's binder on an empty
table of those types, and the evaluated column must be boolean.

What runs is SQL regenerated from the checked tree, never the text as written, on a DuckDB
connection with external access disabled (no files, no extensions) and its configuration locked
(:func:`sandboxed_connection`). A customer for whom a rule is NULL is not in the segment.

:func:`check_rules` is the one check: ``workbench validate`` (through
:func:`rule_problems`), ``workbench segments``, the audience explorer and the simulator (through
``segments.assign``) all call it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..models.errors import StrategyError
from . import syntax
from .vocabulary import (
    _ARROW_TYPES,
    ASSIGNED_COLUMNS,
    BOOLEAN,
    CUSTOMER_ATTRIBUTES,
    DATE,
    INTERVAL,
    MAX_RULE_DEPTH,
    MAX_RULE_LENGTH,
    NUMBER,
    RULE_COLUMNS,
    RULE_FUNCTIONS,
    TEXT,
    TIMESTAMP,
    VALUE_KINDS,
    CheckedRule,
    _error,
    _first_line,
    _Refused,
)

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
    "check_rule",
    "check_rules",
    "evaluate",
    "rule_problems",
    "sandboxed_connection",
]


def check_rule(
    rule: str, *, segment: str = "?", columns: Mapping[str, str] = RULE_COLUMNS, index: int | None = None
) -> CheckedRule:
    """Parse and check one rule without data: one boolean expression of allowed parts.

    Parameters
    ----------
    rule
        The rule as written in the strategy.
    segment
        The segment's name (for the message).
    columns
        The columns the rule may read, with their kinds (default :data:`RULE_COLUMNS`).
    index
        The segment's position in the strategy (for the YAML line of ``workbench validate``).

    Returns
    -------
    CheckedRule
        With the SQL regenerated from the checked tree.

    Raises
    ------
    StrategyError
        Naming the segment, the rule, what is wrong and the fix.
    """
    try:
        sql, used = syntax.check(rule, columns)
    except _Refused as refused:
        raise _error(segment, rule, refused.problem, refused.fix, index) from None
    except (RecursionError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _error(segment, rule, f"cannot be checked ({_first_line(exc)})", "simplify the rule", index) from None
    return CheckedRule(segment=segment, rule=rule, sql=sql, columns=used)


# ---------------------------------------------------------------- the sandboxed connection

#: Set when the connection opens, before the configuration is locked.
_SANDBOX_CONFIG = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
}


def sandboxed_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that cannot reach files, extensions or its own settings.

    External access is disabled (no ``read_csv``/``read_text``/``glob``, ``COPY``, ``ATTACH``,
    ``INSTALL``/``LOAD`` or replacement scans of Python variables), extensions are neither
    installed nor loaded automatically, community extensions are off, the time zone is UTC, and
    then ``lock_configuration`` forbids any further ``SET``. Tables are registered from Python
    (``con.register``), which stays possible.
    """
    con = duckdb.connect(":memory:", config=dict(_SANDBOX_CONFIG))
    con.execute("set timezone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    con.execute("set lock_configuration = true")
    return con


def _empty_table(columns: Mapping[str, str], names: Iterable[str]) -> pa.Table:
    return pa.table({n: pa.array([], _ARROW_TYPES.get(columns[n], pa.string())) for n in names})


def _bind(con: duckdb.DuckDBPyConnection, checked: CheckedRule, table: str) -> str:
    """The type DuckDB gives the rule over ``table`` (binding only; nothing is read)."""
    return str(con.sql(f"select ({checked.sql}) as hit from {table}").types[0])


def _duck_problem(exc: duckdb.Error) -> str:
    return _first_line(exc).rstrip(".")


def _check_all(definitions: Sequence[Any], columns: Mapping[str, str]) -> tuple[list[CheckedRule], list[StrategyError]]:
    """The checked rules and the problems of the others (parse, allow-list and kinds, then DuckDB's binder)."""
    problems: list[StrategyError] = []
    checked: list[tuple[int, CheckedRule]] = []
    for i, definition in enumerate(definitions):
        try:
            checked.append((i, check_rule(definition.rule, segment=definition.name, columns=columns, index=i)))
        except StrategyError as exc:
            problems.append(exc)
    good: list[CheckedRule] = []
    if checked:
        con = sandboxed_connection()
        try:
            con.register("profiles", _empty_table(columns, columns))
            for i, rule in checked:
                try:
                    kind = _bind(con, rule, "profiles")
                except duckdb.Error as exc:
                    problem, fix = f"cannot be evaluated: {_duck_problem(exc)}", _TYPE_FIX
                else:
                    if kind == "BOOLEAN":
                        good.append(rule)
                        continue
                    problem, fix = f"gives {kind}, not true/false", _BOOLEAN_FIX
                problems.append(_error(rule.segment, rule.rule, problem, fix, i))
        finally:
            con.close()
    problems.sort(key=lambda e: getattr(e, "path", ("segments", 0))[1] or 0)
    return good, problems


_TYPE_FIX = "compare values of the same kind and call functions with arguments they accept"
_BOOLEAN_FIX = "compare it so that each customer is in or out, e.g. `orders_total > 0`"


def check_rules(definitions: Sequence[Any], *, columns: Mapping[str, str] = RULE_COLUMNS) -> list[CheckedRule]:
    """Check every rule of the strategy's segments: the one check every command and widget uses.

    Each rule is parsed and checked (:func:`check_rule`), then bound by DuckDB on an empty table
    with the columns' types, which must give a BOOLEAN. ``definitions`` are
    :class:`~workbench.models.strategy.SegmentDefinition` (``name``, ``rule``).

    Returns
    -------
    list of CheckedRule
        In the order of ``definitions``.

    Raises
    ------
    StrategyError
        The problem of the bad rule, or every problem, one per line, when several rules are bad.
    """
    good, problems = _check_all(definitions, columns)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        msg = f"{len(problems)} segment rules cannot be used:\n{lines}"
        raise StrategyError(msg)
    return good


def rule_problems(definitions: Sequence[Any], *, columns: Mapping[str, str] = RULE_COLUMNS) -> list[StrategyError]:
    """Every problem of the segments' rules (the check of :func:`check_rules`), without raising.

    Each is a :class:`StrategyError` whose ``.path`` is ``("segments", i, "rule")``, so
    ``workbench validate`` can name the YAML line.
    """
    return _check_all(definitions, columns)[1]


# ---------------------------------------------------------------- evaluation


def evaluate(profiles: pd.DataFrame, rules: Sequence[CheckedRule]) -> dict[str, np.ndarray]:
    """One boolean mask per checked rule over ``profiles`` (NULL counts as not in the segment).

    Runs on :func:`sandboxed_connection` with only the columns the rules read.

    Raises
    ------
    StrategyError
        A column the rule reads is not in ``profiles``, DuckDB cannot evaluate the rule for these
        values, or the result is not one boolean per customer.
    """
    if not rules:
        return {}
    needed = list(dict.fromkeys(c for r in rules for c in r.columns))
    for rule in rules:
        missing = [c for c in rule.columns if c not in profiles.columns]
        if missing:
            fix = (
                "open a Workspace, whose profiles carry the predicted value, or add "
                "workbench.value.customer_value(profiles).frame to the profiles"
                if set(missing) <= set(VALUE_KINDS)
                else "build the profiles with profiles.build_profiles and segments.assign, or add the column to the "
                "customers table"
            )
            raise _error(rule.segment, rule.rule, f"reads {', '.join(missing)}, which these profiles do not have", fix)
    n = len(profiles)
    masks: dict[str, np.ndarray] = {}
    con = sandboxed_connection()
    try:
        con.register("profiles", profiles[needed] if needed else pd.DataFrame({"row": np.zeros(n, dtype=np.int8)}))
        for rule in rules:
            try:
                table = con.sql(f"select ({rule.sql}) as hit from profiles").to_arrow_table()
            except duckdb.Error as exc:
                raise _error(rule.segment, rule.rule, f"cannot be evaluated: {_duck_problem(exc)}", _TYPE_FIX) from None
            hit = table.column(0)
            if not (pa.types.is_boolean(hit.type) or pa.types.is_null(hit.type)) or len(hit) != n:
                raise _error(
                    rule.segment,
                    rule.rule,
                    f"gave {len(hit):,} values of type {hit.type} for {n:,} customers, not one true/false each",
                    _BOOLEAN_FIX,
                )
            filled = hit.cast(pa.bool_()).fill_null(False)
            masks[rule.segment] = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)
    finally:
        con.close()
    return masks
