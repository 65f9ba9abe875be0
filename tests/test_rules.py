"""Segment rules are parsed and allow-listed, never pasted into SQL; they run in a DuckDB that cannot reach files.

Each hostile rule is refused with the exact message, through every path that reads rules
(``workbench validate``, ``workbench segments``, ``segments.assign`` used by the explorer and the
simulator), and nothing on disk changes. A property test builds random rules from allowed parts.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.models.errors import StrategyError
from workbench.models.strategy import SegmentDefinition
from workbench.profiles import PROFILE_COLUMNS
from workbench.rules import (
    ASSIGNED_COLUMNS,
    BOOLEAN,
    NUMBER,
    RULE_COLUMNS,
    RULE_FUNCTIONS,
    TEXT,
    TIMESTAMP,
    CheckedRule,
    check_rule,
    check_rules,
    evaluate,
    rule_problems,
    sandboxed_connection,
)
from workbench.segments import assign, evaluate_rules

ROOT = Path(__file__).resolve().parents[1]
STRATEGY = ROOT / "data" / "strategy.yaml"
SAMPLE = ROOT / "data" / "sample"
FILES_FIX = (
    "Fix: a rule may only use profile columns, literals and the functions listed in workbench.rules.RULE_FUNCTIONS"
)
STATEMENT_FIX = "Fix: write one boolean expression such as `orders_total > 0`"
FUNCTION_LIST = ", ".join(sorted(RULE_FUNCTIONS))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _refused(rule: str, segment: str = "s") -> str:
    with pytest.raises(StrategyError) as info:
        check_rule(rule, segment=segment)
    return str(info.value)


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file a hostile rule would like to read, and the place it would like to write."""
    path = tmp_path / "secret.txt"
    path.write_text("customer_id\nC1\n")
    return path


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    """Five customers with every rule column, NULLs included (values chosen by hand)."""
    n = 5
    data: dict[str, object] = {}
    for name, kind in RULE_COLUMNS.items():
        if kind == NUMBER:
            data[name] = pd.Series([0.0, 1.0, 2.0, 350.0, np.nan])
        elif kind == BOOLEAN:
            data[name] = np.array([True, False, True, False, True])
        elif kind == TIMESTAMP:
            data[name] = pd.Series(
                pd.to_datetime(["2026-01-01", "2026-03-01", None, "2025-12-31", "2026-10-30"], utc=True)
            )
        else:
            data[name] = pd.Series(["a@x.com", "b@y.org", None, "champions", "loyal"], dtype="string")
    data["customer_id"] = pd.Series([f"C{i}" for i in range(n)], dtype="string")
    return pd.DataFrame(data)


