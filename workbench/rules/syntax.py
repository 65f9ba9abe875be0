"""The parsed form of a segment rule: SQLGlot's tree, walked against an allow-list (see :mod:`workbench.rules`).

Only :mod:`workbench.rules` imports this module, when it checks a rule, so ``import workbench``
does not load SQLGlot.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import SqlglotError

from .vocabulary import (
    _FUNCTIONS,
    _NULL,
    BOOLEAN,
    DATE,
    INTERVAL,
    MAX_RULE_DEPTH,
    MAX_RULE_LENGTH,
    NUMBER,
    RULE_FUNCTIONS,
    TEXT,
    TIMESTAMP,
    _first_line,
    _Function,
    _Refused,
)

__all__ = ["check"]

#: SQLGlot's node for each allowed function (``date_part`` stays an anonymous call in SQLGlot).
_CLASSES: dict[type[exp.Expr], str] = {
    exp.Lower: "lower",
    exp.Upper: "upper",
    exp.Trim: "trim",
    exp.Length: "length",
    exp.Substring: "substring",
    exp.StartsWith: "starts_with",
    exp.EndsWith: "ends_with",
    exp.Contains: "contains",
    exp.RegexpLike: "regexp_matches",
    exp.Concat: "concat",
    exp.Abs: "abs",
    exp.Round: "round",
    exp.Floor: "floor",
    exp.Ceil: "ceil",
    exp.Least: "least",
    exp.Greatest: "greatest",
    exp.Coalesce: "coalesce",
    exp.Nullif: "nullif",
    exp.If: "if",
}
_ANONYMOUS = frozenset({"date_part"})
_FUNCTION_NAMES = sorted(RULE_FUNCTIONS)
_T = frozenset({TEXT})
_N = frozenset({NUMBER})
#: Date parts and interval units a rule may name.
_UNITS = frozenset(
    [
        "year",
        "years",
        "month",
        "months",
        "week",
        "weeks",
        "day",
        "days",
        "hour",
        "hours",
        "minute",
        "minutes",
        "second",
        "seconds",
        "quarter",
        "dayofweek",
        "dow",
        "dayofyear",
        "doy",
        "isodow",
        "epoch",
    ]
)
#: Types a rule may cast to, by the kind they make.
_TYPE = exp.DataType.Type
_CASTS: dict[exp.DType, str] = {
    **dict.fromkeys((_TYPE.INT, _TYPE.BIGINT, _TYPE.SMALLINT, _TYPE.DOUBLE, _TYPE.FLOAT, _TYPE.DECIMAL), NUMBER),
    **dict.fromkeys((_TYPE.TEXT, _TYPE.VARCHAR), TEXT),
    _TYPE.BOOLEAN: BOOLEAN,
    _TYPE.DATE: DATE,
    **dict.fromkeys((_TYPE.TIMESTAMP, _TYPE.TIMESTAMPTZ, _TYPE.TIMESTAMPNTZ), TIMESTAMP),
}
#: Functions and statements that reach outside the profiles: named in the error so the reason is clear.
_OUTSIDE = re.compile(
    r"^(read_\w+|\w+_scan|glob|sniff_csv|parquet_\w+|query|query_table|getenv|current_setting|duckdb_\w+|"
    r"which_secret|load|install|copy|attach|detach|export|import|pragma|set|reset|checkpoint|call)$"
)
_AGGREGATES = (exp.AggFunc, exp.Window)
_TOO_DEEP = ("is nested too deeply", "write it with fewer brackets, or split it into segments")


def _sql(node: exp.Expr) -> str:
    try:
        return node.sql(dialect="duckdb", comments=False)
    except Exception:
        return type(node).__name__


def _kind_name(kind: str) -> str:
    return {_NULL: "null", INTERVAL: "an interval", TEXT: "text", BOOLEAN: "true/false"}.get(kind, f"a {kind}")


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    names = type(node).sql_names() if isinstance(node, exp.Func) else []
    return names[0].lower() if names else type(node).__name__.lower()


class _Checker:
    """Walks the parsed tree: allow-listed nodes only, columns resolved, kinds inferred."""

    def __init__(self, columns: Mapping[str, str]) -> None:
        self.columns = columns
        self.by_lower: dict[str, str] = {}
        for name in columns:
            self.by_lower.setdefault(name.lower(), name)
        self.used: dict[str, None] = {}

    # -- helpers

    def _need(self, node: exp.Expr, kinds: frozenset[str], what: str) -> str:
        kind = self.kind(node)
        if kind != _NULL and kind not in kinds:
            wanted = " or ".join(sorted(_kind_name(k) for k in kinds))
            msg = f"uses `{_sql(node)}`, which is {_kind_name(kind)}, where {what} needs {wanted}"
            raise _Refused(
                msg,
                "use a value of the right kind there, or compare the value first (e.g. `orders_total > 0`)",
            )
        return kind

    def _common(self, nodes: Iterable[exp.Expr], what: str) -> str:
        kinds: list[tuple[str, exp.Expr]] = [(self.kind(n), n) for n in nodes]
        found = {k for k, _ in kinds} - {_NULL}
        if TIMESTAMP in found and DATE in found:
            found.discard(DATE)
        if len(found) > 1:
            shown = ", ".join(f"`{_sql(n)}` is {_kind_name(k)}" for k, n in kinds if k != _NULL)
            msg = f"mixes kinds of value in {what} ({shown})"
            raise _Refused(
                msg,
                "give every branch or argument the same kind of value (all numbers, all text, ...)",
            )
        return found.pop() if found else _NULL

    def _comparable(self, left: exp.Expr, right: exp.Expr) -> None:
        a, b = self.kind(left), self.kind(right)
        if _NULL in (a, b) or a == b or {a, b} == {TIMESTAMP, DATE}:
            return
        if {a, b} <= {TIMESTAMP, DATE, TEXT}:
            literal = right if b == TEXT else left
            if isinstance(literal, exp.Literal) and literal.is_string:
                return  # a date written as text: DuckDB reads the literal as a date
        msg = f"compares `{_sql(left)}` ({_kind_name(a)}) with `{_sql(right)}` ({_kind_name(b)})"
        raise _Refused(
            msg,
            "compare values of the same kind: numbers with numbers (write 5, not '5'), text with 'quoted text', "
            "dates with date '2026-01-01'",
        )

    # -- the walk

    def kind(self, node: exp.Expr) -> str:
        if isinstance(node, exp.Paren):
            return self.kind(node.this)
        if isinstance(node, exp.Column):
            return self._column(node)
        if isinstance(node, exp.Literal):
            return TEXT if node.is_string else NUMBER
        if isinstance(node, exp.Boolean):
            return BOOLEAN
        if isinstance(node, exp.Null):
            return _NULL
        if isinstance(node, (exp.And, exp.Or)):
            word = "AND" if isinstance(node, exp.And) else "OR"
            for side in (node.this, node.expression):
                self._need(side, frozenset({BOOLEAN}), word)
            return BOOLEAN
        if isinstance(node, exp.Not):
            self._need(node.this, frozenset({BOOLEAN}), "NOT")
            return BOOLEAN
        if isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)):
            self._comparable(node.this, node.expression)
            return BOOLEAN
        if isinstance(node, exp.In):
            return self._in(node)
        if isinstance(node, exp.Between):
            self._comparable(node.this, node.args["low"])
            self._comparable(node.this, node.args["high"])
            return BOOLEAN
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, (exp.Null, exp.Boolean)):
                msg = f"uses `{_sql(node)}`"
                raise _Refused(msg, "write IS NULL, IS NOT NULL, IS TRUE or IS FALSE, or compare with =")
            if isinstance(node.expression, exp.Boolean):
                self._need(node.this, frozenset({BOOLEAN}), "IS TRUE/FALSE")
            else:
                self.kind(node.this)
            return BOOLEAN
        if isinstance(node, exp.Escape):
            if not isinstance(node.this, (exp.Like, exp.ILike)) or not (
                isinstance(node.expression, exp.Literal) and node.expression.is_string
            ):
                msg = f"uses `{_sql(node)}`"
                raise _Refused(msg, "write ESCAPE only after LIKE, with a one-character 'text'")
            return self.kind(node.this)
        if isinstance(node, (exp.Like, exp.ILike)):
            word = "LIKE" if isinstance(node, exp.Like) else "ILIKE"
            self._need(node.this, _T, word)
            self._need(node.expression, _T, word)
            return BOOLEAN
        if isinstance(node, (exp.Add, exp.Sub)):
            return self._add(node)
        if isinstance(node, (exp.Mul, exp.Div, exp.Mod, exp.IntDiv, exp.Pow)):
            for side in (node.this, node.expression):
                self._need(side, _N, "arithmetic")
            return NUMBER
        if isinstance(node, exp.Neg):
            return self._need(node.this, frozenset({NUMBER, INTERVAL}), "a minus sign")
        if isinstance(node, exp.DPipe):
            self.kind(node.this)
            self.kind(node.expression)
            return TEXT
        if isinstance(node, exp.Case):
            return self._case(node)
        if isinstance(node, (exp.Cast, exp.TryCast)):
            return self._cast(node)
        if isinstance(node, exp.Interval):
            return self._interval(node)
        return self._other(node)

    def _column(self, node: exp.Column) -> str:
        if node.table or node.args.get("db") or node.args.get("catalog"):
            msg = f"names `{_sql(node)}` with a table"
            raise _Refused(msg, f"write the column alone: {node.name}")
        if not isinstance(node.this, exp.Identifier):
            msg = f"uses `{_sql(node)}`, which is not a column name"
            raise _Refused(msg, "name a profile column")
        name = str(node.name)
        canonical = name if name in self.columns else self.by_lower.get(name.lower())
        if canonical is None:
            close = difflib.get_close_matches(name, list(self.columns), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            msg = f"names an unknown column {name!r}{hint}"
            raise _Refused(
                msg,
                "use a profile column (workbench.rules.RULE_COLUMNS lists them) and quote text values "
                "with single quotes ('like this')",
            )
        node.set("this", exp.Identifier(this=canonical, quoted=False))  # quoted when the SQL is written
        self.used.setdefault(canonical)
        return self.columns[canonical]

    def _in(self, node: exp.In) -> str:
        if node.args.get("query") is not None or node.args.get("unnest") is not None or node.args.get("field"):
            msg = "uses a subquery in IN"
            raise _Refused(msg, "list the values instead: `rfm_segment in ('champions', 'loyal')`")
        values = node.expressions
        if not values:
            msg = "has an empty IN list"
            raise _Refused(msg, "list at least one value: `x in ('a', 'b')`")
        for value in values:
            self._comparable(node.this, value)
        return BOOLEAN

    def _add(self, node: exp.Add | exp.Sub) -> str:
        a, b = self.kind(node.this), self.kind(node.expression)
        if _NULL in (a, b):
            return a if b == _NULL else b
        time = {TIMESTAMP, DATE}
        if a == NUMBER and b == NUMBER:
            return NUMBER
        if a in time and b == INTERVAL:
            return TIMESTAMP
        if isinstance(node, exp.Add) and a == INTERVAL and b in time:
            return TIMESTAMP
        if a == INTERVAL and b == INTERVAL:
            return INTERVAL
        if isinstance(node, exp.Sub) and a in time and b in time:
            return INTERVAL if TIMESTAMP in (a, b) else NUMBER
        sign = "+" if isinstance(node, exp.Add) else "-"
        msg = f"uses `{_sql(node)}`: {_kind_name(a)} {sign} {_kind_name(b)} is not defined"
        raise _Refused(
            msg,
            "add and subtract numbers, or a date and an interval (`last_order_at + interval 30 day`); "
            "join texts with ||",
        )

    def _case(self, node: exp.Case) -> str:
        subject = node.this
        results = []
        for branch in node.args.get("ifs") or []:
            if subject is not None:
                self._comparable(subject, branch.this)
            else:
                self._need(branch.this, frozenset({BOOLEAN}), "CASE WHEN")
            results.append(branch.args["true"])
        if node.args.get("default") is not None:
            results.append(node.args["default"])
        return self._common(results, "CASE")

    def _cast(self, node: exp.Cast | exp.TryCast) -> str:
        to = node.to
        kind = _CASTS.get(to.this) if isinstance(to, exp.DataType) and not to.expressions else None
        if kind is None:
            msg = f"casts to {_sql(to)}"
            raise _Refused(
                msg,
                "cast only to boolean, integer, bigint, double, decimal, varchar, date or timestamp",
            )
        self.kind(node.this)
        return kind

    def _interval(self, node: exp.Interval) -> str:
        unit = node.args.get("unit")
        value = node.this
        unit_name = str(unit.name).lower() if isinstance(unit, exp.Var) else ""
        if (
            not isinstance(value, exp.Literal)
            or unit_name not in _UNITS
            or not re.fullmatch(r"-?\d+(\.\d+)?", str(value.this).strip())
        ):
            msg = f"uses `{_sql(node)}`"
            raise _Refused(msg, "write an interval as `interval 30 day` (a number and a unit)")
        return INTERVAL

    def _function(self, node: exp.Expr, spec: _Function, args: Sequence[exp.Expr]) -> str:
        name = spec.names[0]
        kinds = []
        for i, arg in enumerate(args):
            allowed = spec.args[min(i, len(spec.args) - 1)]
            kinds.append(self._need(arg, allowed, f"{name}()"))
        if spec.returns is not None:
            return spec.returns
        if isinstance(node, exp.If):
            return self._common(args[1:], "IF")
        if isinstance(node, exp.Nullif):
            return kinds[0]
        return self._common(args, f"{name}()")

    def _unit(self, node: exp.Expr | None, name: str) -> None:
        text = ""
        if isinstance(node, exp.Var):
            text = str(node.name)
        elif isinstance(node, exp.Literal) and node.is_string:
            text = str(node.this)
        if text.lower() not in _UNITS:
            msg = f"asks {name}() for the unknown part {text or _sql(node) if node is not None else '?'!r}"
            raise _Refused(
                msg,
                "use year, quarter, month, week, day, dayofweek, hour, minute or second",
            )

    def _other(self, node: exp.Expr) -> str:
        if isinstance(node, exp.DateDiff):
            self._unit(node.args.get("unit"), "date_diff")
            return self._function(node, _FUNCTIONS["date_diff"], [node.expression, node.this])
        if isinstance(node, exp.Extract):
            self._unit(node.this, "extract")
            return self._function(node, _FUNCTIONS["extract"], [node.expression])
        name = _CLASSES.get(type(node))
        spec = _FUNCTIONS[name] if name is not None else None
        if spec is not None:
            return self._function(node, spec, _args(node))
        if isinstance(node, exp.Anonymous) and str(node.name).lower() in _ANONYMOUS:
            args = list(node.expressions)
            if len(args) != 2:
                msg = f"calls `{_sql(node)}` with {len(args)} arguments"
                raise _Refused(msg, "write date_part('month', ts)")
            self._unit(args[0], "date_part")
            return self._function(node, _FUNCTIONS[str(node.name).lower()], args)
        raise _refusal(node)


def _args(node: exp.Expr) -> list[exp.Expr]:
    """The argument expressions of an allowed function, in order."""
    out: list[exp.Expr] = []
    for key in node.arg_types:
        value = node.args.get(key)
        if isinstance(value, exp.Expression):
            out.append(value)
        elif isinstance(value, list):
            out.extend(v for v in value if isinstance(v, exp.Expression))
    return out


def _refusal(node: exp.Expr) -> _Refused:
    if isinstance(node, (exp.Subquery, exp.Select, exp.Exists, exp.Union, exp.Query)):
        return _Refused(
            "contains a subquery", "a rule is one expression over the customer's own profile columns; no SELECT"
        )
    if isinstance(node, (exp.Copy, exp.Attach, exp.Detach, exp.Pragma, exp.Set, exp.Command, exp.Drop, exp.Create)):
        return _Refused(
            f"is a SQL statement ({node.key.upper()}), not an expression",
            "write one boolean expression such as `orders_total > 0`",
        )
    if isinstance(node, _AGGREGATES):
        return _Refused(
            f"uses `{_sql(node)}`, an aggregate or window function",
            "a rule looks at one customer at a time; use a profile column such as orders_total or revenue_365d",
        )
    if isinstance(node, exp.Func):
        name = _function_name(node)
        if _OUTSIDE.match(name) or isinstance(node, (exp.ReadCSV, exp.ReadParquet)):
            return _Refused(
                f"calls {name}(), which reads files or settings outside the profiles",
                "a rule may only use profile columns, literals and the functions listed in "
                "workbench.rules.RULE_FUNCTIONS",
            )
        close = difflib.get_close_matches(name, _FUNCTION_NAMES, n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        return _Refused(
            f"calls {name}(), which is not an allowed function{hint}",
            f"use one of {', '.join(_FUNCTION_NAMES)} (workbench.rules.RULE_FUNCTIONS)",
        )
    if isinstance(node, (exp.Placeholder, exp.Parameter)):
        return _Refused(f"contains the parameter `{_sql(node)}`", "write the value itself")
    if isinstance(node, exp.Star):
        return _Refused("contains *", "name the profile columns the rule compares")
    return _Refused(
        f"uses `{_sql(node)}` ({type(node).__name__}), which a rule may not contain",
        "write one boolean expression with columns, literals, comparisons, AND/OR/NOT, IN, BETWEEN, "
        "IS NULL, LIKE, CASE and the functions in workbench.rules.RULE_FUNCTIONS",
    )


def _depth(node: exp.Expr) -> int:
    deepest, todo = 0, [(node, 1)]
    while todo:
        current, depth = todo.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_RULE_DEPTH:
            break
        todo.extend((child, depth + 1) for child in current.iter_expressions())
    return deepest


def _parse(rule: str) -> exp.Expr:
    """The one expression of ``rule``; refused when it is not exactly one, or hides a comment."""
    if not isinstance(rule, str) or not rule.strip():
        msg = "is empty"
        raise _Refused(msg, "write a boolean expression such as `orders_total > 0`")
    if len(rule) > MAX_RULE_LENGTH:
        msg = f"is {len(rule):,} characters long, over the limit of {MAX_RULE_LENGTH:,}"
        raise _Refused(
            msg,
            "split it into simpler segments",
        )
    dialect = sqlglot.Dialect.get_or_raise("duckdb")
    try:
        tokens = dialect.tokenize(rule)
    except SqlglotError as exc:
        msg = f"cannot be read ({_first_line(exc)})"
        raise _Refused(msg, "check the quotes and brackets") from None
    if any(t.comments for t in tokens):
        msg = "contains a comment (-- or /* */)"
        raise _Refused(msg, "remove the comment; explain the segment in its description field")
    if any(t.token_type == TokenType.SEMICOLON for t in tokens):
        msg = "contains `;`, which separates statements"
        raise _Refused(msg, "a rule is one expression: remove the `;` and what follows")
    try:
        parsed = [e for e in dialect.parser().parse(tokens, rule) if e is not None]
    except SqlglotError as exc:
        msg = f"cannot be parsed ({_first_line(exc)})"
        raise _Refused(msg, "check the syntax near that position") from None
    except RecursionError:
        raise _Refused(*_TOO_DEEP) from None
    if len(parsed) != 1:
        msg = f"holds {len(parsed)} statements"
        raise _Refused(msg, "a rule is one expression")
    return parsed[0]


def check(rule: str, columns: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """The DuckDB SQL regenerated from the checked tree of ``rule``, and the columns it reads.

    Raises ``_Refused`` (what is wrong and the fix) for anything but one boolean expression of
    allowed parts over ``columns``.
    """
    tree = _parse(rule)
    if _depth(tree) > MAX_RULE_DEPTH:
        raise _Refused(*_TOO_DEEP)
    checker = _Checker(columns)
    try:
        kind = checker.kind(tree)
    except RecursionError:
        raise _Refused(*_TOO_DEEP) from None
    if kind != BOOLEAN:
        example = f"`{_sql(tree)} > 0`" if kind == NUMBER else "`orders_total > 0`"
        msg = f"is {_kind_name(kind)}, not a true/false condition"
        raise _Refused(
            msg,
            f"compare it so that each customer is in or out, e.g. {example}",
        )
    try:
        sql = tree.sql(dialect="duckdb", comments=False, identify=True)
    except SqlglotError as exc:
        msg = f"cannot be written as SQL ({_first_line(exc)})"
        raise _Refused(msg, "simplify the rule") from None
    return sql, tuple(checker.used)