# ---------------------------------------------------------------- hostile rules, exact messages


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "read_text('/etc/passwd') is not null",
            "segment 's': rule `read_text('/etc/passwd') is not null` calls read_text(), which reads files or "
            f"settings outside the profiles. {FILES_FIX}",
        ),
        (
            "can_sms and read_csv('/etc/passwd') is null",
            "segment 's': rule `can_sms and read_csv('/etc/passwd') is null` calls read_csv(), which reads files "
            f"or settings outside the profiles. {FILES_FIX}",
        ),
        (
            "read_parquet('data/sample/orders.parquet') is null",
            "segment 's': rule `read_parquet('data/sample/orders.parquet') is null` calls read_parquet(), which "
            f"reads files or settings outside the profiles. {FILES_FIX}",
        ),
        (
            "glob('/etc/*') is not null",
            "segment 's': rule `glob('/etc/*') is not null` calls glob(), which reads files or settings outside "
            f"the profiles. {FILES_FIX}",
        ),
        (
            "getenv('HOME') = 'x'",
            "segment 's': rule `getenv('HOME') = 'x'` calls getenv(), which reads files or settings outside the "
            f"profiles. {FILES_FIX}",
        ),
        (
            "current_setting('enable_external_access')",
            "segment 's': rule `current_setting('enable_external_access')` calls current_setting(), which reads "
            f"files or settings outside the profiles. {FILES_FIX}",
        ),
        (
            "copy (select 1) to '/tmp/x.csv'",
            f"segment 's': rule `copy (select 1) to '/tmp/x.csv'` is a SQL statement (COPY), not an expression. "
            f"{STATEMENT_FIX}",
        ),
        (
            "attach '/tmp/x.duckdb'",
            "segment 's': rule `attach '/tmp/x.duckdb'` is a SQL statement (ATTACH), not an expression. "
            f"{STATEMENT_FIX}",
        ),
        (
            "pragma version",
            f"segment 's': rule `pragma version` is a SQL statement (PRAGMA), not an expression. {STATEMENT_FIX}",
        ),
        (
            "set enable_external_access = true",
            "segment 's': rule `set enable_external_access = true` is a SQL statement (SET), not an expression. "
            f"{STATEMENT_FIX}",
        ),
        (
            "can_sms; drop table profiles",
            "segment 's': rule `can_sms; drop table profiles` contains `;`, which separates statements. "
            "Fix: a rule is one expression: remove the `;` and what follows",
        ),
        (
            "can_sms; copy (select 1) to '/tmp/x'",
            "segment 's': rule `can_sms; copy (select 1) to '/tmp/x'` contains `;`, which separates statements. "
            "Fix: a rule is one expression: remove the `;` and what follows",
        ),
        (
            "can_sms /* ; copy (select 1) to '/tmp/x' */",
            "segment 's': rule `can_sms /* ; copy (select 1) to '/tmp/x' */` contains a comment (-- or /* */). "
            "Fix: remove the comment; explain the segment in its description field",
        ),
        (
            "can_sms -- the rest is a comment\n or true",
            "segment 's': rule `can_sms -- the rest is a comment or true` contains a comment (-- or /* */). "
            "Fix: remove the comment; explain the segment in its description field",
        ),
        (
            "(select count(*) from read_csv('/etc/passwd')) > 0",
            "segment 's': rule `(select count(*) from read_csv('/etc/passwd')) > 0` contains a subquery. "
            "Fix: a rule is one expression over the customer's own profile columns; no SELECT",
        ),
        (
            "exists (select 1)",
            "segment 's': rule `exists (select 1)` contains a subquery. "
            "Fix: a rule is one expression over the customer's own profile columns; no SELECT",
        ),
        (
            "customer_id in (select customer_id from profiles)",
            "segment 's': rule `customer_id in (select customer_id from profiles)` uses a subquery in IN. "
            "Fix: list the values instead: `rfm_segment in ('champions', 'loyal')`",
        ),
        (
            "revenue_365d",
            "segment 's': rule `revenue_365d` is a number, not a true/false condition. "
            "Fix: compare it so that each customer is in or out, e.g. `revenue_365d > 0`",
        ),
        (
            "email",
            "segment 's': rule `email` is text, not a true/false condition. "
            "Fix: compare it so that each customer is in or out, e.g. `orders_total > 0`",
        ),
        (
            "case when can_sms then 1 else 0 end",
            "segment 's': rule `case when can_sms then 1 else 0 end` is a number, not a true/false condition. "
            "Fix: compare it so that each customer is in or out, e.g. `CASE WHEN can_sms THEN 1 ELSE 0 END > 0`",
        ),
        (
            "cart_ads_7d > 0",
            "segment 's': rule `cart_ads_7d > 0` names an unknown column 'cart_ads_7d'; did you mean cart_adds_7d "
            "or cart_adds_30d? Fix: use a profile column (workbench.rules.RULE_COLUMNS lists them) and quote text "
            "values with single quotes ('like this')",
        ),
        (
            "intent = cart_abandoner",
            "segment 's': rule `intent = cart_abandoner` names an unknown column 'cart_abandoner'. Fix: use a "
            "profile column (workbench.rules.RULE_COLUMNS lists them) and quote text values with single quotes "
            "('like this')",
        ),
        (
            "lowr(email) = 'x'",
            "segment 's': rule `lowr(email) = 'x'` calls lowr(), which is not an allowed function; did you mean "
            f"lower or floor? Fix: use one of {FUNCTION_LIST} (workbench.rules.RULE_FUNCTIONS)",
        ),
        (
            "random() < 0.5",
            "segment 's': rule `random() < 0.5` calls rand(), which is not an allowed function; did you mean "
            f"round? Fix: use one of {FUNCTION_LIST} (workbench.rules.RULE_FUNCTIONS)",
        ),
        (
            "sum(orders_total) > 1",
            "segment 's': rule `sum(orders_total) > 1` uses `SUM(orders_total)`, an aggregate or window function. "
            "Fix: a rule looks at one customer at a time; use a profile column such as orders_total or revenue_365d",
        ),
        (
            "profiles.can_sms",
            "segment 's': rule `profiles.can_sms` names `profiles.can_sms` with a table. Fix: write the column "
            "alone: can_sms",
        ),
        (
            "revenue_365d > '300'",
            "segment 's': rule `revenue_365d > '300'` compares `revenue_365d` (a number) with `'300'` (text). "
            "Fix: compare values of the same kind: numbers with numbers (write 5, not '5'), text with "
            "'quoted text', dates with date '2026-01-01'",
        ),
        (
            "not email",
            "segment 's': rule `not email` uses `email`, which is text, where NOT needs true/false. Fix: use a "
            "value of the right kind there, or compare the value first (e.g. `orders_total > 0`)",
        ),
        (
            "$1",
            "segment 's': rule `$1` contains the parameter `$1`. Fix: write the value itself",
        ),
        (
            "",
            "segment 's': rule `` is empty. Fix: write a boolean expression such as `orders_total > 0`",
        ),
    ],
)
def test_hostile_rule_is_refused_with_the_exact_message(rule, message):
    assert _refused(rule) == message


def test_long_and_deep_rules_are_refused_before_anything_runs():
    long_rule = " or ".join(["can_sms"] * 600)
    assert _refused(long_rule).endswith(
        "is 6,596 characters long, over the limit of 2,000. Fix: split it into simpler segments"
    )
    deep = "(" * 200 + "can_sms" + ")" * 200
    assert _refused(deep).endswith("is nested too deeply. Fix: write it with fewer brackets, or split it into segments")


def test_allowed_rules_are_regenerated_from_the_checked_tree():
    checked = check_rule("intent = 'cart_abandoner' and CAN_SMS", segment="x")
    assert checked == CheckedRule(
        segment="x",
        rule="intent = 'cart_abandoner' and CAN_SMS",
        sql='"intent" = \'cart_abandoner\' AND "can_sms"',
        columns=("intent", "can_sms"),
    )
    # quotes inside literals stay literals in the regenerated SQL
    assert check_rule("first_name = 'O''Brien'").sql == "\"first_name\" = 'O''Brien'"
    assert check_rule("t > 30").sql == '"T" > 30'


def test_hostile_rules_never_touch_files_through_assign(tmp_path, secret, sample_profiles):
    target = tmp_path / "written.csv"
    before = _sha(secret)
    hostile = [
        f"read_text('{secret}') is not null",
        f"can_sms; copy (select 1) to '{target}'",
        f"can_sms /* ; copy (select 1) to '{target}' */",
        f"(select count(*) from read_csv('{secret}')) > 0",
        f"attach '{tmp_path / 'x.duckdb'}'",
    ]
    for i, rule in enumerate(hostile):
        with pytest.raises(StrategyError, match=re.escape(f"segment 'h{i}': rule `")):
            assign(sample_profiles, [SegmentDefinition(name=f"h{i}", rule=rule)])
    assert _sha(secret) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.txt"]


# ---------------------------------------------------------------- the sandboxed connection


@pytest.mark.parametrize(
    "statement",
    [
        "select * from read_text('{secret}')",
        "select * from read_csv('{secret}')",
        "select * from read_parquet('{secret}')",
        "select * from glob('{folder}/*')",
        "copy (select 42 as x) to '{folder}/out.csv'",
        "attach '{folder}/new.duckdb' as other",
        "install httpfs",
        "load httpfs",
        "select * from secret_frame",  # a Python variable of the caller (a replacement scan)
    ],
)
def test_sandboxed_connection_cannot_reach_files_or_python(statement, tmp_path, secret):
    secret_frame = pd.DataFrame({"x": [1]})  # noqa: F841 - what the replacement scan would find
    before = _tree_hashes(tmp_path)
    con = sandboxed_connection()
    try:
        with pytest.raises(duckdb.Error) as info:
            con.execute(statement.format(secret=secret, folder=tmp_path)).fetchall()
    finally:
        con.close()
    text = str(info.value)
    assert (
        "disabled by configuration" in text or "disabled through configuration" in text or "does not exist" in text
    ), text
    assert _tree_hashes(tmp_path) == before


@pytest.mark.parametrize(
    "setting",
    [
        "set enable_external_access = true",
        "set lock_configuration = false",
        "set autoload_known_extensions = true",
        "set autoinstall_known_extensions = true",
        "set allow_community_extensions = true",
        "set threads = 1",
        "reset enable_external_access",
    ],
)
def test_sandboxed_connection_configuration_is_locked(setting):
    con = sandboxed_connection()
    try:
        with pytest.raises(duckdb.Error, match=r"the configuration has been locked"):
            con.execute(setting)
        values = dict(
            con.execute(
                "select name, value from duckdb_settings() where name in ('enable_external_access', "
                "'lock_configuration', 'autoload_known_extensions', 'autoinstall_known_extensions', "
                "'allow_community_extensions', 'TimeZone')"
            ).fetchall()
        )
    finally:
        con.close()
    assert values == {
        "enable_external_access": "false",
        "lock_configuration": "true",
        "autoload_known_extensions": "false",
        "autoinstall_known_extensions": "false",
        "allow_community_extensions": "false",
        "TimeZone": "UTC",
    }


def test_sandboxed_connection_still_reads_registered_frames():
    con = sandboxed_connection()
    try:
        con.register("t", pd.DataFrame({"x": [1, 2, 3]}))
        assert con.execute("select sum(x) from t").fetchall() == [(6,)]
    finally:
        con.close()


# ---------------------------------------------------------------- evaluation


def test_rules_evaluate_like_pandas(profiles):
    rules = {
        "a": "orders_total > 1 and can_sms",
        "b": "rfm_segment in ('champions', 'loyal') or email like '%@x.com'",
        "c": "days_since_last_order between 1 and 2",
        "d": "first_order_at >= '2026-01-01' and first_order_at < date '2026-06-01'",
        "e": "email is null",
        "f": "coalesce(revenue_365d, 0) * 2 >= 4",
        "g": "lower(email) ilike '%Y.ORG' or starts_with(rfm_segment, 'champ')",
    }
    out = evaluate_rules(profiles, [SegmentDefinition(name=k, rule=v) for k, v in rules.items()])
    p = profiles
    expected = {
        "a": (p["orders_total"] > 1) & p["can_sms"],
        "b": p["rfm_segment"].isin(["champions", "loyal"]) | p["email"].str.endswith("@x.com"),
        "c": p["days_since_last_order"].between(1, 2),
        "d": (p["first_order_at"] >= pd.Timestamp("2026-01-01", tz="UTC"))
        & (p["first_order_at"] < pd.Timestamp("2026-06-01", tz="UTC")),
        "e": p["email"].isna(),
        "f": p["revenue_365d"].fillna(0) * 2 >= 4,
        "g": p["email"].str.lower().str.endswith("y.org") | p["rfm_segment"].str.startswith("champ"),
    }
    for name, want in expected.items():
        got = out[f"segment_{name}"]
        assert got.dtype == bool
        assert got.tolist() == pd.Series(want).fillna(False).astype(bool).tolist(), name
    assert out.columns[: len(p.columns)].tolist() == p.columns.tolist()


def test_null_means_not_in_the_segment(profiles):
    out = evaluate_rules(profiles, [SegmentDefinition(name="n", rule="days_since_last_order > 0")])
    assert out["segment_n"].tolist() == [False, True, True, True, False]


def test_evaluated_result_must_be_boolean(profiles):
    # a rule that slipped past the check (built by hand) is still refused by the result check
    forged = CheckedRule(segment="forged", rule="revenue_365d", sql='"revenue_365d"', columns=("revenue_365d",))
    with pytest.raises(StrategyError) as info:
        evaluate(profiles, [forged])
    assert str(info.value) == (
        "segment 'forged': rule `revenue_365d` gave 5 values of type double for 5 customers, not one true/false "
        "each. Fix: compare it so that each customer is in or out, e.g. `orders_total > 0`"
    )


def test_forged_sql_runs_only_in_the_sandbox(profiles, secret):
    forged = CheckedRule(
        segment="forged", rule="x", sql=f"(select count(*) from read_text('{secret}')) > 0", columns=()
    )
    with pytest.raises(StrategyError, match=r"^segment 'forged': rule `x` cannot be evaluated: Permission Error"):
        evaluate(profiles, [forged])


def test_runtime_errors_become_strategy_errors(profiles):
    with pytest.raises(StrategyError) as info:
        evaluate_rules(profiles, [SegmentDefinition(name="cast", rule="cast(email as integer) > 1")])
    assert str(info.value).startswith(
        "segment 'cast': rule `cast(email as integer) > 1` cannot be evaluated: Conversion Error: Could not convert"
    )
    assert str(info.value).endswith(
        "Fix: compare values of the same kind and call functions with arguments they accept"
    )


def test_a_column_missing_from_the_profiles_is_named(profiles):
    with pytest.raises(StrategyError) as info:
        evaluate_rules(
            profiles.drop(columns=["loyalty_tier"]), [SegmentDefinition(name="gold", rule="loyalty_tier = 'gold'")]
        )
    assert str(info.value) == (
        "segment 'gold': rule `loyalty_tier = 'gold'` reads loyalty_tier, which these profiles do not have. "
        "Fix: build the profiles with profiles.build_profiles and segments.assign, or add the column to the "
        "customers table"
    )


def test_several_bad_rules_are_listed_together():
    defs = [
        SegmentDefinition(name="ok", rule="can_sms"),
        SegmentDefinition(name="num", rule="revenue_365d"),
        SegmentDefinition(name="typo", rule="can_smss"),
    ]
    with pytest.raises(StrategyError) as info:
        check_rules(defs)
    lines = str(info.value).splitlines()
    assert lines[0] == "2 segment rules cannot be used:"
    assert lines[1].startswith("  segment 'num': rule `revenue_365d` is a number")
    assert lines[2].startswith(
        "  segment 'typo': rule `can_smss` names an unknown column 'can_smss'; did you mean can_sms"
    )
    assert [getattr(p, "path", None) for p in rule_problems(defs)] == [("segments", 1, "rule"), ("segments", 2, "rule")]


def test_the_binder_checks_what_the_tree_cannot(profiles):
    # the kinds agree, but DuckDB has no such function signature: found without any data
    problems = rule_problems([SegmentDefinition(name="b", rule="date_diff('day', first_order_at, email) > 1")])
    assert [str(p) for p in problems] == [
        "segment 'b': rule `date_diff('day', first_order_at, email) > 1` uses `email`, which is text, where "
        "date_diff() needs a date or a timestamp. Fix: use a value of the right kind there, or compare the value "
        "first (e.g. `orders_total > 0`)"
    ]
    problems = rule_problems([SegmentDefinition(name="r", rule="round(revenue_365d, 'x') > 1")])
    assert len(problems) == 1 and "round() needs a number" in str(problems[0])


# ---------------------------------------------------------------- one list of columns, one check everywhere


def test_rule_columns_are_the_profile_and_segment_columns(sample_profiles, strategy):
    assigned = assign(sample_profiles, strategy)
    produced = [c for c in assigned.columns if not c.startswith("segment_")]
    assert set(produced) == set(RULE_COLUMNS)
    assert set(PROFILE_COLUMNS) <= set(RULE_COLUMNS)
    added = [c for c in produced if c not in sample_profiles.columns]
    assert added == list(ASSIGNED_COLUMNS)
    for name, kind in RULE_COLUMNS.items():
        dtype = assigned[name].dtype
        if kind == NUMBER:
            assert pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype), name
        elif kind == BOOLEAN:
            assert pd.api.types.is_bool_dtype(dtype), name
        elif kind == TIMESTAMP:
            assert isinstance(dtype, pd.DatetimeTZDtype), name
        else:
            assert kind == TEXT and pd.api.types.is_string_dtype(dtype), name


def test_sample_strategy_rules_all_pass(strategy):
    checked = check_rules(strategy.segments)
    assert [c.segment for c in checked] == [s.name for s in strategy.segments]


def _hostile_strategy(tmp_path: Path, secret: Path) -> Path:
    data = yaml.safe_load(STRATEGY.read_text(encoding="utf-8"))
    data["segments"][0]["rule"] = f"can_sms and read_text('{secret}') is not null"
    data["segments"][1]["rule"] = "revenue_365d"
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_validate_segments_and_the_simulator_share_one_check(tmp_path, secret, capsys):
    strategy_file = _hostile_strategy(tmp_path, secret)
    first = (
        f"segment 'cart_abandoners_sms': rule `can_sms and read_text('{secret}') is not null` calls read_text(), "
        f"which reads files or settings outside the profiles. {FILES_FIX}"
    )
    second = (
        "segment 'cart_abandoners_email_only': rule `revenue_365d` is a number, not a true/false condition. "
        "Fix: compare it so that each customer is in or out, e.g. `revenue_365d > 0`"
    )
    lines = yaml.compose(strategy_file.read_text(encoding="utf-8"))
    assert lines is not None
    before = _tree_hashes(tmp_path)

    assert main(["validate", str(strategy_file)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{strategy_file}: 2 problems"
    assert re.fullmatch(rf"  {re.escape(str(strategy_file))} line \d+: {re.escape(first)}", err[1])
    assert re.fullmatch(rf"  {re.escape(str(strategy_file))} line \d+: {re.escape(second)}", err[2])

    out = tmp_path / "out"
    assert (
        main(["segments", str(SAMPLE), "--strategy", str(strategy_file), "--as-of", "2026-10-31", "--out", str(out)])
        == 2
    )
    assert capsys.readouterr().err == f"error: 2 segment rules cannot be used:\n  {first}\n  {second}\n"
    assert not out.exists()

    plan = tmp_path / "plan"
    args = ["simulate", "--strategy", str(strategy_file), "--data", str(SAMPLE), "--start", "2026-11-02"]
    assert main([*args, "--days", "3", "--out", str(plan)]) == 2
    assert capsys.readouterr().err == f"error: 2 segment rules cannot be used:\n  {first}\n  {second}\n"
    assert not plan.exists()
    assert _tree_hashes(tmp_path) == before


def test_validate_names_the_yaml_line(tmp_path, capsys):
    text = STRATEGY.read_text(encoding="utf-8").replace(
        "rule: support_tickets_30d > 0", "rule: support_tickets_30d > 0; drop table profiles"
    )
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "drop table" in row)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{path} line {line}: segment 'support_followup': rule `support_tickets_30d > 0; drop table profiles` " in err
    )


def test_explorer_reads_the_segments_assign_computed(assigned, strategy, sample_dataset):
    from workbench.application import Workspace
    from workbench.widgets.audience import AudienceExplorer

    explorer = AudienceExplorer(Workspace.create(sample_dataset, strategy, as_of="2026-10-31"))
    assert list(explorer.segment_picker.options)[1:] == [s.name for s in strategy.segments]
    for name in explorer.segment_picker.options[1:]:
        assert (explorer.workspace.assigned[f"segment_{name}"] == assigned[f"segment_{name}"]).all()


# ---------------------------------------------------------------- property: accepted and evaluated, or refused


_BY_KIND: dict[str, list[str]] = {}
for _name, _kind in RULE_COLUMNS.items():
    _BY_KIND.setdefault(_kind, []).append(_name)

_literals = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: repr(round(f, 3))),
    st.text(alphabet="abc%_'@. ", max_size=6).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(["true", "false", "null", "date '2026-01-01'", "timestamp '2026-03-01 10:00'", "interval 3 day"]),
)
_leaves = st.one_of(st.sampled_from(sorted(RULE_COLUMNS)), _literals)
_FUNCS = sorted({*RULE_FUNCTIONS} - {"extract", "date_part", "date_diff", "datediff"})


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        children,
        st.sampled_from(["=", "<>", "<", ">=", "and", "or", "+", "-", "*", "/", "%", "||", "like", "ilike", "//"]),
        children,
    ).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["not ", "-"]), children).map(lambda t: f"({t[0]}{t[1]})")
    call = st.tuples(st.sampled_from(_FUNCS), st.lists(children, min_size=1, max_size=3)).map(
        lambda t: f"{t[0]}({', '.join(t[1])})"
    )
    dates = st.tuples(st.sampled_from(["day", "month", "year"]), children, children).map(
        lambda t: f"date_diff('{t[0]}', {t[1]}, {t[2]})"
    )
    extract = st.tuples(st.sampled_from(["month", "dow"]), children).map(lambda t: f"extract({t[0]} from {t[1]})")
    case = st.tuples(children, children, children).map(lambda t: f"case when {t[0]} then {t[1]} else {t[2]} end")
    between = st.tuples(children, children, children).map(lambda t: f"({t[0]} between {t[1]} and {t[2]})")
    in_list = st.tuples(children, st.lists(children, min_size=1, max_size=3)).map(
        lambda t: f"({t[0]} in ({', '.join(t[1])}))"
    )
    is_null = st.tuples(children, st.sampled_from(["is null", "is not null", "is true"])).map(
        lambda t: f"({t[0]} {t[1]})"
    )
    cast = st.tuples(children, st.sampled_from(["double", "varchar", "boolean", "date"])).map(
        lambda t: f"cast({t[0]} as {t[1]})"
    )
    return st.one_of(binary, unary, call, dates, extract, case, between, in_list, is_null, cast)


_expressions = st.recursive(_leaves, _combine, max_leaves=8)
_rules = st.one_of(
    _expressions,
    st.tuples(_expressions, st.sampled_from(["=", "<", ">=", "<>", "and", "or"]), _expressions).map(" ".join),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=_rules)
def test_random_rules_are_accepted_and_boolean_or_refused(profiles, rule):
    definition = SegmentDefinition(name="prop", rule=rule)
    try:
        out = evaluate_rules(profiles, [definition])
    except StrategyError as exc:
        assert str(exc).startswith("segment 'prop': rule `"), str(exc)
        return
    mask = out["segment_prop"].to_numpy()
    assert mask.dtype == bool and mask.shape == (len(profiles),)
    # the regenerated SQL means what the rule says: the rule as written, run on a plain connection, agrees
    con = duckdb.connect()
    try:
        con.register("profiles", profiles)
        try:
            raw = con.execute(f"select coalesce(({rule})::boolean, false) from profiles").fetchnumpy()
        except duckdb.Error:
            return  # DuckDB itself cannot read the rule as written; the checked form is what runs
    finally:
        con.close()
    assert mask.tolist() == np.asarray(next(iter(raw.values())), dtype=bool).tolist(), rule


@settings(max_examples=200, deadline=None)
@given(rule=st.text(max_size=60))
def test_arbitrary_text_is_checked_or_refused_never_a_raw_exception(rule):
    try:
        check_rule(rule, segment="t")
    except StrategyError as exc:
        assert str(exc).startswith("segment 't': rule `")
